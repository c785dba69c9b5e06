import { type EndpointContext, ineligibility } from '../domain/eligibility';
import { gateWait, inOpenPhase, phaseGateOf, phaseIncluding, type PhaseWait, phaseWaitBeforeGate, soakEndsAt } from '../domain/phases';
import { MemoPlanner, planFor, type Plan } from '../domain/planner';
import { err, failure, type Failure, ok, type Result } from '../domain/result';
import type { RolloutStrategy, Software } from '../domain/software';
import { type AppCatalogue, versionKey } from '../domain/upgrade-graph';
import { isStrictSemver } from '../domain/version';
import { isWindowOpen, nextWindowOpening } from '../domain/window';
import { parseKaaDate } from '../domain/kaa-date';
import {
  BUCKET_RETENTION_MS,
  bucketStart,
  type EndpointPage,
  type EndpointReport,
  type EndpointState,
  type HistoryBucket,
  type RolloutCounts,
  type RolloutHistoryBucket,
  type ZoneRules,
} from '../ports';
import type { CatalogueCache } from './catalogue-cache';
import type { CoreDeps, CoreOptions } from './core-deps';
import { contextOf } from './push.use-case';
import { failureRate, reportCount } from './rollout-safety';
import { findApplication, softwareNotFound } from './lookups';
import { countOnVersion, type FleetCounts, sameBoundaries } from './fleet-counts';

export type PreviewGroup = 'now' | 'later' | 'no-path' | 'filter-not-matched' | 'consent-missing' | 'already-on-version' | 'version-unknown' | 'suspended';
export const PREVIEW_GROUPS: readonly PreviewGroup[] = [
  'now',
  'later',
  'no-path',
  'filter-not-matched',
  'consent-missing',
  'already-on-version',
  'version-unknown',
  'suspended',
];

export interface PreviewItem {
  readonly endpointId: string;
  readonly group: PreviewGroup;
  readonly currentVersion?: string;
  /** For `later`: what it waits for — a filter's `rolloutDate` (`filterId`, `rolloutDate`) or a phase (`phase`). */
  readonly reason?: LaterReason;
  /** For `later` by `rollout-date`: the filter and date that will make the endpoint eligible. */
  readonly filterId?: string;
  readonly rolloutDate?: number;
  /** For `later` by `phase-not-open`: the index of the phase that will include the endpoint (spec §4.10). */
  readonly phase?: number;
  /** For `later` by `window-closed`: when the maintenance window opens next (spec §4.12). */
  readonly nextOpenAt?: number;
}

/** Why a `later` endpoint is not offered the version now. */
export type LaterReason = 'rollout-date' | 'phase-not-open' | 'window-closed';

export interface Preview {
  readonly version: string;
  readonly rolloutStrategy: RolloutStrategy;
  readonly counts: Readonly<Record<PreviewGroup, number>>;
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  readonly items: readonly PreviewItem[];
  /** When the counts were made (epoch ms): now, or the stored counts' time for a large application (FleetCounts). */
  readonly countedAt: number;
}

/** A page of the endpoint list (spec §6.4) with its count and when that was made (see {@link Preview.countedAt}). */
export interface EndpointList extends EndpointPage {
  readonly countedAt: number;
}

export interface RolloutView extends RolloutCounts {
  readonly version: string;
  readonly failureRate: number;
  readonly rolloutStrategy: RolloutStrategy;
  readonly suspendedReason?: string;
  /** The open phase of a phased rollout (spec §6.3). */
  readonly phase?: PhaseView;
  /** The maintenance window, when the software has one (spec §6.3): open now, and the next opening after now. */
  readonly window?: WindowView;
}

export interface WindowView {
  readonly open: boolean;
  readonly nextOpenAt?: number;
}

