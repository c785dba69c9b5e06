// The composition root: builds every adapter from the configuration, wires them into the core with
// an inversify container (one module per adapter; the adapters themselves know nothing of
// inversify), and runs the service: start in dependency order, stop in reverse on SIGTERM.
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Server } from 'node:http';
import { Container, ContainerModule } from 'inversify';
import type { Logger } from 'pino';
import {
  AUDIT_MAINTENANCE_LEASE,
  createOtaoCore,
  type CoreDeps,
  isOtaoError,
  PHASES_LEASE,
  openPercent,
  type OtaoCore,
  REPORT_TIMEOUTS_LEASE,
} from '@otao/core';
import { type ConsoleOptions, createHttpApp, fileRoutes, isConsoleBuilt } from '@otao/http-express';
import { createMongoStore, MongoPushPacer, type MongoStore } from '@otao/mongo-store';
import { createNatsCdtp, type NatsCdtp, type NatsCdtpObserver } from '@otao/nats-cdtp';
import { S3FileStore } from '@otao/s3-files';
import { fromDocument, loadApplicationsFile, MutableApplicationRegistry, ScmpListener, TektonApplicationRegistry, TektonClient } from '@otao/tekton-config';
import { describeConfig, type OtaoConfig, secretsOf } from './config';
import { createLogger } from './logger';
import { OtaoMetrics, type RolloutSample } from './metrics';
import { createSecurity, keycloakBase, type Security } from './security';
import { DurableWorkScheduler } from './work-scheduler';

export const TYPES = {
  Config: Symbol.for('Config'),
  Logger: Symbol.for('Logger'),
  Metrics: Symbol.for('Metrics'),
  Store: Symbol.for('Store'),
  Nats: Symbol.for('Nats'),
  Files: Symbol.for('Files'),
  Registry: Symbol.for('Registry'),
  Tekton: Symbol.for('Tekton'),
  Security: Symbol.for('Security'),
  Work: Symbol.for('Work'),
  Core: Symbol.for('Core'),
} as const;

/** The application registry and how it is kept current. */
interface RegistryHandle {
  readonly registry: MutableApplicationRegistry;
  readonly tekton?: TektonApplicationRegistry;
}

function natsObserver(m: OtaoMetrics): NatsCdtpObserver {
  return {
    requestHandled: (outcome, status, seconds) => {
      m.cdtpRequests.inc({ status: String(status), outcome });
      m.cdtpLatency.observe(seconds);
    },
    dropped: (kind, reason) => m.dropped.inc({ reason: `${kind}:${reason}` }),
    pushPublished: () => m.pushes.inc(),
    pushFailed: () => m.dropped.inc({ reason: 'push:publish_failed' }),
    eventHandled: (kind, outcome) => {
      m.events.inc({ kind, outcome });
      if (kind === 'config.applied') m.reports.inc({ outcome });
    },
    eventRetried: (kind) => m.events.inc({ kind, outcome: 'retried' }),
    efmpRequest: (op, outcome) => m.events.inc({ kind: `efmp.${op}`, outcome }),
    connectionStatus: (status) => m.up.set({ dependency: 'nats' }, status === 'connected' ? 1 : 0),
  };
}

const storeModule = new ContainerModule(({ bind }) => {
  bind<MongoStore>(TYPES.Store)
    .toDynamicValue((ctx) => {
      const c = ctx.get<OtaoConfig>(TYPES.Config);
      const m = ctx.get<OtaoMetrics>(TYPES.Metrics);
      // Every round trip to the store, by command (otao_store_commands_total).
      const log = ctx.get<Logger>(TYPES.Logger).child({ component: 'store' });
      return createMongoStore({
        uri: c.mongo.uri,
        database: c.mongo.database,
        onCommand: (e) => m.storeCommand(e.commandName),
        // A stuck driver client replaced by the store's watch (otao_store_client_replacements_total).
        onReconnect: (reason) => {
          m.storeReconnects.inc();
          log.warn({ reason }, 'store client replaced');
        },
      });
    })
    .inSingletonScope();
});

