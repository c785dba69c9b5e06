import type { CatalogueCache } from './catalogue-cache';
import type { CoreDeps } from './core-deps';

/** Spec §4.7: a removed tenant's data is deleted (software, files, endpoints, statistics). Idempotent. */
export class TenantService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly catalogues: CatalogueCache,
  ) {}

  async removed(tenantId: string): Promise<void> {
    await this.deps.software.deleteTenant(tenantId);
    // Records first, objects after (never a record without its object); a failure here throws, and
    // the event is retried: every step is idempotent.
    if (this.deps.files) await this.deps.files.deletePrefix(`${tenantId}/`);
    await this.deps.endpoints.deleteTenant(tenantId);
    await this.deps.stats.deleteTenant(tenantId);
    this.catalogues.invalidateTenant(tenantId);
  }
}
