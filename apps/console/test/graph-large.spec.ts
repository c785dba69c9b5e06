// A catalogue of 200 versions: the software page draws all of them. How long it takes is measured
// with the Performance API (the console's `otao:*` marks, src/perf.ts) and printed — never asserted:
// the test suite holds no timing assertion. The numbers go to docs/console.md.
import { expect, test } from '@playwright/test';
import { baseUrl, rest, watchConsole } from './support/helpers';

const COUNT = 200;
const RUNS = Number(process.env['CONSOLE_GRAPH_RUNS'] ?? '7');

test.beforeAll(async () => {
  test.setTimeout(180_000);
  const existing = (await rest('GET', '/applications/fleet/software')) as unknown[];
  for (let i = existing.length; i < COUNT; i++) {
    const major = Math.floor(i / 20) + 1;
    const minor = i % 20;
    const version = `${major}.${minor}.0`;
    // each version from its predecessor; every 20th from a range of the previous major; a few suspended
    const upgradableFrom = i === 0 ? ['0.9.0'] : minor === 0 ? [`>=${major - 1}.0.0 <${major}.0.0`] : [`${major}.${minor - 1}.0`];
    await rest('POST', '/applications/fleet/software', { version, upgradableFrom, rolloutStrategy: i % 17 === 0 ? 'suspended' : 'general' }).catch(
      (e: Error) => {
        if (!/ 409 /.test(e.message)) throw e;
      },
    );
  }
});

const STEPS = [
  'start',
  'auth-ready',
  'software-page',
  'software-fetch',
  'software-data',
  'graph-layout-start',
  'graph-layout-end',
  'graph-committed',
  'graph-painted',
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

test(`the graph of ${COUNT} versions is drawn (time reported)`, async ({ page }) => {
  test.setTimeout(60_000 + RUNS * 15_000);
  const errors = watchConsole(page);
  const runs: Record<string, number>[] = [];
  for (let run = 0; run < RUNS; run++) {
    await page.goto(`${baseUrl()}/console/apps/fleet`);
    // every mark, in ms since the navigation began (performance.timeOrigin); polled rarely, and the
    // page's DOM is not queried until the graph is painted, so the measurement does not slow the page
    const marks = await page.waitForFunction(
      (steps) => {
        const at = (n: string) => performance.getEntriesByName(`otao:${n}`, 'mark')[0]?.startTime;
        if (at('graph-painted') === undefined) return undefined;
        return Object.fromEntries(steps.map((n) => [n, at(n) ?? -1]));
      },
      STEPS,
      { polling: 250 },
    );
    runs.push((await marks.jsonValue()) as Record<string, number>);
    await expect(page.locator('figure.graph [data-node^="v:"]')).toHaveCount(COUNT + 1); // + the unregistered 0.9.0
    await expect(page.locator('figure.graph [data-node^="r:"]')).toHaveCount(COUNT / 20 - 1);
  }
  const m = (k: string): number => median(runs.map((r) => r[k]!));
  const span = (a: string, b: string): number => median(runs.map((r) => r[b]! - r[a]!));
  console.log(
    `graph of ${COUNT} versions, median of ${RUNS} loads (ms since navigation): ` +
      STEPS.map((s) => `${s} ${m(s).toFixed(0)}`).join(', ') +
      `\n  data arrived -> graph painted ${span('software-data', 'graph-painted').toFixed(0)} ms` +
      ` (layout ${span('graph-layout-start', 'graph-layout-end').toFixed(0)}, layout end -> DOM ${span('graph-layout-end', 'graph-committed').toFixed(0)}, DOM -> painted ${span('graph-committed', 'graph-painted').toFixed(0)});` +
      ` fetch ${span('software-fetch', 'software-data').toFixed(0)} ms;` +
      ` every run's painted: ${runs.map((r) => r['graph-painted']!.toFixed(0)).join(', ')}`,
  );
  expect(errors).toEqual([]);
});