const natsModule = new ContainerModule(({ bind }) => {
  bind<NatsCdtp>(TYPES.Nats)
    .toDynamicValue((ctx) => {
      const c = ctx.get<OtaoConfig>(TYPES.Config);
      const log = ctx.get<Logger>(TYPES.Logger).child({ component: 'nats' });
      const security = ctx.get<Security>(TYPES.Security);
      return createNatsCdtp(
        {
          connection: { servers: c.nats.urls, ...(c.nats.user ? { user: c.nats.user } : {}), ...(c.nats.pass ? { pass: c.nats.pass } : {}) },
          instanceName: c.instanceName,
          replicaId: c.replicaId,
          softwareConsumerInstanceName: c.softwareConsumerInstance,
          eprInstanceName: c.eprInstance,
          tenantManagerInstanceName: c.tenantManagerInstance,
          events: { eventRetryMs: c.eventRetrySeconds * 1000 },
        },
        {
          logger: {
            debug: (msg, f) => log.debug(f ?? {}, msg),
            info: (msg, f) => log.info(f ?? {}, msg),
            warn: (msg, f) => log.warn(f ?? {}, msg),
            error: (msg, f) => log.error(f ?? {}, msg),
          },
          observer: natsObserver(ctx.get<OtaoMetrics>(TYPES.Metrics)),
          onTenantUpdated: async () => security.directory?.refresh(),
          onTenantUnregistered: (tenantId) => {
            security.forgetTenant(tenantId);
            log.info({ tenantId }, 'tenant unregistered: its tokens are no longer accepted');
          },
        },
      );
    })
    .inSingletonScope();
});

const filesModule = new ContainerModule(({ bind }) => {
  bind<S3FileStore | undefined>(TYPES.Files)
    .toDynamicValue((ctx) => {
      const c = ctx.get<OtaoConfig>(TYPES.Config);
      if (!c.s3.enabled || !c.s3.bucket) return undefined;
      return new S3FileStore({
        bucket: c.s3.bucket,
        region: c.s3.region,
        forcePathStyle: c.s3.forcePathStyle,
        ...(c.s3.endpoint ? { endpoint: c.s3.endpoint } : {}),
      });
    })
    .inSingletonScope();
});

const registryModule = new ContainerModule(({ bind }) => {
  bind<RegistryHandle>(TYPES.Registry)
    .toDynamicValue((ctx) => {
      const c = ctx.get<OtaoConfig>(TYPES.Config);
      if (c.tekton.enabled) {
        const security = ctx.get<Security>(TYPES.Security);
        const log = ctx.get<Logger>(TYPES.Logger).child({ component: 'registry' });
        const tekton = new TektonApplicationRegistry(
          new TektonClient({
            url: c.tekton.url,
            instanceName: c.instanceName,
            defaultTenant: c.security.defaultTenant,
            ...(security.tokens ? { token: () => security.tokens!.token() } : {}),
          }),
          {
            logger: log,
            // Spec §4.3/§7: a reload that changed an application's settings (consentRequired switched
            // off) or versions drops its cached catalogue and makes pushes due. The core depends on the
            // registry, so it is resolved lazily, at the first change (after start).
            onChanged: (changed) => {
              const core = ctx.get<OtaoCore>(TYPES.Core);
              const keys = new Set(changed.map((a) => `${a.tenantId}\u0000${a.appName}`));
              const apps = tekton.registry.entries().filter((e) => keys.has(`${e.tenantId}\u0000${e.appName}`));
              void retry(
                'registry change',
                log,
                () => false,
                () => core.endpointEvents.registryLoaded(apps),
              );
            },
          },
        );
        return { registry: tekton.registry, tekton };
      }
      const registry = new MutableApplicationRegistry();
      registry.replace(
        {},
        c.applicationsFile
          ? loadApplicationsFile(c.applicationsFile, c.security.defaultTenant)
          : fromDocument('OTAO_CONFIG_FILE', c.inlineApplications, c.security.defaultTenant),
      );
      return { registry };
    })
    .inSingletonScope();
});

