import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { api, ok, seg } from '../api/client';
import { CountedAt, ErrorBox, Loading, Pager, useTitle } from '../components/common';

const LIMIT = 50;

export default function EndpointsPage(): ReactNode {
  const app = useParams().app!;
  useTitle(`Endpoints of ${app}`);
  const [params, setParams] = useSearchParams();
  const version = params.get('version') ?? '';
  const offset = Number(params.get('offset') ?? '0') || 0;
  const [draft, setDraft] = useState(version);
  const navigate = useNavigate();
  const q = useQuery({
    queryKey: ['endpoints', app, version, offset],
    queryFn: async () =>
      ok(
        await api.GET('/applications/{appName}/endpoints', {
          params: { path: { appName: app }, query: { offset, limit: LIMIT, ...(version ? { version } : {}) } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const go = (o: number, v = version): void => {
    const next: Record<string, string> = {};
    if (v) next['version'] = v;
    if (o) next['offset'] = String(o);
    setParams(next);
  };
  return (
    <>
      <h1>Endpoints of {app}</h1>
      <form
        className="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          go(0, draft.trim());
        }}
      >
        <div className="field">
          <label htmlFor="ep-version">Current version (empty = all)</label>
          <input id="ep-version" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="1.0.0" />
        </div>
        <button type="submit">Filter</button>
      </form>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          const id = new FormData(e.currentTarget).get('endpointId');
          if (typeof id === 'string' && id.trim()) void navigate(`/apps/${app}/endpoints/${seg(id.trim())}`);
        }}
      >
        <div className="field">
          <label htmlFor="ep-id">Open an endpoint by id</label>
          <input id="ep-id" name="endpointId" />
        </div>
        <button type="submit">Open</button>
      </form>
      {q.isPending && <Loading what="endpoints" />}
      {q.error && <ErrorBox error={q.error} title="The endpoints could not be loaded" />}
      {q.data && (
        <>
          <table>
            <caption className="sr-only">Endpoints</caption>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Application version</th>
                <th scope="col">Current version</th>
                <th scope="col">Last report</th>
                <th scope="col">Filters</th>
                <th scope="col">Consents</th>
              </tr>
            </thead>
            <tbody>
              {q.data.content.map((e) => (
                <tr key={e.endpointId}>
                  <th scope="row">
                    <Link to={`/apps/${app}/endpoints/${seg(e.endpointId)}`}>{e.endpointId}</Link>
                  </th>
                  <td>{e.appVersionName ?? '—'}</td>
                  <td>{e.currentVersion ?? 'unknown'}</td>
                  <td>{e.lastReport ? `${e.lastReport.configId} · ${e.lastReport.statusCode} · ${e.lastReport.reportedAt}` : '—'}</td>
                  <td>{e.filters.join(', ') || '—'}</td>
                  <td>{e.consents.join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <CountedAt countedAt={q.data.countedAt} receivedAt={q.dataUpdatedAt} />
          <Pager label="Endpoints" offset={offset} limit={LIMIT} total={q.data.totalElements} onChange={(o) => go(o)} />
        </>
      )}
    </>
  );
}
