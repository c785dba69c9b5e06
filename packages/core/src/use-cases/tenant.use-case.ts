import { ALL_APPS } from '../domain/audit';
import { AuditTrail, type TenantPurge } from './audit.use-case';
import type { CatalogueCache } from './catalogue-cache';
import type { CoreDeps } from './core-deps';

/** The ports TenantService uses. */
export type TenantServiceDeps = Pick<CoreDeps, 'software' | 'endpoints' | 'stats' | 'clock' | 'ids' | 'files' | 'audit'>;

/**
 * Spec §4.7: a removed tenant's data is deleted (software, files, endpoints, statistics, audit
 * entries). Idempotent. Audited as `tenant.deleted` (actor otao, application `*`), the one entry of
 * the tenant that is kept (until retention prunes it).
 */
export class TenantService implements TenantPurge {
  private readonly trail: AuditTrail;
  constructor(
    private readonly deps: TenantServiceDeps,
    private readonly catalogues: CatalogueCache,
  ) {
    this.trail = new AuditTrail(deps);
  }

  async removed(tenantId: string, correlationId: string = this.deps.ids.newId()): Promise<void> {
    const intent = { tenantId, appName: ALL_APPS, action: 'tenant.deleted', correlationId } as const;
    await this.trail.around(
      intent,
      { kind: 'tenant-deleted' },
      () => this.purge(tenantId),
      () => true,
    );
  }

  /** Deletes the tenant's data without auditing (the audit reconciler finishes an interrupted deletion with it). */
  async purge(tenantId: string): Promise<void> {
    await this.deps.software.deleteTenant(tenantId);
    // Records first, objects after (never a record without its object); a failure here throws, and
    // the event is retried: every step is idempotent.
    if (this.deps.files) await this.deps.files.deletePrefix(`${tenantId}/`);
    await this.deps.endpoints.deleteTenant(tenantId);
    await this.deps.stats.deleteTenant(tenantId);
    await this.deps.audit.deleteTenant(tenantId);
    this.catalogues.invalidateTenant(tenantId);
  }
}
