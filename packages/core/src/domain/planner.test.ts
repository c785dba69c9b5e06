/**
 * Property-based tests of the planner (spec §4.1) and of the graph rule (spec §2), against an
 * independent brute-force reference written here: every eligible simple path is enumerated by DFS,
 * and goal / shortest path / lexicographic preference are read off that enumeration.
 */
import fc from 'fast-check';
import * as semver from 'semver';
import type { EndpointContext } from './eligibility';
import { EMPTY_PLAN, MemoPlanner, planFor, type Plan } from './planner';
import type { RolloutFilter, RolloutStrategy, Software } from './software';
import { AppCatalogue, findCycle, type GraphNode } from './upgrade-graph';
import { isWindowOpen, type MaintenanceWindow } from './window';
import { testCatalogueRules } from '../testing/platform';

const RULES = testCatalogueRules();

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const HOUR = 3_600_000;
const FILTER_POOL = ['f1', 'f2', 'f3', 'f4'] as const;

/** Versions `${major}.${minor}.0`, plus a few prereleases and build-metadata variants. */
const VERSION_POOL: readonly string[] = [
  ...[0, 1, 2, 3].flatMap((M) => [0, 1, 2, 3].map((m) => `${M}.${m}.0`)),
  '1.1.0-rc.1',
  '2.0.0-beta.2',
  '1.2.0+b7',
  '2.3.0+build.1',
];
/** Versions an endpoint may run that are not in the pool (factory firmware never registered). */
const EXTRA_CURRENT: readonly string[] = ['0.0.1', '1.0.0+factory', '4.0.0', '0.9.9'];

// ---------------------------------------------------------------------------------------------
// Reference implementation (deliberately naive)

function key(v: string): string {
  const p = v.indexOf('+');
  return p < 0 ? v : v.slice(0, p);
}

function same(a: string, b: string): boolean {
  return semver.compare(a, b) === 0;
}

function refEntryMatches(entry: string, version: string): boolean {
  if (semver.valid(entry) !== null && /^\d/.test(entry)) return same(entry, version);
  return semver.satisfies(version, entry);
}

function refUpgradableFromMatches(sw: { upgradableFrom: readonly string[] }, version: string): boolean {
  return sw.upgradableFrom.some((e) => refEntryMatches(e, version));
}

function refEligible(sw: Software, ep: EndpointContext, now: number): boolean {
  if (sw.rolloutStrategy === 'suspended') return false;
  if (sw.rolloutStrategy === 'targeted') {
    const ok = sw.filters.some((f) => ep.memberships.includes(f.filterId) && (f.rolloutDate === undefined || f.rolloutDate <= now));
    if (!ok) return false;
  }
  if (ep.consentRequired && !ep.consents.some((c) => c === '*' || (semver.valid(c) !== null && same(c, sw.version)))) return false;
  // phase (spec §4.10): the open phase is phases[phase.index]; eligible while the cohort is below it
  const open = sw.phases ? (sw.phases[sw.phase?.index ?? 0] as { percent: number }).percent : 100;
  if (open < 100 && !(ep.cohort !== undefined && ep.cohort < open)) return false;
  if (sw.maintenanceWindow && !isWindowOpen(RULES.zones, sw.maintenanceWindow, now)) return false;
  return true;
}

interface RefPlan {
  goal?: string | undefined;
  path: string[];
  /** Every simple eligible path from current (excluding current), for further checks. */
  allPaths: string[][];
}

