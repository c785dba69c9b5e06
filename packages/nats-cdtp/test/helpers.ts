import { randomBytes } from 'node:crypto';
import { type Clock, createOtaoCore, type OtaoCore, type PushScope, type WorkScheduler } from '@otao/core';
import {
  type AppDefinition,
  InMemoryApplicationRegistry,
  InMemoryEndpointRepository,
  InMemoryLease,
  InMemoryRolloutStatsRepository,
  InMemorySoftwareRepository,
  SequentialIds,
  InMemoryAuditLog,
  referencePlatform,
} from '@otao/core/testing';
import { type NatsServer, startNats } from '@otao/test-services';
import { createNatsCdtp, type NatsCdtp, type NatsCdtpClients, type NatsCdtpConfig } from '../src';
import { CountingObserver, FakeCmx, FakeEpr } from '../src/testing';

export const TENANT = 'tenant-a';
export const APP = 'kettle';
export const AVN = 'kettle-v1';

/** A NATS server for a test file: NATS_URL when set, else a fresh nats-server. */
export async function sharedNats(): Promise<{ url: string; stop: () => Promise<void> }> {
  const env = process.env['NATS_URL'];
  if (env) return { url: env, stop: async () => undefined };
  const srv: NatsServer = await startNats();
  return { url: srv.url, stop: () => srv.stop() };
}

/** Unique names per test, so tests sharing one server never hear each other. */
export function names(): { otao: string; cmx: string; epr: string; tm: string } {
  const s = randomBytes(4).toString('hex');
  return { otao: `otao-${s}`, cmx: `cmx-ota-${s}`, epr: `epr-${s}`, tm: `tm-${s}` };
}

/** Runs scheduled pushes and bootstraps at once in the background; `idle()` waits for them. */
export class ImmediateWorkScheduler implements WorkScheduler {
  core: OtaoCore | undefined;
  private running = new Set<Promise<unknown>>();
  readonly errors: unknown[] = [];
  schedulePushes(scope: PushScope): void {
    this.track(() => this.core!.pushes.run(scope));
  }
  async enqueuePushes(scope: PushScope): Promise<void> {
    this.schedulePushes(scope);
  }
  scheduleFilterBootstrap(tenantId: string, appName: string, filterIds: readonly string[]): void {
    this.track(() => this.core!.endpointEvents.bootstrapFilters(tenantId, appName, filterIds, 'scheduled'));
  }
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
  private track(f: () => Promise<unknown>): void {
    const p = Promise.resolve()
      .then(f)
      .catch((e: unknown) => this.errors.push(e))
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }
}

export const realClock: Clock = { now: () => Date.now() };

export interface Otao {
  readonly nats: NatsCdtp;
  readonly core: OtaoCore;
  readonly observer: CountingObserver;
  readonly software: InMemorySoftwareRepository;
  readonly endpoints: InMemoryEndpointRepository;
  readonly stats: InMemoryRolloutStatsRepository;
  readonly registry: InMemoryApplicationRegistry;
  readonly work: ImmediateWorkScheduler;
}

/**
 * OTAO as apps/server will wire it: createOtaoCore over the in-memory repositories, with this
 * package's NatsConfigPublisher, NatsSoftwareEventPublisher and NatsFilterDirectory.
 */
export function buildOtao(
  url: string,
  n: ReturnType<typeof names>,
  options: {
    apps?: readonly AppDefinition[];
    config?: Partial<NatsCdtpConfig>;
    clients?: NatsCdtpClients;
    /** Share repositories with another replica (two replicas, one store). */
    shareWith?: Otao;
    catalogueMaxAgeMs?: number;
    replicaId?: string;
  } = {},
): Otao {
  const observer = new CountingObserver();
  const nats = createNatsCdtp(
    {
      connection: { servers: url, reconnectInitialDelayMs: 100, reconnectMaxDelayMs: 1000 },
      instanceName: n.otao,
      replicaId: options.replicaId ?? 'otao-0',
      softwareConsumerInstanceName: n.cmx,
      eprInstanceName: n.epr,
      tenantManagerInstanceName: n.tm,
      events: { eventRetryDelayMs: 20 },
      efmp: { retryDelayMs: 10 },
      ...options.config,
    },
    { observer, ...options.clients },
  );
  const s = options.shareWith;
  const software = s?.software ?? new InMemorySoftwareRepository();
  const endpoints = s?.endpoints ?? new InMemoryEndpointRepository();
  const stats = s?.stats ?? new InMemoryRolloutStatsRepository();
  const registry = s?.registry ?? new InMemoryApplicationRegistry(options.apps ?? [{ tenantId: TENANT, appName: APP, versions: [AVN] }]);
  const work = new ImmediateWorkScheduler();
  const core = createOtaoCore(
    {
      software,
      endpoints,
      stats,
      lease: new InMemoryLease(),
      clock: realClock,
      ids: new SequentialIds(`${options.replicaId ?? 'otao-0'}-corr-`),
      registry,
      configPublisher: nats.configPublisher,
      softwareEvents: nats.softwareEvents,
      filterDirectory: nats.filterDirectory,
      work,
      audit: new InMemoryAuditLog(),
      ...referencePlatform(),
    },
    { specMaxBytes: 262_144, ...(options.catalogueMaxAgeMs !== undefined ? { catalogueMaxAgeMs: options.catalogueMaxAgeMs } : {}) },
  );
  work.core = core;
  return { nats, core, observer, software, endpoints, stats, registry, work };
}

/** Creates software through the core (as the REST API would); fails the test on a rejected body. */
export async function createSoftware(core: OtaoCore, body: Record<string, unknown>, tenantId = TENANT, appName = APP): Promise<void> {
  const r = await core.software.create(tenantId, appName, body, 'test');
  if (!r.ok) throw new Error(`software rejected: ${r.error.code} ${r.error.message}`);
}

export async function startAll(url: string, n: ReturnType<typeof names>, otao: Otao): Promise<{ cmx: FakeCmx; epr: FakeEpr }> {
  const epr = await new FakeEpr({ servers: url, instanceName: n.epr }).start();
  const cmx = await new FakeCmx({ servers: url, instanceName: n.cmx, providerInstanceName: n.otao }).start();
  await otao.nats.start(otao.core);
  return { cmx, epr };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
