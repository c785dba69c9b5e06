import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { api, ok, seg } from '../api/client';
import { keys, useSoftwareList } from '../api/queries';
import { ErrorBox, Loading, useTitle } from '../components/common';
import { UpgradeGraph } from '../components/UpgradeGraph';

export default function EndpointPage(): ReactNode {
  const { app, endpointId } = useParams() as { app: string; endpointId: string };
  useTitle(`Endpoint ${endpointId}`);
  const qc = useQueryClient();
  const view = useQuery({
    queryKey: keys.endpoint(app, endpointId),
    queryFn: async () => ok(await api.GET('/applications/{appName}/endpoints/{endpointId}/software', { params: { path: { appName: app, endpointId } } })),
  });
  const software = useSoftwareList(app);
  const [grantVersion, setGrantVersion] = useState('*');
  const consent = useMutation({
    mutationFn: async ({ version, grant }: { version: string; grant: boolean }) => {
      const params = { params: { path: { appName: app, endpointId, version } } };
      return grant
        ? ok(await api.PUT('/applications/{appName}/endpoints/{endpointId}/consents/{version}', params))
        : ok(await api.DELETE('/applications/{appName}/endpoints/{endpointId}/consents/{version}', params));
    },
    onSettled: async () => qc.invalidateQueries({ queryKey: keys.endpoint(app, endpointId) }),
  });
  if (view.isPending) return <Loading what="endpoint" />;
  if (view.error) return <ErrorBox error={view.error} title={`Endpoint ${endpointId} could not be loaded`} />;
  const v = view.data;
  const hops = v.currentVersion ? [v.currentVersion, ...v.path] : [];
  return (
    <>
      <h1>Endpoint {v.endpointId}</h1>
      <section className="card" aria-labelledby="state-h">
        <h2 id="state-h">Software</h2>
        <dl className="facts">
          <dt>Application version</dt>
          <dd>{v.appVersionName ?? '—'}</dd>
          <dt>Current version</dt>
          <dd data-testid="current">{v.currentVersion ?? 'unknown (no report yet)'}</dd>
          <dt>Next hop</dt>
          <dd data-testid="next">{v.next ?? 'none'}</dd>
          <dt>Path</dt>
          <dd data-testid="path">{v.path.length ? v.path.join(' → ') : '—'}</dd>
          <dt>Goal</dt>
          <dd data-testid="goal">{v.goal ?? '—'}</dd>
          <dt>Last report</dt>
          <dd>
            {v.lastReport
              ? `${v.lastReport.configId}: ${v.lastReport.statusCode}${v.lastReport.reasonPhrase ? ` ${v.lastReport.reasonPhrase}` : ''} at ${v.lastReport.reportedAt}`
              : '—'}
          </dd>
          <dt>Filters</dt>
          <dd>{v.filters?.join(', ') || '—'}</dd>
        </dl>
      </section>
      {software.data && hops.length > 0 && (
        <UpgradeGraph
          app={app}
          software={software.data}
          path={hops}
          caption={`Path of ${v.endpointId}: ${hops.join(' → ')}${v.path.length ? '' : ' (no hop)'}`}
        />
      )}
      <section className="card" aria-labelledby="consent-h">
        <h2 id="consent-h">Consents</h2>
        {v.consents.length === 0 ? (
          <p className="muted">No consent granted.</p>
        ) : (
          <ul className="consents">
            {v.consents.map((c) => (
              <li key={c}>
                <code>{c}</code>{' '}
                <button
                  type="button"
                  className="secondary"
                  onClick={() => consent.mutate({ version: c, grant: false })}
                  aria-label={`Revoke consent for ${c}`}
                  disabled={consent.isPending}
                >
                  Revoke
                </button>
              </li>
            ))}
          </ul>
        )}
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            consent.mutate({ version: grantVersion.trim(), grant: true });
          }}
        >
          <div className="field">
            <label htmlFor="grant-version">Grant consent for version</label>
            <input id="grant-version" list="known-versions" value={grantVersion} onChange={(e) => setGrantVersion(e.target.value)} />
            <datalist id="known-versions">
              <option value="*">any version</option>
              {software.data?.map((s) => (
                <option key={s.version} value={s.version} />
              ))}
            </datalist>
          </div>
          <button type="submit" disabled={consent.isPending || !grantVersion.trim()}>
            Grant consent
          </button>
        </form>
        {consent.error && <ErrorBox error={consent.error} title="The consent was not changed" />}
      </section>
      <p>
        <Link to={`/apps/${app}/endpoints`}>All endpoints of {app}</Link> ·{' '}
        <Link to={`/apps/${app}/audit?endpointId=${seg(v.endpointId)}`}>Audit of this endpoint</Link>
      </p>
    </>
  );
}
