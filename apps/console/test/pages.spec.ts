// Every page of the console opens without console errors, passes axe-core without a serious or
// critical violation, and is photographed (.screenshots/, the best ones go to docs/console/).
import { FakeCmx } from '@otao/nats-cdtp/testing';
import { expect, test } from '@playwright/test';
import { baseUrl, eventually, expectAccessible, rest, screenshot, watchConsole } from './support/helpers';

test.beforeAll(async () => {
  const sw = (version: string, upgradableFrom: string[], rolloutStrategy: string, extra: Record<string, unknown> = {}) =>
    rest('POST', '/applications/lamp/software', {
      version,
      upgradableFrom,
      rolloutStrategy,
      specification: { notes: `lamp ${version}` },
      metadata: { channel: 'stable' },
      ...extra,
    }).catch((e: Error) => {
      // seeded by an earlier worker of this run (a failed test restarts the worker)
      if (!/ 409 /.test(e.message)) throw e;
    });
  await sw('1.0.0', ['0.9.0'], 'general');
  await sw('1.1.0', ['1.0.0'], 'targeted', {
    filters: [{ filterId: 'beta' }, { filterId: 'everyone', rolloutDate: '2030-01-01T00:00:00Z' }],
    failurePolicy: { maxFailureRate: 0.2, minReports: 5 },
  });
  await sw('1.2.0', ['>=1.0.0 <1.2.0'], 'general');
  await sw('2.0.0', ['1.2.0'], 'suspended');
  const cmx = await new FakeCmx({
    servers: process.env['CONSOLE_TEST_NATS_URL']!,
    instanceName: process.env['CONSOLE_TEST_CMX']!,
    providerInstanceName: process.env['CONSOLE_TEST_PROVIDER']!,
  }).start();
  try {
    for (let i = 1; i <= 12; i++) {
      const id = `lamp-${String(i).padStart(3, '0')}`;
      await cmx.applied({ endpointId: id, appVersionName: 'lamp-v1', configId: i % 3 === 0 ? '1.1.0' : '1.0.0', statusCode: i % 5 === 0 ? 500 : 200 });
    }
    await eventually('12 endpoints known', async () => {
      const page = (await rest('GET', '/applications/lamp/endpoints')) as { totalElements: number };
      return page.totalElements >= 12 ? true : undefined;
    });
  } finally {
    await cmx.stop();
  }
});

const PAGES: [string, string, RegExp][] = [
  ['applications', '/console/', /Applications/],
  ['software', '/console/apps/lamp', /Software of lamp/],
  ['software-new', '/console/apps/lamp/software/new', /New software of lamp/],
  ['version', '/console/apps/lamp/software/1.1.0', /lamp 1\.1\.0/],
  ['software-edit', '/console/apps/lamp/software/1.1.0/edit', /Edit lamp 1\.1\.0/],
  ['rollout', '/console/apps/lamp/software/1.1.0/rollout', /Rollout of lamp 1\.1\.0/],
  ['preview', '/console/apps/lamp/software/1.2.0/preview', /Preview of lamp 1\.2\.0/],
  ['endpoints', '/console/apps/lamp/endpoints', /Endpoints of lamp/],
  ['endpoint', '/console/apps/lamp/endpoints/lamp-001', /Endpoint lamp-001/],
  ['audit', '/console/apps/lamp/audit', /Audit log of lamp/],
];

for (const [name, path, heading] of PAGES) {
  test(`page ${name} opens without errors and passes axe`, async ({ page }) => {
    const errors = watchConsole(page);
    await page.goto(baseUrl() + path);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading);
    await page.waitForLoadState('networkidle');
    await expect(page.getByText(/Loading /)).toHaveCount(0);
    await expect(page.getByRole('alert')).toHaveCount(0);
    await expectAccessible(page, name);
    await screenshot(page, name);
    expect(errors).toEqual([]);
  });
}

test('the upgrade graph draws versions, ranges as ranges, unregistered versions and suspended ones greyed', async ({ page }) => {
  await page.goto(`${baseUrl()}/console/apps/lamp`);
  const graph = page.locator('figure.graph svg');
  await expect(graph.locator('[data-node="v:1.0.0"]')).toBeVisible();
  await expect(graph.locator('[data-node="r:>=1.0.0 <1.2.0"]')).toContainText('>=1.0.0 <1.2.0');
  await expect(graph.locator('[data-node="v:0.9.0"]')).toHaveClass(/node-ghost/);
  await expect(graph.locator('[data-node="v:2.0.0"]')).toHaveClass(/node-suspended/);
  await expect(graph.locator('[data-edge="r:>=1.0.0 <1.2.0->v:1.2.0"]')).toHaveCount(1);
  // keyboard: a version node is a link reachable by Tab and opens the version with Enter
  await graph.getByRole('link', { name: /Version 1\.2\.0/ }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/lamp 1\.2\.0/);
});

test('lists are paginated by the server', async ({ page }) => {
  await page.goto(`${baseUrl()}/console/apps/lamp/endpoints`);
  await expect(page.getByRole('navigation', { name: 'Endpoints pages' })).toContainText(/1–12 of 12/);
  await page.getByLabel('Current version (empty = all)').fill('1.1.0');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByRole('navigation', { name: 'Endpoints pages' })).toContainText(/of 4/);
});

test('an endpoint opens by its id from the list', async ({ page }) => {
  await page.goto(`${baseUrl()}/console/apps/lamp/endpoints`);
  await page.getByLabel('Open an endpoint by id').fill('lamp-003');
  await page.getByRole('button', { name: 'Open' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Endpoint lamp-003');
  await expect(page.getByTestId('current')).toHaveText('1.1.0');
});

test('an unknown software shows the API error in words', async ({ page }) => {
  await page.goto(`${baseUrl()}/console/apps/lamp/software/9.9.9`);
  await expect(page.getByRole('alert')).toContainText(/not found/i);
});
