import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from 'nats';
import { ScmpCodecs } from '../scmp';

export interface FakeApp {
  tenantId: string;
  consentRequired?: boolean;
  versions: string[];
}

/**
 * A Tekton stand-in for tests and the demo: serves the app-configs endpoints OTAO reads over HTTP
 * (shapes of tekton-client.ts) and sends 17/SCMP notifications as Avro over NATS.
 */
export class FakeTekton {
  readonly apps = new Map<string, FakeApp>();
  requests: string[] = [];
  /** When set, every request answers this status (Tekton down). */
  failWith: number | undefined;
  url = '';
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private body(a: FakeApp): object {
    return { tenantId: a.tenantId, consentRequired: a.consentRequired ?? false, versions: Object.fromEntries(a.versions.map((v) => [v, {}])) };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${u.pathname}${u.search}`);
    res.setHeader('content-type', 'application/json');
    if (this.failWith !== undefined) {
      res.statusCode = this.failWith;
      res.end('{}');
      return;
    }
    const tenant = u.searchParams.get('tenantId');
    if (u.pathname === '/api/v1/app-configs') {
      const apps = Object.fromEntries([...this.apps].filter(([, a]) => tenant === null || a.tenantId === tenant).map(([n, a]) => [n, this.body(a)]));
      res.end(JSON.stringify({ kaa: { applications: apps } }));
      return;
    }
    const m = /^\/api\/v1\/app-configs\/applications\/([^/]+)$/.exec(u.pathname);
    const app = m ? this.apps.get(decodeURIComponent(m[1] as string)) : undefined;
    if (app && (tenant === null || app.tenantId === tenant)) {
      res.end(JSON.stringify(this.body(app)));
      return;
    }
    res.statusCode = 404;
    res.end('{"error":"not found"}');
  }

  /** Publishes a 17/SCMP notification: broadcast (`tekton` instance) or targeted at an instance. */
  notify(
    nc: NatsConnection,
    scope: { tenantId?: string; appName?: string; appVersionName?: string; kind?: 'upsert' | 'delete' },
    target: { broadcastFrom?: string; instance?: string },
  ): void {
    const kind = scope.kind ?? 'upsert';
    const common = { correlationId: `scmp-${Date.now()}`, timestamp: Date.now(), appName: scope.appName ?? null, appVerName: scope.appVersionName ?? null };
    if (target.instance !== undefined) {
      nc.publish(`kaa.v1.service.${target.instance}.scmp.configuration.${kind}`, ScmpCodecs.targeted.toBuffer({ ...common, tenantID: scope.tenantId ?? '' }));
    } else {
      nc.publish(
        `kaa.v1.events.${target.broadcastFrom ?? 'tekton'}.service.configuration.${kind}`,
        ScmpCodecs.broadcast.toBuffer({ ...common, originatorReplicaId: 'tekton-0', tenantID: scope.tenantId ?? null }),
      );
    }
  }
}
