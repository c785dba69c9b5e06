import type { Msg, Subscription } from 'nats';
import { codecs } from '../codecs';
import { NatsConnection } from '../connection';
import { subjects } from '../subjects';

export interface FakeEprOptions {
  readonly servers: string | readonly string[];
  /** EPR's instance name. Default `epr`. */
  readonly instanceName?: string;
  /** `originatorReplicaId` of its events. Default `epr-0`. */
  readonly replicaId?: string;
}

/** How the fake answers 20/EFMP requests. */
export type EfmpBehaviour =
  | { readonly kind: 'answer' }
  /** Answer after a delay. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Answer with an error status (e.g. 500, 404) and no data. */
  | { readonly kind: 'status'; readonly statusCode: number; readonly reasonPhrase?: string }
  /** Never answer. */
  | { readonly kind: 'silent' };

/**
 * A stand-in for Kaa's EPR speaking only Avro over NATS: publishes 9/ELCE lifecycle and 18/EFE
 * filter events, and answers 20/EFMP requests from a table (filterId → appVersionName → endpoint
 * ids). It can be told to be slow, fail with a status, or stay silent.
 */
export class FakeEpr {
  readonly connection: NatsConnection;
  readonly instanceName: string;
  readonly replicaId: string;
  /** filterId → appVersionName → endpoint ids. */
  readonly filters = new Map<string, Map<string, string[]>>();
  behaviour: EfmpBehaviour = { kind: 'answer' };
  /** Requests received, by operation (including those not answered). */
  readonly requests = { 'ep-filters': 0, 'ep-list-by-filter': 0 };
  private readonly subs: Subscription[] = [];
  private seq = 0;

  constructor(options: FakeEprOptions) {
    this.instanceName = options.instanceName ?? 'epr';
    this.replicaId = options.replicaId ?? `${this.instanceName}-0`;
    this.connection = new NatsConnection({
      servers: options.servers,
      name: `fake-epr-${this.replicaId}`,
      reconnectInitialDelayMs: 100,
      reconnectMaxDelayMs: 500,
    });
  }

  setMembers(filterId: string, appVersionName: string, endpointIds: readonly string[]): void {
    const m = this.filters.get(filterId) ?? this.filters.set(filterId, new Map()).get(filterId)!;
    m.set(appVersionName, [...endpointIds]);
  }

  async start(): Promise<this> {
    await this.connection.start();
    const nc = this.connection.clientForSubscriptions();
    this.subs.push(
      nc.subscribe(subjects.efmpEndpointListByFilter(this.instanceName), {
        queue: this.instanceName,
        callback: (err, msg) => {
          if (!err) void this.onListByFilter(msg);
        },
      }),
      nc.subscribe(subjects.efmpEndpointFilters(this.instanceName), {
        queue: this.instanceName,
        callback: (err, msg) => {
          if (!err) void this.onEndpointFilters(msg);
        },
      }),
    );
    await nc.flush();
    return this;
  }

  async stop(): Promise<void> {
    await this.connection.stop();
  }

  /** 9/ELCE `endpoint.lifecycle.unregistered`. */
  async unregistered(appVersionName: string, endpointId: string): Promise<void> {
    await this.emit(
      subjects.endpointUnregistered(this.instanceName),
      codecs.endpointUnregistered.encode({ ...this.head(), appVersionName, endpointId, originatorReplicaId: this.replicaId }),
    );
  }

  /** 9/ELCE `endpoint.lifecycle.appversion-updated`. */
  async appVersionUpdated(endpointId: string, appVersionName: string, previousAppVersionName: string): Promise<void> {
    await this.emit(
      subjects.endpointAppVersionUpdated(this.instanceName),
      codecs.appVersionUpdated.encode({ ...this.head(), appVersionName, previousAppVersionName, endpointId, originatorReplicaId: this.replicaId }),
    );
  }

  /** 18/EFE `ep-matched` (also adds the endpoint to the fake's table). */
  async matched(filterId: string, applicationName: string, appVersionName: string, endpointId: string): Promise<void> {
    const m = this.filters.get(filterId) ?? this.filters.set(filterId, new Map()).get(filterId)!;
    const ids = m.get(appVersionName) ?? [];
    if (!ids.includes(endpointId)) m.set(appVersionName, [...ids, endpointId]);
    await this.emit(
      subjects.filterMatched(this.instanceName, filterId),
      codecs.filterMatched.encode({ ...this.filterHead(filterId, applicationName), appVersionName, filterName: null, endpointId }),
    );
  }

