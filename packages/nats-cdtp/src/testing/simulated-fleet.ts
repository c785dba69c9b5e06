import { createHash } from 'node:crypto';
import type { Subscription } from 'nats';
import { codecs } from '../codecs';
import { NatsConnection } from '../connection';
import { subjects } from '../subjects';

/** One simulated endpoint as the fleet starts it. */
export interface FleetEndpointSpec {
  readonly endpointId: string;
  readonly appVersionName: string;
  /** The version it runs (reported by its first pull). */
  readonly version: string;
  /** Whether it keeps pulling after boot (a device that reconnects now and then); the others only receive pushes. */
  readonly pulls: boolean;
}

export interface SimulatedFleetOptions {
  readonly servers: string | readonly string[];
  /** The provider it pulls from and whose ConfigUpdated it receives. Default `otao`. */
  readonly providerInstanceName?: string;
  /** The CMX instance it reports ConfigApplied as. Default `cmx-ota`. */
  readonly cmxInstanceName?: string;
  /** Its replica id (originatorReplicaId of reports, connection name). Default `{cmx}-fleet`. */
  readonly replicaId?: string;
  readonly endpoints: readonly FleetEndpointSpec[];
  /** Pulls per second of the whole fleet after boot, spread round robin over the pulling endpoints. Default 20. */
  readonly pullRatePerSecond?: number;
  /** How long a pull waits for its answer; also the request's `timeout` field (OTAO drops expired requests). Default 60 000. */
  readonly pullWaitMs?: number;
  /** Pulls in flight at most; beyond that the pacer skips (a device does not pile up requests). Default 500. */
  readonly maxPullsInFlight?: number;
  /**
   * Whether an install of `version` on `endpointId` fails (reported with status 500). Default: a
   * stable hash of both below `failureRate`, so a run is reproducible and each endpoint fails a
   * version consistently.
   */
  readonly fails?: (endpointId: string, version: string) => boolean;
  /** Share of installs that fail when `fails` is not given. Default 0.05. */
  readonly failureRate?: number;
  /** Install time range, ms (uniform). Default [200, 2000]. */
  readonly installMs?: readonly [number, number];
  /** Where the download link is in the delivered specification (dot-separated, as OTAO_S3_URL_PATH). Default `link`. */
  readonly linkPath?: string;
  /** Downloads at once. Default 16. */
  readonly maxConcurrentDownloads?: number;
  /** Pause between download attempts (S3 down: the device retries). Default 1000 ms. */
  readonly downloadRetryMs?: number;
  /** Gives up a download after this long and reports the install failed (status 503). Default 600 000 ms. */
  readonly downloadGiveUpMs?: number;
  /** Clock of the record (epoch ms). Default Date.now. */
  readonly now?: () => number;
}

/** How a version reached an endpoint. */
export type OfferVia = 'push' | 'pull';

/** What an endpoint did with a version it was offered. */
export type InstallState = 'downloading' | 'installing' | 'applied' | 'failed';

export interface PullRecord {
  readonly endpointId: string;
  /** The configId the endpoint sent (its version then). */
  readonly configId: string;
  readonly boot: boolean;
  readonly sentAt: number;
  answeredAt?: number;
  /** `answered`: a ConfigResponse came; `no_responders`: NATS said no provider is subscribed; `timeout`: nothing within pullWaitMs; `error`: the request could not be sent or failed otherwise. */
  outcome: 'pending' | 'answered' | 'no_responders' | 'timeout' | 'error';
  statusCode?: number;
  /** The version offered (configId of the answer), if any. */
  offered?: string | null;
  reasonPhrase?: string | null;
  error?: string;
}

export interface PushRecord {
  readonly endpointId: string;
  readonly version: string;
  readonly receivedAt: number;
  /** The publisher's `timestamp` (epoch ms). */
  readonly timestamp: number;
  /** `originatorReplicaId`: which OTAO replica sent it. */
  readonly replicaId: string | null;
}

export interface ReportRecord {
  readonly endpointId: string;
  readonly appVersionName: string;
  readonly version: string;
  readonly statusCode: number;
  /** When it was handed to NATS (after any hold). */
  sentAt?: number;
  readonly queuedAt: number;
}

export interface EndpointRecord {
  readonly spec: FleetEndpointSpec;
  /** The version it runs now. */
  current: string;
  /** First offer of each version (push or pull answer). */
  readonly offers: Map<string, { readonly at: number; readonly via: OfferVia }>;
  /** What it did with each version offered. */
  readonly installs: Map<string, InstallState>;
  readonly reports: ReportRecord[];
  /** Registered: its boot pull was answered 200. */
  booted: boolean;
}