function lexCompare(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = semver.compare(a[i] as string, b[i] as string);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function refPlan(software: readonly Software[], ep: EndpointContext, now: number): RefPlan {
  if (ep.current === undefined) return { path: [], allPaths: [] };
  const start = ep.current;
  const eligible = software.filter((s) => refEligible(s, ep, now));
  const allPaths: string[][] = [];
  const dfs = (at: string, path: string[], seen: Set<string>): void => {
    for (const s of eligible) {
      if (seen.has(key(s.version))) continue;
      if (!refUpgradableFromMatches(s, at)) continue;
      const p = [...path, s.version];
      allPaths.push(p);
      seen.add(key(s.version));
      dfs(s.version, p, seen);
      seen.delete(key(s.version));
    }
  };
  dfs(start, [], new Set([key(start)]));
  if (allPaths.length === 0) return { path: [], allPaths };
  let goal: string | undefined;
  for (const p of allPaths) {
    const last = p[p.length - 1] as string;
    if (goal === undefined || semver.compare(last, goal) > 0) goal = last;
  }
  const toGoal = allPaths.filter((p) => same(p[p.length - 1] as string, goal as string));
  const minLen = Math.min(...toGoal.map((p) => p.length));
  const shortest = toGoal.filter((p) => p.length === minLen);
  shortest.sort((a, b) => lexCompare(b, a));
  return { goal, path: shortest[0] as string[], allPaths };
}

/** Whether the non-suspended software graph (edges from registered versions) has a cycle. */
function refHasCycle(nodes: readonly GraphNode[]): boolean {
  const live = nodes.filter((n) => n.rolloutStrategy !== 'suspended');
  const succ = live.map((from) => live.map((to, j) => (refUpgradableFromMatches(to, from.version) ? j : -1)).filter((j) => j >= 0));
  // Kahn: a cycle exists iff not every node can be removed.
  const indeg = live.map(() => 0);
  for (const out of succ) for (const j of out) indeg[j] = (indeg[j] as number) + 1;
  const queue = live.map((_, i) => i).filter((i) => indeg[i] === 0);
  let removed = 0;
  while (queue.length > 0) {
    const i = queue.pop() as number;
    removed++;
    for (const j of succ[i] ?? []) {
      indeg[j] = (indeg[j] as number) - 1;
      if (indeg[j] === 0) queue.push(j);
    }
  }
  return removed < live.length;
}

// ---------------------------------------------------------------------------------------------
// Generators

interface SpecDraft {
  strategy: RolloutStrategy;
  entries: string[];
  /** Entries naming other registered versions, by index (so edges between registered versions are frequent). */
  picks: number[];
  filters: RolloutFilter[];
  /** The open percent of a phased software (phases [percent, 100] with the first open). */
  phase?: number | undefined;
  /** A maintenance window around NOW (opens and closes within the hours the tests move across). */
  window?: MaintenanceWindow | undefined;
}

const arbDate = fc.option(
  fc.oneof(
    fc.integer({ min: -3, max: 3 }).map((h) => NOW + h * HOUR),
    fc.constantFrom(NOW, NOW - 1, NOW + 1),
  ),
  { nil: undefined },
);

const arbFilter: fc.Arbitrary<RolloutFilter> = fc
  .record({ filterId: fc.constantFrom(...FILTER_POOL), rolloutDate: arbDate })
  .map(({ filterId, rolloutDate }) => (rolloutDate === undefined ? { filterId } : { filterId, rolloutDate }));

const arbPoolVersion = fc.constantFrom(...VERSION_POOL, ...EXTRA_CURRENT);
const arbRange: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(arbPoolVersion, arbPoolVersion).map(([a, b]) => `>=${key(a)} <${key(b)}`),
  arbPoolVersion.map((a) => `^${key(a)}`),
  arbPoolVersion.map((a) => `~${key(a)}`),
  arbPoolVersion.map((a) => `<${key(a)}`),
  fc.integer({ min: 0, max: 3 }).map((M) => `${M}.x`),
);
const arbEntry: fc.Arbitrary<string> = fc.oneof({ weight: 4, arbitrary: arbPoolVersion }, { weight: 1, arbitrary: arbRange });

const arbSpec: fc.Arbitrary<SpecDraft> = fc.record({
  strategy: fc.oneof(
    { weight: 1, arbitrary: fc.constant<RolloutStrategy>('suspended') },
    { weight: 2, arbitrary: fc.constant<RolloutStrategy>('targeted') },
    { weight: 4, arbitrary: fc.constant<RolloutStrategy>('general') },
  ),
  entries: fc.array(arbEntry, { maxLength: 3 }),
  picks: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  filters: fc.uniqueArray(arbFilter, { selector: (f) => f.filterId, maxLength: 3 }),
  phase: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(0.5, 10, 33.33, 50, 100) }),
  window: fc.oneof(
    { weight: 10, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<MaintenanceWindow>(
        { timeZone: 'UTC', start: '10:00', end: '14:00' },
        { timeZone: 'Europe/Berlin', start: '14:30', end: '02:00' },
        { timeZone: 'America/New_York', start: '06:00', end: '09:00', days: ['thu'] },
      ),
    },
  ),
});

