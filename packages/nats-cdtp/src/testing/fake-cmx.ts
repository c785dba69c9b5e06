import type { Subscription } from 'nats';
import { codecs, type ConfigResponseRecord, type ConfigUpdatedRecord, legacyWriters } from '../codecs';
import { NatsConnection } from '../connection';
import { subjects } from '../subjects';
import { waitFor } from './wait';

export interface FakeCmxOptions {
  readonly servers: string | readonly string[];
  /** CMX's instance name (its ConfigApplied subject). Default `cmx-ota`. */
  readonly instanceName?: string;
  /** This replica's id (its replica-specific reply subject). Default `cmx-ota-0`. */
  readonly replicaId?: string;
  /** The provider it pulls from and whose pushes it records. Default `otao`. */
  readonly providerInstanceName?: string;
  /** Reconnect delays of its own connection (tests that restart the server). */
  readonly reconnectInitialDelayMs?: number;
  readonly reconnectMaxDelayMs?: number;
}

export interface PullRequest {
  readonly endpointId: string;
  readonly appVersionName: string;
  readonly configId?: string | null;
  readonly configName?: string | null;
  readonly correlationId?: string;
  /** Epoch ms; default now. */
  readonly timestamp?: number;
  /** The request's own `timeout` field (default 3000, as in the RFC example). */
  readonly timeout?: number;
  /** Write the pre-2026 schema (no `configName`). */
  readonly legacy?: boolean;
}

export interface PullOptions {
  /** How long to wait for the answer (default 3000 ms). */
  readonly waitMs?: number;
  /** Reply on the replica subject `kaa.v1.replica.{replicaId}.cdtp.response` (default) or a NATS inbox. */
  readonly replyVia?: 'replica' | 'inbox';
}

export interface AppliedReport {
  readonly endpointId: string;
  readonly appVersionName: string;
  readonly configId: string;
  readonly statusCode?: number;
  readonly reasonPhrase?: string | null;
  readonly correlationId?: string;
  /** Write the pre-May-2020 schema (no `statusCode`/`reasonPhrase`). */
  readonly legacy?: boolean;
}

/** Thrown by `pull` when no answer arrives in time. */
export class PullTimeout extends Error {
  override readonly name = 'PullTimeout';
}

/**
 * A stand-in for Kaa's CMX (the 6/CDTP consumer) speaking only Avro over NATS: pulls with
 * ConfigRequest (request/reply), records ConfigUpdated pushes, publishes ConfigApplied in the new or
 * the old schema.
 */
export class FakeCmx {
  readonly connection: NatsConnection;
  readonly instanceName: string;
  readonly replicaId: string;
  readonly providerInstanceName: string;
  /** Every ConfigUpdated received, decoded, in arrival order. */
  readonly pushes: ConfigUpdatedRecord[] = [];
  /** Payloads on the push subject that did not decode. */
  undecodablePushes = 0;
  /** Answers on the replica subject nobody waited for (late or unsolicited). */
  readonly unsolicited: ConfigResponseRecord[] = [];
  private readonly pending = new Map<string, (r: ConfigResponseRecord) => void>();
  private readonly subs: Subscription[] = [];
  private seq = 0;

  constructor(options: FakeCmxOptions) {
    this.instanceName = options.instanceName ?? 'cmx-ota';
    this.replicaId = options.replicaId ?? `${this.instanceName}-0`;
    this.providerInstanceName = options.providerInstanceName ?? 'otao';
    this.connection = new NatsConnection({
      servers: options.servers,
      name: `fake-cmx-${this.replicaId}`,
      reconnectInitialDelayMs: options.reconnectInitialDelayMs ?? 100,
      reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? 500,
    });
  }

  async start(): Promise<this> {
    await this.connection.start();
    const nc = this.connection.clientForSubscriptions();
    this.subs.push(
      nc.subscribe(subjects.configUpdated(this.providerInstanceName), {
        callback: (err, msg) => {
          if (err) return;
          try {
            this.pushes.push(codecs.configUpdated.decode(msg.data));
          } catch {
            this.undecodablePushes++;
          }
        },
      }),
      nc.subscribe(subjects.cdtpResponse(this.replicaId), {
        callback: (err, msg) => {
          if (err) return;
          let r: ConfigResponseRecord;
          try {
            r = codecs.configResponse.decode(msg.data);
          } catch {
            return;
          }
          const resolve = this.pending.get(r.correlationId);
          if (resolve) {
            this.pending.delete(r.correlationId);
            resolve(r);
          } else this.unsolicited.push(r);
        },
      }),
    );
    await nc.flush();
    return this;
  }