  /** 18/EFE `ep-unmatched` (also removes the endpoint from the fake's table). */
  async unmatched(filterId: string, applicationName: string, appVersionName: string, endpointId: string): Promise<void> {
    const m = this.filters.get(filterId);
    const ids = m?.get(appVersionName);
    if (m && ids)
      m.set(
        appVersionName,
        ids.filter((id) => id !== endpointId),
      );
    await this.emit(
      subjects.filterUnmatched(this.instanceName, filterId),
      codecs.filterUnmatched.encode({ ...this.filterHead(filterId, applicationName), appVersionName, filterName: null, endpointId }),
    );
  }

  /** 18/EFE `deleted`. */
  async filterDeleted(filterId: string, applicationName: string): Promise<void> {
    this.filters.delete(filterId);
    await this.emit(
      subjects.filterDeleted(this.instanceName, filterId),
      codecs.filterDeleted.encode({ ...this.filterHead(filterId, applicationName), filterName: null }),
    );
  }

  /** Publishes arbitrary bytes (garbage tests). */
  async publishRaw(subject: string, bytes: Uint8Array): Promise<void> {
    await this.emit(subject, bytes);
  }

  private head(): { correlationId: string; timestamp: number; timeout: number } {
    return { correlationId: `${this.replicaId}-${++this.seq}`, timestamp: Date.now(), timeout: 0 };
  }

  private filterHead(filterId: string, applicationName: string) {
    return { ...this.head(), originatorReplicaId: this.replicaId, filterId, applicationName };
  }

  private async emit(subject: string, bytes: Uint8Array): Promise<void> {
    const nc = this.connection.client();
    nc.publish(subject, bytes);
    await nc.flush();
  }

  /** Applies the behaviour; false when no answer must be sent. */
  private async behave(): Promise<{ statusCode: number; reasonPhrase: string | null } | false> {
    const b = this.behaviour;
    switch (b.kind) {
      case 'answer':
        return { statusCode: 200, reasonPhrase: 'OK' };
      case 'slow':
        await new Promise((r) => setTimeout(r, b.delayMs));
        return { statusCode: 200, reasonPhrase: 'OK' };
      case 'status':
        return { statusCode: b.statusCode, reasonPhrase: b.reasonPhrase ?? null };
      case 'silent':
        return false;
    }
  }

  private async onListByFilter(msg: Msg): Promise<void> {
    this.requests['ep-list-by-filter']++;
    let req;
    try {
      req = codecs.endpointListByFilterRequest.decode(msg.data);
    } catch {
      return;
    }
    const status = await this.behave();
    if (status === false || this.connection.status() !== 'connected') return;
    const ok = status.statusCode >= 200 && status.statusCode < 300;
    const members = ok ? (this.filters.get(req.filterId) ?? new Map<string, string[]>()) : new Map<string, string[]>();
    msg.respond(
      codecs.endpointListByFilterResponse.encode({
        correlationId: req.correlationId,
        timestamp: Date.now(),
        timeout: 0,
        filterId: req.filterId,
        appVersionsToEndpoints: Object.fromEntries(members),
        ...status,
      }),
    );
  }

  private async onEndpointFilters(msg: Msg): Promise<void> {
    this.requests['ep-filters']++;
    let req;
    try {
      req = codecs.endpointFiltersRequest.decode(msg.data);
    } catch {
      return;
    }
    const status = await this.behave();
    if (status === false || this.connection.status() !== 'connected') return;
    const ok = status.statusCode >= 200 && status.statusCode < 300;
    const filterIds: string[] = [];
    if (ok) for (const [f, byVersion] of this.filters) for (const ids of byVersion.values()) if (ids.includes(req.endpointId)) filterIds.push(f);
    msg.respond(
      codecs.endpointFiltersResponse.encode({
        correlationId: req.correlationId,
        timestamp: Date.now(),
        timeout: 0,
        endpointId: req.endpointId,
        filterIds,
        ...status,
      }),
    );
  }
}