const MAX_SW = 7;

function makeSoftware(version: string, d: SpecDraft, upgradableFrom: string[]): Software {
  return {
    tenantId: 't',
    appName: 'a',
    version,
    upgradableFrom,
    specification: {},
    metadata: null,
    rolloutStrategy: d.strategy,
    filters: d.filters,
    createdAt: 0,
    updatedAt: 0,
    revision: 1,
    ...(d.phase !== undefined
      ? {
          phases:
            d.phase < 100
              ? [
                  { percent: d.phase, soakMinutes: 60 },
                  { percent: 100, soakMinutes: 60 },
                ]
              : [{ percent: 100, soakMinutes: 60 }],
          phase: { index: 0, openedAt: 0, hold: false },
        }
      : {}),
    ...(d.window !== undefined ? { maintenanceWindow: d.window } : {}),
  };
}

/**
 * An acyclic catalogue: the order of `versions` is a topological order (not necessarily SemVer
 * order, so downgrades appear); an entry is kept only when every registered version it matches
 * comes strictly earlier (so no edge can point backwards and no entry matches the own version).
 */
const arbAcyclicSoftware: fc.Arbitrary<Software[]> = fc
  .record({
    versions: fc.uniqueArray(fc.constantFrom(...VERSION_POOL), { minLength: 3, maxLength: MAX_SW, selector: key }),
    specs: fc.array(arbSpec, { minLength: MAX_SW, maxLength: MAX_SW }),
    // half the time the topological order is SemVer order: the usual upgrade graph, rich in ties and dead ends
    // 'chain': every software names one or two of the versions just before it, which makes lattices
    // with several shortest paths and dead-end branches
    order: fc.constantFrom('random', 'semver', 'chain', 'chain-random'),
  })
  .map(({ versions: shuffled, specs, order }) => {
    const versions = order === 'random' || order === 'chain-random' ? shuffled : [...shuffled].sort(semver.compare);
    return versions.map((v, i) => {
      const d = specs[i] as SpecDraft;
      const later = versions.slice(i);
      const back = (p: number): number => (order.startsWith('chain') ? Math.max(0, i - 1 - (p % 2)) : p % i);
      const picked = i === 0 ? [] : d.picks.map((p) => versions[back(p)] as string);
      const entries = [...new Set([...picked, ...d.entries].filter((e) => !later.some((l) => refEntryMatches(e, l))))];
      return makeSoftware(v, d, entries);
    });
  });

/** Any catalogue, cycles allowed (for the graph rule). Entries matching the own version are dropped, as validation does. */
const arbAnySoftware: fc.Arbitrary<Software[]> = fc
  .record({
    versions: fc.uniqueArray(fc.constantFrom(...VERSION_POOL), { minLength: 1, maxLength: MAX_SW, selector: key }),
    specs: fc.array(arbSpec, { minLength: MAX_SW, maxLength: MAX_SW }),
    // Extra edges picked by index so cycles among registered versions are frequent.
    extra: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }),
  })
  .map(({ versions, specs, extra }) => {
    const entries = versions.map((_, i) => [
      ...(specs[i] as SpecDraft).entries,
      ...(specs[i] as SpecDraft).picks.map((p) => versions[p % versions.length] as string),
    ]);
    for (const [a, b] of extra) entries[a % versions.length]!.push(versions[b % versions.length] as string);
    return versions.map((v, i) => makeSoftware(v, specs[i] as SpecDraft, [...new Set(entries[i]!.filter((e) => !refEntryMatches(e, v)))]));
  });

