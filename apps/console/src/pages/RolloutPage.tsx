import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { api, authHeaders, ok, seg, toApiError } from '../api/client';
import { keys, replaceBody, softwarePath, useSoftware } from '../api/queries';
import { ErrorBox, Loading, percent, StrategyBadge, useTitle } from '../components/common';

const HistoryChart = lazy(async () => ({ default: (await import('../components/HistoryChart')).HistoryChart }));

function until(at: string | undefined): string {
  if (!at) return '';
  const ms = Date.parse(at) - Date.now();
  if (Number.isNaN(ms)) return at;
  if (ms <= 0) return `${at} (due)`;
  const min = Math.round(ms / 60_000);
  return `${at} (in ${min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`})`;
}

export default function RolloutPage(): ReactNode {
  const { app, version } = useParams() as { app: string; version: string };
  useTitle(`Rollout of ${app} ${version}`);
  const qc = useQueryClient();
  const sw = useSoftware(app, version);
  const rollout = useQuery({
    queryKey: keys.rollout(app, version),
    queryFn: async () => ok(await api.GET('/applications/{appName}/software/{version}/rollout', { params: { path: { appName: app, version } } })),
    refetchInterval: 10_000,
  });
  const [bucket, setBucket] = useState<'minute' | 'hour'>('minute');
  const history = useQuery({
    queryKey: ['history', app, version, bucket],
    queryFn: async () =>
      ok(await api.GET('/applications/{appName}/software/{version}/rollout/history', { params: { path: { appName: app, version }, query: { bucket } } })),
    refetchInterval: 30_000,
  });
  const refresh = async (): Promise<void> => {
    await Promise.all([qc.invalidateQueries({ queryKey: keys.rollout(app, version) }), qc.invalidateQueries({ queryKey: keys.version(app, version) })]);
  };
  const action = useMutation({
    mutationFn: async (what: 'suspend' | 'advance' | 'hold' | 'resume') => {
      const path = { appName: app, version };
      if (what === 'advance') return ok(await api.POST('/applications/{appName}/software/{version}/rollout/advance', { params: { path } }));
      if (what === 'hold' || what === 'resume')
        return ok(await api.PUT('/applications/{appName}/software/{version}/rollout/hold', { params: { path }, body: { hold: what === 'hold' } }));
      const current = sw.data;
      if (!current) throw new Error('the software is not loaded yet');
      const res = await fetch(`/api/v1${softwarePath(app, version)}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', ...(current.etag ? { 'If-Match': current.etag } : {}), ...(await authHeaders()) },
        body: JSON.stringify({ ...replaceBody(current.software), rolloutStrategy: 'suspended' }),
      });
      if (!res.ok) throw toApiError(res.status, await res.json().catch(() => undefined), res.statusText);
      return undefined;
    },
    onSettled: async () => {
      await Promise.all([refresh(), qc.invalidateQueries({ queryKey: ['history', app, version] })]);
    },
  });

  if (rollout.isPending) return <Loading what="rollout" />;
  if (rollout.error) return <ErrorBox error={rollout.error} title={`The rollout of ${version} could not be loaded`} />;
  const r = rollout.data;
  const policy = sw.data?.software.failurePolicy;
  const reports = r.applied + r.failed + r.timedOut;
  const counters: [string, number | undefined][] = [
    ['Offered', r.offered],
    ['Applied', r.applied],
    ['Failed', r.failed],
    ['Timed out', r.timedOut],
    ['Rolled back', r.rolledBack],
  ];
  return (
    <>
      <div className="title-row">
        <h1>
          Rollout of {app} {version}
        </h1>
        <StrategyBadge strategy={r.rolloutStrategy} />
      </div>
      <nav aria-label="Version pages" className="links">
        <Link to={`/apps/${app}/software/${seg(version)}`}>Definition and file</Link>
        <Link to={`/apps/${app}/software/${seg(version)}/preview`}>Preview</Link>
      </nav>
      {r.suspendedReason && (
        <p className="warn" role="note">
          Suspended by OTAO: {r.suspendedReason}
        </p>
      )}
      <section className="card" aria-labelledby="counts-h">
        <h2 id="counts-h">Counters</h2>
        <dl className="counters">
          {counters
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
          <div>
            <dt>Failure rate</dt>
            <dd data-testid="failure-rate">{percent(r.failureRate)}</dd>
          </div>
        </dl>
        {policy ? (
          <>
            <p>
              Failure policy: suspend at <strong>{percent(policy.maxFailureRate)}</strong> once {policy.minReports} reports are in ({reports} so far).
            </p>
            <label htmlFor="rate-meter">Failure rate against the policy</label>{' '}
            <meter
              id="rate-meter"
              min={0}
              max={policy.maxFailureRate}
              low={policy.maxFailureRate * 0.5}
              high={policy.maxFailureRate * 0.8}
              optimum={0}
              value={Math.min(r.failureRate, policy.maxFailureRate)}
            >
              {percent(r.failureRate)}
            </meter>
          </>
        ) : (
          <p className="muted">No failure policy: OTAO never suspends this version by itself.</p>
        )}
      </section>
      {r.phase && (
        <section className="card" aria-labelledby="phase-h">
          <h2 id="phase-h">Phase</h2>
          <p>
            Phase {r.phase.index + 1}: endpoints in cohorts below {r.phase.percent} %
            {r.phase.hold ? ` — held${r.phase.holdReason ? ` (${r.phase.holdReason})` : ''}` : ''}. Waiting for: {r.phase.waitingFor ?? '—'}.
            {r.phase.nextCheckAt ? <> Next check {until(r.phase.nextCheckAt)}.</> : null}
          </p>
        </section>
      )}
      {r.window && <p>Maintenance window {r.window.open ? 'open now' : `closed; opens ${until(r.window.nextOpenAt)}`}.</p>}
      <section className="card" aria-labelledby="act-h">
        <h2 id="act-h">Actions</h2>
        <div className="actions">
          {r.phase && (
            <>
              <button type="button" onClick={() => action.mutate('advance')} disabled={action.isPending}>
                Advance to the next phase now
              </button>
              {r.phase.hold ? (
                <button type="button" onClick={() => action.mutate('resume')} disabled={action.isPending}>
                  Resume
                </button>
              ) : (
                <button type="button" onClick={() => action.mutate('hold')} disabled={action.isPending}>
                  Hold
                </button>
              )}
            </>
          )}
          {r.rolloutStrategy !== 'suspended' ? (
            <button type="button" className="danger" onClick={() => action.mutate('suspend')} disabled={action.isPending || !sw.data}>
              Suspend this version
            </button>
          ) : (
            <p className="muted">
              Suspended: nobody is offered it. <Link to={`/apps/${app}/software/${seg(version)}/edit`}>Edit the strategy</Link> to resume.
            </p>
          )}
        </div>
        {action.error && <ErrorBox error={action.error} title="The action failed" />}
      </section>
      {history.data && (
        <section className="card" aria-labelledby="hist-h">
          <h2 id="hist-h">History</h2>
          <label htmlFor="bucket">Bucket</label>{' '}
          <select id="bucket" value={bucket} onChange={(e) => setBucket(e.target.value as 'minute' | 'hour')}>
            <option value="minute">minute</option>
            <option value="hour">hour</option>
          </select>{' '}
          <span className="muted">
            from {history.data.since} to {history.data.until} (the changes of the counters in each {bucket})
          </span>
          {history.data.buckets.length === 0 ? (
            <p className="muted">No activity in this period.</p>
          ) : (
            <Suspense fallback={<Loading what="chart" />}>
              <HistoryChart
                buckets={history.data.buckets}
                since={history.data.since}
                until={history.data.until}
                label={`Offered, applied and failed per ${bucket} for ${version}`}
              />
            </Suspense>
          )}
        </section>
      )}
      {history.error && <ErrorBox error={history.error} title="The history could not be loaded" />}
    </>
  );
}
