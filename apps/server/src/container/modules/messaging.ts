// NATS (nats-cdtp): the CDTP provider, the Kaa events OTAO listens to and publishes, 20/EFMP; its
// observer feeds the metrics, tenant events reach the security.
import { createNatsCdtp, type NatsCdtpObserver } from '@otao/nats-cdtp';
import { ContainerModule } from 'inversify';
import type { OtaoMetrics } from '../../metrics';
import { provide, resolve } from '../tokens';

export function natsObserver(m: OtaoMetrics): NatsCdtpObserver {
  return {
    requestHandled: (outcome, status, seconds) => {
      m.cdtpRequests.inc({ status: String(status), outcome });
      m.cdtpLatency.observe(seconds);
    },
    dropped: (kind, reason) => m.dropped.inc({ reason: `${kind}:${reason}` }),
    pushPublished: () => m.pushes.inc(),
    pushFailed: () => m.dropped.inc({ reason: 'push:publish_failed' }),
    eventHandled: (kind, outcome) => {
      m.events.inc({ kind, outcome });
      if (kind === 'config.applied') m.reports.inc({ outcome });
    },
    eventRetried: (kind) => m.events.inc({ kind, outcome: 'retried' }),
    efmpRequest: (op, outcome) => m.events.inc({ kind: `efmp.${op}`, outcome }),
    connectionStatus: (status) => m.up.set({ dependency: 'nats' }, status === 'connected' ? 1 : 0),
  };
}

export const messagingModule = new ContainerModule(({ bind }) => {
  provide(bind, 'nats', (ctx) => {
    const c = resolve(ctx, 'config');
    const log = resolve(ctx, 'log').child({ component: 'nats' });
    const security = resolve(ctx, 'security');
    return createNatsCdtp(
      {
        connection: { servers: c.nats.urls, ...(c.nats.user ? { user: c.nats.user } : {}), ...(c.nats.pass ? { pass: c.nats.pass } : {}) },
        instanceName: c.instanceName,
        replicaId: c.replicaId,
        softwareConsumerInstanceName: c.softwareConsumerInstance,
        eprInstanceName: c.eprInstance,
        tenantManagerInstanceName: c.tenantManagerInstance,
        events: { eventRetryMs: c.eventRetrySeconds * 1000 },
      },
      {
        logger: log,
        observer: natsObserver(resolve(ctx, 'metrics')),
        onTenantUpdated: async () => security.directory?.refresh(),
        onTenantUnregistered: (tenantId) => {
          security.forgetTenant(tenantId);
          log.info({ tenantId }, 'tenant unregistered: its tokens are no longer accepted');
        },
      },
    );
  });
});
