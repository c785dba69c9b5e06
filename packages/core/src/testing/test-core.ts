import { cohortOf } from '../domain/phases';
import type { PushPacer, Sha256, ZoneRules } from '../ports';
import type { CoreDeps, CoreOptions } from '../use-cases/core-deps';
import { createOtaoCore, type OtaoCore } from '../use-cases/otao-core';
import { FixedClock, SequentialIds } from './clock';
import { InMemoryApplicationRegistry, type AppDefinition } from './in-memory-application-registry';
import { InMemoryEndpointRepository } from './in-memory-endpoint-repository';
import { InMemoryLease } from './in-memory-lease';
import { InMemoryRolloutStatsRepository } from './in-memory-rollout-stats-repository';
import { InMemorySoftwareRepository } from './in-memory-software-repository';
import { InMemoryFileStore } from './in-memory-file-store';
import { InMemoryAuditLog } from './in-memory-audit-log';
import { referencePlatform } from './platform';
import { InMemoryFilterDirectory, QueueWorkScheduler, RecordingConfigPublisher, RecordingSoftwareEventPublisher } from './recording-publishers';

/** A core over in-memory fakes, with every fake reachable for arranging and asserting. */
export interface TestOtao {
  readonly core: OtaoCore;
  readonly clock: FixedClock;
  readonly software: InMemorySoftwareRepository;
  readonly endpoints: InMemoryEndpointRepository;
  readonly stats: InMemoryRolloutStatsRepository;
  readonly lease: InMemoryLease;
  readonly registry: InMemoryApplicationRegistry;
  readonly publisher: RecordingConfigPublisher;
  readonly events: RecordingSoftwareEventPublisher;
  readonly filters: InMemoryFilterDirectory;
  readonly files: InMemoryFileStore;
  readonly work: QueueWorkScheduler;
  readonly audit: InMemoryAuditLog;
  /** The platform ports given to the core (the reference implementations unless replaced). */
  readonly sha256: Sha256;
  readonly zones: ZoneRules;
  /** Runs queued background work (pushes, filter bootstraps) until none is left. */
  drain(): Promise<void>;
  /** Another replica: a second core over the same ports (its own caches), as a second process would be. */
  replica(): OtaoCore;
}

export const TEST_TENANT = 'tenant-a';
export const TEST_APP = 'kettle';
export const TEST_APP_VERSION = 'kettle-v1';

export function createTestOtao(
  options: Partial<CoreOptions> & {
    apps?: readonly AppDefinition[];
    withFiles?: boolean;
    start?: number | string;
    pacer?: PushPacer;
    /** Platform ports in place of the reference implementations (a bench gives the production adapters). */
    platform?: { readonly sha256: Sha256; readonly zones: ZoneRules };
  } = {},
): TestOtao {
  const { apps, withFiles, start, pacer, platform, ...coreOptions } = options;
  const { sha256, zones } = platform ?? referencePlatform();
  const clock = new FixedClock(start);
  const software = new InMemorySoftwareRepository();
  const endpoints = new InMemoryEndpointRepository({ cohortOf: (t, a, e) => cohortOf(sha256, t, a, e) });
  const stats = new InMemoryRolloutStatsRepository(clock);
  const lease = new InMemoryLease();
  const registry = new InMemoryApplicationRegistry(apps ?? [{ tenantId: TEST_TENANT, appName: TEST_APP, versions: [TEST_APP_VERSION] }]);
  const publisher = new RecordingConfigPublisher();
  const events = new RecordingSoftwareEventPublisher();
  const filters = new InMemoryFilterDirectory();
  const files = new InMemoryFileStore();
  const work = new QueueWorkScheduler();
  const audit = new InMemoryAuditLog();
  const deps: CoreDeps = {
    software,
    endpoints,
    stats,
    lease,
    clock,
    ids: new SequentialIds('corr-'),
    registry,
    configPublisher: publisher,
    softwareEvents: events,
    filterDirectory: filters,
    work,
    audit,
    sha256,
    zones,
    ...(withFiles ? { files } : {}),
    ...(pacer ? { pacer } : {}),
  };
  const makeCore = (): OtaoCore =>
    createOtaoCore(deps, {
      ...(withFiles ? { fileLinks: { urlPath: 'link', ttlSeconds: 3600 } } : {}),
      ...coreOptions,
    });
  const core = makeCore();
  const drain = async (): Promise<void> => {
    for (let guard = 0; guard < 1000 && (work.pushes.length > 0 || work.bootstraps.length > 0); guard++) {
      const b = work.bootstraps.shift();
      if (b) {
        await core.endpointEvents.bootstrapFilters(b.tenantId, b.appName, b.filterIds, 'drain');
        continue;
      }
      const p = work.pushes.shift();
      if (p) await core.pushes.run(p);
    }
  };
  return { core, clock, software, endpoints, stats, lease, registry, publisher, events, filters, files, work, audit, sha256, zones, drain, replica: makeCore };
}