/** Counts of one version as the fleet saw them (distinct endpoints). */
export interface FleetVersionSummary {
  readonly offered: number;
  readonly offeredByPush: number;
  readonly offeredByPull: number;
  readonly applied: number;
  readonly failed: number;
  readonly pushes: number;
  readonly duplicatePushes: number;
}

/**
 * A simulated fleet of endpoints behind a CMX, speaking only 6/CDTP Avro over NATS: each endpoint
 * pulls once at boot with the version it runs (ConfigRequest), some keep pulling now and then; every
 * endpoint receives ConfigUpdated pushes; an offered version is "downloaded" (the presigned link in
 * the specification is fetched, retried while it fails), "installed", and reported with
 * ConfigApplied — 200, or 500 for the installs chosen to fail. A failed version is not retried.
 *
 * It keeps its own record of everything it saw (every pull and its answer, every push with the
 * replica that sent it, every report it sent), so a test can compare what OTAO says with what the
 * devices experienced. Reports can be held (`holdReports`) while no provider can receive them:
 * ConfigApplied is a NATS core broadcast, lost when no OTAO replica is subscribed.
 */
export class SimulatedFleet {
  readonly connection: NatsConnection;
  readonly providerInstanceName: string;
  readonly cmxInstanceName: string;
  readonly replicaId: string;
  readonly endpoints = new Map<string, EndpointRecord>();
  readonly pulls: PullRecord[] = [];
  readonly pushes: PushRecord[] = [];
  readonly reports: ReportRecord[] = [];
  /** ConfigUpdated that did not decode, and pushes for endpoints the fleet does not have. */
  readonly stray = { undecodable: 0, unknownEndpoint: 0 };
  readonly downloads = { ok: 0, failedAttempts: 0, gaveUp: 0 };
  private readonly options: SimulatedFleetOptions;
  private readonly now: () => number;
  private readonly pullers: EndpointRecord[];
  private readonly subs: Subscription[] = [];
  private readonly outbox: ReportRecord[] = [];
  private readonly downloadQueue: (() => Promise<void>)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private downloadsRunning = 0;
  private inFlight = 0;
  private pullCursor = 0;
  private pullCredit = 0;
  private pacer: NodeJS.Timeout | undefined;
  private pump: NodeJS.Timeout | undefined;
  private held = false;
  private stopped = false;
  private seq = 0;
  private busy = 0;

  constructor(options: SimulatedFleetOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.providerInstanceName = options.providerInstanceName ?? 'otao';
    this.cmxInstanceName = options.cmxInstanceName ?? 'cmx-ota';
    this.replicaId = options.replicaId ?? `${this.cmxInstanceName}-fleet`;
    for (const spec of options.endpoints) {
      this.endpoints.set(spec.endpointId, { spec, current: spec.version, offers: new Map(), installs: new Map(), reports: [], booted: false });
    }
    this.pullers = [...this.endpoints.values()].filter((e) => e.spec.pulls);
    this.connection = new NatsConnection({ servers: options.servers, name: `fleet-${this.replicaId}`, reconnectInitialDelayMs: 100, reconnectMaxDelayMs: 500 });
  }

  async start(): Promise<this> {
    await this.connection.start();
    const nc = this.connection.clientForSubscriptions();
    this.subs.push(
      nc.subscribe(subjects.configUpdated(this.providerInstanceName), {
        callback: (err, msg) => {
          if (!err) this.onPush(msg.data);
        },
      }),
    );
    await nc.flush();
    this.pump = setInterval(() => this.sendReports(), 50);
    return this;
  }

