import { useCallback, useEffect, type MouseEvent, type ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { ApiError, errorText } from '../api/client';

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · OTAO console`;
  }, [title]);
}

export function Loading({ what }: { what: string }): ReactNode {
  return (
    <p className="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** An API error in words (spec §11: never a blank page). */
export function ErrorBox({ error, title }: { error: unknown; title?: string }): ReactNode {
  return (
    <div role="alert" className="error">
      {title ? <strong>{title}: </strong> : null}
      {errorText(error)}
      {error instanceof ApiError && error.status === 401 ? (
        <>
          {' '}
          <button type="button" className="secondary" onClick={() => location.reload()}>
            Sign in again
          </button>
        </>
      ) : null}
    </div>
  );
}

/**
 * When the counts of an answer were made (`countedAt`, Kaa's date form): shown when they are not
 * this answer's own — a large application answers from counts stored by its last count (docs/api.md
 * "Counts of large applications").
 */
export function CountedAt({ countedAt, receivedAt }: { countedAt: string; receivedAt: number }): ReactNode {
  const at = Date.parse(countedAt);
  const age = Math.round((receivedAt - at) / 1000);
  if (!Number.isFinite(at) || age < 5) return null;
  const ago = age < 120 ? `${age} s` : age < 7200 ? `${Math.round(age / 60)} min` : `${Math.round(age / 3600)} h`;
  return (
    <p className="muted small" data-testid="counted-at">
      Counts as of <time dateTime={countedAt}>{countedAt.replace('T', ' ').replace('Z', ' UTC')}</time> ({ago} ago): a large application is recounted in the
      background; the page itself is current.
    </p>
  );
}

/** Server-side pagination controls (spec §11: every list is paginated by the server). */
export function Pager({
  offset,
  limit,
  total,
  onChange,
  label,
}: {
  offset: number;
  limit: number;
  total: number;
  onChange: (offset: number) => void;
  label: string;
}): ReactNode {
  const last = Math.max(0, Math.floor((total - 1) / limit) * limit);
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" disabled={offset <= 0} onClick={() => onChange(0)}>
        First
      </button>
      <button type="button" disabled={offset <= 0} onClick={() => onChange(Math.max(0, offset - limit))}>
        Previous
      </button>
      <span aria-live="polite">{total === 0 ? 'none' : `${offset + 1}–${Math.min(offset + limit, total)} of ${total}`}</span>
      <button type="button" disabled={offset + limit >= total} onClick={() => onChange(offset + limit)}>
        Next
      </button>
      <button type="button" disabled={offset >= last} onClick={() => onChange(last)}>
        Last
      </button>
    </nav>
  );
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]} (${n.toLocaleString('en')} bytes)`;
}

export function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)} %`;
}

/** A strategy badge; suspended is greyed like in the graph. */
export function StrategyBadge({ strategy }: { strategy: string }): ReactNode {
  return <span className={`badge badge-${strategy}`}>{strategy}</span>;
}

/** The document URL of a console path (`/apps/x` -> `/console/apps/x`), for plain anchors. */
export const consoleHref = (to: string): string => import.meta.env.BASE_URL + to.replace(/^\//, '');

/**
 * Plain anchors (`<a href={consoleHref(to)} data-to={to}>`) in a large table or graph, navigated by
 * one click handler on their container: a react-router `Link` runs several hooks per link, and
 * the software page of 200 versions has a thousand links. A click with a modifier key or another
 * button is the browser's (new tab, …); the anchors are real links for keyboard and screen readers.
 */
export function useLinkDelegation(): (e: MouseEvent) => void {
  const navigate = useNavigate();
  return useCallback(
    (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.altKey || e.ctrlKey || e.shiftKey) return;
      const a = (e.target as Element).closest('a[data-to]');
      if (!a || !e.currentTarget.contains(a)) return;
      e.preventDefault();
      void navigate(a.getAttribute('data-to')!);
    },
    [navigate],
  );
}
