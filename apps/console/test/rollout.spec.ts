// The rollout page and the audit log against the real routes of spec §6.3/§6.4.1 on the built
// server: a phased version of `heater`, a simulated fleet over NATS (the wire-level CMX stand-in)
// that pulls it and reports, some failing; then the page shows what GET …/rollout and
// GET …/rollout/history answer, Hold/Resume/Advance change what the API says, and the audit page
// lists those operator actions with their actor. No answer is faked in the browser.
import { FakeCmx } from '@otao/nats-cdtp/testing';
import { expect, type Page, test } from '@playwright/test';
import { baseUrl, eventually, expectAccessible, rest, screenshot, watchConsole } from './support/helpers';

interface RolloutView {
  offered: number;
  applied: number;
  failed: number;
  timedOut: number;
  rolledBack: number;
  failureRate: number;
  phase?: { index: number; percent: number; hold: boolean; waitingFor: string; nextCheckAt?: string };
}
interface History {
  buckets: { start: string; offered: number; applied: number; failed: number }[];
}
interface AuditPage {
  content: {
    action: string;
    version?: string;
    actor: { type: string; id: string; name?: string };
    changes?: Record<string, { old?: { openedAt?: number }; new?: { openedAt?: number } }>;
  }[];
  totalElements: number;
}

const APP = 'heater';
const AVN = 'heater-v1';
const FLEET = 40;
const rolloutPath = `/applications/${APP}/software/2.0.0/rollout`;
let reported = 0;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  const create = (body: Record<string, unknown>) =>
    rest('POST', `/applications/${APP}/software`, body).catch((e: Error) => {
      if (!/ 409 /.test(e.message)) throw e; // seeded by an earlier worker of this run
    });
  await create({ version: '1.0.0', rolloutStrategy: 'general' });
  await create({ version: '3.0.0', upgradableFrom: ['2.5.0'], rolloutStrategy: 'general', failurePolicy: { maxFailureRate: 0.1, minReports: 10 } });
  const cmx = await new FakeCmx({
    servers: process.env['CONSOLE_TEST_NATS_URL']!,
    instanceName: process.env['CONSOLE_TEST_CMX']!,
    providerInstanceName: process.env['CONSOLE_TEST_PROVIDER']!,
  }).start();
  try {
    const ids = Array.from({ length: FLEET }, (_, i) => `heater-${String(i).padStart(3, '0')}`);
    for (const endpointId of ids) await cmx.applied({ endpointId, appVersionName: AVN, configId: '1.0.0', statusCode: 200 });
    // 2.0.0 rolls out in phases: 40 % of the cohorts first; a manual advance or the soak opens more
    await create({
      version: '2.0.0',
      upgradableFrom: ['1.0.0'],
      rolloutStrategy: 'general',
      phases: [
        { percent: 40, soakMinutes: 600 },
        { percent: 80, soakMinutes: 600 },
        { percent: 100, soakMinutes: 600 },
      ],
      phaseGate: { maxFailureRate: 0.5, minReports: 3 },
      failurePolicy: { maxFailureRate: 0.9, minReports: 100, reportTimeoutMinutes: 120 },
    });
    // the endpoints of the open phase pull 2.0.0 and install it; one in four fails
    for (const endpointId of ids) {
      const answer = await cmx.pull({ endpointId, appVersionName: AVN, configId: '1.0.0' });
      if (answer.configId !== '2.0.0') continue;
      reported++;
      await cmx.applied({ endpointId, appVersionName: AVN, configId: '2.0.0', statusCode: reported % 4 === 0 ? 500 : 200 });
    }
    expect(reported).toBeGreaterThan(3);
    await eventually('every report counted', async () => {
      const r = (await rest('GET', rolloutPath)) as RolloutView;
      return r.applied + r.failed >= reported ? true : undefined;
    });
  } finally {
    await cmx.stop();
  }
});

/** The value shown for one of the rollout page's counters. */
/** How the console shows an instant (UTC). */
const utc = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

const counter = (page: Page, name: string) =>
  page
    .locator('.counters > div')
    .filter({ has: page.getByText(name, { exact: true }) })
    .locator('dd');