function arbEndpoint(software: readonly Software[]): fc.Arbitrary<EndpointContext> {
  const registered = software.map((s) => s.version);
  // versions named exactly by some upgradableFrom: an endpoint there has at least one candidate edge
  const named = [...new Set(software.flatMap((s) => s.upgradableFrom).filter((e) => semver.valid(e) !== null))];
  const current = fc.oneof(
    { weight: named.length > 0 ? 6 : 0, arbitrary: fc.constantFrom(...(named.length > 0 ? named : registered)) },
    { weight: 3, arbitrary: fc.constantFrom(...registered) },
    { weight: 3, arbitrary: fc.constantFrom(...VERSION_POOL, ...EXTRA_CURRENT) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const consentPool = [...new Set([...registered, ...registered.map(key), '*', '9.9.9'])];
  return fc.record({
    current,
    memberships: fc.subarray([...FILTER_POOL, 'unrelated']),
    consents: fc.oneof(fc.subarray(consentPool), fc.subarray(consentPool, { minLength: Math.ceil(consentPool.length / 2) })),
    consentRequired: fc.oneof({ weight: 2, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    cohort: fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: 0, max: 9999 }).map((n) => n / 100),
    ),
  });
}

const arbCase = arbAcyclicSoftware.chain((software) => fc.tuple(fc.constant(software), arbEndpoint(software)));

function describeGraph(software: readonly Software[]): string {
  return JSON.stringify(software.map((s) => ({ v: s.version, from: s.upgradableFrom, rs: s.rolloutStrategy, f: s.filters })));
}

function describeCase(software: readonly Software[], ep: EndpointContext): string {
  return JSON.stringify({ software: describeGraph(software), ep });
}

interface Seen {
  nonEmpty: number;
  multiHop: number;
  tie: number;
  deadEnd: number;
}

/** Properties (a)–(e) of one plan against the reference. */
function checkAgainstReference(software: readonly Software[], ep: EndpointContext, now: number, seen: Seen): void {
  const cat = new AppCatalogue(software, RULES);
  const plan = planFor(cat, ep, now);
  const ref = refPlan(software, ep, now);
  const ctx = describeCase(software, ep);
  if (ref.path.length > 0) seen.nonEmpty++;
  if (ref.path.length > 1) seen.multiHop++;
  if (ref.allPaths.filter((p) => p.length === ref.path.length && same(p[p.length - 1] as string, ref.goal as string)).length > 1) seen.tie++;
  if (ref.path.length > 0 && ref.allPaths.some((p) => p.length === 1 && semver.compare(p[0] as string, ref.path[0] as string) > 0)) seen.deadEnd++;

  // (a) goal is the highest reachable version, excluding current
  expect({ ctx, goal: plan.goal }).toEqual({ ctx, goal: ref.goal });
  if (plan.goal !== undefined && ep.current !== undefined) expect(same(plan.goal, ep.current)).toBe(false);
  // (b)+(c) path ends at goal, is shortest, and is the lexicographically highest shortest path
  expect({ ctx, path: [...plan.path] }).toEqual({ ctx, path: ref.path });
  if (plan.path.length > 0) {
    expect(plan.path[plan.path.length - 1]).toBe(plan.goal);
    const toGoal = ref.allPaths.filter((p) => same(p[p.length - 1] as string, plan.goal as string));
    expect(Math.min(...toGoal.map((p) => p.length))).toBe(plan.path.length);
    for (const p of toGoal) if (p.length === plan.path.length) expect(lexCompare(plan.path, p)).toBeGreaterThanOrEqual(0);
  }
  // (d) each hop is an edge of the graph and eligible
  let at = ep.current;
  for (const hop of plan.path) {
    const sw = software.find((s) => same(s.version, hop)) as Software;
    expect(sw).toBeDefined();
    expect(sw.rolloutStrategy).not.toBe('suspended');
    if (sw.rolloutStrategy === 'targeted') {
      expect(sw.filters.some((f) => ep.memberships.includes(f.filterId) && (f.rolloutDate === undefined || f.rolloutDate <= now))).toBe(true);
    }
    if (ep.consentRequired) expect(ep.consents.some((c) => c === '*' || (c !== '' && semver.valid(c) !== null && same(c, hop)))).toBe(true);
    expect(refUpgradableFromMatches(sw, at as string)).toBe(true);
    at = hop;
  }
  // (e) next is the first hop
  expect(plan.next).toBe(plan.path[0]);
  // no hop repeats (acyclic path) and current never reappears
  const keys = [ep.current, ...plan.path].filter((v): v is string => v !== undefined).map(key);
  expect(new Set(keys).size).toBe(keys.length);
}

/**
 * Layered graphs: the endpoint runs 0.0.1; layer k holds versions k.x.0 upgradable from some versions
 * of layer k-1; dead-end branches are direct upgrades from 0.0.1 to high versions (k.3.0) that lead
 * nowhere. Strategies, filters and consents vary as in the random generator.
 */
const arbLatticeCase: fc.Arbitrary<[Software[], EndpointContext]> = fc
  .record({
    layers: fc.array(fc.subarray([0, 1, 2], { minLength: 1 }), { minLength: 2, maxLength: 3 }),
    edges: fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), { minLength: 9, maxLength: 9 }),
    deadEnds: fc.subarray([1, 2], { minLength: 1 }),
    specs: fc.array(arbSpec, { minLength: 12, maxLength: 12 }),
  })
  .chain(({ layers, edges, deadEnds, specs }) => {
    const software: Software[] = [];
    let prev = ['0.0.1'];
    let n = 0;
    layers.forEach((minors, li) => {
      const layer = minors.map((m) => `${li + 1}.${m}.0`);
      for (const v of layer) {
        const from = [...new Set((edges[n % edges.length] as number[]).map((e) => prev[e % prev.length] as string))];
        // most lattice nodes are general so that paths exist; the spec draft still varies filters and consent
        const d = specs[n % specs.length] as SpecDraft;
        const strategy: RolloutStrategy = d.strategy === 'suspended' && n % 3 !== 0 ? 'general' : d.strategy;
        software.push(makeSoftware(v, { ...d, strategy }, from));
        n++;
      }
      prev = layer;
    });
    for (const M of deadEnds) {
      if (M >= layers.length) continue; // below the top layer, so a longer path reaches higher
      const v = `${M}.3.0`;
      software.push(makeSoftware(v, { strategy: 'general', entries: [], picks: [], filters: [] }, ['0.0.1']));
    }
    return fc.tuple(
      fc.constant(software),
      arbEndpoint(software).map((ep) => ({ ...ep, current: '0.0.1' })),
    );
  });

