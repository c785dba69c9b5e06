// Zoom and pan of the upgrade graph (d3-zoom): a chain of 40 versions is wider than the page; the
// view moves and zooms by keyboard (arrows, + −, 0 fit, 1 actual size), by the toolbar's buttons and
// by dragging, a drag on a version does not open it, and a version reached with Tab is brought into view.
import { expect, type Locator, type Page, test } from '@playwright/test';
import { baseUrl, expectAccessible, rest, screenshot, watchConsole } from './support/helpers';

const APP = 'chain';
const N = 40;
const version = (i: number): string => `1.${i}.0`;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  const existing = new Set(((await rest('GET', `/applications/${APP}/software`)) as { version: string }[]).map((s) => s.version));
  for (let i = 0; i < N; i++) {
    if (existing.has(version(i))) continue;
    await rest('POST', `/applications/${APP}/software`, { version: version(i), upgradableFrom: i === 0 ? [] : [version(i - 1)], rolloutStrategy: 'general' });
  }
});

/** Whether the node's box lies inside the view's box. */
async function inView(page: Page, node: Locator): Promise<boolean> {
  const view = (await page.locator('.graph-view').boundingBox())!;
  const box = await node.boundingBox();
  if (!box) return false;
  return box.x >= view.x && box.y >= view.y && box.x + box.width <= view.x + view.width && box.y + box.height <= view.y + view.height;
}

const scale = (page: Page) => page.locator('.graph-view').getAttribute('data-scale').then(Number);

test('the graph zooms and pans by keyboard, buttons and drag; a focused version is brought into view', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto(`${baseUrl()}/console/apps/${APP}`);
  const view = page.locator('.graph-view');
  const first = page.locator(`[data-node="v:${version(0)}"]`);
  const last = page.locator(`[data-node="v:${version(N - 1)}"]`);
  await expect(first).toBeVisible();
  expect(await scale(page)).toBe(1);
  expect(await inView(page, first)).toBe(true);
  expect(await inView(page, last)).toBe(false); // the chain is wider than the page

  // keyboard: the view takes focus with Tab from the toolbar
  await page.getByRole('button', { name: 'Actual size' }).focus();
  await page.keyboard.press('Tab');
  await expect(view).toBeFocused();
  await page.keyboard.press('0'); // fit
  await expect.poll(() => scale(page)).toBeLessThan(1);
  expect(await inView(page, last)).toBe(true);
  expect(await inView(page, first)).toBe(true);
  const fitted = await scale(page);
  await page.keyboard.press('+');
  await expect.poll(() => scale(page)).toBeCloseTo(fitted * 1.25, 1);
  await page.keyboard.press('-');
  await expect.poll(() => scale(page)).toBeCloseTo(fitted, 1);
  await page.keyboard.press('1'); // actual size
  await expect.poll(() => scale(page)).toBe(1);
  const x0 = (await first.boundingBox())!.x;
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect.poll(async () => (await first.boundingBox())!.x).toBeCloseTo(x0 - 160, 0); // the view moved right: the drawing left
  await page.keyboard.press('ArrowLeft');
  await expect.poll(async () => (await first.boundingBox())!.x).toBeCloseTo(x0 - 80, 0);

  // the toolbar's buttons
  await page.getByRole('button', { name: 'Zoom out' }).click();
  await expect.poll(() => scale(page)).toBe(0.8);
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await expect.poll(() => scale(page)).toBe(1);

  // dragging on a version moves the view and does not open it
  await page.getByRole('button', { name: 'Actual size' }).click();
  const box = (await first.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2 + 20, { steps: 5 });
  await page.mouse.up();
  await expect.poll(async () => Math.abs((await first.boundingBox())!.x - (box.x + 60))).toBeLessThan(3); // moved with the pointer
  expect(page.url()).toBe(`${baseUrl()}/console/apps/${APP}`);

  // Tab to the last version: it is brought into view, and Enter opens it
  await page.getByRole('button', { name: 'Actual size' }).click();
  expect(await inView(page, last)).toBe(false);
  await page.getByRole('link', { name: new RegExp(`^Version ${version(N - 1).replace(/\./g, '\\.')},`) }).focus();
  await expect.poll(() => inView(page, last)).toBe(true);
  await screenshot(page, 'graph-zoom');
  await expectAccessible(page, 'software page with zoomable graph');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`${APP} ${version(N - 1)}`);
  expect(errors).toEqual([]);
});
