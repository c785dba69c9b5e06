import { type ConfigPublisher, type ConfigPush, isOtaoError, type Logger, noopLogger, OtaoError } from '@otao/core';
import { codecs } from './codecs';
import type { NatsConnection } from './connection';
import { completeObserver, type NatsCdtpObserver } from './observer';
import { subjects } from './subjects';

/** Events per batch handed to the client and confirmed by one flush. */
const BATCH = 1000;

interface Queued {
  readonly bytes: Buffer;
  resolve(): void;
  reject(e: unknown): void;
}

export interface ConfigPublisherConfig {
  readonly instanceName: string;
  readonly replicaId: string;
  /** How long the server may take to confirm a batch (PING/PONG after it) before its pushes fail. Default 10 s. */
  readonly confirmTimeoutMs?: number;
}

export interface ConfigPublisherClients {
  readonly logger?: Logger;
  readonly observer?: Partial<NatsCdtpObserver>;
  readonly now?: () => number;
}

/**
 * ConfigPublisher over NATS (spec §4.3): one 6/CDTP `ConfigUpdated` per endpoint on
 * `kaa.v1.events.{instance}.endpoint.config.updated`. The core paces the pushes (the service-wide
 * rate, `PushPacer`); this publisher sends what it is given at once.
 *
 * Events are handed to the client in batches (at the end of the event-loop turn, or every 1000), so
 * a rollout is written in large socket writes; after each batch the client flushes (PING/PONG) and
 * `publish` resolves only when the server answered: NATS processes a connection's messages in order,
 * so the PONG means the server accepted every event before it. Only then does the core record the
 * push as sent; an event still in this process's buffers when it dies was never confirmed and is
 * sent again by another replica.
 *
 * While NATS is not connected (reconnecting or closed) `publish` throws
 * `OtaoError('dependency.unavailable')` instead of letting the client buffer without bound: the
 * core releases the push claim and its scheduler retries later, so nothing is lost and a long outage
 * does not pile up memory. An event larger than the server's max_payload is refused the same way,
 * and so is a batch the server did not confirm within `confirmTimeoutMs`.
 */
export class NatsConfigPublisher implements ConfigPublisher {
  private readonly subject: string;
  private readonly logger: Logger;
  private readonly observer: NatsCdtpObserver;
  private readonly now: () => number;
  private readonly confirmTimeoutMs: number;
  private queue: Queued[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly connection: NatsConnection,
    private readonly config: ConfigPublisherConfig,
    clients: ConfigPublisherClients = {},
  ) {
    this.subject = subjects.configUpdated(config.instanceName);
    this.logger = clients.logger ?? noopLogger;
    this.observer = completeObserver(clients.observer);
    this.now = clients.now ?? Date.now;
    this.confirmTimeoutMs = config.confirmTimeoutMs ?? 10_000;
  }

  async publish(push: ConfigPush): Promise<void> {
    let bytes: Buffer;
    try {
      const nc = this.connection.client();
      bytes = codecs.configUpdated.encode({
        correlationId: push.correlationId,
        timestamp: this.now(),
        timeout: 0,
        appVersionName: push.appVersionName,
        endpointId: push.endpointId,
        configId: push.version,
        contentType: push.contentType,
        content: Buffer.from(push.content, 'utf8'),
        originatorReplicaId: this.config.replicaId,
      });
      const max = nc.info?.max_payload;
      if (max !== undefined && bytes.length > max) {
        throw new OtaoError('dependency.unavailable', `ConfigUpdated of ${bytes.length} bytes exceeds the server's max_payload ${max}`);
      }
    } catch (e) {
      this.observer.pushFailed();
      if (isOtaoError(e)) throw e;
      this.logger.warn({ endpointId: push.endpointId, version: push.version, error: (e as Error).message }, 'ConfigUpdated could not be published');
      throw new OtaoError('dependency.unavailable', `ConfigUpdated could not be published: ${(e as Error).message}`, { cause: e });
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject });
      if (this.queue.length >= BATCH) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Hands every queued event to the NATS client now and asks the server to confirm them (called before the connection drains). */
  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const written = batch.filter((q) => this.write(q));
    if (written.length === 0) return;
    let nc: ReturnType<NatsConnection['clientForSubscriptions']>;
    try {
      nc = this.connection.clientForSubscriptions();
    } catch (e) {
      this.fail(written, e);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the server did not confirm within ${this.confirmTimeoutMs} ms`)), this.confirmTimeoutMs);
    });
    Promise.race([nc.flush(), timeout])
      .then(
        () => {
          for (const q of written) {
            this.observer.pushPublished();
            q.resolve();
          }
        },
        (e: unknown) => this.fail(written, e),
      )
      .finally(() => clearTimeout(timer));
  }

  private fail(batch: readonly Queued[], e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.logger.warn({ count: batch.length, error: message }, 'ConfigUpdated batch not confirmed by NATS; the pushes will be retried');
    for (const q of batch) {
      this.observer.pushFailed();
      q.reject(new OtaoError('dependency.unavailable', `ConfigUpdated not confirmed by NATS: ${message}`, { cause: e }));
    }
  }

  /** Hands one event to the client; false (and the caller's promise rejected) when the connection is gone. */
  private write(q: Queued): boolean {
    try {
      this.connection.clientForSubscriptions().publish(this.subject, q.bytes);
      return true;
    } catch (e) {
      this.observer.pushFailed();
      q.reject(new OtaoError('dependency.unavailable', `ConfigUpdated could not be written: ${(e as Error).message}`, { cause: e }));
      return false;
    }
  }
}
