import { isOtaoError, type Logger, noopLogger, type OtaoCore } from '@otao/core';
import type { Msg, Subscription } from 'nats';
import { codecs, type ConfigRequestRecord } from './codecs';
import type { NatsConnection } from './connection';
import { completeObserver, type NatsCdtpObserver, type RequestOutcome } from './observer';
import { type CdtpAnswer, cdtpAnswer, cdtpUnavailable, INTERNAL_ERROR, INTERNAL_ERROR_ANSWER, OVERLOADED } from './status-codes';
import { subjects } from './subjects';
import { ThrottledLog } from './throttled-log';
import { WorkQueue } from './work-queue';
import { WriteBatcher } from './write-batcher';

export interface CdtpProviderConfig {
  /** OTAO's service instance name: the request subject token and the queue group. */
  readonly instanceName: string;
  /** Requests decided at once (default 256). */
  readonly maxConcurrentRequests?: number;
  /** Requests waiting for a slot; beyond it a request is answered 503 `service unavailable: overloaded` at once (default 10 000). */
  readonly maxQueuedRequests?: number;
}

export interface CdtpProviderClients {
  readonly logger?: Logger;
  readonly observer?: Partial<NatsCdtpObserver>;
  /** Wall clock for expiry (epoch ms); the requests' `timestamp` is the consumer's wall clock. */
  readonly now?: () => number;
}

/**
 * 6/CDTP provider (spec §4.2): answers `ConfigRequest`s on `kaa.v1.service.{instance}.cdtp.request`
 * (queue group `{instance}`) with a `ConfigResponse` on the message's reply subject.
 */
export class CdtpProvider {
  private sub: Subscription | undefined;
  private readonly queue: WorkQueue;
  private readonly logger: Logger;
  private readonly observer: NatsCdtpObserver;
  private readonly throttled: ThrottledLog;
  private readonly now: () => number;
  private readonly replies = new WriteBatcher(256);
  private readonly contentCache = new Map<string, Buffer>();

  constructor(
    private readonly connection: NatsConnection,
    private readonly core: Pick<OtaoCore, 'config'>,
    private readonly config: CdtpProviderConfig,
    clients: CdtpProviderClients = {},
  ) {
    this.logger = clients.logger ?? noopLogger;
    this.observer = completeObserver(clients.observer);
    this.throttled = new ThrottledLog(this.logger);
    this.now = clients.now ?? Date.now;
    this.queue = new WorkQueue(config.maxConcurrentRequests ?? 256, config.maxQueuedRequests ?? 10_000, (e) =>
      this.logger.error({ error: String(e) }, 'CDTP handler failed unexpectedly'),
    );
  }

  /** The subject this provider serves. */
  get subject(): string {
    return subjects.cdtpRequest(this.config.instanceName);
  }

  /** Subscribes (after the connection started). Idempotent. */
  start(): void {
    if (this.sub) return;
    this.sub = this.connection.clientForSubscriptions().subscribe(this.subject, {
      queue: this.config.instanceName,
      callback: (err, msg) => {
        if (err) {
          this.logger.error({ error: err.message }, 'CDTP subscription error');
          return;
        }
        this.onMessage(msg);
      },
    });
  }

  /** Stops taking requests, then waits for those in flight to be answered. */
  async stop(): Promise<void> {
    const sub = this.sub;
    this.sub = undefined;
    if (sub && !sub.isClosed()) {
      try {
        await sub.drain();
      } catch (e) {
        this.logger.warn({ error: (e as Error).message }, 'CDTP subscription drain failed');
      }
    }
    await this.queue.idle();
    this.replies.flush();
  }

  private onMessage(msg: Msg): void {
    const received = performance.now();
    if (!msg.reply) {
      this.observer.dropped('cdtp.request', 'no_reply_subject');
      this.throttled.warn('no-reply', 'CDTP request without reply subject dropped', { subject: msg.subject });
      return;
    }
    let req: ConfigRequestRecord;
    try {
      req = codecs.configRequest.decode(msg.data);
    } catch (e) {
      this.observer.dropped('cdtp.request', 'undecodable');
      this.throttled.warn('undecodable', 'undecodable CDTP request dropped', { bytes: msg.data.length, error: (e as Error).message });
      return;
    }
    const reply = msg.reply;
    if (!this.queue.offer(() => this.answer(msg, reply, req, received))) {
      // Refused without deciding, but answered: the consumer learns at once to retry later.
      this.throttled.warn('overloaded', 'CDTP request refused with 503: too many requests waiting', { correlationId: req.correlationId });
      let response: Buffer;
      try {
        response = this.errorResponse(req, OVERLOADED);
      } catch {
        this.observer.dropped('cdtp.request', 'overloaded');
        return;
      }
      this.replies.add(() => this.reply(msg, reply, req, response, 'overloaded', OVERLOADED.statusCode, received));
    }
  }