const coreModule = new ContainerModule(({ bind }) => {
  bind<Security>(TYPES.Security)
    .toDynamicValue((ctx) => createSecurity(ctx.get<OtaoConfig>(TYPES.Config)))
    .inSingletonScope();
  bind<DurableWorkScheduler>(TYPES.Work)
    .toDynamicValue((ctx) => {
      const c = ctx.get<OtaoConfig>(TYPES.Config);
      const m = ctx.get<OtaoMetrics>(TYPES.Metrics);
      const registry = ctx.get<RegistryHandle>(TYPES.Registry).registry;
      return new DurableWorkScheduler(
        m.instrument('jobs', ctx.get<MongoStore>(TYPES.Store).jobs),
        ctx.get<Logger>(TYPES.Logger).child({ component: 'work' }),
        m,
        {
          replicaId: c.replicaId,
          // spec §10: no job runs before the registry has loaded once (it would find no application)
          canRun: () => registry.loaded,
        },
      );
    })
    .inSingletonScope();
  bind<OtaoCore>(TYPES.Core)
    .toDynamicValue((ctx) => {
      const c = ctx.get<OtaoConfig>(TYPES.Config);
      const m = ctx.get<OtaoMetrics>(TYPES.Metrics);
      const store = ctx.get<MongoStore>(TYPES.Store);
      const nats = ctx.get<NatsCdtp>(TYPES.Nats);
      const files = ctx.get<S3FileStore | undefined>(TYPES.Files);
      const work = ctx.get<DurableWorkScheduler>(TYPES.Work);
      const deps: CoreDeps = {
        software: m.instrument('software', store.software),
        endpoints: m.instrument('endpoints', store.endpoints),
        stats: m.instrument('stats', store.stats),
        lease: m.instrument('lease', store.lease),
        clock: { now: () => Date.now() },
        ids: { newId: () => randomUUID() },
        registry: ctx.get<RegistryHandle>(TYPES.Registry).registry,
        configPublisher: nats.configPublisher,
        softwareEvents: nats.softwareEvents,
        filterDirectory: nats.filterDirectory,
        work,
        audit: m.instrument('audit', store.audit),
        ...(files ? { files: files } : {}),
        // OTAO_PUSH_RATE_PER_SECOND: one budget in the store for every replica (spec §4.3)
        ...(c.pushRatePerSecond > 0 ? { pacer: m.instrument('pacer', new MongoPushPacer(store.db, c.pushRatePerSecond)) } : {}),
      };
      const filesLog = ctx.get<Logger>(TYPES.Logger).child({ component: 'files' });
      const core = createOtaoCore(deps, {
        specMaxBytes: c.specMaxBytes,
        maxFileBytes: c.s3.maxFileBytes,
        auditRetentionMs: c.auditRetentionDays * 86_400_000,
        ...(files ? { fileLinks: { urlPath: c.s3.urlPath, ttlSeconds: c.s3.urlTtlSeconds } } : {}),
        onFileCleanupFailed: (key, e) => {
          m.fileOrphans.inc();
          filesLog.warn({ key, err: (e as Error).message }, 'S3 object left behind (orphan): its deletion failed after the record changed');
        },
      });
      work.attach(core);
      return core;
    })
    .inSingletonScope();
});

/** Builds the container of one OTAO process. */
export function createContainer(config: OtaoConfig): Container {
  const container = new Container();
  container.bind<OtaoConfig>(TYPES.Config).toConstantValue(config);
  container.bind<Logger>(TYPES.Logger).toConstantValue(createLogger(config.logLevel, config.replicaId, secretsOf(config)));
  container.bind<OtaoMetrics>(TYPES.Metrics).toConstantValue(new OtaoMetrics());
  container.load(storeModule, natsModule, filesModule, registryModule, coreModule);
  return container;
}

