// An audit entry's changes (spec §4.13) in words: one line per changed field, `old → new`, and every
// epoch-millisecond field inside (a phase's `openedAt`, …) as a date and time (UTC), not a number.
import { Fragment, type ReactNode } from 'react';
import type { AuditEntry } from '../api/client';

/** 2026-12-02 02:58:24 UTC — the console shows every instant in UTC, as the editor takes them. */
export function formatInstant(t: number | string): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** An instant as a `<time>` element (machine-readable `dateTime`, readable text). */
export function Instant({ at }: { at: number | string }): ReactNode {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? <>{String(at)}</> : <time dateTime={d.toISOString()}>{formatInstant(at)}</time>;
}

/**
 * A number of an `…At` or `…Date` field (`openedAt`, a filter's `rolloutDate`) from 2001-09-09 to
 * 2286-11-20 in ms is an instant.
 */
const isEpochMs = (key: string | undefined, v: number): boolean => key !== undefined && /(At|Date)$/.test(key) && Number.isInteger(v) && v >= 1e12 && v < 1e13;

function Value({ value, name }: { value: unknown; name?: string }): ReactNode {
  if (typeof value === 'number' && isEpochMs(name, value)) return <Instant at={value} />;
  if (value === null || typeof value !== 'object') return <>{typeof value === 'string' ? value : JSON.stringify(value)}</>;
  if (Array.isArray(value))
    return (
      <>
        [
        {(value as unknown[]).map((v, i) => (
          <Fragment key={i}>
            {i > 0 && ', '}
            <Value value={v} />
          </Fragment>
        ))}
        ]
      </>
    );
  return (
    <>
      {'{'}
      {Object.entries(value as Record<string, unknown>).map(([k, v], i) => (
        <Fragment key={k}>
          {i > 0 && ', '}
          {k}: <Value value={v} name={k} />
        </Fragment>
      ))}
      {'}'}
    </>
  );
}

export function AuditChanges({ changes }: { changes: AuditEntry['changes'] }): ReactNode {
  if (changes === undefined) return '—';
  return (
    <ul className="changes">
      {Object.entries(changes).map(([field, c]) => (
        <li key={field} data-field={field}>
          <strong>{field}</strong>: {'old' in c ? <Value value={c.old} name={field} /> : <span className="muted">none</span>} →{' '}
          {'new' in c ? <Value value={c.new} name={field} /> : <span className="muted">none</span>}
        </li>
      ))}
    </ul>
  );
}