test('the rollout page shows what the API answers: counters, phase and the history chart', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto(`${baseUrl()}/console/apps/${APP}/software/2.0.0/rollout`);
  await expect(page.getByRole('heading', { name: 'Phase' })).toBeVisible();
  const r = (await rest('GET', rolloutPath)) as RolloutView;
  expect(r.offered).toBeGreaterThanOrEqual(reported);
  expect(r.failed).toBeGreaterThan(0);
  for (const [name, value] of [
    ['Offered', r.offered],
    ['Applied', r.applied],
    ['Failed', r.failed],
    ['Timed out', r.timedOut],
    ['Rolled back', r.rolledBack],
  ] as const)
    await expect(counter(page, name)).toHaveText(String(value));
  await expect(page.getByTestId('failure-rate')).toHaveText(`${(r.failureRate * 100).toFixed(1)} %`);
  expect(r.phase).toMatchObject({ index: 0, percent: 40, hold: false });
  await expect(page.getByText(`Phase 1: endpoints in cohorts below 40 %. Waiting for: ${r.phase!.waitingFor}.`, { exact: false })).toBeVisible();
  if (r.phase!.nextCheckAt) await expect(page.getByText(new RegExp(`Next check ${r.phase!.nextCheckAt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))).toBeVisible();

  // the chart draws the buckets of GET …/rollout/history (minute buckets by default)
  const history = (await rest('GET', `${rolloutPath}/history?bucket=minute`)) as History;
  expect(history.buckets.length).toBeGreaterThan(0);
  expect(history.buckets.reduce((a, b) => a + b.applied + b.failed, 0)).toBe(r.applied + r.failed);
  await expect(page.locator('.chart canvas')).toHaveCount(1);
  await expect(page.locator('.chart')).toHaveAttribute('data-points', String(history.buckets.length));
  await expectAccessible(page, 'rollout with phase and history');
  await screenshot(page, 'rollout-phased');
  expect(errors).toEqual([]);
});

test('hold, resume and advance change the rollout, and the audit page lists them with the actor', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto(`${baseUrl()}/console/apps/${APP}/software/2.0.0/rollout`);
  await expect(page.getByText(/^Phase 1: /)).toBeVisible();

  await page.getByRole('button', { name: 'Hold' }).click();
  await expect(page.getByText(/^Phase 1: endpoints in cohorts below 40 % — held\./)).toBeVisible();
  await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible();
  expect(((await rest('GET', rolloutPath)) as RolloutView).phase).toMatchObject({ index: 0, hold: true, waitingFor: 'hold' });

  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByRole('button', { name: 'Hold' })).toBeVisible();
  expect(((await rest('GET', rolloutPath)) as RolloutView).phase).toMatchObject({ index: 0, hold: false });

  await page.getByRole('button', { name: 'Advance to the next phase now' }).click();
  await expect(page.getByText(/^Phase 2: endpoints in cohorts below 80 %/)).toBeVisible();
  expect(((await rest('GET', rolloutPath)) as RolloutView).phase).toMatchObject({ index: 1, percent: 80 });

  // the audit log: the three operator actions, newest first, by the (anonymous: authentication off) user
  const audit = (await rest('GET', `/applications/${APP}/audit?version=2.0.0`)) as AuditPage;
  const operatorActions = audit.content.map((e) => e.action).filter((a) => a.startsWith('rollout.'));
  expect(operatorActions).toEqual(['rollout.advanced', 'rollout.resumed', 'rollout.held']);
  const actor = audit.content[0]!.actor;
  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Audit log of ${APP}`);
  await page.getByLabel('Version').fill('2.0.0');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page.getByRole('navigation', { name: 'Audit pages' })).toContainText(`of ${audit.totalElements}`);
  const rows = page.locator('tbody tr');
  await expect(rows).toHaveCount(audit.content.length);
  for (const [i, e] of audit.content.entries()) {
    await expect(rows.nth(i).locator('td').nth(1)).toHaveText(`${e.actor.type}: ${e.actor.name ?? e.actor.id}`);
    await expect(rows.nth(i).locator('td').nth(2)).toHaveText(e.action);
  }
  await expect(rows.first().locator('td').nth(1)).toHaveText(`${actor.type}: ${actor.name ?? actor.id}`);
  // the advance's phase change: openedAt (epoch ms in the API) as a date and time, never the number
  const advanced = audit.content[0]!.changes!['phase']!;
  const [oldOpened, newOpened] = [advanced.old!.openedAt!, advanced.new!.openedAt!];
  const phaseChange = rows.first().locator('[data-field="phase"]');
  await expect(phaseChange).toContainText(`index: 0, openedAt: ${utc(oldOpened)}`);
  await expect(phaseChange).toContainText(`index: 1, openedAt: ${utc(newOpened)}`);
  await expect(phaseChange.locator('time').first()).toHaveAttribute('datetime', new Date(oldOpened).toISOString());
  await expect(page.locator('tbody')).not.toContainText(/\b1\d{12}\b/); // no raw epoch milliseconds anywhere
  await expectAccessible(page, 'audit log with operator actions');
  await screenshot(page, 'audit');
  expect(errors).toEqual([]);
});

test("the audit page shows a filter's rollout date as a date and time, not milliseconds", async ({ page }) => {
  await rest('POST', `/applications/${APP}/software`, {
    version: '4.0.0',
    upgradableFrom: ['3.9.0'],
    rolloutStrategy: 'targeted',
    filters: [{ filterId: 'night-shift', rolloutDate: '2027-03-01T08:30:00Z' }],
  });
  await page.goto(`${baseUrl()}/console/apps/${APP}/audit?version=4.0.0`);
  const filters = page.locator('tbody tr').first().locator('[data-field="filters"]');
  await expect(filters).toHaveText('filters: none → [{filterId: night-shift, rolloutDate: 2027-03-01 08:30:00 UTC}]');
  await expect(filters.locator('time')).toHaveAttribute('datetime', '2027-03-01T08:30:00.000Z');
});

test('suspend from the rollout page keeps every other field; an unphased version shows no phase', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto(`${baseUrl()}/console/apps/${APP}/software/3.0.0/rollout`);
  await expect(page.getByRole('heading', { name: 'Counters' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'History' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Phase' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Hold' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Suspend this version' }).click();
  await expect(page.getByText(/Suspended: nobody is offered it/)).toBeVisible();
  const sw = (await rest('GET', `/applications/${APP}/software/3.0.0`)) as { rolloutStrategy: string; failurePolicy?: unknown };
  expect(sw.rolloutStrategy).toBe('suspended');
  expect(sw.failurePolicy).toEqual({ maxFailureRate: 0.1, minReports: 10 }); // the other fields kept
  expect(errors).toEqual([]);
});
