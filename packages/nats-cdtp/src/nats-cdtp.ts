import { type Logger, noopLogger } from '@otao/core';
import type { OtaoCore } from '@otao/core';
import { CdtpProvider } from './cdtp-provider';
import { NatsConfigPublisher } from './config-publisher';
import { NatsConnection, type NatsConnectionConfig } from './connection';
import { EventListeners, type EventListenersConfig, type ListenerCore } from './event-listeners';
import { type FilterDirectoryConfig, NatsFilterDirectory } from './filter-directory';
import { type ConnectionStatus, type NatsCdtpObserver } from './observer';
import { NatsSoftwareEventPublisher } from './software-events';
import { assertToken } from './subjects';

/** Everything the adapter needs, parsed and validated by apps/server. */
export interface NatsCdtpConfig {
  readonly connection: NatsConnectionConfig;
  /** OTAO_SERVICE_INSTANCE_NAME (default `otao`). */
  readonly instanceName: string;
  /** OTAO_REPLICA_ID: `originatorReplicaId` of the events this replica emits. */
  readonly replicaId: string;
  /** OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME (default `cmx-ota`). */
  readonly softwareConsumerInstanceName: string;
  /** OTAO_EPR_INSTANCE_NAME (default `epr`). */
  readonly eprInstanceName: string;
  /** OTAO_TENANT_MANAGER_INSTANCE_NAME (default `tenant-manager`). */
  readonly tenantManagerInstanceName: string;
  readonly maxConcurrentRequests?: number;
  readonly maxQueuedRequests?: number;
  readonly events?: Pick<EventListenersConfig, 'maxConcurrentEvents' | 'maxQueuedEvents' | 'eventRetryMs' | 'eventRetryDelayMs'>;
  readonly efmp?: Omit<FilterDirectoryConfig, 'eprInstanceName'>;
}

export interface NatsCdtpClients {
  readonly logger?: Logger;
  readonly observer?: Partial<NatsCdtpObserver>;
  /** 21/TLE tenant updated (every replica). */
  readonly onTenantUpdated?: (tenantId: string, correlationId: string) => void | Promise<void>;
  /** 21/TLE tenant unregistered, on every replica (the core deletes the data on one): revoke the tenant's access. */
  readonly onTenantUnregistered?: (tenantId: string, correlationId: string) => void | Promise<void>;
  /** Wall clock in epoch ms (expiry, message timestamps). */
  readonly now?: () => number;
}

/**
 * OTAO on NATS. Built before the core (the core needs its publishers and filter directory), then
 * started with the core:
 *
 * ```ts
 * const nats = createNatsCdtp(config, { logger, observer });
 * const core = createOtaoCore({ ...repos, configPublisher: nats.configPublisher,
 *   softwareEvents: nats.softwareEvents, filterDirectory: nats.filterDirectory, ... });
 * await nats.start(core);   // connect (retrying forever), then subscribe everything
 * ...
 * await nats.stop();        // stop taking messages, finish those in flight, drain, close
 * ```
 */
export class NatsCdtp {
  readonly connection: NatsConnection;
  readonly configPublisher: NatsConfigPublisher;
  readonly softwareEvents: NatsSoftwareEventPublisher;
  readonly filterDirectory: NatsFilterDirectory;
  private provider: CdtpProvider | undefined;
  private listeners: EventListeners | undefined;
  private readonly logger: Logger;

