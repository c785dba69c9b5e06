import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { api, ok, seg } from '../api/client';
import { CountedAt, ErrorBox, Loading, Pager, useTitle } from '../components/common';

const GROUPS: [string, string][] = [
  ['now', 'at their next pull or push'],
  ['later', 'when a filter date, phase or window opens'],
  ['no-path', 'never: no path from their version'],
  ['filter-not-matched', 'never: no filter matched'],
  ['consent-missing', 'not until consent is granted'],
  ['already-on-version', 'already on this version'],
  ['version-unknown', 'current version unknown'],
  ['suspended', 'never: suspended'],
];
const LIMIT = 50;

export default function PreviewPage(): ReactNode {
  const { app, version } = useParams() as { app: string; version: string };
  useTitle(`Preview of ${app} ${version}`);
  const [offset, setOffset] = useState(0);
  const q = useQuery({
    queryKey: ['preview', app, version, offset],
    queryFn: async () =>
      ok(await api.GET('/applications/{appName}/software/{version}/preview', { params: { path: { appName: app, version }, query: { offset, limit: LIMIT } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <>
      <h1>
        Preview of {app} {version}
      </h1>
      <p className="muted">A dry run: which known endpoints would be offered this version now, which later, and why the others are not.</p>
      <nav aria-label="Version pages" className="links">
        <Link to={`/apps/${app}/software/${seg(version)}`}>Definition and file</Link>
        <Link to={`/apps/${app}/software/${seg(version)}/rollout`}>Rollout</Link>
      </nav>
      {q.isPending && <Loading what="preview" />}
      {q.error && <ErrorBox error={q.error} title="The preview could not be loaded" />}
      {q.data && (
        <>
          <section className="card" aria-labelledby="groups-h">
            <h2 id="groups-h">Groups</h2>
            <dl className="counters">
              {[
                ...GROUPS,
                ...Object.keys(q.data.counts)
                  .filter((g) => !GROUPS.some(([k]) => k === g))
                  .map((g) => [g, g] as [string, string]),
              ].map(([g, words]) => (
                <div key={g} data-group={g}>
                  <dt>
                    <strong>{g}</strong> <span className="small">{words}</span>
                  </dt>
                  <dd>{q.data.counts[g] ?? 0}</dd>
                </div>
              ))}
            </dl>
          </section>
          <h2>Endpoints</h2>
          <table>
            <caption className="sr-only">Endpoints of the preview, page starting at {offset + 1}</caption>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Group</th>
                <th scope="col">Current version</th>
                <th scope="col">Filter</th>
                <th scope="col">Rollout date</th>
              </tr>
            </thead>
            <tbody>
              {q.data.content.map((e) => (
                <tr key={e.endpointId}>
                  <th scope="row">
                    <Link to={`/apps/${app}/endpoints/${seg(e.endpointId)}`}>{e.endpointId}</Link>
                  </th>
                  <td>{e.group}</td>
                  <td>{e.currentVersion ?? '—'}</td>
                  <td>{e.filterId ?? '—'}</td>
                  <td>{e.rolloutDate ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <CountedAt countedAt={q.data.countedAt} receivedAt={q.dataUpdatedAt} />
          <Pager label="Preview" offset={offset} limit={LIMIT} total={q.data.total} onChange={setOffset} />
        </>
      )}
    </>
  );
}