/** The open phase of a phased rollout and what its automatic advance waits for (spec §6.3; docs/api.md). */
export interface PhaseView {
  readonly index: number;
  readonly percent: number;
  readonly openedAt: number;
  readonly hold: boolean;
  readonly holdReason?: string;
  /**
   * The first condition of the automatic advance (§4.10) that does not hold yet: `done` (last
   * phase), `hold` (held, or suspended: a suspension holds the phase), `soak`, `reports` (fewer than
   * the gate's `minReports`), `gate` (failure rate at or above `maxFailureRate`). When every
   * condition holds (the next check advances it), the last one checked: `gate` with a gate, else `soak`.
   */
  readonly waitingFor: PhaseWait;
  /**
   * When the advance is checked next: the soak's end while soaking; otherwise the next periodic
   * check at the latest (`now + phaseCheckMs`). Absent for `hold` and `done`: nothing is checked.
   */
  readonly nextCheckAt?: number;
}

/** The rollout view of a software from its counts (spec §6.3), at `now`; `checkMs` is the period of the phase checks. */
export function rolloutViewOf(sw: Software, c: RolloutCounts, now: number, checkMs: number, zones: ZoneRules): RolloutView {
  return {
    version: sw.version,
    offered: c.offered,
    applied: c.applied,
    failed: c.failed,
    timedOut: c.timedOut,
    rolledBack: c.rolledBack,
    failureRate: failureRate(c),
    rolloutStrategy: sw.rolloutStrategy,
    ...(sw.suspendedReason !== undefined ? { suspendedReason: sw.suspendedReason } : {}),
    ...(sw.phases && sw.phases.length > 0 && sw.phase ? { phase: phaseViewOf(sw, c, now, checkMs) } : {}),
    ...(sw.maintenanceWindow ? { window: windowViewOf(zones, sw.maintenanceWindow, now) } : {}),
  };
}

function windowViewOf(zones: ZoneRules, w: NonNullable<Software['maintenanceWindow']>, now: number): WindowView {
  const next = nextWindowOpening(zones, w, now);
  return { open: isWindowOpen(zones, w, now), ...(next !== undefined ? { nextOpenAt: next } : {}) };
}

function phaseViewOf(sw: Software, c: RolloutCounts, now: number, checkMs: number): PhaseView {
  const state = sw.phase!;
  const phases = sw.phases!;
  const index = Math.min(Math.max(state.index, 0), phases.length - 1);
  const gate = phaseGateOf(sw);
  const waitingFor: PhaseWait =
    phaseWaitBeforeGate(sw, now) ?? (gate ? (gateWait(gate, { reports: reportCount(c), failureRate: failureRate(c) }) ?? 'gate') : 'soak');
  const soakEnd = soakEndsAt(sw) as number;
  const nextCheckAt = waitingFor === 'hold' || waitingFor === 'done' ? undefined : soakEnd > now ? soakEnd : now + checkMs;
  return {
    index,
    percent: phases[index]!.percent,
    openedAt: state.openedAt,
    hold: state.hold,
    ...(state.holdReason !== undefined ? { holdReason: state.holdReason } : {}),
    waitingFor,
    ...(nextCheckAt !== undefined ? { nextCheckAt } : {}),
  };
}

/** Spec §6.3 history: the changes of the counters per bucket whose start lies in [since, until). */
export interface RolloutHistory {
  readonly version: string;
  readonly bucket: HistoryBucket;
  readonly since: number;
  readonly until: number;
  /** Oldest first; buckets without a change are absent. */
  readonly buckets: readonly RolloutHistoryBucket[];
}

/** The raw query of `GET …/rollout/history`: `bucket` (default minute), RFC 3339 UTC `since` and `until`. */
export interface HistoryQuery {
  readonly bucket?: string;
  readonly since?: string;
  readonly until?: string;
}

/** Default span of a history query without `since`: minute buckets 2 h, hour buckets 7 days. */
export const HISTORY_DEFAULT_SPAN_MS: Readonly<Record<HistoryBucket, number>> = { minute: 2 * 3_600_000, hour: 7 * 86_400_000 };
/** Longest span of one history query: the buckets' retention (minute 48 h, hour 90 days). */
export const HISTORY_MAX_SPAN_MS: Readonly<Record<HistoryBucket, number>> = BUCKET_RETENTION_MS;

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

/** What classifying an endpoint for the preview reads of it. */
/** An endpoint, or a shape of endpoints with a cohort that stands for every cohort of its bucket. */
type ShapeOrState = Pick<EndpointState, 'tenantId' | 'appName' | 'endpointId' | 'currentVersion' | 'filters' | 'consents'> & { readonly cohort?: number };

