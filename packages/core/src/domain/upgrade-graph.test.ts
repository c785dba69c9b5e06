import fc from 'fast-check';
import type { RolloutFilter, RolloutStrategy, Software } from './software';
import { AppCatalogue, describeCycle, findCycle, type GraphNode, versionKey } from './upgrade-graph';
import { matches, parseMatcher, type VersionMatcher } from './version';
import { testCatalogueRules } from '../testing/platform';

const RULES = testCatalogueRules();

function node(version: string, upgradableFrom: string[] = [], rolloutStrategy: RolloutStrategy = 'general'): GraphNode {
  return { version, upgradableFrom, rolloutStrategy };
}

function sw(version: string, upgradableFrom: string[] = [], rolloutStrategy: RolloutStrategy = 'general', filters: RolloutFilter[] = []): Software {
  return {
    tenantId: 't1',
    appName: 'kettle',
    version,
    upgradableFrom,
    specification: { version },
    metadata: null,
    rolloutStrategy,
    filters,
    createdAt: 0,
    updatedAt: 0,
    revision: 1,
  };
}

/** Asserts that a returned cycle is well-formed: closed, and every step is an edge of the graph. */
function expectValidCycle(nodes: readonly GraphNode[], cycle: readonly string[]): void {
  expect(cycle.length).toBeGreaterThanOrEqual(2);
  expect(cycle[0]).toBe(cycle[cycle.length - 1]);
  const live = nodes.filter((n) => n.rolloutStrategy !== 'suspended');
  for (let i = 0; i + 1 < cycle.length; i++) {
    const from = cycle[i] as string;
    const to = live.find((n) => n.version === cycle[i + 1]);
    expect(to).toBeDefined();
    expect(live.some((n) => n.version === from)).toBe(true);
    const ms = (to as GraphNode).upgradableFrom.map(parseMatcher).filter((m): m is VersionMatcher => m !== undefined);
    expect(ms.some((m) => matches(m, from))).toBe(true);
  }
  // a simple cycle: no version repeats except the closing one
  expect(new Set(cycle.slice(0, -1)).size).toBe(cycle.length - 1);
}

describe('versionKey', () => {
  test.each([
    ['1.0.0', '1.0.0'],
    ['1.0.0+a', '1.0.0'],
    ['1.0.0-rc.1+build.5', '1.0.0-rc.1'],
    ['1.0.0-rc.1', '1.0.0-rc.1'],
  ])('%s -> %s', (v, k) => {
    expect(versionKey(v)).toBe(k);
  });
});

