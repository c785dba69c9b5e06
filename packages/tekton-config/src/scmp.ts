import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from 'avsc';
import type { NatsConnection, Subscription } from 'nats';

/** The scope a 17/SCMP notification names (kaa-protocols.md §11.2 combination table). */
export interface ScmpScope {
  readonly tenantId?: string;
  readonly appName?: string;
  readonly appVersionName?: string;
  readonly kind: 'upsert' | 'delete';
  readonly correlationId: string;
}

const AVRO_DIR = join(__dirname, '..', 'avro');
const load = (f: string): Type => Type.forSchema(JSON.parse(readFileSync(join(AVRO_DIR, f), 'utf8')) as never);

/** 17/SCMP codecs from the Kaa schemas (vendored in avro/ with their licence). */
export const ScmpCodecs = {
  broadcast: load('0017-broadcast_configuration_update.avsc'),
  targeted: load('0017-service_specific_configuration_update.avsc'),
};

interface ScmpRecord {
  correlationId: string;
  tenantID: string | null;
  appName: string | null;
  appVerName: string | null;
}

export interface ScmpListenerOptions {
  readonly instanceName: string;
  readonly providerInstanceName: string;
  onNotification(scope: ScmpScope): void;
  /** A message that could not be decoded (counted by the caller). */
  onInvalid?(subject: string, error: unknown): void;
}

/**
 * Listens to 17/SCMP broadcast `kaa.v1.events.{tekton}.service.configuration.{upsert|delete}` and
 * targeted `kaa.v1.service.{instance}.scmp.configuration.{upsert|delete}` notifications, without a
 * queue group (every replica reloads). Consumers never reply.
 */
export class ScmpListener {
  private subs: Subscription[] = [];
  constructor(private readonly options: ScmpListenerOptions) {}

  start(nc: NatsConnection): void {
    const { instanceName, providerInstanceName } = this.options;
    for (const kind of ['upsert', 'delete'] as const) {
      this.subs.push(
        nc.subscribe(`kaa.v1.events.${providerInstanceName}.service.configuration.${kind}`, {
          callback: (e, m) => !e && this.handle(m.subject, m.data, ScmpCodecs.broadcast, kind),
        }),
      );
      this.subs.push(
        nc.subscribe(`kaa.v1.service.${instanceName}.scmp.configuration.${kind}`, {
          callback: (e, m) => !e && this.handle(m.subject, m.data, ScmpCodecs.targeted, kind),
        }),
      );
    }
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
  }

  private handle(subject: string, data: Uint8Array, type: Type, kind: 'upsert' | 'delete'): void {
    let r: ScmpRecord;
    try {
      r = type.fromBuffer(Buffer.from(data)) as ScmpRecord;
    } catch (e) {
      this.options.onInvalid?.(subject, e);
      return;
    }
    this.options.onNotification({
      kind,
      correlationId: r.correlationId,
      ...(r.tenantID !== null ? { tenantId: r.tenantID } : {}),
      ...(r.appName !== null ? { appName: r.appName } : {}),
      ...(r.appVerName !== null ? { appVersionName: r.appVerName } : {}),
    });
  }
}