type NotFound = Failure<'application.not_found' | 'software.not_found'>;
export type PageQuery = { readonly offset: number; readonly limit: number };

/** The ports InsightService uses. */
export type InsightServiceDeps = Pick<CoreDeps, 'software' | 'endpoints' | 'stats' | 'clock' | 'registry' | 'zones'>;

/** The options InsightService reads. */
export type InsightServiceOptions = Pick<CoreOptions, 'phaseCheckMs' | 'pushBatchSize'>;

/** Rollout insight (spec §6.3) and the endpoint views (§6.4). */
export class InsightService {
  constructor(
    private readonly deps: InsightServiceDeps,
    private readonly options: InsightServiceOptions,
    private readonly catalogues: CatalogueCache,
    private readonly counts: FleetCounts,
  ) {}

  /** Resolves when the counts being made in the background have been stored (tests; a graceful stop). */
  countsSettled(): Promise<void> {
    return this.counts.settled();
  }

  /** Dry run: which known endpoints would be offered the version now, which later, and why not the others. */
  async preview(tenantId: string, appName: string, version: string, page0: PageQuery): Promise<Result<Preview, NotFound>> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    const settings = known.value;
    const planner = await this.catalogues.planner(tenantId, appName);
    const sw = isStrictSemver(version) ? planner.catalogue.find(version) : undefined;
    if (!sw) return err(softwareNotFound(appName, version));
    const now = this.deps.clock.now();
    const counts = Object.fromEntries(PREVIEW_GROUPS.map((g) => [g, 0])) as Record<PreviewGroup, number>;
    const items: PreviewItem[] = [];
    let index = 0;
    // A phased version seen with its last phase open: whom it would be next for once its phases reach them.
    const opened =
      sw.phases && sw.phases.length > 0 && sw.phase
        ? new MemoPlanner(
            planner.catalogue.with(planner.catalogue.software.map((s) => (s === sw ? { ...s, phase: { ...sw.phase!, index: sw.phases!.length - 1 } } : s))),
          )
        : undefined;
    // A version whose maintenance window is closed: whom it would be next for when the window opens.
    const opensAt =
      sw.maintenanceWindow && !isWindowOpen(this.deps.zones, sw.maintenanceWindow, now)
        ? nextWindowOpening(this.deps.zones, sw.maintenanceWindow, now)
        : undefined;
    const atOpening = opensAt !== undefined ? { at: opensAt, planner: new MemoPlanner(planner.catalogue) } : undefined;
    const classify = (state: ShapeOrState): PreviewItem =>
      this.classify(
        sw,
        state,
        settings.consentRequired,
        now,
        (ctxNow) => planner.plan(this.context(state, settings.consentRequired, planner.catalogue), ctxNow),
        planner.catalogue,
        opened,
        atOpening,
      );
    let countedAt = now;
    // A plan depends only on (version, filters, consents) and, with phases, on which of the
    // catalogue's cohort boundaries the endpoint's cohort lies between (the boundaries of its phases,
    // also of those not open yet: the what-ifs above open them). The counts come from the app's
    // shapes split by those boundaries — one row per shape and bucket: grouped by the store, or
    // stored for a large application — each classified once with a cohort of its bucket, and the
    // page from one page query: a preview of a million endpoints does not stream the fleet through
    // here (bench/console-lists).
    const count = await this.counts.shapes(tenantId, appName);
    const boundaries = planner.catalogue.cohortBoundaries;
    const phased = planner.catalogue.phaseBoundaries.length > 0;
    if (!phased || (sameBoundaries(count.cohortBoundaries, boundaries) && count.shapes.every((s) => s.cohortBucket !== undefined))) {
      const page = page0.limit > 0 ? await this.pageOf(tenantId, appName, page0, count.total) : [];
      for (const shape of count.shapes) {
        const bucket = shape.cohortBucket ?? 0;
        const cohort = phased ? (bucket === 0 ? 0 : (boundaries[bucket - 1] as number)) : undefined;
        counts[classify({ tenantId, appName, endpointId: '', ...shape, ...(cohort !== undefined ? { cohort } : {}) }).group] += shape.count;
        index += shape.count;
      }
      countedAt = count.countedAt;
      items.push(...page.map(classify));
    } else {
      // The store holds no cohort for some endpoints (stored before cohorts were, not backfilled yet),
      // or the catalogue changed its phases meanwhile: every endpoint is classified.
      for await (const batch of this.deps.endpoints.stream(tenantId, appName, { batchSize: this.options.pushBatchSize })) {
        for (const state of batch) {
          const item = classify(state);
          counts[item.group]++;
          if (index >= page0.offset && items.length < page0.limit) items.push(item);
          index++;
        }
      }
    }
    return ok({ version: sw.version, rolloutStrategy: sw.rolloutStrategy, counts, total: index, offset: page0.offset, limit: page0.limit, items, countedAt });
  }

  /** The plan context of an endpoint, or of a shape with the cohort of its bucket. */
  private context(state: ShapeOrState, consentRequired: boolean, catalogue: AppCatalogue): EndpointContext {
    const c = contextOf(state, state, consentRequired, catalogue);
    return state.cohort !== undefined && c.cohort !== undefined ? { ...c, cohort: state.cohort } : c;
  }

  private classify(
    sw: Software,
    state: ShapeOrState,
    consentRequired: boolean,
    now: number,
    planAt: (t: number) => Plan,
    catalogue: Parameters<typeof planFor>[0],
    opened: MemoPlanner | undefined,
    atOpening: { readonly at: number; readonly planner: MemoPlanner } | undefined,
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
        const later = planFor(catalogue, this.context(state, consentRequired, catalogue), f.rolloutDate as number);
        if (later.next !== undefined && versionKey(later.next) === versionKey(sw.version)) {
          return { ...base, group: 'later', reason: 'rollout-date', filterId: f.filterId, rolloutDate: f.rolloutDate as number };
        }
      }
    }
    // Later: the endpoint's cohort is outside the open phase, and the version would be its next hop once its phase opens.
    if (opened && sw.phases) {
      const cohort = state.cohort ?? catalogue.cohortOf(state.tenantId, state.appName, state.endpointId);
      if (!inOpenPhase(sw, cohort)) {
        // planned when the window (if closed) opens: the phase is what the endpoint waits for longest
        const later = opened.plan(this.context(state, consentRequired, opened.catalogue), atOpening?.at ?? now);
        if (later.next !== undefined && versionKey(later.next) === versionKey(sw.version)) {
          return { ...base, group: 'later', reason: 'phase-not-open', phase: phaseIncluding(sw.phases, cohort) };
        }
      }
    }
    // Later: the maintenance window is closed, and the version will be the endpoint's next hop when it opens.
    if (atOpening) {
      const later = atOpening.planner.plan(this.context(state, consentRequired, atOpening.planner.catalogue), atOpening.at);
      if (later.next !== undefined && versionKey(later.next) === versionKey(sw.version)) {
        return { ...base, group: 'later', reason: 'window-closed', nextOpenAt: atOpening.at };
      }
    }
    const why = ineligibility(
      sw,
      memberships,
      state.consents,
      consentRequired,
      now,
      this.context(state, consentRequired, catalogue).cohort,
      catalogue.windowOpen,
    );
    if (why === 'filter-not-matched') {
      const anyMatch = sw.filters.some((f) => memberships.has(f.filterId));
      if (!anyMatch) return { ...base, group: 'filter-not-matched' };
    } else if (why === 'consent-missing') {
      return { ...base, group: 'consent-missing' };
    }
    return { ...base, group: 'no-path' };
  }

  async rollout(tenantId: string, appName: string, version: string): Promise<Result<RolloutView, NotFound>> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    const sw = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
    if (!sw) return err(softwareNotFound(appName, version));
    const c = await this.deps.stats.get(tenantId, appName, sw.version);
    return ok(rolloutViewOf(sw, c, this.deps.clock.now(), this.options.phaseCheckMs, this.deps.zones));
  }

  /**
   * Spec §6.3 history of one software. `since` is rounded down to its bucket's start; defaults: `until`
   * now, `since` {@link HISTORY_DEFAULT_SPAN_MS} before `until`; the span may not exceed {@link HISTORY_MAX_SPAN_MS}.
   */
  async history(
    tenantId: string,
    appName: string,
    version: string,
    query: HistoryQuery,
  ): Promise<Result<RolloutHistory, NotFound | Failure<'request.invalid'>>> {
    const bucket = query.bucket ?? 'minute';
    if (bucket !== 'minute' && bucket !== 'hour')
      return err(failure('request.invalid', `bucket: must be minute or hour, got ${JSON.stringify(bucket.slice(0, 50))}`, 'bucket'));
    const date = (name: 'since' | 'until'): number | Failure<'request.invalid'> | undefined => {
      const v = query[name];
      if (v === undefined) return undefined;
      const t = parseKaaDate(v);
      return t ?? failure('request.invalid', `${name}: must be an RFC 3339 UTC date (e.g. 2026-01-01T00:00:00Z), got ${JSON.stringify(v.slice(0, 50))}`, name);
    };
    const u = date('until');
    const s = date('since');
    if (typeof u === 'object') return err(u);
    if (typeof s === 'object') return err(s);
    const until = u ?? this.deps.clock.now();
    const since = bucketStart(bucket, s ?? until - HISTORY_DEFAULT_SPAN_MS[bucket]);
    if (since >= until) return err(failure('request.invalid', 'since: must be before until', 'since'));
    if (until - since > HISTORY_MAX_SPAN_MS[bucket]) {
      return err(failure('request.invalid', `since: the span may be at most ${HISTORY_MAX_SPAN_MS[bucket] / 3_600_000} hours with ${bucket} buckets`, 'since'));
    }
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    const sw = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
    if (!sw) return err(softwareNotFound(appName, version));
    const buckets = await this.deps.stats.history(tenantId, appName, sw.version, { bucket, since, until });
    return ok({ version: sw.version, bucket, since, until, buckets });
  }

  async endpoint(
    tenantId: string,
    appName: string,
    endpointId: string,
  ): Promise<Result<EndpointView, Failure<'application.not_found' | 'endpoint.not_found'>>> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    const settings = known.value;
    const state = await this.deps.endpoints.get({ tenantId, appName, endpointId });
    if (!state)
      return err(failure('endpoint.not_found', `endpoint ${JSON.stringify(endpointId)} unknown in application ${JSON.stringify(appName)}`, 'endpointId'));
    const planner = await this.catalogues.planner(tenantId, appName);
    const plan = planner.plan(contextOf(state, state, settings.consentRequired, planner.catalogue), this.deps.clock.now());
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
  ): Promise<Result<EndpointList, Failure<'application.not_found' | 'request.invalid'>>> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    if (query.version !== undefined && !isStrictSemver(query.version)) {
      return err(failure('request.invalid', `version: must be a SemVer version, got ${JSON.stringify(query.version)}`, 'version'));
    }
    const stored = await this.counts.stored(tenantId, appName);
    if (stored) {
      // A large application: the count is the stored one, and the page alone is read.
      const totalElements = query.version !== undefined ? countOnVersion(stored, query.version) : stored.total;
      return ok({ content: await this.pageOf(tenantId, appName, query, totalElements), totalElements, countedAt: stored.countedAt });
    }
    const countedAt = this.deps.clock.now();
    const page = await this.deps.endpoints.list(tenantId, appName, query);
    this.counts.counted(tenantId, appName, page.totalElements);
    return ok({ ...page, countedAt });
  }

  /**
   * A page of the app's endpoints whose list has about `total` entries: a page in the second half is
   * read from the end (`fromEnd`), so the last page costs what the first does. With stored counts the
   * total may be behind the fleet; a page from the end then shows the entries that many places later.
   */
  private async pageOf(tenantId: string, appName: string, query: { version?: string; offset: number; limit: number }, total: number): Promise<EndpointState[]> {
    const offset = Math.max(0, query.offset);
    if (offset < total / 2 || offset >= total) return this.deps.endpoints.page(tenantId, appName, { ...query, offset });
    const fromEnd = total - offset - query.limit;
    return this.deps.endpoints.page(tenantId, appName, {
      ...query,
      offset: Math.max(0, fromEnd),
      limit: fromEnd >= 0 ? query.limit : query.limit + fromEnd,
      fromEnd: true,
    });
  }
}