  constructor(
    readonly config: NatsCdtpConfig,
    private readonly clients: NatsCdtpClients = {},
  ) {
    assertToken('instanceName', config.instanceName);
    assertToken('softwareConsumerInstanceName', config.softwareConsumerInstanceName);
    assertToken('eprInstanceName', config.eprInstanceName);
    assertToken('tenantManagerInstanceName', config.tenantManagerInstanceName);
    this.logger = clients.logger ?? noopLogger;
    const common = {
      logger: this.logger,
      ...(clients.observer ? { observer: clients.observer } : {}),
      ...(clients.now ? { now: clients.now } : {}),
    };
    this.connection = new NatsConnection({ name: `${config.instanceName}-${config.replicaId}`, ...config.connection }, common);
    this.configPublisher = new NatsConfigPublisher(
      this.connection,
      {
        instanceName: config.instanceName,
        replicaId: config.replicaId,
      },
      common,
    );
    this.softwareEvents = new NatsSoftwareEventPublisher(this.connection, { instanceName: config.instanceName }, common);
    this.filterDirectory = new NatsFilterDirectory(this.connection, { ...config.efmp, eprInstanceName: config.eprInstanceName }, common);
  }

  /** For /ready: `connected`, `reconnecting` or `closed`. */
  status(): ConnectionStatus {
    return this.connection.status();
  }

  /**
   * Connects (waiting while NATS is unreachable) and subscribes every listener and, unless
   * `serveRequests` is false, the CDTP provider. With `serveRequests: false` the replica joins the
   * provider's queue group only at `serveRequests()` — e.g. once it can answer (the application
   * registry has loaded), so that meanwhile the other replicas answer its share of the pulls.
   */
  async start(core: Pick<OtaoCore, 'config'> & ListenerCore, options: { readonly serveRequests?: boolean } = {}): Promise<void> {
    await this.connection.start();
    if (this.connection.status() === 'closed') return; // stop() was called while connecting
    const c = this.config;
    const common = {
      logger: this.logger,
      ...(this.clients.observer ? { observer: this.clients.observer } : {}),
    };
    this.provider ??= new CdtpProvider(
      this.connection,
      core,
      {
        instanceName: c.instanceName,
        ...(c.maxConcurrentRequests !== undefined ? { maxConcurrentRequests: c.maxConcurrentRequests } : {}),
        ...(c.maxQueuedRequests !== undefined ? { maxQueuedRequests: c.maxQueuedRequests } : {}),
      },
      { ...common, ...(this.clients.now ? { now: this.clients.now } : {}) },
    );
    this.listeners ??= new EventListeners(
      this.connection,
      core,
      {
        ...c.events,
        instanceName: c.instanceName,
        softwareConsumerInstanceName: c.softwareConsumerInstanceName,
        eprInstanceName: c.eprInstanceName,
        tenantManagerInstanceName: c.tenantManagerInstanceName,
      },
      {
        ...common,
        ...(this.clients.onTenantUpdated ? { onTenantUpdated: this.clients.onTenantUpdated } : {}),
        ...(this.clients.onTenantUnregistered ? { onTenantUnregistered: this.clients.onTenantUnregistered } : {}),
      },
    );
    if (options.serveRequests !== false) this.provider.start();
    this.listeners.start();
    // Make sure the server registered the subscriptions before start() resolves.
    await this.connection.clientForSubscriptions().flush();
    this.logger.info(
      {
        requests: this.provider.subject,
        events: this.listeners.listeners().map((l) => l.subject),
      },
      'NATS CDTP started',
    );
  }

  /** Subscribes the CDTP provider after a `start(core, {serveRequests: false})`. Idempotent; nothing after stop(). */
  async serveRequests(): Promise<void> {
    if (!this.provider || this.connection.status() === 'closed') return;
    this.provider.start();
    await this.connection.clientForSubscriptions().flush();
    this.logger.info({ requests: this.provider.subject }, 'NATS CDTP serving requests');
  }

  /** Stops taking messages, answers those in flight, then drains and closes the connection. */
  async stop(): Promise<void> {
    await Promise.all([this.provider?.stop(), this.listeners?.stop()]);
    this.configPublisher.flush();
    await this.connection.stop();
  }
}

export function createNatsCdtp(config: NatsCdtpConfig, clients: NatsCdtpClients = {}): NatsCdtp {
  return new NatsCdtp(config, clients);
}
