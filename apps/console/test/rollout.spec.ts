// The rollout page: suspend through the API; and the parts of spec §6.3 other work is adding
// (phase, hold/resume/advance, history) rendered when the API answers them — simulated here by
// answering those routes in the browser — and hidden while it answers 404 route.not_found.
import { expect, test } from '@playwright/test';
import { baseUrl, expectAccessible, rest, screenshot, watchConsole } from './support/helpers';

test.beforeAll(async () => {
  for (const version of ['3.0.0', '3.1.0']) {
    await rest('POST', '/applications/lamp/software', {
      version,
      upgradableFrom: ['2.0.0'],
      rolloutStrategy: 'general',
      failurePolicy: { maxFailureRate: 0.1, minReports: 10 },
    }).catch((e: Error) => {
      if (!/ 409 /.test(e.message)) throw e;
    });
  }
});

test('suspend from the rollout page', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto(`${baseUrl()}/console/apps/lamp/software/3.0.0/rollout`);
  await expect(page.getByRole('heading', { name: 'Phase' })).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'History' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Suspend this version' }).click();
  await expect(page.getByText(/Suspended: nobody is offered it/)).toBeVisible();
  const sw = (await rest('GET', '/applications/lamp/software/3.0.0')) as { rolloutStrategy: string; failurePolicy?: unknown };
  expect(sw.rolloutStrategy).toBe('suspended');
  expect(sw.failurePolicy).toEqual({ maxFailureRate: 0.1, minReports: 10 }); // the other fields kept
  expect(errors).toEqual([]);
});

test('phase, hold/advance and the history chart appear when the API has them', async ({ page }) => {
  const errors = watchConsole(page);
  const calls: string[] = [];
  const now = Date.now();
  await page.route(/\/api\/v1\/applications\/lamp\/software\/3\.1\.0\/rollout(\/.*)?(\?.*)?$/, async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    calls.push(`${req.method()} ${url.pathname.replace(/.*\/rollout/, 'rollout')}`);
    const rollout = {
      version: '3.1.0',
      offered: 120,
      applied: 100,
      failed: 4,
      timedOut: 2,
      rolledBack: 1,
      failureRate: 0.066,
      rolloutStrategy: 'general',
      phase: {
        index: 1,
        percent: 25,
        openedAt: new Date(now - 3_600_000).toISOString(),
        hold: calls.some((c) => c.startsWith('PUT')),
        waitingFor: 'soak',
        nextCheckAt: new Date(now + 1_800_000).toISOString(),
      },
      window: { open: false, nextOpenAt: new Date(now + 7_200_000).toISOString() },
    };
    if (url.pathname.endsWith('/history')) {
      const buckets = Array.from({ length: 30 }, (_, i) => ({
        at: new Date(now - (30 - i) * 60_000).toISOString(),
        offered: 4 * i,
        applied: 3 * i,
        failed: i % 4,
        timedOut: 0,
        rolledBack: 0,
      }));
      await route.fulfill({ json: { bucket: 'minute', buckets } });
    } else await route.fulfill({ json: rollout });
  });
  await page.goto(`${baseUrl()}/console/apps/lamp/software/3.1.0/rollout`);
  await expect(page.getByRole('heading', { name: 'Phase' })).toBeVisible();
  await expect(page.getByText(/Phase 2: endpoints in cohorts below 25 %/)).toBeVisible();
  await expect(page.getByText(/Next check .*\(in 30 min\)/)).toBeVisible();
  await expect(page.getByText(/Maintenance window closed; opens/)).toBeVisible();
  await expect(page.locator('.chart canvas')).toHaveCount(1);
  await expectAccessible(page, 'rollout with phase and history');
  await screenshot(page, 'rollout-phased');
  await page.getByRole('button', { name: 'Hold' }).click();
  await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible();
  await page.getByRole('button', { name: 'Advance to the next phase now' }).click();
  await expect.poll(() => calls.filter((c) => !c.startsWith('GET'))).toEqual(['PUT rollout/hold', 'POST rollout/advance']);
  expect(errors).toEqual([]);
});
