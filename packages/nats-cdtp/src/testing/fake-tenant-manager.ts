import { codecs } from '../codecs';
import { NatsConnection } from '../connection';
import { subjects } from '../subjects';

/** A stand-in for Kaa's Tenant Manager: publishes 21/TLE tenant lifecycle events (Avro). */
export class FakeTenantManager {
  readonly connection: NatsConnection;
  readonly instanceName: string;
  readonly replicaId: string;
  private seq = 0;

  constructor(options: { servers: string | readonly string[]; instanceName?: string; replicaId?: string }) {
    this.instanceName = options.instanceName ?? 'tenant-manager';
    this.replicaId = options.replicaId ?? `${this.instanceName}-0`;
    this.connection = new NatsConnection({ servers: options.servers, name: `fake-tm-${this.replicaId}` });
  }

  async start(): Promise<this> {
    await this.connection.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.connection.stop();
  }

  async updated(tenantId: string): Promise<void> {
    await this.emit(subjects.tenantUpdated(this.instanceName), codecs.tenantUpdated.encode(this.record(tenantId)));
  }

  async unregistered(tenantId: string): Promise<void> {
    await this.emit(subjects.tenantUnregistered(this.instanceName), codecs.tenantUnregistered.encode(this.record(tenantId)));
  }

  private record(tenantId: string) {
    return { correlationId: `${this.replicaId}-${++this.seq}`, timestamp: Date.now(), timeout: 0, tenantId, originatorReplicaId: this.replicaId };
  }

  private async emit(subject: string, bytes: Uint8Array): Promise<void> {
    const nc = this.connection.client();
    nc.publish(subject, bytes);
    await nc.flush();
  }
}