describe('findCycle', () => {
  test('an empty graph or a single node has no cycle', () => {
    expect(findCycle([])).toBeUndefined();
    expect(findCycle([node('1.0.0')])).toBeUndefined();
    expect(findCycle([node('1.0.0', ['0.9.0'])])).toBeUndefined();
  });

  test('a chain and a diamond have no cycle', () => {
    expect(findCycle([node('1.0.0'), node('1.1.0', ['1.0.0']), node('2.0.0', ['1.1.0', '1.0.0'])])).toBeUndefined();
    expect(findCycle([node('1.0.0'), node('2.0.0', ['1.0.0']), node('3.0.0', ['1.0.0']), node('4.0.0', ['2.0.0', '3.0.0'])])).toBeUndefined();
  });

  test('downgrades are fine as long as there is no way back', () => {
    expect(findCycle([node('2.0.0'), node('1.0.1', ['2.0.0'])])).toBeUndefined();
  });

  test('finds a 2-cycle and names it', () => {
    const c = findCycle([node('1.0.0', ['2.0.0']), node('2.0.0', ['1.0.0'])]);
    expect(c).toEqual(['1.0.0', '2.0.0', '1.0.0']);
    expect(describeCycle(c as string[])).toBe('1.0.0 -> 2.0.0 -> 1.0.0');
  });

  test('finds a 3-cycle and names it', () => {
    const nodes = [node('3.0.0', ['2.0.0']), node('1.0.0', ['3.0.0']), node('2.0.0', ['1.0.0'])];
    const c = findCycle(nodes);
    expect(c).toEqual(['1.0.0', '2.0.0', '3.0.0', '1.0.0']);
    expect(describeCycle(c as string[])).toBe('1.0.0 -> 2.0.0 -> 3.0.0 -> 1.0.0');
  });

  test('is deterministic whatever the input order (lowest version first)', () => {
    const nodes = [node('1.0.0', ['3.0.0']), node('2.0.0', ['1.0.0']), node('3.0.0', ['2.0.0']), node('0.5.0')];
    const expected = ['1.0.0', '2.0.0', '3.0.0', '1.0.0'];
    fc.assert(
      fc.property(fc.shuffledSubarray(nodes, { minLength: nodes.length, maxLength: nodes.length }), (shuffled) => {
        expect(findCycle(shuffled)).toEqual(expected);
      }),
    );
  });

  test('returns only the cycle, not the path leading to it', () => {
    const c = findCycle([node('1.0.0'), node('2.0.0', ['1.0.0', '3.0.0']), node('3.0.0', ['2.0.0'])]);
    expect(c).toEqual(['2.0.0', '3.0.0', '2.0.0']);
  });

  test('does not mutate its input', () => {
    const nodes = [node('2.0.0', ['1.0.0']), node('1.0.0', ['2.0.0'])];
    const before = JSON.stringify(nodes);
    findCycle(nodes);
    expect(JSON.stringify(nodes)).toBe(before);
  });

  describe('through ranges', () => {
    test('a range entry closes a 2-cycle', () => {
      const c = findCycle([node('1.0.0', ['>=2.0.0 <3.0.0']), node('2.5.0', ['^1.0.0'])]);
      expect(c).toEqual(['1.0.0', '2.5.0', '1.0.0']);
      expect(describeCycle(c as string[])).toBe('1.0.0 -> 2.5.0 -> 1.0.0');
    });

    test('an x-range closes a 3-cycle', () => {
      const c = findCycle([node('1.0.0', ['3.x']), node('2.0.0', ['1.x']), node('3.0.0', ['~2.0.0'])]);
      expect(c).toEqual(['1.0.0', '2.0.0', '3.0.0', '1.0.0']);
    });

    test('a range matching no registered version adds no edge', () => {
      expect(findCycle([node('1.0.0', ['>=5.0.0']), node('2.0.0', ['1.0.0'])])).toBeUndefined();
    });

    test('a range excludes prereleases unless it names one', () => {
      expect(findCycle([node('1.0.0', ['>=1.5.0']), node('2.0.0-beta.1', ['1.0.0'])])).toBeUndefined();
      const c = findCycle([node('1.0.0', ['>=2.0.0-beta.0']), node('2.0.0-beta.1', ['1.0.0'])]);
      expect(c).toEqual(['1.0.0', '2.0.0-beta.1', '1.0.0']);
    });

    test('exact entries match by precedence (build metadata ignored)', () => {
      const c = findCycle([node('1.0.0+a', ['2.0.0+x']), node('2.0.0', ['1.0.0+b'])]);
      expect(c).toEqual(['1.0.0+a', '2.0.0', '1.0.0+a']);
      expect(describeCycle(c as string[])).toBe('1.0.0+a -> 2.0.0 -> 1.0.0+a');
    });

    test('an entry matching its own software is a self-loop', () => {
      expect(findCycle([node('1.0.0', ['*'])])).toEqual(['1.0.0', '1.0.0']);
    });

    test('unparseable entries are ignored', () => {
      expect(findCycle([node('1.0.0', ['junk', '2.0.0.0', ' 2.0.0']), node('2.0.0', ['1.0.0'])])).toBeUndefined();
    });
  });

  describe('suspended software breaks cycles', () => {
    test('in a 2-cycle, whichever side is suspended', () => {
      expect(findCycle([node('1.0.0', ['2.0.0'], 'suspended'), node('2.0.0', ['1.0.0'])])).toBeUndefined();
      expect(findCycle([node('1.0.0', ['2.0.0']), node('2.0.0', ['1.0.0'], 'suspended')])).toBeUndefined();
    });

    test('in a 3-cycle, also as an intermediate node', () => {
      expect(findCycle([node('1.0.0', ['3.0.0']), node('2.0.0', ['1.0.0'], 'suspended'), node('3.0.0', ['2.0.0'])])).toBeUndefined();
    });

    test('targeted software counts like general', () => {
      expect(findCycle([node('1.0.0', ['2.0.0'], 'targeted'), node('2.0.0', ['1.0.0'], 'targeted')])).toEqual(['1.0.0', '2.0.0', '1.0.0']);
    });

    test('the rollback recipe of the spec is acyclic: suspend the bad version, publish a fix upgradable from it', () => {
      expect(findCycle([node('1.0.0'), node('2.0.0', ['1.0.0'], 'suspended'), node('2.0.1', ['2.0.0', '1.0.0'])])).toBeUndefined();
    });
  });

  test('handles a long acyclic chain of ranges', () => {
    const nodes = Array.from({ length: 300 }, (_, i) => node(`1.${i}.0`, i === 0 ? [] : [`>=1.0.0 <1.${i}.0`]));
    expect(findCycle(nodes)).toBeUndefined();
    nodes.push(node('0.1.0', ['1.299.0']));
    nodes[0] = node('1.0.0', ['0.1.0']);
    const c = findCycle(nodes);
    expect(c).toBeDefined();
    expectValidCycle(nodes, c as string[]);
  });

  test('property: reports a cycle exactly when the graph has one, and the cycle is real', () => {
    const versions = ['0.1.0', '1.0.0', '1.0.1', '1.1.0', '2.0.0-rc.1', '2.0.0', '2.1.0', '3.0.0'];
    const entry = fc.oneof(
      fc.constantFrom(...versions),
      fc.constantFrom('^1.0.0', '>=2.0.0', '<1.1.0', '1.x', '~2.0.0', '>=2.0.0-rc.0 <2.0.0', '*', '9.9.9', '>=1.0.1 <2.1.0'),
    );
    const graph = fc
      .uniqueArray(fc.constantFrom(...versions), { minLength: 1, maxLength: versions.length })
      .chain((vs) =>
        fc.tuple(
          ...vs.map((v) => fc.tuple(fc.constant(v), fc.array(entry, { maxLength: 3 }), fc.constantFrom<RolloutStrategy>('general', 'targeted', 'suspended'))),
        ),
      )
      .map((ns) => ns.map(([v, uf, s]) => node(v, uf, s)));
    fc.assert(
      fc.property(graph, (nodes) => {
        const c = findCycle(nodes);
        // reference: Kahn's algorithm over the same edge definition
        const live = nodes.filter((n) => n.rolloutStrategy !== 'suspended');
        const edges = live.map((from) =>
          live.flatMap((to, j) => (to.upgradableFrom.map(parseMatcher).some((m) => m !== undefined && matches(m, from.version)) ? [j] : [])),
        );
        const indeg = live.map(() => 0);
        edges.forEach((js) => js.forEach((j) => (indeg[j] = (indeg[j] as number) + 1)));
        const queue = indeg.flatMap((d, i) => (d === 0 ? [i] : []));
        let removed = 0;
        while (queue.length > 0) {
          const i = queue.shift() as number;
          removed++;
          for (const j of edges[i] as number[]) {
            indeg[j] = (indeg[j] as number) - 1;
            if (indeg[j] === 0) queue.push(j);
          }
        }
        const hasCycle = removed < live.length;
        expect(c !== undefined).toBe(hasCycle);
        if (c) {
          expectValidCycle(nodes, c);
          expect(describeCycle(c)).toBe(c.join(' -> '));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('describeCycle', () => {
  test('joins with arrows', () => {
    expect(describeCycle(['1.0.0', '2.0.0', '1.0.0'])).toBe('1.0.0 -> 2.0.0 -> 1.0.0');
    expect(describeCycle(['1.0.0', '1.0.0'])).toBe('1.0.0 -> 1.0.0');
  });
});

describe('AppCatalogue', () => {
  const catalogue = new AppCatalogue(
    [
      sw('2.0.0', ['1.x'], 'general'),
      sw('1.0.0+factory', [], 'suspended'),
      sw('1.1.0-rc.1', ['1.0.0'], 'targeted', [{ filterId: 'beta', rolloutDate: 3000 }]),
      sw('1.1.0', ['1.0.0', '1.1.0-rc.1'], 'targeted', [{ filterId: 'eu', rolloutDate: 1000 }, { filterId: 'us', rolloutDate: 2000 }, { filterId: 'all' }]),
      sw('1.2.0', ['1.1.0'], 'general', [{ filterId: 'ignored-general', rolloutDate: 1500 }]),
      sw('0.9.0', [], 'suspended', [{ filterId: 'ignored-suspended', rolloutDate: 2500 }]),
    ],
    RULES,
  );

  test('sorts entries by precedence and keeps the software as given', () => {
    expect(catalogue.entries.map((e) => e.software.version)).toEqual(['0.9.0', '1.0.0+factory', '1.1.0-rc.1', '1.1.0', '1.2.0', '2.0.0']);
    expect(catalogue.software.map((s) => s.version)).toEqual(['0.9.0', '1.0.0+factory', '1.1.0-rc.1', '1.1.0', '1.2.0', '2.0.0']);
    expect(catalogue.entries.map((e) => e.key)).toEqual(['0.9.0', '1.0.0', '1.1.0-rc.1', '1.1.0', '1.2.0', '2.0.0']);
  });

  test('parses matchers, dropping unparseable entries', () => {
    const c = new AppCatalogue([sw('2.0.0', ['1.0.0', '^1.0.0', 'junk'])], RULES);
    expect(c.entries[0]?.matchers.map((m) => [m.kind, m.source])).toEqual([
      ['exact', '1.0.0'],
      ['range', '^1.0.0'],
    ]);
  });

  test('versionKeys holds every version without build metadata, any strategy', () => {
    expect([...catalogue.versionKeys].sort()).toEqual(['0.9.0', '1.0.0', '1.1.0', '1.1.0-rc.1', '1.2.0', '2.0.0']);
  });

  describe('find', () => {
    test('finds by exact version', () => {
      expect(catalogue.find('1.1.0')?.version).toBe('1.1.0');
      expect(catalogue.find('1.1.0-rc.1')?.version).toBe('1.1.0-rc.1');
    });

    test('finds by precedence, ignoring build metadata on either side', () => {
      expect(catalogue.find('1.0.0')?.version).toBe('1.0.0+factory');
      expect(catalogue.find('1.0.0+other')?.version).toBe('1.0.0+factory');
      expect(catalogue.find('1.2.0+b.7')?.version).toBe('1.2.0');
    });

    test('finds software of any strategy', () => {
      expect(catalogue.find('0.9.0')?.rolloutStrategy).toBe('suspended');
    });

    test('returns undefined for unregistered versions', () => {
      expect(catalogue.find('1.1.1')).toBeUndefined();
      expect(catalogue.find('1.1.0-rc.2')).toBeUndefined();
      expect(catalogue.find('1.1')).toBeUndefined();
      expect(catalogue.find('v1.1.0')).toBeUndefined();
    });

    test('an empty catalogue finds nothing', () => {
      const empty = new AppCatalogue([], RULES);
      expect(empty.find('1.0.0')).toBeUndefined();
      expect(empty.entries).toEqual([]);
      expect(empty.targetedFilterIds.size).toBe(0);
      expect(empty.nextRolloutDateAfter(0)).toBeUndefined();
      expect(empty.lastRolloutDateAtOrBefore(Number.MAX_SAFE_INTEGER)).toBeUndefined();
    });
  });

  test('targetedFilterIds holds the filters of targeted software only', () => {
    expect([...catalogue.targetedFilterIds].sort()).toEqual(['all', 'beta', 'eu', 'us']);
    expect(catalogue.targetedFilterIds.has('ignored-general')).toBe(false);
    expect(catalogue.targetedFilterIds.has('ignored-suspended')).toBe(false);
  });

  test('a targeted software that becomes suspended no longer contributes filters or dates', () => {
    const c = new AppCatalogue(
      [sw('1.0.0', [], 'suspended', [{ filterId: 'x', rolloutDate: 10 }]), sw('1.1.0', [], 'general', [{ filterId: 'y', rolloutDate: 20 }])],
      RULES,
    );
    expect(c.targetedFilterIds.size).toBe(0);
    expect(c.nextRolloutDateAfter(0)).toBeUndefined();
  });

  describe('nextRolloutDateAfter', () => {
    test.each([
      [Number.MIN_SAFE_INTEGER, 1000],
      [0, 1000],
      [999, 1000],
      [1000, 2000], // strictly after
      [1500, 2000], // the general software's date is ignored
      [2000, 3000],
      [2500, 3000], // the suspended software's date is ignored
      [2999, 3000],
      [3000, undefined],
      [10_000, undefined],
    ])('after %p is %p', (t, next) => {
      expect(catalogue.nextRolloutDateAfter(t)).toBe(next);
    });

    test('duplicated dates are fine', () => {
      const c = new AppCatalogue(
        [
          sw('1.0.0', [], 'targeted', [
            { filterId: 'a', rolloutDate: 5 },
            { filterId: 'b', rolloutDate: 5 },
          ]),
          sw('2.0.0', [], 'targeted', [
            { filterId: 'a', rolloutDate: 5 },
            { filterId: 'c', rolloutDate: 7 },
          ]),
        ],
        RULES,
      );
      expect(c.nextRolloutDateAfter(4)).toBe(5);
      expect(c.nextRolloutDateAfter(5)).toBe(7);
      expect(c.nextRolloutDateAfter(7)).toBeUndefined();
    });

    test('property: is the minimum of the targeted dates strictly after t', () => {
      fc.assert(
        fc.property(
          fc.array(fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 4 }), { maxLength: 5 }),
          fc.integer({ min: -1, max: 101 }),
          (dateSets, t) => {
            const c = new AppCatalogue(
              dateSets.map((ds, i) =>
                sw(
                  `1.${i}.0`,
                  [],
                  'targeted',
                  ds.map((d, k) => ({ filterId: `f${k}`, rolloutDate: d })),
                ),
              ),
              RULES,
            );
            const all = dateSets.flat();
            const after = all.filter((d) => d > t);
            const atOrBefore = all.filter((d) => d <= t);
            expect(c.nextRolloutDateAfter(t)).toBe(after.length ? Math.min(...after) : undefined);
            expect(c.lastRolloutDateAtOrBefore(t)).toBe(atOrBefore.length ? Math.max(...atOrBefore) : undefined);
          },
        ),
      );
    });
  });

  describe('lastRolloutDateAtOrBefore', () => {
    test.each([
      [0, undefined],
      [999, undefined],
      [1000, 1000],
      [1999, 1000],
      [2000, 2000],
      [2500, 2000],
      [3000, 3000],
      [99_999, 3000],
    ])('at or before %p is %p', (t, last) => {
      expect(catalogue.lastRolloutDateAtOrBefore(t)).toBe(last);
    });
  });

  describe('successorsOf', () => {
    const versionsOf = (v: string): string[] => catalogue.successorsOf(v).map((i) => catalogue.entries[i]?.software.version as string);

    test('lists the software whose upgradableFrom matches, any strategy, in precedence order', () => {
      expect(versionsOf('1.0.0')).toEqual(['1.1.0-rc.1', '1.1.0', '2.0.0']);
      expect(versionsOf('1.1.0')).toEqual(['1.2.0', '2.0.0']);
      expect(versionsOf('1.1.0-rc.1')).toEqual(['1.1.0']); // 1.x excludes the prerelease
      expect(versionsOf('2.0.0')).toEqual([]);
      expect(versionsOf('0.0.1')).toEqual([]);
    });

    test('matches by precedence and caches consistently', () => {
      expect(versionsOf('1.0.0+x')).toEqual(['1.1.0-rc.1', '1.1.0', '2.0.0']);
      expect(versionsOf('1.0.0')).toEqual(versionsOf('1.0.0+x'));
      expect(catalogue.successorsOf('1.0.0')).toBe(catalogue.successorsOf('1.0.0'));
    });
  });
});