// ---------------------------------------------------------------------------------------------
// planFor

describe('planFor against a brute-force reference (spec §4.1)', () => {
  test('goal, path, next and eligibility of every hop (random acyclic graphs)', () => {
    const seen = { nonEmpty: 0, multiHop: 0, tie: 0, deadEnd: 0 };
    fc.assert(
      fc.property(arbCase, ([software, ep]) => checkAgainstReference(software, ep, NOW, seen)),
      { numRuns: 800 },
    );
    // the generator exercises what matters: plans and chains
    expect(seen.nonEmpty).toBeGreaterThan(200);
    expect(seen.multiHop).toBeGreaterThan(50);
  });

  test('goal, path, next on layered graphs with ties between shortest paths and dead-end branches', () => {
    const seen = { nonEmpty: 0, multiHop: 0, tie: 0, deadEnd: 0 };
    fc.assert(
      fc.property(arbLatticeCase, ([software, ep]) => checkAgainstReference(software, ep, NOW, seen)),
      { numRuns: 500 },
    );
    expect(seen.multiHop).toBeGreaterThan(150);
    expect(seen.tie).toBeGreaterThan(30);
    expect(seen.deadEnd).toBeGreaterThan(30);
  });

  test('(f) an endpoint with unknown current version gets an empty plan', () => {
    fc.assert(
      fc.property(
        arbAcyclicSoftware.chain((s) => fc.tuple(fc.constant(s), arbEndpoint(s))),
        fc.integer({ min: -5, max: 5 }),
        ([software, ep], h) => {
          const cat = new AppCatalogue(software, RULES);
          const unknown = { ...ep, current: undefined };
          const plan = planFor(cat, unknown, NOW + h * HOUR);
          expect(plan).toEqual(EMPTY_PLAN);
          expect(plan.path).toEqual([]);
          expect(plan.next).toBeUndefined();
          expect(plan.goal).toBeUndefined();
          expect(new MemoPlanner(cat).plan(unknown, NOW)).toEqual(EMPTY_PLAN);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('the planner is the reference at other times too (before, at and after rollout dates)', () => {
    fc.assert(
      fc.property(arbCase, fc.integer({ min: -4, max: 4 }), fc.constantFrom(-1, 0, 1), ([software, ep], h, ms) => {
        const now = NOW + h * HOUR + ms;
        const plan = planFor(new AppCatalogue(software, RULES), ep, now);
        const ref = refPlan(software, ep, now);
        expect({ goal: plan.goal, path: [...plan.path], next: plan.next }).toEqual({ goal: ref.goal, path: ref.path, next: ref.path[0] });
      }),
      { numRuns: 400 },
    );
  });

  // A few hand-written cases that make the properties concrete.
  const sw = (version: string, from: string[], rolloutStrategy: RolloutStrategy = 'general', filters: RolloutFilter[] = []): Software =>
    makeSoftware(version, { strategy: rolloutStrategy, entries: from, picks: [], filters }, from);
  const ep = (current: string | undefined, extra: Partial<EndpointContext> = {}): EndpointContext => ({
    current,
    memberships: [],
    consents: [],
    consentRequired: false,
    cohort: undefined,
    ...extra,
  });

  test('a longer path to a higher version beats a dead end', () => {
    const cat = new AppCatalogue(
      [sw('1.1.0', ['1.0.0']), sw('1.2.0', ['1.1.0']), sw('1.3.0', ['1.2.0']), sw('1.5.0', ['1.0.0']), sw('2.0.0', ['1.3.0'])],
      RULES,
    );
    expect(planFor(cat, ep('1.0.0'), NOW)).toEqual({ goal: '2.0.0', path: ['1.1.0', '1.2.0', '1.3.0', '2.0.0'], next: '1.1.0' });
  });

  test('among shortest paths the highest first hop wins', () => {
    const cat = new AppCatalogue([sw('1.1.0', ['1.0.0']), sw('1.2.0', ['1.0.0']), sw('2.0.0', ['1.1.0', '1.2.0'])], RULES);
    expect(planFor(cat, ep('1.0.0'), NOW).path).toEqual(['1.2.0', '2.0.0']);
  });

  test('targeted hop needs an active matched filter; consent by version or *', () => {
    const cat = new AppCatalogue([sw('1.1.0', ['1.0.0'], 'targeted', [{ filterId: 'f1', rolloutDate: NOW + 1 }, { filterId: 'f2' }])], RULES);
    expect(planFor(cat, ep('1.0.0', { memberships: ['f1'] }), NOW).next).toBeUndefined();
    expect(planFor(cat, ep('1.0.0', { memberships: ['f1'] }), NOW + 1).next).toBe('1.1.0');
    expect(planFor(cat, ep('1.0.0', { memberships: ['f2'] }), NOW).next).toBe('1.1.0');
    expect(planFor(cat, ep('1.0.0', { memberships: ['f2'], consentRequired: true }), NOW).next).toBeUndefined();
    expect(planFor(cat, ep('1.0.0', { memberships: ['f2'], consentRequired: true, consents: ['1.1.0'] }), NOW).next).toBe('1.1.0');
    expect(planFor(cat, ep('1.0.0', { memberships: ['f2'], consentRequired: true, consents: ['*'] }), NOW).next).toBe('1.1.0');
    expect(planFor(cat, ep('1.0.0', { memberships: ['f2'], consentRequired: true, consents: ['1.2.0'] }), NOW).next).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// MemoPlanner

describe('MemoPlanner (g)', () => {
  const arbTimes = fc.array(
    fc.tuple(fc.integer({ min: -4, max: 4 }), fc.constantFrom(-1, 0, 1)).map(([h, ms]) => NOW + h * HOUR + ms),
    { minLength: 1, maxLength: 12 },
  );

  test('returns the plan of planFor for the same inputs, as the clock moves across rollout dates', () => {
    fc.assert(
      fc.property(
        arbAcyclicSoftware.chain((s) => fc.tuple(fc.constant(s), fc.array(arbEndpoint(s), { minLength: 1, maxLength: 6 }))),
        arbTimes,
        fc.boolean(),
        fc.integer({ min: 1, max: 4 }),
        ([software, eps], times, sorted, maxEntries) => {
          const cat = new AppCatalogue(software, RULES);
          const memo = new MemoPlanner(cat, maxEntries);
          const seq = sorted ? [...times].sort((a, b) => a - b) : times;
          for (const now of seq) {
            for (const ep of eps) {
              const expected: Plan = planFor(cat, ep, now);
              const got = memo.plan(ep, now);
              expect({ now, ep, got }).toEqual({ now, ep, got: expected });
              // asking again (memo hit) gives the same
              expect(memo.plan({ ...ep, memberships: [...ep.memberships].reverse(), consents: [...ep.consents].reverse() }, now)).toEqual(expected);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('memo invalidates exactly when a rollout date passes', () => {
    const s: Software = makeSoftware('1.1.0', { strategy: 'targeted', entries: ['1.0.0'], picks: [], filters: [] }, ['1.0.0']);
    const cat = new AppCatalogue([{ ...s, filters: [{ filterId: 'f1', rolloutDate: NOW + HOUR }] }], RULES);
    const memo = new MemoPlanner(cat);
    const e: EndpointContext = { current: '1.0.0', memberships: ['f1'], consents: [], consentRequired: false, cohort: undefined };
    expect(memo.plan(e, NOW).next).toBeUndefined();
    expect(memo.plan(e, NOW + HOUR - 1).next).toBeUndefined();
    expect(memo.plan(e, NOW + HOUR).next).toBe('1.1.0');
    expect(memo.plan(e, NOW + 2 * HOUR).next).toBe('1.1.0');
    // the clock going back (e.g. a test or a skewed replica) invalidates too
    expect(memo.plan(e, NOW).next).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// findCycle (h)

describe('findCycle against a reference (spec §2 graph rule)', () => {
  function isRealCycle(nodes: readonly GraphNode[], cycle: readonly string[]): boolean {
    if (cycle.length < 2 || !same(cycle[0] as string, cycle[cycle.length - 1] as string)) return false;
    const live = nodes.filter((n) => n.rolloutStrategy !== 'suspended');
    for (let i = 0; i + 1 < cycle.length; i++) {
      const from = live.find((n) => same(n.version, cycle[i] as string));
      const to = live.find((n) => same(n.version, cycle[i + 1] as string));
      if (!from || !to || !refUpgradableFromMatches(to, from.version)) return false;
    }
    return true;
  }

  test('accepts exactly the graphs without a cycle among non-suspended software; a reported cycle is real', () => {
    let cyclic = 0;
    fc.assert(
      fc.property(arbAnySoftware, (software) => {
        const cycle = findCycle(software);
        const hasCycle = refHasCycle(software);
        if (hasCycle) cyclic++;
        expect({ software: describeGraph(software), cycle: cycle !== undefined }).toEqual({ software: describeGraph(software), cycle: hasCycle });
        if (cycle) expect(isRealCycle(software, cycle)).toBe(true);
      }),
      { numRuns: 1000 },
    );
    expect(cyclic).toBeGreaterThan(50); // the generator really produces cycles
  });

  test('acyclic generator never produces a cycle, and planning over it terminates with simple paths', () => {
    fc.assert(
      fc.property(arbAcyclicSoftware, (software) => {
        expect(findCycle(software)).toBeUndefined();
        expect(refHasCycle(software)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  test('suspending a node of a cycle makes the graph acceptable', () => {
    const n = (version: string, upgradableFrom: string[], rolloutStrategy = 'general'): GraphNode => ({ version, upgradableFrom, rolloutStrategy });
    expect(findCycle([n('1.0.0', ['2.0.0']), n('2.0.0', ['1.0.0'])])).toEqual(['1.0.0', '2.0.0', '1.0.0']);
    expect(findCycle([n('1.0.0', ['2.0.0'], 'suspended'), n('2.0.0', ['1.0.0'])])).toBeUndefined();
    expect(findCycle([n('1.0.0', []), n('2.0.0', ['>=1.0.0 <2.0.0']), n('2.5.0', ['2.0.0']), n('1.5.0', ['2.5.0'])])).toEqual([
      '2.0.0',
      '2.5.0',
      '1.5.0',
      '2.0.0',
    ]);
  });
});
