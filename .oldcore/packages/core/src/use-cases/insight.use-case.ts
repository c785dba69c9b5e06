import { ineligibility } from '../domain/eligibility';
import { planFor, type Plan } from '../domain/planner';
import { err, failure, type Failure, ok, type Result } from '../domain/result';
import type { RolloutStrategy, Software } from '../domain/software';
import { versionKey } from '../domain/upgrade-graph';
import { isStrictSemver } from '../domain/version';
import type { EndpointPage, EndpointReport, EndpointState, RolloutCounts } from '../ports';
import type { CatalogueCache } from './catalogue-cache';
import type { CoreDeps, CoreOptions } from './core-deps';
import { contextOf } from './push.use-case';
import { failureRate } from './rollout-safety';

export type PreviewGroup = 'now' | 'later' | 'no-path' | 'filter-not-matched' | 'consent-missing' | 'already-on-version' | 'version-unknown' | 'suspended';
export const PREVIEW_GROUPS: readonly PreviewGroup[] = ['now', 'later', 'no-path', 'filter-not-matched', 'consent-missing', 'already-on-version', 'version-unknown', 'suspended'];

export interface PreviewItem {
  readonly endpointId: string;
  readonly group: PreviewGroup;
  readonly currentVersion?: string;
  /** For `later`: the filter and date that will make the endpoint eligible. */
  readonly filterId?: string;
  readonly rolloutDate?: number;
}

export interface Preview {
  readonly version: string;
  readonly rolloutStrategy: RolloutStrategy;
  readonly counts: Readonly<Record<PreviewGroup, number>>;
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  readonly items: readonly PreviewItem[];
}

export interface RolloutView extends RolloutCounts {
  readonly version: string;
  readonly failureRate: number;
  readonly rolloutStrategy: RolloutStrategy;
  readonly suspendedReason?: string;
}

export interface EndpointView {
  readonly endpointId: string;
  readonly appVersionName?: string;
  readonly currentVersion?: string;
  readonly lastReport?: EndpointReport;
  readonly next?: string;
  readonly path: readonly string[];
  readonly goal?: string;
  readonly consents: readonly string[];
  readonly filters: readonly string[];
}

type NotFound = Failure<'application.not_found' | 'software.not_found'>;
export type PageQuery = { readonly offset: number; readonly limit: number };

