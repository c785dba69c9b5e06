import { type AppCatalogue, versionKey } from './upgrade-graph';
import { type EndpointContext, ineligibility } from './eligibility';
import { compareVersions } from './version';

/** The plan for one endpoint (spec §4.1). */
export interface Plan {
  /** The highest version reachable from the current one (excluding it). */
  readonly goal?: string;
  /** A shortest path current -> … -> goal, excluding current; preferring higher hops first. */
  readonly path: readonly string[];
  /** The first hop of the path. */
  readonly next?: string;
}

export const EMPTY_PLAN: Plan = Object.freeze({ path: Object.freeze([]) });

/**
 * Computes goal, path and next for an endpoint at time `now` from scratch (no memo).
 * Edges run from a version to every eligible software whose `upgradableFrom` matches it.
 */
export function planFor(catalogue: AppCatalogue, ep: EndpointContext, now: number): Plan {
  const current = ep.current;
  if (current === undefined) return EMPTY_PLAN;
  const entries = catalogue.entries;
  const memberships = new Set(ep.memberships);
  const eligible = entries.map(
    (e) => ineligibility(e.software, memberships, ep.consents, ep.consentRequired, now, ep.cohort, catalogue.windowOpen) === undefined,
  );

  const startKey = versionKey(current);
  const dist = new Map<string, number>([[startKey, 0]]);
  const versionOf = new Map<string, string>([[startKey, current]]);
  const succ = new Map<string, string[]>();
  const queue: string[] = [startKey];
  for (let qi = 0; qi < queue.length; qi++) {
    const u = queue[qi] as string;
    const du = dist.get(u) as number;
    const out: string[] = [];
    for (const i of catalogue.successorsOf(versionOf.get(u) as string)) {
      if (!eligible[i]) continue;
      const e = entries[i];
      if (!e || e.key === startKey) continue;
      out.push(e.key);
      if (!dist.has(e.key)) {
        dist.set(e.key, du + 1);
        versionOf.set(e.key, e.software.version);
        queue.push(e.key);
      }
    }
    succ.set(u, out);
  }
  if (queue.length === 1) return EMPTY_PLAN;

  let goalKey: string | undefined;
  for (const k of queue) {
    if (k === startKey) continue;
    if (goalKey === undefined || compareVersions(versionOf.get(k) as string, versionOf.get(goalKey) as string) > 0) goalKey = k;
  }
  if (goalKey === undefined) return EMPTY_PLAN;

  // distance to the goal over the reached subgraph (backward BFS)
  const pred = new Map<string, string[]>();
  for (const [u, outs] of succ) for (const w of outs) (pred.get(w) ?? pred.set(w, []).get(w)!).push(u);
  const toGoal = new Map<string, number>([[goalKey, 0]]);
  const back = [goalKey];
  for (let i = 0; i < back.length; i++) {
    const w = back[i] as string;
    for (const u of pred.get(w) ?? []) {
      if (!toGoal.has(u)) {
        toGoal.set(u, (toGoal.get(w) as number) + 1);
        back.push(u);
      }
    }
  }

  const path: string[] = [];
  let cur = startKey;
  while (cur !== goalKey) {
    const need = (toGoal.get(cur) as number) - 1;
    let best: string | undefined;
    for (const w of succ.get(cur) ?? []) {
      if (toGoal.get(w) !== need || dist.get(w) !== (dist.get(cur) as number) + 1) continue;
      if (best === undefined || compareVersions(versionOf.get(w) as string, versionOf.get(best) as string) > 0) best = w;
    }
    if (best === undefined) break; // unreachable by construction
    path.push(versionOf.get(best) as string);
    cur = best;
  }
  const goal = versionOf.get(goalKey) as string;
  const next = path[0];
  return next === undefined ? EMPTY_PLAN : Object.freeze({ goal, path: Object.freeze(path), next });
}

/**
 * Plans with a memo per (current version, relevant memberships, relevant consents, phase bucket),
 * valid while no rollout date of the catalogue passes and no maintenance window opens or closes:
 * fleets have few distinct combinations even with millions of endpoints. The cohort enters the key
 * only as its bucket between the open phase percents (a handful of values), so phased software does
 * not make the memo one entry per endpoint. One memo per catalogue snapshot; a new catalogue (a
 * phase advance is a change of the software) gets a new planner.
 */
export class MemoPlanner {
  private memo = new Map<string, Plan>();
  private validFrom = Number.NEGATIVE_INFINITY;
  private validUntil = Number.NEGATIVE_INFINITY;

  constructor(
    readonly catalogue: AppCatalogue,
    private readonly maxEntries = 200_000,
  ) {}

  plan(ep: EndpointContext, now: number): Plan {
    if (ep.current === undefined) return EMPTY_PLAN;
    if (now >= this.validUntil || now < this.validFrom) {
      this.memo.clear();
      this.validFrom = this.catalogue.lastChangeAtOrBefore(now) ?? Number.NEGATIVE_INFINITY;
      this.validUntil = this.catalogue.nextChangeAfter(now) ?? Number.POSITIVE_INFINITY;
    }
    const key = this.keyOf(ep);
    let p = this.memo.get(key);
    if (p === undefined) {
      p = planFor(this.catalogue, ep, now);
      if (this.memo.size >= this.maxEntries) this.memo.clear();
      this.memo.set(key, p);
    }
    return p;
  }

  /** Number of memoised combinations (for tests and metrics). */
  get size(): number {
    return this.memo.size;
  }

  private keyOf(ep: EndpointContext): string {
    let key = versionKey(ep.current as string);
    if (this.catalogue.phaseBoundaries.length > 0)
      key += '\u0000p' + this.catalogue.phaseBoundaries.length.toString(36) + this.catalogue.phaseBucket(ep.cohort).toString(36);
    const filters = this.catalogue.targetedFilterIds;
    if (filters.size > 0 && ep.memberships.length > 0) {
      const rel = ep.memberships.filter((f) => filters.has(f));
      if (rel.length > 0) key += '\u0000f' + (rel.length > 1 ? [...rel].sort() : rel).join('\u0001');
    }
    if (ep.consentRequired) {
      if (ep.consents.includes('*')) key += '\u0000c*';
      else {
        const keys = this.catalogue.versionKeys;
        const rel = ep.consents.filter((c) => keys.has(versionKey(c)));
        key += '\u0000c' + (rel.length > 1 ? rel.map(versionKey).sort() : rel.map(versionKey)).join('\u0001');
      }
    }
    return key;
  }
}
