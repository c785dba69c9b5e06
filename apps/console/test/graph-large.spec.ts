// A catalogue of 200 versions: the software page draws all of them. The time it takes is printed
// (and recorded in docs/console.md), not asserted: the test suite holds no timing assertion.
import { expect, test } from '@playwright/test';
import { baseUrl, rest, watchConsole } from './support/helpers';

const COUNT = 200;

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

test(`the graph of ${COUNT} versions is drawn`, async ({ page }) => {
  const errors = watchConsole(page);
  const started = Date.now();
  await page.goto(`${baseUrl()}/console/apps/fleet`);
  await expect(page.locator('figure.graph [data-node^="v:"]')).toHaveCount(COUNT + 1); // + the unregistered 0.9.0
  const drawnMs = Date.now() - started;
  console.log(`graph of ${COUNT} versions: every node drawn ${drawnMs} ms after the navigation began (fetch, layout and render)`);
  await expect(page.locator('figure.graph [data-node^="r:"]')).toHaveCount(COUNT / 20 - 1);
  expect(errors).toEqual([]);
});