  /** Stops pulling, downloading and reporting; closes the connection. What was recorded stays. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopPulling();
    if (this.pump) clearInterval(this.pump);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.connection.stop();
  }

  /**
   * Registers every endpoint: each pulls once with the version it runs, `concurrency` at a time,
   * until its pull is answered 200 (503, no answer and no responders are retried). The offers in
   * the answers are handled like any other.
   */
  async boot(concurrency = 64, timeoutMs = 300_000): Promise<void> {
    const queue = [...this.endpoints.values()];
    const until = this.now() + timeoutMs;
    const worker = async (): Promise<void> => {
      for (let e = queue.shift(); e; e = queue.shift()) {
        while (!e.booted) {
          if (this.stopped) return;
          if (this.now() > until) throw new Error(`fleet boot: ${e.spec.endpointId} not registered within ${timeoutMs} ms`);
          const r = await this.pull(e, true);
          if (r.outcome === 'answered' && r.statusCode === 200) e.booted = true;
          else await this.sleep(200);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
  }

  /** Starts the pulls of the pulling endpoints, `pullRatePerSecond` for the whole fleet. */
  startPulling(): void {
    if (this.pacer || this.pullers.length === 0) return;
    const rate = this.options.pullRatePerSecond ?? 20;
    let last = this.now();
    this.pacer = setInterval(() => {
      const t = this.now();
      this.pullCredit = Math.min(this.pullCredit + ((t - last) / 1000) * rate, rate);
      last = t;
      if (this.connection.status() !== 'connected') return; // a device does not pile requests up while offline
      while (this.pullCredit >= 1 && this.inFlight < (this.options.maxPullsInFlight ?? 500)) {
        this.pullCredit -= 1;
        const e = this.pullers[this.pullCursor++ % this.pullers.length]!;
        void this.pull(e, false);
      }
    }, 20);
  }

  stopPulling(): void {
    if (this.pacer) clearInterval(this.pacer);
    this.pacer = undefined;
  }

  /** Holds ConfigApplied reports in the fleet (they are sent, in order, by `releaseReports`). */
  holdReports(): void {
    this.held = true;
  }

  releaseReports(): void {
    this.held = false;
    this.sendReports();
  }

  /** Reports not sent yet (held, or waiting for the connection). */
  get unsentReports(): number {
    return this.outbox.length;
  }

  /** Downloads and installs under way, pulls in flight and unsent reports: 0 when the fleet is quiet. */
  get pending(): number {
    return this.busy + this.inFlight + this.outbox.length;
  }

  /** Distinct-endpoint counts of one version. */
  summary(version: string): FleetVersionSummary {
    let offered = 0;
    let byPush = 0;
    let byPull = 0;
    let applied = 0;
    let failed = 0;
    for (const e of this.endpoints.values()) {
      const o = e.offers.get(version);
      if (o) {
        offered++;
        if (o.via === 'push') byPush++;
        else byPull++;
      }
      const last = [...e.reports].reverse().find((r) => r.version === version && r.sentAt !== undefined);
      if (last) {
        if (last.statusCode >= 200 && last.statusCode < 300) applied++;
        else failed++;
      }
    }
    const pushes = this.pushes.filter((p) => p.version === version);
    const distinct = new Set(pushes.map((p) => p.endpointId)).size;
    return { offered, offeredByPush: byPush, offeredByPull: byPull, applied, failed, pushes: pushes.length, duplicatePushes: pushes.length - distinct };
  }

  /** Whether an install of `version` on `endpointId` fails (the option, or a stable hash below the failure rate). */
  fails(endpointId: string, version: string): boolean {
    if (this.options.fails) return this.options.fails(endpointId, version);
    const h = createHash('sha256').update(`${endpointId}/${version}`).digest().readUInt32BE(0);
    return h / 0x1_0000_0000 < (this.options.failureRate ?? 0.05);
  }

  // ---------------------------------------------------------------------------------------------

  /** One ConfigRequest of an endpoint with its current version; the answer's offer is handled. */
  private async pull(e: EndpointRecord, boot: boolean): Promise<PullRecord> {
    const waitMs = this.options.pullWaitMs ?? 60_000;
    const rec: PullRecord = { endpointId: e.spec.endpointId, configId: e.current, boot, sentAt: this.now(), outcome: 'pending' };
    this.pulls.push(rec);
    this.inFlight++;
    try {
      const nc = this.connection.client();
      const bytes = codecs.configRequest.encode({
        correlationId: `${this.replicaId}-pull-${++this.seq}`,
        timestamp: rec.sentAt,
        timeout: waitMs,
        appVersionName: e.spec.appVersionName,
        endpointId: e.spec.endpointId,
        configId: e.current,
        configName: null,
      });
      const m = await nc.request(subjects.cdtpRequest(this.providerInstanceName), bytes, { timeout: waitMs });
      const r = codecs.configResponse.decode(m.data);
      rec.answeredAt = this.now();
      rec.outcome = 'answered';
      rec.statusCode = r.statusCode;
      rec.offered = r.configId;
      rec.reasonPhrase = r.reasonPhrase;
      if (r.statusCode === 200 && r.configId !== null && r.content !== null) this.onOffer(e, r.configId, r.content, 'pull');
    } catch (err) {
      const code = (err as { code?: string }).code;
      rec.outcome = code === '503' ? 'no_responders' : code === 'TIMEOUT' ? 'timeout' : 'error';
      if (rec.outcome === 'no_responders') rec.answeredAt = this.now();
      rec.error = (err as Error).message;
    } finally {
      this.inFlight--;
    }
    return rec;
  }

  private onPush(data: Uint8Array): void {
    let u;
    try {
      u = codecs.configUpdated.decode(data);
    } catch {
      this.stray.undecodable++;
      return;
    }
    this.pushes.push({ endpointId: u.endpointId, version: u.configId, receivedAt: this.now(), timestamp: u.timestamp, replicaId: u.originatorReplicaId });
    const e = this.endpoints.get(u.endpointId);
    if (!e) {
      this.stray.unknownEndpoint++;
      return;
    }
    this.onOffer(e, u.configId, u.content, 'push');
  }

  /** A version offered by push or pull: recorded; downloaded, installed and reported unless already handled. */
  private onOffer(e: EndpointRecord, version: string, content: Uint8Array, via: OfferVia): void {
    if (!e.offers.has(version)) e.offers.set(version, { at: this.now(), via });
    if (this.stopped || e.current === version || e.installs.has(version)) return;
    e.installs.set(version, 'downloading');
    this.busy++;
    let link: string | undefined;
    try {
      const spec: unknown = JSON.parse(Buffer.from(content).toString('utf8'));
      const v = (this.options.linkPath ?? 'link')
        .split('.')
        .reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), spec);
      if (typeof v === 'string') link = v;
    } catch {
      // not JSON: nothing to download
    }
    // Only the download takes one of the fleet's download slots; the install runs on the device.
    this.downloadQueue.push(async () => {
      const ok = link === undefined ? true : await this.download(link);
      void this.install(e, version, ok);
    });
    this.runDownloads();
  }

  /** Installs a downloaded version (fails for want of the download), then reports it: 200, 500 (install failed) or 503 (download failed). */
  private async install(e: EndpointRecord, version: string, downloaded: boolean): Promise<void> {
    e.installs.set(version, 'installing');
    const [min, max] = this.options.installMs ?? [200, 2000];
    await this.sleep(min + Math.random() * (max - min));
    const failed = !downloaded || this.fails(e.spec.endpointId, version);
    e.installs.set(version, failed ? 'failed' : 'applied');
    if (!failed) e.current = version;
    const statusCode = !downloaded ? 503 : failed ? 500 : 200;
    const report: ReportRecord = { endpointId: e.spec.endpointId, appVersionName: e.spec.appVersionName, version, statusCode, queuedAt: this.now() };
    e.reports.push(report);
    this.reports.push(report);
    this.outbox.push(report);
    this.busy--;
    this.sendReports();
  }

  private runDownloads(): void {
    const max = this.options.maxConcurrentDownloads ?? 16;
    while (this.downloadsRunning < max && this.downloadQueue.length > 0) {
      const job = this.downloadQueue.shift()!;
      this.downloadsRunning++;
      void job().finally(() => {
        this.downloadsRunning--;
        this.runDownloads();
      });
    }
  }

  /** Fetches the link until it answers 200 (reading the whole body), or gives up. */
  private async download(link: string): Promise<boolean> {
    const giveUpAt = this.now() + (this.options.downloadGiveUpMs ?? 600_000);
    while (!this.stopped) {
      try {
        const res = await fetch(link, { signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.status === 200) {
          this.downloads.ok++;
          return true;
        }
      } catch {
        // S3 unreachable: retried
      }
      this.downloads.failedAttempts++;
      if (this.now() > giveUpAt) {
        this.downloads.gaveUp++;
        return false;
      }
      await this.sleep(this.options.downloadRetryMs ?? 1000);
    }
    return false;
  }

  /** Publishes queued reports while connected and not held; a report is sent once. */
  private sendReports(): void {
    if (this.held || this.outbox.length === 0 || this.connection.status() !== 'connected') return;
    let nc;
    try {
      nc = this.connection.client();
    } catch {
      return;
    }
    while (this.outbox.length > 0) {
      const r = this.outbox[0]!;
      const bytes = codecs.configApplied.encode({
        correlationId: `${this.replicaId}-applied-${++this.seq}`,
        timestamp: this.now(),
        timeout: 0,
        appVersionName: r.appVersionName,
        endpointId: r.endpointId,
        configId: r.version,
        originatorReplicaId: this.replicaId,
        statusCode: r.statusCode,
        reasonPhrase: r.statusCode === 200 ? null : r.statusCode === 503 ? 'download failed' : 'install failed',
      });
      try {
        nc.publish(subjects.configApplied(this.cmxInstanceName), bytes);
      } catch {
        return;
      }
      r.sentAt = this.now();
      this.outbox.shift();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}