/** Rollout insight (spec §6.3) and the endpoint views (§6.4). */
export class InsightService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly options: CoreOptions,
    private readonly catalogues: CatalogueCache,
  ) {}

  /** Dry run: which known endpoints would be offered the version now, which later, and why not the others. */
  async preview(tenantId: string, appName: string, version: string, page: PageQuery): Promise<Result<Preview, NotFound>> {
    const settings = this.deps.registry.settings(tenantId, appName);
    if (!settings) return err(appNotFound(appName));
    const planner = await this.catalogues.planner(tenantId, appName);
    const sw = isStrictSemver(version) ? planner.catalogue.find(version) : undefined;
    if (!sw) return err(failure('software.not_found', `software ${JSON.stringify(version)} not found in application ${JSON.stringify(appName)}`, 'version'));
    const now = this.deps.clock.now();
    const counts = Object.fromEntries(PREVIEW_GROUPS.map((g) => [g, 0])) as Record<PreviewGroup, number>;
    const items: PreviewItem[] = [];
    let index = 0;
    for await (const batch of this.deps.endpoints.stream(tenantId, appName, { batchSize: this.options.pushBatchSize })) {
      for (const state of batch) {
        const item = this.classify(sw, state, settings.consentRequired, now, (ctxNow) => planner.plan(contextOf(state, settings.consentRequired), ctxNow), planner.catalogue);
        counts[item.group]++;
        if (index >= page.offset && items.length < page.limit) items.push(item);
        index++;
      }
    }
    return ok({ version: sw.version, rolloutStrategy: sw.rolloutStrategy, counts, total: index, offset: page.offset, limit: page.limit, items });
  }

  private classify(
    sw: Software,
    state: EndpointState,
    consentRequired: boolean,
    now: number,
    planAt: (t: number) => Plan,
    catalogue: Parameters<typeof planFor>[0],
  ): PreviewItem {
    const base = { endpointId: state.endpointId, ...(state.currentVersion !== undefined ? { currentVersion: state.currentVersion } : {}) };
    if (state.currentVersion === undefined) return { ...base, group: 'version-unknown' };
    if (versionKey(state.currentVersion) === versionKey(sw.version)) return { ...base, group: 'already-on-version' };
    if (sw.rolloutStrategy === 'suspended') return { ...base, group: 'suspended' };
    const plan = planAt(now);
    if (plan.next !== undefined && versionKey(plan.next) === versionKey(sw.version)) return { ...base, group: 'now' };
    const memberships = new Set(state.filters);
    // Later: a matched filter whose date is still ahead would make the endpoint's next hop this version.
    if (sw.rolloutStrategy === 'targeted') {
      const future = sw.filters
        .filter((f) => memberships.has(f.filterId) && f.rolloutDate !== undefined && f.rolloutDate > now)
        .sort((a, b) => (a.rolloutDate as number) - (b.rolloutDate as number));
      for (const f of future) {
        const later = planFor(catalogue, contextOf(state, consentRequired), f.rolloutDate as number);
        if (later.next !== undefined && versionKey(later.next) === versionKey(sw.version)) {
          return { ...base, group: 'later', filterId: f.filterId, rolloutDate: f.rolloutDate as number };
        }
      }
    }
    const why = ineligibility(sw, memberships, state.consents, consentRequired, now);
    if (why === 'filter-not-matched') {
      const anyMatch = sw.filters.some((f) => memberships.has(f.filterId));
      if (!anyMatch) return { ...base, group: 'filter-not-matched' };
    } else if (why === 'consent-missing') {
      return { ...base, group: 'consent-missing' };
    }
    return { ...base, group: 'no-path' };
  }

  async rollout(tenantId: string, appName: string, version: string): Promise<Result<RolloutView, NotFound>> {
    if (!this.deps.registry.settings(tenantId, appName)) return err(appNotFound(appName));
    const sw = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
    if (!sw) return err(failure('software.not_found', `software ${JSON.stringify(version)} not found in application ${JSON.stringify(appName)}`, 'version'));
    const c = await this.deps.stats.get(tenantId, appName, sw.version);
    return ok({
      version: sw.version,
      offered: c.offered,
      applied: c.applied,
      failed: c.failed,
      failureRate: failureRate(c),
      rolloutStrategy: sw.rolloutStrategy,
      ...(sw.suspendedReason !== undefined ? { suspendedReason: sw.suspendedReason } : {}),
    });
  }

  async endpoint(tenantId: string, appName: string, endpointId: string): Promise<Result<EndpointView, Failure<'application.not_found' | 'endpoint.not_found'>>> {
    const settings = this.deps.registry.settings(tenantId, appName);
    if (!settings) return err(appNotFound(appName));
    const state = await this.deps.endpoints.get({ tenantId, appName, endpointId });
    if (!state) return err(failure('endpoint.not_found', `endpoint ${JSON.stringify(endpointId)} unknown in application ${JSON.stringify(appName)}`, 'endpointId'));
    const planner = await this.catalogues.planner(tenantId, appName);
    const plan = planner.plan(contextOf(state, settings.consentRequired), this.deps.clock.now());
    return ok({
      endpointId,
      ...(state.appVersionName !== undefined ? { appVersionName: state.appVersionName } : {}),
      ...(state.currentVersion !== undefined ? { currentVersion: state.currentVersion } : {}),
      ...(state.lastReport !== undefined ? { lastReport: state.lastReport } : {}),
      ...(plan.next !== undefined ? { next: plan.next } : {}),
      path: plan.path,
      ...(plan.goal !== undefined ? { goal: plan.goal } : {}),
      consents: state.consents,
      filters: state.filters,
    });
  }

  async endpoints(
    tenantId: string,
    appName: string,
    query: { version?: string; offset: number; limit: number },
  ): Promise<Result<EndpointPage, Failure<'application.not_found' | 'request.invalid'>>> {
    if (!this.deps.registry.settings(tenantId, appName)) return err(appNotFound(appName));
    if (query.version !== undefined && !isStrictSemver(query.version)) {
      return err(failure('request.invalid', `version: must be a SemVer version, got ${JSON.stringify(query.version)}`, 'version'));
    }
    return ok(await this.deps.endpoints.list(tenantId, appName, query));
  }
}

function appNotFound(appName: string): Failure<'application.not_found'> {
  return failure('application.not_found', `application ${JSON.stringify(appName)} not found`, 'appName');
}
