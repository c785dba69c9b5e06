import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { type ReactNode } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { api, type AuditAction, ok } from '../api/client';
import { AuditChanges, Instant } from '../components/AuditChanges';
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
  const filters: Record<string, string> = {};
  for (const [k] of FILTERS) {
    const v = params.get(k);
    if (v) filters[k] = v;
  }
  const { action, ...rest } = filters;
  const q = useQuery({
    queryKey: ['audit', app, filters, offset],
    // The filters go as typed: a value the API refuses (an unknown action, a bad date) comes back as its 400, in words.
    queryFn: async () =>
      ok(
        await api.GET('/applications/{appName}/audit', {
          params: { path: { appName: app }, query: { ...rest, ...(action ? { action: action as AuditAction } : {}), offset, limit: LIMIT } },
        }),
      ),
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
      {q.data && (
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
              {q.data.content.map((a) => (
                <tr key={a.id}>
                  <td>
                    <Instant at={a.at} />
                  </td>
                  <td>
                    {a.actor.type}: {a.actor.name ?? a.actor.id}
                  </td>
                  <td>{a.action}</td>
                  <td>{a.version ?? '—'}</td>
                  <td>{a.endpointId ?? '—'}</td>
                  <td className="small">
                    <AuditChanges changes={a.changes} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            label="Audit"
            offset={offset}
            limit={LIMIT}
            total={q.data.totalElements}
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
