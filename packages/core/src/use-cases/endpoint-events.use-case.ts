import type { EndpointKey, FilterMember } from '../ports';
import type { CatalogueCache } from './catalogue-cache';
import type { CoreDeps } from './core-deps';
import type { PushService } from './push.use-case';

export type EventOutcome = 'done' | 'unknown_app_version' | 'unknown_application';

export interface FilterBootstrapSummary {
  readonly loaded: readonly string[];
  readonly failed: readonly string[];
}

/** The ports EndpointEventsService uses. */
export type EndpointEventsServiceDeps = Pick<CoreDeps, 'software' | 'endpoints' | 'lease' | 'clock' | 'registry' | 'filterDirectory' | 'work'>;

/** Spec §4.5 (9/ELCE) and §4.6 (18/EFE, 20/EFMP): endpoint lifecycle and filter membership. */
export class EndpointEventsService {
  constructor(
    private readonly deps: EndpointEventsServiceDeps,
    private readonly pushes: PushService,
    private readonly catalogues: CatalogueCache,
  ) {}

  /** Forgets everything about the endpoint (state, reports, memberships, consents). Idempotent. */
  async unregistered(appVersionName: string, endpointId: string): Promise<EventOutcome> {
    const app = this.deps.registry.resolve(appVersionName);
    if (!app) return 'unknown_app_version';
    await this.deps.endpoints.delete(app.tenantId, endpointId);
    return 'done';
  }

  /**
   * Records the endpoint's new application version. Moving to a version of another application
   * starts afresh there: versions of different applications are unrelated.
   */
  async appVersionUpdated(endpointId: string, appVersionName: string, previousAppVersionName: string): Promise<EventOutcome> {
    const app = this.deps.registry.resolve(appVersionName);
    const prev = this.deps.registry.resolve(previousAppVersionName);
    if (!app) {
      if (prev) await this.deps.endpoints.delete(prev.tenantId, endpointId);
      return 'unknown_app_version';
    }
    if (prev && (prev.tenantId !== app.tenantId || prev.appName !== app.appName)) {
      await this.deps.endpoints.delete(prev.tenantId, endpointId);
    }
    await this.deps.endpoints.setAppVersionName({ tenantId: app.tenantId, appName: app.appName, endpointId }, appVersionName, this.deps.clock.now());
    return 'done';
  }

  /** Adds a membership; the endpoint may now be eligible for a push (§4.3). */
  async filterMatched(appVersionName: string, filterId: string, endpointId: string, correlationId: string): Promise<EventOutcome> {
    const app = this.deps.registry.resolve(appVersionName);
    if (!app) return 'unknown_app_version';
    const key: EndpointKey = { tenantId: app.tenantId, appName: app.appName, endpointId };
    await this.deps.endpoints.addMembership(key, appVersionName, filterId, this.deps.clock.now());
    await this.pushes.evaluateEndpoint(key, correlationId);
    return 'done';
  }

  async filterUnmatched(appVersionName: string, filterId: string, endpointId: string): Promise<EventOutcome> {
    const app = this.deps.registry.resolve(appVersionName);
    if (!app) return 'unknown_app_version';
    await this.deps.endpoints.removeMembership({ tenantId: app.tenantId, appName: app.appName, endpointId }, filterId, this.deps.clock.now());
    return 'done';
  }

  /**
   * Removes a deleted filter from every membership. The EFE event names the application only, so
   * the filter is removed from that application in every tenant that has one of that name.
   */
  async filterDeleted(applicationName: string, filterId: string): Promise<EventOutcome> {
    const tenants = this.deps.registry.tenantsWithApp(applicationName);
    if (tenants.length === 0) return 'unknown_application';
    for (const tenantId of tenants) await this.deps.endpoints.removeFilter(tenantId, applicationName, filterId);
    return 'done';
  }

  /**
   * Loads the members of filters from EPR (ep-list-by-filter-request) and stores them; members of
   * other applications are ignored. Failed filters are reported for the caller to retry; a loaded
   * filter triggers the pushes its members may now get.
   */
  async bootstrapFilters(tenantId: string, appName: string, filterIds: readonly string[], correlationId: string): Promise<FilterBootstrapSummary> {
    const loaded: string[] = [];
    const failed: string[] = [];
    for (const filterId of filterIds) {
      let byVersion: ReadonlyMap<string, readonly string[]>;
      try {
        byVersion = await this.deps.filterDirectory.endpointsByFilter(filterId, correlationId);
      } catch {
        failed.push(filterId);
        continue;
      }
      const members: FilterMember[] = [];
      for (const [appVersionName, ids] of byVersion) {
        const ref = this.deps.registry.resolve(appVersionName);
        if (!ref || ref.tenantId !== tenantId || ref.appName !== appName) continue;
        for (const endpointId of ids) members.push({ endpointId, appVersionName });
      }
      await this.deps.endpoints.replaceFilterMembers(tenantId, appName, filterId, members, this.deps.clock.now());
      await this.deps.endpoints.markFilterLoaded(tenantId, appName, filterId);
      loaded.push(filterId);
      this.deps.work.schedulePushes({ kind: 'filter', tenantId, appName, filterId, reason: `filter ${filterId} members loaded` });
    }
    return { loaded, failed };
  }

  /**
   * Start-up: every filter referenced by targeted software whose members were never loaded is
   * scheduled for bootstrap.
   */
  async bootstrapMissingFilters(): Promise<number> {
    const byApp = new Map<string, { tenantId: string; appName: string; filters: Set<string> }>();
    for (const sw of await this.deps.software.listTargeted()) {
      const k = `${sw.tenantId}\u0000${sw.appName}`;
      const e = byApp.get(k) ?? byApp.set(k, { tenantId: sw.tenantId, appName: sw.appName, filters: new Set() }).get(k)!;
      for (const f of sw.filters) e.filters.add(f.filterId);
    }
    let scheduled = 0;
    for (const { tenantId, appName, filters } of byApp.values()) {
      const loaded = await this.deps.endpoints.loadedFilters(tenantId, appName);
      const missing = [...filters].filter((f) => !loaded.has(f));
      if (missing.length > 0) {
        this.deps.work.scheduleFilterBootstrap(tenantId, appName, missing);
        scheduled += missing.length;
      }
    }
    return scheduled;
  }

  /** A software event from another replica (§4.9): drop the cached catalogue. */
  softwareChangedElsewhere(tenantId: string, appName: string): void {
    this.catalogues.invalidate(tenantId, appName);
  }

  /**
   * The registry loaded these applications (at start, and after a reload that changed them).
   * Switching `consentRequired` off makes pushes due (spec §4.3) — also when it happened while no
   * replica ran (a restart with an edited applications file): the last value seen of each
   * application is kept in the store, and the push job is stored before that value moves on.
   * Returns the number of applications whose pushes were scheduled.
   */
  async registryLoaded(apps: readonly { readonly tenantId: string; readonly appName: string; readonly consentRequired: boolean }[]): Promise<number> {
    let scheduled = 0;
    for (const a of apps) {
      this.catalogues.invalidate(a.tenantId, a.appName);
      const name = `consent-required:${JSON.stringify([a.tenantId, a.appName])}`;
      const seen = await this.deps.lease.getCheckpoint(name);
      const now = a.consentRequired ? 1 : 0;
      if (seen === now) continue;
      if (seen === 1 && now === 0) {
        await this.deps.work.enqueuePushes({ kind: 'app', tenantId: a.tenantId, appName: a.appName, reason: 'consentRequired switched off' });
        scheduled++;
      }
      await this.deps.lease.setCheckpoint(name, now);
    }
    return scheduled;
  }
}
