import { exponentialBackoff, type Logger, noopLogger, OtaoError } from '@otao/core';
import { connect, DebugEvents, Events, type NatsConnection as NatsClient } from 'nats';
import { completeObserver, type ConnectionStatus, type NatsCdtpObserver } from './observer';

/** How to reach NATS. Credentials come from apps/server's configuration, never from the environment here. */
export interface NatsConnectionConfig {
  /** `nats://host:port` URLs (OTAO_NATS_URLS). */
  readonly servers: string | readonly string[];
  /** Client name shown by the server's monitoring, e.g. `otao-<replicaId>`. */
  readonly name?: string;
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /** First reconnect delay; doubles per failed attempt up to `reconnectMaxDelayMs`. Default 250. */
  readonly reconnectInitialDelayMs?: number;
  /** Default 2000: a returning server is found again within about 2 s. */
  readonly reconnectMaxDelayMs?: number;
  /** Client pings to detect a dead peer (partition) without a TCP reset. Default 10 000 ms, 3 missed. */
  readonly pingIntervalMs?: number;
  readonly maxPingOut?: number;
  /** How long stop() lets a drain take before closing hard. Default 10 000 ms. */
  readonly drainTimeoutMs?: number;
}

export interface ConnectionClients {
  readonly logger?: Logger;
  readonly observer?: Partial<NatsCdtpObserver>;
}

/**
 * One NATS connection for the whole adapter: connects with reconnect forever (waits on the first
 * connect too), exponential backoff with jitter, automatic resubscription by the client, a
 * status for /ready, and drain on stop.
 */
export class NatsConnection {
  private nc: NatsClient | undefined;
  private state: ConnectionStatus = 'closed';
  private starting: Promise<void> | undefined;
  private stopped = false;
  private attempt = 0;
  private readonly logger: Logger;
  private readonly observer: NatsCdtpObserver;

  constructor(
    readonly config: NatsConnectionConfig,
    clients: ConnectionClients = {},
  ) {
    this.logger = clients.logger ?? noopLogger;
    this.observer = completeObserver(clients.observer);
  }

  /** `connected`, `reconnecting` (also while the first connect is pending), or `closed` (not started or stopped). */
  status(): ConnectionStatus {
    return this.state;
  }

  /**
   * Connects; resolves once connected. While NATS is unreachable it keeps trying (status
   * `reconnecting`). Idempotent.
   */
  start(): Promise<void> {
    this.starting ??= this.open();
    return this.starting;
  }

  /** The client, when usable. Throws `OtaoError('dependency.unavailable')` when not connected. */
  client(): NatsClient {
    const nc = this.nc;
    if (!nc || this.state !== 'connected' || nc.isClosed()) {
      throw new OtaoError('dependency.unavailable', `NATS is ${this.state === 'connected' ? 'closed' : this.state}`);
    }
    return nc;
  }

  /** The client even while reconnecting (subscriptions are kept and replayed by the client). */
  clientForSubscriptions(): NatsClient {
    if (!this.nc || this.nc.isClosed()) throw new OtaoError('dependency.unavailable', 'NATS connection is not open');
    return this.nc;
  }

  /** Drains (subscriptions finish, pending publishes are flushed) and closes. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    const nc = this.nc;
    if (!nc || nc.isClosed()) {
      this.setState('closed');
      return;
    }
    const timeoutMs = this.config.drainTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (this.state === 'connected') {
        await Promise.race([
          nc.drain(),
          new Promise<void>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`drain took longer than ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      }
    } catch (e) {
      this.logger.warn({ error: (e as Error).message }, 'NATS drain failed; closing');
    } finally {
      if (timer) clearTimeout(timer);
      if (!nc.isClosed()) await nc.close();
      this.setState('closed');
    }
  }

  private async open(): Promise<void> {
    this.stopped = false;
    this.setState('reconnecting');
    const c = this.config;
    const initial = c.reconnectInitialDelayMs ?? 250;
    const max = c.reconnectMaxDelayMs ?? 2000;
    const nc = await connect({
      servers: typeof c.servers === 'string' ? c.servers : [...c.servers],
      ...(c.name !== undefined ? { name: c.name } : {}),
      ...(c.user !== undefined ? { user: c.user } : {}),
      ...(c.pass !== undefined ? { pass: c.pass } : {}),
      ...(c.token !== undefined ? { token: c.token } : {}),
      maxReconnectAttempts: -1,
      waitOnFirstConnect: true,
      reconnectDelayHandler: () => {
        const base = exponentialBackoff(++this.attempt, initial, max, 16);
        return Math.round(base * (0.8 + Math.random() * 0.2));
      },
      pingInterval: c.pingIntervalMs ?? 10_000,
      maxPingOut: c.maxPingOut ?? 3,
    });
    this.nc = nc;
    this.attempt = 0;
    if (this.stopped) {
      await nc.close();
      this.setState('closed');
      return;
    }
    this.setState('connected');
    this.logger.info({ server: nc.getServer() }, 'NATS connected');
    void this.watch(nc);
    void nc.closed().then((err) => {
      if (err) this.logger.error({ error: err.message }, 'NATS connection closed with an error');
      this.setState('closed');
    });
  }

  private async watch(nc: NatsClient): Promise<void> {
    try {
      for await (const s of nc.status()) {
        switch (s.type) {
          case Events.Disconnect:
            this.setState('reconnecting');
            this.logger.warn({ server: describe(s.data) }, 'NATS disconnected; reconnecting');
            break;
          case Events.Reconnect:
            this.attempt = 0;
            this.setState('connected');
            this.logger.info({ server: describe(s.data) }, 'NATS reconnected');
            break;
          case Events.Error:
            this.logger.warn({ error: describe(s.data) }, 'NATS async error');
            break;
          case Events.LDM:
            this.logger.info({ server: describe(s.data) }, 'NATS server entering lame duck mode');
            break;
          case Events.Update:
          case DebugEvents.Reconnecting:
          case DebugEvents.PingTimer:
          case DebugEvents.StaleConnection:
          case DebugEvents.ClientInitiatedReconnect:
            break;
        }
      }
    } catch (e) {
      this.logger.warn({ error: (e as Error).message }, 'NATS status stream ended');
    }
  }

  private setState(s: ConnectionStatus): void {
    if (this.state === s) return;
    this.state = s;
    this.observer.connectionStatus(s);
  }
}

function describe(data: unknown): string {
  return typeof data === 'string' || typeof data === 'number' ? String(data) : JSON.stringify(data);
}
