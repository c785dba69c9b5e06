// The core (@otao/core) over the adapters' ports, the durable work scheduler it asks for background
// work, and the time-based ticks that drive it.
import { randomUUID } from 'node:crypto';
import { type CoreDeps, createOtaoCore } from '@otao/core';
import { MongoPushPacer } from '@otao/mongo-store';
import { LuxonZoneRules, NodeCryptoSha256 } from '@otao/node-platform';
import { ContainerModule } from 'inversify';
import { BackgroundTicks } from '../../background-ticks';
import { DurableWorkScheduler } from '../../work-scheduler';
import { provide, resolve } from '../tokens';

export const coreModule = new ContainerModule(({ bind }) => {
  // The core's platform ports (ADR 0018): SHA-256 for cohorts and audit summaries, IANA zone rules for maintenance windows.
  provide(bind, 'sha256', () => new NodeCryptoSha256());
  provide(bind, 'zones', () => new LuxonZoneRules());

  provide(bind, 'work', (ctx) => {
    const c = resolve(ctx, 'config');
    const m = resolve(ctx, 'metrics');
    const registry = resolve(ctx, 'registry').registry;
    return new DurableWorkScheduler(m.instrument('jobs', resolve(ctx, 'store').jobs), resolve(ctx, 'log').child({ component: 'work' }), m, {
      replicaId: c.replicaId,
      // spec §10: no job runs before the registry has loaded once (it would find no application)
      canRun: () => registry.loaded,
    });
  });

  provide(bind, 'core', (ctx) => {
    const c = resolve(ctx, 'config');
    const m = resolve(ctx, 'metrics');
    const store = resolve(ctx, 'store');
    const nats = resolve(ctx, 'nats');
    const files = resolve(ctx, 'files');
    const work = resolve(ctx, 'work');
    const deps: CoreDeps = {
      software: m.instrument('software', store.software),
      endpoints: m.instrument('endpoints', store.endpoints),
      stats: m.instrument('stats', store.stats),
      lease: m.instrument('lease', store.lease),
      clock: { now: () => Date.now() },
      ids: { newId: () => randomUUID() },
      registry: resolve(ctx, 'registry').registry,
      configPublisher: nats.configPublisher,
      softwareEvents: nats.softwareEvents,
      filterDirectory: nats.filterDirectory,
      work,
      audit: m.instrument('audit', store.audit),
      sha256: resolve(ctx, 'sha256'),
      zones: resolve(ctx, 'zones'),
      ...(files ? { files: files } : {}),
      // OTAO_PUSH_RATE_PER_SECOND: one budget in the store for every replica (spec §4.3)
      ...(c.pushRatePerSecond > 0 ? { pacer: m.instrument('pacer', new MongoPushPacer(store.db, c.pushRatePerSecond)) } : {}),
    };
    const filesLog = resolve(ctx, 'log').child({ component: 'files' });
    const countsLog = resolve(ctx, 'log').child({ component: 'counts' });
    const core = createOtaoCore(deps, {
      specMaxBytes: c.specMaxBytes,
      maxFileBytes: c.s3.maxFileBytes,
      auditRetentionMs: c.auditRetentionDays * 86_400_000,
      exactCountsBelow: c.exactCountsBelow,
      countsMaxAgeMs: c.countsMaxAgeMs,
      onRecount: (r) => {
        m.recounts.observe({ result: r.ok ? 'ok' : 'error' }, r.ms / 1000);
        if (r.ok) countsLog.debug({ tenantId: r.tenantId, appName: r.appName, total: r.total, ms: r.ms }, 'endpoints of a large application recounted');
        else
          countsLog.warn(
            { tenantId: r.tenantId, appName: r.appName, err: (r.error as Error).message },
            'recounting the endpoints of a large application failed: its lists keep the older counts',
          );
      },
      ...(files ? { fileLinks: { urlPath: c.s3.urlPath, ttlSeconds: c.s3.urlTtlSeconds } } : {}),
      onFileCleanupFailed: (key, e) => {
        m.fileOrphans.inc();
        filesLog.warn({ key, err: (e as Error).message }, 'S3 object left behind (orphan): its deletion failed after the record changed');
      },
    });
    work.attach(core);
    return core;
  });

  provide(
    bind,
    'ticks',
    (ctx) =>
      new BackgroundTicks({
        core: resolve(ctx, 'core'),
        store: resolve(ctx, 'store'),
        registry: resolve(ctx, 'registry').registry,
        log: resolve(ctx, 'log'),
        metrics: resolve(ctx, 'metrics'),
        replicaId: resolve(ctx, 'config').replicaId,
      }),
  );
});
