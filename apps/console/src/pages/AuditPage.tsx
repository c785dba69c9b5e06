import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { type ReactNode } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { ApiError, rawJson } from '../api/client';
import type { AuditEntry, Page } from '../api/extensions';
import { ErrorBox, Loading, Pager, useTitle } from '../components/common';

const LIMIT = 50;
const FILTERS: [string, string][] = [
  ['version', 'Version'],
  ['endpointId', 'Endpoint'],
  ['action', 'Action'],
  ['actor', 'Actor'],
  ['since', 'Since (RFC 3339)'],
  ['until', 'Until (RFC 3339)'],
];

export default function AuditPage(): ReactNode {
  const app = useParams().app!;
  useTitle(`Audit log of ${app}`);
  const [params, setParams] = useSearchParams();
  const offset = Number(params.get('offset') ?? '0') || 0;
  const query = new URLSearchParams();
  for (const [k] of FILTERS) {
    const v = params.get(k);
    if (v) query.set(k, v);
  }
  query.set('offset', String(offset));
  query.set('limit', String(LIMIT));
  const q = useQuery({
    queryKey: ['audit', app, query.toString()],
    queryFn: async () => {
      try {
        return { available: true as const, page: await rawJson<Page<AuditEntry>>('GET', `/applications/${app}/audit?${query.toString()}`) };
      } catch (e) {
        if (e instanceof ApiError && e.routeMissing) return { available: false as const };
        throw e;
      }
    },
    placeholderData: keepPreviousData,
  });
  return (
    <>
      <h1>Audit log of {app}</h1>
      <form
        className="row filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          const fd = new FormData(e.currentTarget);
          const next: Record<string, string> = {};
          for (const [k] of FILTERS) {
            const v = fd.get(k);
            if (typeof v === 'string' && v.trim()) next[k] = v.trim();
          }
          setParams(next);
        }}
      >
        {FILTERS.map(([k, label]) => (
          <div className="field" key={k}>
            <label htmlFor={`audit-${k}`}>{label}</label>
            <input id={`audit-${k}`} name={k} defaultValue={params.get(k) ?? ''} />
          </div>
        ))}
        <button type="submit">Apply filters</button>
      </form>
      {q.isPending && <Loading what="audit log" />}
      {q.error && <ErrorBox error={q.error} title="The audit log could not be loaded" />}
      {q.data && !q.data.available && <p className="muted">This OTAO server does not offer the audit log yet.</p>}
      {q.data?.available && (
        <>
          <table>
            <caption className="sr-only">Audit entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Version</th>
                <th scope="col">Endpoint</th>
                <th scope="col">Changes</th>
              </tr>
            </thead>
            <tbody>
              {q.data.page.content.map((a) => (
                <tr key={a.id}>
                  <td>{a.at}</td>
                  <td>
                    {a.actor.type}: {a.actor.name ?? a.actor.id}
                  </td>
                  <td>{a.action}</td>
                  <td>{a.version ?? '—'}</td>
                  <td>{a.endpointId ?? '—'}</td>
                  <td>{a.changes === undefined ? '—' : <code className="small">{JSON.stringify(a.changes)}</code>}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            label="Audit"
            offset={offset}
            limit={LIMIT}
            total={q.data.page.totalElements}
            onChange={(o) => {
              const next = new URLSearchParams(params);
              next.set('offset', String(o));
              setParams(next);
            }}
          />
        </>
      )}
    </>
  );
}
