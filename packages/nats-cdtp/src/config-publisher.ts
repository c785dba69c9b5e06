import { type ConfigPublisher, type ConfigPush, isOtaoError, OtaoError } from '@otao/core';
import { codecs } from './codecs';
import type { NatsConnection } from './connection';
import { completeObserver, type Logger, type NatsCdtpObserver, noopLogger } from './observer';
import { subjects } from './subjects';
import { type PacerClock, TokenBucket } from './token-bucket';
import { WriteBatcher } from './write-batcher';

export interface ConfigPublisherConfig {
  readonly instanceName: string;
  readonly replicaId: string;
  /** OTAO_PUSH_RATE_PER_SECOND; 0 = unlimited. */
  readonly pushRatePerSecond: number;
  /** Pushes allowed back to back; default 50 ms worth of the rate. */
  readonly pushBurst?: number;
}

export interface ConfigPublisherClients {
  readonly logger?: Logger;
  readonly observer?: Partial<NatsCdtpObserver>;
  readonly now?: () => number;
  readonly pacerClock?: PacerClock;
}

/**
 * ConfigPublisher over NATS (spec §4.3): one 6/CDTP `ConfigUpdated` per endpoint on
 * `kaa.v1.events.{instance}.endpoint.config.updated`, paced by a token bucket.
 *
 * `publish` resolves once the event is encoded, checked and queued for the NATS client; the queue
 * is handed to the client at the end of the event-loop turn (or every 1000 events), so a rollout
 * is written in large batches instead of one socket write per endpoint. This is the same
 * guarantee the client's own outbound buffer gives: accepted, not yet acknowledged by the server.
 *
 * While NATS is not connected (reconnecting or closed) `publish` throws
 * `OtaoError('dependency.unavailable')` instead of letting the client buffer without bound: the
 * core un-marks the push and its scheduler retries later, so nothing is lost and a long outage
 * does not pile up memory. An event larger than the server's max_payload is refused the same way.
 */
export class NatsConfigPublisher implements ConfigPublisher {
  private readonly bucket: TokenBucket;
  private readonly subject: string;
  private readonly logger: Logger;
  private readonly observer: NatsCdtpObserver;
  private readonly now: () => number;
  private readonly batcher = new WriteBatcher(1000);

  constructor(
    private readonly connection: NatsConnection,
    private readonly config: ConfigPublisherConfig,
    clients: ConfigPublisherClients = {},
  ) {
    this.bucket = new TokenBucket(config.pushRatePerSecond, config.pushBurst, clients.pacerClock);
    this.subject = subjects.configUpdated(config.instanceName);
    this.logger = clients.logger ?? noopLogger;
    this.observer = completeObserver(clients.observer);
    this.now = clients.now ?? Date.now;
  }

  async publish(push: ConfigPush): Promise<void> {
    if (this.bucket.ratePerSecond > 0) await this.bucket.take();
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
      this.logger.warn('ConfigUpdated could not be published', { endpointId: push.endpointId, version: push.version, error: (e as Error).message });
      throw new OtaoError('dependency.unavailable', `ConfigUpdated could not be published: ${(e as Error).message}`, { cause: e });
    }
    this.batcher.add(() => this.write(bytes, push));
  }

  /** Hands every queued event to the NATS client now (called before the connection drains). */
  flush(): void {
    this.batcher.flush();
  }

  private write(bytes: Buffer, push: ConfigPush): void {
    try {
      this.connection.clientForSubscriptions().publish(this.subject, bytes);
      this.observer.pushPublished();
    } catch (e) {
      // Only when the connection closed within this event-loop turn (stop() flushes first).
      this.observer.pushFailed();
      this.logger.error('ConfigUpdated lost: NATS connection closed before it was written', {
        endpointId: push.endpointId,
        version: push.version,
        error: (e as Error).message,
      });
    }
  }
}