  private async answer(msg: Msg, reply: string, req: ConfigRequestRecord, received: number): Promise<void> {
    if (req.timeout > 0 && req.timestamp + req.timeout < this.now()) {
      this.observer.dropped('cdtp.request', 'expired');
      this.logger.debug({ correlationId: req.correlationId, endpointId: req.endpointId }, 'expired CDTP request dropped');
      return;
    }
    let fields: CdtpAnswer;
    try {
      // The decoded record has every field decide() reads (it is a structural ConfigRequest).
      fields = cdtpAnswer(await this.core.config.decide(req), req);
    } catch (e) {
      if (isOtaoError(e)) {
        fields = cdtpUnavailable(e.code);
        this.throttled.warn(`unavailable:${e.code}`, 'CDTP request failed: dependency unavailable', { correlationId: req.correlationId, code: e.code });
      } else {
        fields = INTERNAL_ERROR_ANSWER;
        this.logger.error({ correlationId: req.correlationId, error: (e as Error)?.stack ?? String(e) }, 'CDTP request failed unexpectedly');
      }
    }
    let response: Buffer;
    try {
      response = codecs.configResponse.encode({
        correlationId: req.correlationId,
        timestamp: this.now(),
        timeout: 0,
        appVersionName: req.appVersionName,
        endpointId: req.endpointId,
        configId: fields.configId,
        contentType: 'application/json',
        content: fields.content === null ? null : this.contentBytes(fields.content),
        statusCode: fields.statusCode,
        reasonPhrase: fields.reasonPhrase,
      });
    } catch (e) {
      this.logger.error({ correlationId: req.correlationId, error: (e as Error).message }, 'CDTP response could not be encoded');
      fields = INTERNAL_ERROR_ANSWER;
      response = this.errorResponse(req);
    }
    this.replies.add(() => this.reply(msg, reply, req, response, fields.outcome, fields.statusCode, received));
  }

  /** Sends an answer (in a batch with the other answers of this event-loop turn). */
  private reply(msg: Msg, reply: string, req: ConfigRequestRecord, response: Buffer, outcome: RequestOutcome, statusCode: number, received: number): void {
    try {
      msg.respond(response);
    } catch (e) {
      // E.g. content above the server's max_payload, or the connection closed under us.
      this.logger.error({ correlationId: req.correlationId, reply, error: (e as Error).message }, 'CDTP response could not be sent');
      try {
        msg.respond(this.errorResponse(req));
      } catch {
        this.observer.dropped('cdtp.request', 'reply_failed');
        return;
      }
      outcome = 'internal_error';
      statusCode = INTERNAL_ERROR.statusCode;
    }
    this.observer.requestHandled(outcome, statusCode, (performance.now() - received) / 1000);
  }

  /** An answer without content: 500 `internal error` unless told otherwise. */
  private errorResponse(req: ConfigRequestRecord, answer: { statusCode: number; reasonPhrase: string } = INTERNAL_ERROR): Buffer {
    return codecs.configResponse.encode({
      correlationId: req.correlationId,
      timestamp: this.now(),
      timeout: 0,
      appVersionName: req.appVersionName,
      endpointId: req.endpointId,
      configId: null,
      contentType: 'application/json',
      content: null,
      statusCode: answer.statusCode,
      reasonPhrase: answer.reasonPhrase,
    });
  }

  /**
   * UTF-8 bytes of a content string. The core hands out the same cached string for every endpoint
   * offered a version, so the bytes are cached too (a few entries: one per version being offered).
   */
  private contentBytes(content: string): Buffer {
    let b = this.contentCache.get(content);
    if (!b) {
      if (this.contentCache.size >= 64) this.contentCache.clear();
      b = Buffer.from(content, 'utf8');
      this.contentCache.set(content, b);
    }
    return b;
  }
}