  async stop(): Promise<void> {
    await this.connection.stop();
  }

  /** Encodes a ConfigRequest as CMX would (new or legacy schema). */
  encodeRequest(req: PullRequest): { bytes: Buffer; correlationId: string } {
    const correlationId = req.correlationId ?? `${this.replicaId}-req-${++this.seq}`;
    const common = {
      correlationId,
      timestamp: req.timestamp ?? Date.now(),
      timeout: req.timeout ?? 3000,
      appVersionName: req.appVersionName,
      endpointId: req.endpointId,
      configId: req.configId ?? null,
    };
    const bytes = req.legacy
      ? legacyWriters.configRequestWithoutConfigName.encode(common)
      : codecs.configRequest.encode({ ...common, configName: req.configName ?? null });
    return { bytes, correlationId };
  }

  /** Sends a ConfigRequest and waits for the ConfigResponse; throws PullTimeout without an answer. */
  async pull(req: PullRequest, options: PullOptions = {}): Promise<ConfigResponseRecord> {
    const { bytes, correlationId } = this.encodeRequest(req);
    return this.pullRaw(bytes, correlationId, options);
  }

  /** Sends arbitrary bytes as a request; waits for an answer carrying `correlationId`. */
  async pullRaw(bytes: Uint8Array, correlationId: string, options: PullOptions = {}): Promise<ConfigResponseRecord> {
    const waitMs = options.waitMs ?? 3000;
    const nc = this.connection.client();
    const subject = subjects.cdtpRequest(this.providerInstanceName);
    if (options.replyVia === 'inbox') {
      try {
        const m = await nc.request(subject, bytes, { timeout: waitMs });
        return codecs.configResponse.decode(m.data);
      } catch (e) {
        throw new PullTimeout(`no answer to ${correlationId}: ${(e as Error).message}`);
      }
    }
    return new Promise<ConfigResponseRecord>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new PullTimeout(`no answer to ${correlationId} within ${waitMs} ms`));
      }, waitMs);
      this.pending.set(correlationId, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      try {
        nc.publish(subject, bytes, { reply: subjects.cdtpResponse(this.replicaId) });
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(correlationId);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** Publishes bytes on the request subject with this replica's reply subject (no waiting). */
  sendRaw(bytes: Uint8Array, withReply = true): void {
    this.connection.client().publish(subjects.cdtpRequest(this.providerInstanceName), bytes, withReply ? { reply: subjects.cdtpResponse(this.replicaId) } : {});
  }

  /** Broadcasts ConfigApplied on `kaa.v1.events.{cmx}.endpoint.config.applied`. */
  async applied(r: AppliedReport): Promise<void> {
    const common = {
      correlationId: r.correlationId ?? `${this.replicaId}-applied-${++this.seq}`,
      timestamp: Date.now(),
      timeout: 0,
      appVersionName: r.appVersionName,
      endpointId: r.endpointId,
      configId: r.configId,
      originatorReplicaId: this.replicaId,
    };
    const bytes = r.legacy
      ? legacyWriters.configAppliedWithoutStatus.encode(common)
      : codecs.configApplied.encode({ ...common, statusCode: r.statusCode ?? 200, reasonPhrase: r.reasonPhrase ?? null });
    const nc = this.connection.client();
    nc.publish(subjects.configApplied(this.instanceName), bytes);
    await nc.flush();
  }

  /** Waits until at least `n` pushes were received (default 5 s). */
  async waitForPushes(n: number, timeoutMs = 5000): Promise<ConfigUpdatedRecord[]> {
    await waitFor(
      () => this.pushes.length >= n,
      timeoutMs,
      () => `expected ${n} ConfigUpdated, got ${this.pushes.length}`,
    );
    return this.pushes;
  }
}