async function retry<T>(what: string, log: Logger, stopped: () => boolean, fn: () => Promise<T>): Promise<T | undefined> {
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      return await fn();
    } catch (e) {
      const delay = Math.min(500 * 2 ** (attempt - 1), 10_000);
      log.warn({ err: (e as Error).message, attempt, retryInMs: delay }, `${what} failed; retrying`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  return undefined;
}

/** How often the audit log is maintained (reconciler and retention). */
const AUDIT_TICK_MS = 60_000;

/** The directory of the console's build output (`@otao/console`'s dist), or undefined when the package is absent. */
function consoleDir(): string | undefined {
  try {
    return join(dirname(require.resolve('@otao/console/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

function filesEnabled(c: OtaoConfig): boolean {
  return c.s3.enabled && c.s3.bucket !== undefined;
}

/** How often the report-timeout scan runs (under its lease: one replica at a time). */
const REPORT_TIMEOUT_TICK_MS = 30_000;
/** How old the rollout gauges may be; and how many active rollouts are read for them. */
const ROLLOUT_GAUGE_REFRESH_MS = 30_000;
const ROLLOUT_GAUGE_SCAN_LIMIT = 10_000;

/** How long a starting replica waits for the registry's first load before it serves CDTP requests anyway. */
const REGISTRY_GRACE_MS = 5000;

/** One running OTAO: HTTP first (health answers at once), then the store, NATS, the registry, background work. */
export class OtaoServer {
  readonly container: Container;
  readonly config: OtaoConfig;
  readonly log: Logger;
  readonly metrics: OtaoMetrics;
  private http: Server | undefined;
  private stopping = false;
  private storeUp = false;
  private ticker: NodeJS.Timeout | undefined;
  private auditTicker: NodeJS.Timeout | undefined;
  private phaseTicker: NodeJS.Timeout | undefined;
  private timeoutTicker: NodeJS.Timeout | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(config: OtaoConfig) {
    this.config = config;
    this.container = createContainer(config);
    this.log = this.container.get<Logger>(TYPES.Logger);
    this.metrics = this.container.get<OtaoMetrics>(TYPES.Metrics);
  }

  get core(): OtaoCore {
    return this.container.get<OtaoCore>(TYPES.Core);
  }

  /** The port the HTTP server listens on (after start). */
  get port(): number {
    const a = this.http?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async start(): Promise<void> {
    const c = this.config;
    const log = this.log;
    log.info({ config: describeConfig(c) }, 'starting OTAO');
    if (c.security.off) log.warn({ defaultTenant: c.security.defaultTenant }, 'REST authentication is OFF (OTAO_SECURITY_IGNORED=/**): local use only');
    const core = this.core;
    const store = this.container.get<MongoStore>(TYPES.Store);
    const nats = this.container.get<NatsCdtp>(TYPES.Nats);
    const files = this.container.get<S3FileStore | undefined>(TYPES.Files);
    const reg = this.container.get<RegistryHandle>(TYPES.Registry);
    const security = this.container.get<Security>(TYPES.Security);

    if (files) await this.verifyFiles(files);
    const routes = core.files ? fileRoutes() : undefined;
    const consoleOptions = this.consoleOptions();
    const m = this.metrics;
    const app = createHttpApp({
      core,
      authenticator: security.authenticator,
      permissions: security.permissions,
      securityIgnored: c.security.ignored,
      defaultTenant: c.security.defaultTenant,
      bodyLimitBytes: c.specMaxBytes * 2 + 65_536,
      logger: log.child({ component: 'http' }),
      observer: {
        request: (route, method, status, seconds) => {
          m.httpRequests.inc({ route, method, status: String(status) });
          m.httpLatency.observe({ route, method }, seconds);
        },
      },
      readiness: () => this.readiness(),
      metrics: { contentType: m.registry.contentType, render: () => m.registry.metrics() },
      ...(routes ? { extraRoutes: routes.extraRoutes, extraPaths: routes.extraPaths } : {}),
      ...(consoleOptions ? { console: consoleOptions } : {}),
    });
    this.http = await new Promise<Server>((ok, fail) => {
      const s = app.listen(c.httpPort, () => ok(s));
      s.once('error', fail);
    });
    this.http.on('connection', (sock) => {
      this.sockets.add(sock);
      sock.once('close', () => this.sockets.delete(sock));
    });
    log.info({ port: this.port }, 'HTTP listening');

    await retry(
      'store start',
      log,
      () => this.stopping,
      () => store.start(),
    );
    this.storeUp = true;
    m.up.set({ dependency: 'store' }, 1);
    await nats.start(core, { serveRequests: false });
    this.container.get<DurableWorkScheduler>(TYPES.Work).start();
    if (reg.tekton) {
      const tekton = reg.tekton;
      new ScmpListener({
        instanceName: c.instanceName,
        providerInstanceName: c.tekton.scmpProviderInstance,
        onNotification: (s) => {
          m.events.inc({ kind: 'scmp', outcome: s.kind });
          tekton.notify(s);
        },
        onInvalid: () => m.dropped.inc({ reason: 'scmp:undecodable' }),
      }).start(nats.connection.clientForSubscriptions());
      await tekton.start(); // the first load; on failure it goes on trying in the background
    }
    // A starting replica joins the CDTP queue group once it can answer: before the registry's first
    // load it could only answer 503 (§10) while the other replicas can answer. If the registry does
    // not load within the grace period (Tekton down), it serves anyway: 503 is an answer, silence not.
    const graceUntil = Date.now() + REGISTRY_GRACE_MS;
    while (!reg.registry.loaded && !this.stopping && Date.now() < graceUntil) await new Promise((r) => setTimeout(r, 50));
    if (!reg.registry.loaded) log.warn({ graceMs: REGISTRY_GRACE_MS }, 'application registry not loaded yet: serving CDTP requests with 503 until it is');
    await nats.serveRequests();
    if (!reg.tekton)
      await retry(
        'registry settings',
        log,
        () => this.stopping,
        () => core.endpointEvents.registryLoaded(reg.registry.entries()),
      );
    await retry(
      'filter bootstrap',
      log,
      () => this.stopping,
      () => core.endpointEvents.bootstrapMissingFilters(),
    );
    this.scheduleRolloutTick(0);
    this.scheduleAuditTick(AUDIT_TICK_MS);
    this.schedulePhaseTick(0);
    this.scheduleTimeoutTick(REPORT_TIMEOUT_TICK_MS);
    m.setRolloutSource(() => this.activeRollouts(), ROLLOUT_GAUGE_REFRESH_MS);
    log.info({ instance: c.instanceName, port: this.port }, 'OTAO started');
  }

  /**
   * The operator console (spec §11) when OTAO_CONSOLE_ENABLED: the build output of `@otao/console`
   * and what the single-page application needs to know to sign in (never a secret).
   */
  private consoleOptions(): ConsoleOptions | undefined {
    const c = this.config;
    if (!c.console.enabled) return undefined;
    const dir = consoleDir();
    if (!dir || !isConsoleBuilt(dir)) {
      this.log.warn({ dir }, 'the console is enabled but not built (npx turbo run build --filter=@otao/console): /console/ answers 404');
      return undefined;
    }
    const { off, tenants, tenantManagerUrl, oauth, defaultTenant, authzMode } = c.security;
    // With RPT decisions the console exchanges the person's access token for a requesting-party token
    // of OTAO's resource server at the tenant's issuer (spec §8): the client id it is registered as.
    const rptAudience = oauth.clientId ?? oauth.audience;
    const issuerBase = !off && tenantManagerUrl && oauth.issuer ? `${keycloakBase(oauth.issuer)}/realms/` : undefined;
    const origins = [...(tenants ?? []).map((t) => t.issuer), ...(issuerBase ? [issuerBase] : [])].flatMap((u) => {
      try {
        return [new URL(u).origin];
      } catch {
        return [];
      }
    });
    return {
      dir,
      issuerOrigins: off ? [] : origins,
      config: {
        auth: !off,
        clientId: c.console.clientId,
        ...(off ? { defaultTenant } : {}),
        tenants: off ? [] : (tenants ?? []).map((t) => ({ id: t.id, issuer: t.issuer })),
        ...(issuerBase ? { issuerBase } : {}),
        ...(off ? {} : { authzMode, ...(authzMode === 'rpt' && rptAudience ? { rptAudience } : {}) }),
        files: filesEnabled(c),
      },
    };
  }

  /**
   * A missing bucket or refused credentials are configuration errors: the start fails. S3 merely
   * unreachable is not (§10): the service starts, answers 503 where a file is needed, and the store
   * finds S3 again by itself (`/ready` names it meanwhile).
   */
  private async verifyFiles(files: S3FileStore): Promise<void> {
    try {
      await files.verifyBucket();
      this.metrics.up.set({ dependency: 's3' }, 1);
    } catch (e) {
      if (!isOtaoError(e)) throw e;
      this.metrics.up.set({ dependency: 's3' }, 0);
      this.log.warn({ err: e.message }, 'S3 is unavailable at start: uploads and pulls of software with a file answer 503 until it is back');
    }
  }

  /**
   * Spec §6.5: 200 when NATS and the store are reachable, else 503 naming what is down. S3 does not
   * decide readiness (CDTP and REST are served without it, §10); while it is down it is named under
   * `degraded`.
   */
  async readiness(): Promise<{ ready: boolean; problems: string[]; degraded: string[] }> {
    const problems: string[] = [];
    if (this.stopping) problems.push('shutting down');
    const natsStatus = this.container.get<NatsCdtp>(TYPES.Nats).status();
    if (natsStatus !== 'connected') problems.push(`nats: ${natsStatus}`);
    if (!this.storeUp) problems.push('store: not started');
    else {
      try {
        await this.container.get<MongoStore>(TYPES.Store).ping();
        this.metrics.up.set({ dependency: 'store' }, 1);
      } catch (e) {
        this.metrics.up.set({ dependency: 'store' }, 0);
        problems.push(`store: ${isOtaoError(e) ? e.code : 'unreachable'}`);
      }
    }
    if (!this.container.get<RegistryHandle>(TYPES.Registry).registry.loaded) problems.push('application registry: not loaded');
    const degraded: string[] = [];
    const files = this.container.get<S3FileStore | undefined>(TYPES.Files);
    if (files) {
      // Never waits for S3 (a blackholed S3 must not time the probe out): what the last request or
      // check saw, and a new check in the background at most every 5 s.
      void files.check(5000);
      const health = files.health;
      this.metrics.up.set({ dependency: 's3' }, health.up ? 1 : 0);
      if (!health.up) degraded.push(`s3: ${health.problem ?? 'unavailable'}`);
    }
    return { ready: problems.length === 0, problems, degraded };
  }

  /** Rollout dates (§4.3) under the store lease: every 5 s, or at the next rollout date if sooner. */
  private scheduleRolloutTick(ms: number): void {
    if (this.stopping) return;
    this.ticker = setTimeout(() => {
      // spec §10: time-based triggers wait for the registry's first load
      if (!this.container.get<RegistryHandle>(TYPES.Registry).registry.loaded) {
        this.scheduleRolloutTick(1000);
        return;
      }
      void this.core.rolloutDates
        .tick(this.config.replicaId)
        .then((r) => {
          if (r.ran && r.filters > 0) this.log.info(r, 'rollout dates processed');
          const next = r.nextDate === undefined ? 5000 : Math.max(50, Math.min(5000, r.nextDate - Date.now() + 10));
          this.scheduleRolloutTick(next);
        })
        .catch((e: unknown) => {
          this.log.warn({ err: (e as Error).message }, 'rollout date tick failed; retrying');
          this.scheduleRolloutTick(5000);
        });
    }, ms);
  }

  /**
   * Audit log maintenance (spec §4.13) under the store lease, every minute: the reconciler resolves
   * entries left pending by a crash, then entries older than OTAO_AUDIT_RETENTION_DAYS are pruned;
   * both in batches (docs/audit.md).
   */
  private scheduleAuditTick(ms: number): void {
    if (this.stopping) return;
    this.auditTicker = setTimeout(() => {
      // the reconciler may finish a tenant deletion or read software: after the registry's first load, like every background task
      if (!this.container.get<RegistryHandle>(TYPES.Registry).registry.loaded) {
        this.scheduleAuditTick(1000);
        return;
      }
      void this.core.audit
        .maintain(this.config.replicaId)
        .then((r) => {
          if (r.committed + r.discarded + r.pruned > 0) this.log.info(r, 'audit log maintained');
          this.scheduleAuditTick(AUDIT_TICK_MS);
        })
        .catch((e: unknown) => {
          this.log.warn({ err: (e as Error).message }, 'audit log maintenance failed; retrying');
          this.scheduleAuditTick(AUDIT_TICK_MS);
        });
    }, ms);
    this.auditTicker.unref();
  }

  /**
   * Phased rollouts (§4.10) under their own store lease: every `phaseCheckMs` (5 s), or at the next
   * soak end if sooner; at once again after an advance (the next phase may be due: soak 0).
   */
  private schedulePhaseTick(ms: number): void {
    if (this.stopping) return;
    this.phaseTicker = setTimeout(() => {
      if (!this.container.get<RegistryHandle>(TYPES.Registry).registry.loaded) {
        this.schedulePhaseTick(1000);
        return;
      }
      const period = this.core.options.phaseCheckMs;
      void this.core.phases
        .tick(this.config.replicaId)
        .then((r) => {
          if (r.ran && (r.advanced > 0 || r.caughtUp > 0)) this.log.info(r, 'phased rollouts processed');
          const next = r.nextCheckAt === undefined ? period : Math.max(50, Math.min(period, r.nextCheckAt - Date.now() + 10));
          this.schedulePhaseTick(next);
        })
        .catch((e: unknown) => {
          this.log.warn({ err: (e as Error).message }, 'phase tick failed; retrying');
          this.schedulePhaseTick(period);
        });
    }, ms);
  }

  /** Report timeouts (§4.11) and history pruning under the store lease `report-timeouts`, every 30 s. */
  private scheduleTimeoutTick(ms: number): void {
    if (this.stopping) return;
    this.timeoutTicker = setTimeout(() => {
      if (!this.container.get<RegistryHandle>(TYPES.Registry).registry.loaded) {
        this.scheduleTimeoutTick(1000);
        return;
      }
      void this.core.reportTimeouts
        .tick(this.config.replicaId)
        .then((r) => {
          if (r.ran && (r.timedOut > 0 || r.pruned > 0)) this.log.info(r, 'report timeouts processed');
        })
        .catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'report timeout tick failed; retrying'))
        .finally(() => this.scheduleTimeoutTick(REPORT_TIMEOUT_TICK_MS));
    }, ms);
  }

  /** The rollout gauges' snapshot (spec §6.5): non-suspended software offered in the last 7 days, most recently offered first. */
  private async activeRollouts(): Promise<RolloutSample[]> {
    const store = this.container.get<MongoStore>(TYPES.Store);
    const out: RolloutSample[] = [];
    for (const a of await store.stats.active(Date.now() - 7 * 86_400_000, ROLLOUT_GAUGE_SCAN_LIMIT)) {
      const sw = (await this.core.catalogues.planner(a.tenantId, a.appName)).catalogue.find(a.version);
      if (!sw || sw.rolloutStrategy === 'suspended') continue;
      out.push({ tenantId: a.tenantId, appName: a.appName, version: a.version, counts: a.counts, phasePercent: openPercent(sw) });
    }
    return out;
  }

  /** Graceful stop: stop taking requests, finish in-flight ones, drain NATS, close the store. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const log = this.log;
    log.info('stopping OTAO');
    if (this.ticker) clearTimeout(this.ticker);
    if (this.auditTicker) clearTimeout(this.auditTicker);
    if (this.phaseTicker) clearTimeout(this.phaseTicker);
    if (this.timeoutTicker) clearTimeout(this.timeoutTicker);
    const http = this.http;
    if (http) {
      const closed = new Promise<void>((r) => http.close(() => r()));
      http.closeIdleConnections();
      const force = setTimeout(() => {
        for (const s of this.sockets) s.destroy();
      }, graceMs);
      await closed;
      clearTimeout(force);
    }
    // The running job gets a few seconds; if it is not done, its claim expires and another replica resumes it.
    await this.container.get<DurableWorkScheduler>(TYPES.Work).stop(Math.min(graceMs, 5000));
    const reg = this.container.get<RegistryHandle>(TYPES.Registry);
    reg.tekton?.stop();
    await this.container.get<NatsCdtp>(TYPES.Nats).stop();
    const store = this.container.get<MongoStore>(TYPES.Store);
    try {
      await store.lease.release('rollout-dates', this.config.replicaId);
      await store.lease.release(AUDIT_MAINTENANCE_LEASE, this.config.replicaId);
      await store.lease.release(PHASES_LEASE, this.config.replicaId);
      await store.lease.release(REPORT_TIMEOUTS_LEASE, this.config.replicaId);
    } catch {
      // the lease expires by itself
    }
    await store.stop();
    log.info('OTAO stopped');
  }
}
