import type { ZoneRules } from '../ports/zone-rules.port';
import type { CohortMemo } from './cohort-memo';
import { openPercent } from './phases';
import type { Software } from './software';
import { compareVersions, matches, parseMatcher, type VersionMatcher } from './version';
import { isWindowOpen, lastWindowTransition, type MaintenanceWindow, nextWindowTransition } from './window';

/** The precedence key of a version: build metadata does not count (1.0.0+a and 1.0.0+b are the same). */
export function versionKey(v: string): string {
  const plus = v.indexOf('+');
  return plus < 0 ? v : v.slice(0, plus);
}

export interface GraphNode {
  readonly version: string;
  readonly upgradableFrom: readonly string[];
  readonly rolloutStrategy: string;
}

/**
 * The graph rule of spec §2: among non-suspended software, an edge runs from every registered
 * version matching an `upgradableFrom` entry to the software's version; it must have no cycle.
 * Returns a cycle as versions (first = last), or undefined. Deterministic: versions are visited in
 * ascending precedence.
 */
export function findCycle(software: readonly GraphNode[]): string[] | undefined {
  const nodes = software.filter((s) => s.rolloutStrategy !== 'suspended').sort((a, b) => compareVersions(a.version, b.version));
  const matchers = nodes.map((s) => s.upgradableFrom.map(parseMatcher).filter((m): m is VersionMatcher => m !== undefined));
  // successors[i] = indices j such that nodes[i].version matches an entry of nodes[j]
  const successors: number[][] = nodes.map((from) => nodes.flatMap((_to, j) => ((matchers[j] ?? []).some((m) => matches(m, from.version)) ? [j] : [])));
  const WHITE = 0,
    GREY = 1,
    BLACK = 2;
  const colour = new Array<number>(nodes.length).fill(WHITE);
  const stack: number[] = [];
  const visit = (i: number): number[] | undefined => {
    colour[i] = GREY;
    stack.push(i);
    for (const j of successors[i] ?? []) {
      if (colour[j] === GREY) return [...stack.slice(stack.indexOf(j)), j];
      if (colour[j] === WHITE) {
        const c = visit(j);
        if (c) return c;
      }
    }
    stack.pop();
    colour[i] = BLACK;
    return undefined;
  };
  for (let i = 0; i < nodes.length; i++) {
    if (colour[i] === WHITE) {
      const c = visit(i);
      if (c) return c.map((k) => (nodes[k] as GraphNode).version);
    }
  }
  return undefined;
}

/** The message of a cycle error, e.g. `1.0.0 -> 2.0.0 -> 1.0.0`. */
export function describeCycle(cycle: readonly string[]): string {
  return cycle.join(' -> ');
}

/** Software of one (tenant, app) with parsed matchers, as the planner needs it. */
export interface PreparedSoftware {
  readonly software: Software;
  readonly key: string;
  readonly matchers: readonly VersionMatcher[];
}

/**
 * The ports the time and cohort rules of a catalogue evaluate with (spec §4.10, §4.12): the zone
 * rules of its maintenance windows and the core's cohort memo. One per core, shared by its catalogues.
 */
export interface CatalogueRules {
  readonly zones: ZoneRules;
  readonly cohorts: CohortMemo;
}

/**
 * An immutable snapshot of one application's software, prepared for planning: sorted by
 * precedence, with parsed `upgradableFrom` matchers and the set of filters targeted software uses.
 */
export class AppCatalogue {
  readonly entries: readonly PreparedSoftware[];
  /** Filter ids referenced by non-suspended targeted software. */
  readonly targetedFilterIds: ReadonlySet<string>;
  /** Version keys of all software (any strategy). */
  readonly versionKeys: ReadonlySet<string>;
  /**
   * The open percents below 100 of non-suspended phased software, ascending and distinct (spec
   * §4.10). Which of them an endpoint's cohort is below is all a plan needs to know of the cohort:
   * endpoints are bucketed by the boundaries they fall between, not planned one by one.
   */
  readonly phaseBoundaries: readonly number[];
  /**
   * Every phase percent below 100 of every software with phases (any strategy, any open phase),
   * ascending and distinct: a superset of `phaseBoundaries` that a phase advance, a hold or a
   * suspension does not change. Endpoints whose cohorts fall between the same two of them are alike
   * to every plan and preview of the catalogue, and of it with any phase opened (the preview's
   * what-ifs): counts split by them (`EndpointRepository.shapes`) stay valid across phase advances.
   */
  readonly cohortBoundaries: readonly number[];
  /** Maintenance windows of non-suspended software: their openings and closings change plans. */
  readonly windows: readonly MaintenanceWindow[];
  private readonly byKey = new Map<string, PreparedSoftware>();
  private readonly successorCache = new Map<string, readonly number[]>();
  private readonly windowCache = new Map<MaintenanceWindow, { readonly from: number; readonly until: number; readonly open: boolean }>();
  private readonly rolloutDates: readonly number[];

