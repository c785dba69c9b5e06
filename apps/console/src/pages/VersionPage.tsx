import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ok } from '../api/client';
import { keys, useSoftware } from '../api/queries';
import { ErrorBox, Loading, StrategyBadge, useTitle } from '../components/common';
import { FileUpload } from '../components/FileUpload';

export default function VersionPage(): ReactNode {
  const { app, version } = useParams() as { app: string; version: string };
  useTitle(`${app} ${version}`);
  const q = useSoftware(app, version);
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({
    mutationFn: async () =>
      ok(
        await api.DELETE('/applications/{appName}/software/{version}', {
          params: { path: { appName: app, version } },
          ...(q.data?.etag ? { headers: { 'If-Match': q.data.etag } } : {}),
        }),
      ),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.software(app) });
      await navigate(`/apps/${app}`);
    },
  });
  if (q.isPending) return <Loading what="software" />;
  if (q.error) return <ErrorBox error={q.error} title={`Software ${version} could not be loaded`} />;
  const s = q.data.software;
  const x = s as typeof s & Record<string, unknown>;
  return (
    <>
      <div className="title-row">
        <h1>
          {app} {s.version}
        </h1>
        <StrategyBadge strategy={s.rolloutStrategy} />
      </div>
      <nav aria-label="Version pages" className="links">
        <Link to="edit">Edit</Link>
        <Link to="rollout">Rollout</Link>
        <Link to="preview">Preview</Link>
      </nav>
      {s.suspendedReason && (
        <p className="warn" role="note">
          Suspended by OTAO: {s.suspendedReason}
        </p>
      )}
      <section className="card" aria-labelledby="def-h">
        <h2 id="def-h">Definition</h2>
        <dl className="facts">
          <dt>Upgradable from</dt>
          <dd>{s.upgradableFrom.length ? s.upgradableFrom.map((u) => <code key={u}>{u}</code>) : '— (no endpoint can reach it)'}</dd>
          <dt>Filters</dt>
          <dd>{s.filters.length ? s.filters.map((f) => `${f.filterId}${f.rolloutDate ? ` from ${f.rolloutDate}` : ''}`).join(', ') : '—'}</dd>
          <dt>Failure policy</dt>
          <dd>
            {s.failurePolicy ? `suspend at ${(s.failurePolicy.maxFailureRate * 100).toFixed(1)} % failures after ${s.failurePolicy.minReports} reports` : '—'}
          </dd>
          {x['phases'] !== undefined && (
            <>
              <dt>Phases</dt>
              <dd>{JSON.stringify(x['phases'])}</dd>
            </>
          )}
          {x['maintenanceWindow'] !== undefined && (
            <>
              <dt>Maintenance window</dt>
              <dd>{JSON.stringify(x['maintenanceWindow'])}</dd>
            </>
          )}
          <dt>Created</dt>
          <dd>{s.createdAt}</dd>
          <dt>Updated</dt>
          <dd>{s.updatedAt}</dd>
        </dl>
        <h3>Specification</h3>
        <pre className="code" tabIndex={0} aria-label="Specification JSON">
          {JSON.stringify(s.specification, null, 2)}
        </pre>
        <h3>Metadata</h3>
        <pre className="code" tabIndex={0} aria-label="Metadata JSON">
          {JSON.stringify(s.metadata, null, 2)}
        </pre>
      </section>
      <FileUpload app={app} version={s.version} current={s.file} />
      <section className="card danger" aria-labelledby="del-h">
        <h2 id="del-h">Delete</h2>
        {!confirming ? (
          <button type="button" className="secondary" onClick={() => setConfirming(true)}>
            Delete {s.version}…
          </button>
        ) : (
          <p>
            Delete {s.version} and its file?{' '}
            <button type="button" className="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
              Yes, delete
            </button>{' '}
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </p>
        )}
        {remove.error && <ErrorBox error={remove.error} title="Not deleted" />}
      </section>
    </>
  );
}
