// One running OTAO: start in dependency order, readiness, graceful stop in reverse order. What is
// started comes from the container (container/), resolved once into a typed `Services`.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { isOtaoError } from '@otao/core';
import type { NatsCdtp } from '@otao/nats-cdtp';
import type { S3FileStore } from '@otao/s3-files';
import { ScmpListener, type TektonApplicationRegistry } from '@otao/tekton-config';
import type { Container } from 'inversify';
import type { Logger } from 'pino';
import { describeConfig, type OtaoConfig } from './config';
import { createContainer, resolve, resolveServices, type Services } from './container';
import type { OtaoMetrics } from './metrics';
import { retry, waitAtMost } from './retry';

/** How long a starting replica waits for the registry's first load before it serves CDTP requests anyway. */
const REGISTRY_GRACE_MS = 5000;

/** Spec §6.5: what `/ready` answers. */
export interface ReadinessReport {
  ready: boolean;
  problems: string[];
  degraded: string[];
}

/**
 * One running OTAO. Start: HTTP first (health answers at once), then the store, NATS, the work
 * scheduler, the registry, CDTP requests, background ticks. Stop: the reverse.
 */
export class OtaoServer {
  readonly container: Container;
  readonly config: OtaoConfig;
  /** Usable before start (a failed start is logged and counted). */
  readonly log: Logger;
  readonly metrics: OtaoMetrics;
  /** Everything the container built; resolved at start (an unreadable applications file fails the start, not the constructor). */
  private services: Services | undefined;
  private http: Server | undefined;
  private stopping = false;
  private storeUp = false;
  private readonly sockets = new Set<Socket>();

  constructor(config: OtaoConfig) {
    this.config = config;
    this.container = createContainer(config);
    this.log = resolve(this.container, 'log');
    this.metrics = resolve(this.container, 'metrics');
  }

  /** The core (after start). */
  get core(): Services['core'] {
    return this.started().core;
  }

  /** The port the HTTP server listens on (after start). */
  get port(): number {
    const a = this.http?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /**
   * In the background: the cohort of endpoints stored before cohorts were (one pass over the
   * endpoints; nothing to do after the first start of this version). Until it is done, a phased
   * preview classifies endpoint by endpoint. Interrupted by a stop or an outage: the next start
   * goes on.
   */
  private backfillCohorts(store: { backfillCohorts(): Promise<number> }): void {
    const log = this.log.child({ component: 'store' });
    const started = Date.now();
    store.backfillCohorts().then(
      (n) => {
        if (n > 0) log.info({ endpoints: n, ms: Date.now() - started }, 'endpoint cohorts stored (backfill)');
      },
      (error: unknown) => {
        if (this.stopping) return;
        log.warn({ err: error }, 'endpoint cohorts backfill interrupted: the next start goes on');
      },
    );
  }

  async start(): Promise<void> {
    const c = this.config;
    const log = this.log;
    log.info({ config: describeConfig(c) }, 'starting OTAO');
    if (c.security.off) log.warn({ defaultTenant: c.security.defaultTenant }, 'REST authentication is OFF (OTAO_SECURITY_IGNORED=/**): local use only');
    const services = resolveServices(this.container);
    this.services = services;
    const { core, store, nats, files, registry: reg, work, ticks } = services;

    if (files) await this.verifyFiles(files);
    await this.listen(services.http(() => this.readiness()));
    log.info({ port: this.port }, 'HTTP listening');

    await retry(
      'store start',
      log,
      () => this.stopping,
      () => store.start(),
    );
    this.storeUp = true;
    this.metrics.up.set({ dependency: 'store' }, 1);
    this.backfillCohorts(store);
    await nats.start(core, { serveRequests: false });
    work.start();
    if (reg.tekton) {
      this.listenToScmp(reg.tekton, nats);
      await reg.tekton.start(); // the first load; on failure it goes on trying in the background
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
    ticks.start();
    log.info({ instance: c.instanceName, port: this.port }, 'OTAO started');
  }

  /**
   * Spec §6.5: 200 when NATS and the store are reachable, else 503 naming what is down. S3 does not
   * decide readiness (CDTP and REST are served without it, §10); while it is down it is named under
   * `degraded`.
   */
  async readiness(): Promise<ReadinessReport> {
    const { nats, store, registry, files } = this.started();
    const problems: string[] = [];
    if (this.stopping) problems.push('shutting down');
    const natsStatus = nats.status();
    if (natsStatus !== 'connected') problems.push(`nats: ${natsStatus}`);
    if (!this.storeUp) problems.push('store: not started');
    else {
      try {
        await store.ping();
        this.metrics.up.set({ dependency: 'store' }, 1);
      } catch (e) {
        this.metrics.up.set({ dependency: 'store' }, 0);
        problems.push(`store: ${isOtaoError(e) ? e.code : 'unreachable'}`);
      }
    }
    if (!registry.registry.loaded) problems.push('application registry: not loaded');
    const degraded: string[] = [];
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

  /** Graceful stop: stop taking requests, finish in-flight ones, drain NATS, close the store. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const log = this.log;
    log.info('stopping OTAO');
    const services = this.services;
    services?.ticks.stop();
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
    // A start that failed before the container was resolved has nothing more to stop.
    if (!services) return;
    // The running job gets a few seconds; if it is not done, its claim is no longer renewed once
    // the process exits, expires, and another replica resumes the job.
    await services.work.stop(Math.min(graceMs, 5000));
    // A tick or a background recount of counts under way gets the same few seconds to finish before
    // the store closes under it (each is safe to cut: its lease expires, the older counts stay).
    await waitAtMost(Promise.all([services.ticks.settled(), services.core.insight.countsSettled()]), Math.min(graceMs, 5000));
    services.registry.tekton?.stop();
    await services.nats.stop();
    await services.ticks.releaseLeases();
    await services.store.stop();
    log.info('OTAO stopped');
  }

  private started(): Services {
    if (!this.services) throw new Error('OTAO has not started');
    return this.services;
  }

  private async listen(app: ReturnType<Services['http']>): Promise<void> {
    this.http = await new Promise<Server>((ok, fail) => {
      const s = app.listen(this.config.httpPort, () => ok(s));
      s.once('error', fail);
    });
    this.http.on('connection', (sock) => {
      this.sockets.add(sock);
      sock.once('close', () => this.sockets.delete(sock));
    });
  }

  /** 17/SCMP: Tekton's change notifications reload the registry. */
  private listenToScmp(tekton: TektonApplicationRegistry, nats: NatsCdtp): void {
    const m = this.metrics;
    new ScmpListener({
      instanceName: this.config.instanceName,
      providerInstanceName: this.config.tekton.scmpProviderInstance,
      onNotification: (s) => {
        m.events.inc({ kind: 'scmp', outcome: s.kind });
        tekton.notify(s);
      },
      onInvalid: () => m.dropped.inc({ reason: 'scmp:undecodable' }),
    }).start(nats.connection.clientForSubscriptions());
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
}