  constructor(
    software: readonly Software[],
    readonly rules: CatalogueRules,
  ) {
    this.entries = [...software]
      .sort((a, b) => compareVersions(a.version, b.version))
      .map((s) => ({
        software: s,
        key: versionKey(s.version),
        matchers: s.upgradableFrom.map(parseMatcher).filter((m): m is VersionMatcher => m !== undefined),
      }));
    const filters = new Set<string>();
    const dates: number[] = [];
    const boundaries = new Set<number>();
    const cohortBoundaries = new Set<number>();
    const windows: MaintenanceWindow[] = [];
    for (const e of this.entries) {
      this.byKey.set(e.key, e);
      for (const p of e.software.phases ?? []) if (p.percent > 0 && p.percent < 100) cohortBoundaries.add(p.percent);
      if (e.software.rolloutStrategy !== 'suspended') {
        const p = openPercent(e.software);
        if (p < 100) boundaries.add(p);
        if (e.software.maintenanceWindow) windows.push(e.software.maintenanceWindow);
      }
      if (e.software.rolloutStrategy === 'targeted') {
        for (const f of e.software.filters) {
          filters.add(f.filterId);
          if (f.rolloutDate !== undefined) dates.push(f.rolloutDate);
        }
      }
    }
    this.targetedFilterIds = filters;
    this.versionKeys = new Set(this.byKey.keys());
    this.rolloutDates = dates.sort((a, b) => a - b);
    this.phaseBoundaries = [...boundaries].sort((a, b) => a - b);
    for (const b of boundaries) if (b > 0) cohortBoundaries.add(b);
    this.cohortBoundaries = [...cohortBoundaries].sort((a, b) => a - b);
    this.windows = windows;
  }

  /**
   * Whether a window of this catalogue is open at `t`, remembered until its next opening or closing
   * (a window is evaluated through the zone rules: microseconds, too slow for every plan).
   */
  readonly windowOpen = (w: MaintenanceWindow, t: number): boolean => {
    const c = this.windowCache.get(w);
    if (c && c.from <= t && t < c.until) return c.open;
    const zones = this.rules.zones;
    const open = isWindowOpen(zones, w, t);
    this.windowCache.set(w, {
      from: lastWindowTransition(zones, w, t) ?? Number.NEGATIVE_INFINITY,
      until: nextWindowTransition(zones, w, t) ?? Number.POSITIVE_INFINITY,
      open,
    });
    return open;
  };

  /** The endpoint's cohort b(E) (spec §4.10), memoised across the core's catalogues. */
  cohortOf(tenantId: string, appName: string, endpointId: string): number {
    return this.rules.cohorts.of(tenantId, appName, endpointId);
  }

  /** A catalogue of other software evaluated with the same rules (the preview's what-ifs). */
  with(software: readonly Software[]): AppCatalogue {
    return new AppCatalogue(software, this.rules);
  }

  /** Which phase bucket a cohort falls in: how many phase boundaries it is at or above. */
  phaseBucket(cohort: number | undefined): number {
    const b = this.phaseBoundaries;
    if (cohort === undefined) return b.length;
    let n = 0;
    while (n < b.length && cohort >= (b[n] as number)) n++;
    return n;
  }

  get software(): readonly Software[] {
    return this.entries.map((e) => e.software);
  }

  /** The software with this version by precedence, if registered. */
  find(version: string): Software | undefined {
    return this.byKey.get(versionKey(version))?.software;
  }

  /** Indices (into `entries`) of the software whose `upgradableFrom` matches `version`, any strategy. */
  successorsOf(version: string): readonly number[] {
    const key = versionKey(version);
    let s = this.successorCache.get(key);
    if (!s) {
      s = this.entries.flatMap((e, i) => (e.matchers.some((m) => matches(m, version)) ? [i] : []));
      if (this.successorCache.size > 100_000) this.successorCache.clear();
      this.successorCache.set(key, s);
    }
    return s;
  }

  /** The earliest rollout date of targeted software strictly after `t`, if any. */
  nextRolloutDateAfter(t: number): number | undefined {
    for (const d of this.rolloutDates) if (d > t) return d;
    return undefined;
  }

  /** The latest rollout date of targeted software at or before `t`, if any. */
  lastRolloutDateAtOrBefore(t: number): number | undefined {
    let last: number | undefined;
    for (const d of this.rolloutDates) if (d <= t) last = d;
    return last;
  }

  /** The first time after `t` when eligibility may change by time alone: a rollout date passing or a window opening or closing. */
  nextChangeAfter(t: number): number | undefined {
    let next = this.nextRolloutDateAfter(t);
    for (const w of this.windows) {
      const x = nextWindowTransition(this.rules.zones, w, t);
      if (x !== undefined && (next === undefined || x < next)) next = x;
    }
    return next;
  }

  /** The last time at or before `t` when eligibility changed by time alone. */
  lastChangeAtOrBefore(t: number): number | undefined {
    let last = this.lastRolloutDateAtOrBefore(t);
    for (const w of this.windows) {
      const x = lastWindowTransition(this.rules.zones, w, t);
      if (x !== undefined && (last === undefined || x > last)) last = x;
    }
    return last;
  }
}
