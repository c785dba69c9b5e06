// The editor's phased-rollout fields (spec §2: phases, phase gate, maintenance window) against the
// real API: a version is created and then edited through the form, what the API stores is read back
// with GET …/software/{version}, and the API's own validation messages for wrong input appear at the
// field they name (which gets focus).
import { expect, type Page, test } from '@playwright/test';
import { baseUrl, expectAccessible, rest, screenshot, watchConsole } from './support/helpers';

const APP = 'planner';

interface Stored {
  version: string;
  rolloutStrategy: string;
  upgradableFrom: string[];
  phases?: { percent: number; soakMinutes: number }[];
  phaseGate?: { maxFailureRate: number; minReports: number };
  maintenanceWindow?: { timeZone: string; start: string; end: string; days?: string[] };
  failurePolicy?: unknown;
}

test.beforeAll(async () => {
  await rest('POST', `/applications/${APP}/software`, { version: '1.0.0', rolloutStrategy: 'general' }).catch((e: Error) => {
    if (!/ 409 /.test(e.message)) throw e;
  });
});

const save = (page: Page, name: 'Create software' | 'Save changes') => page.getByRole('button', { name }).click();

/** Sets the percent (and soak minutes, when given) of phase `n` (1-based). */
async function phase(page: Page, n: number, percent: string, soak?: string): Promise<void> {
  await page.getByLabel(`Phase ${n} percent of endpoints`).fill(percent);
  if (soak !== undefined) await page.getByLabel(`Phase ${n} soak minutes (default 60)`).fill(soak);
}

/** The API's message is shown at the field with this id, which is marked invalid and has focus. */
async function expectFieldError(page: Page, id: string, message: RegExp): Promise<void> {
  const field = page.locator(`#${id}`);
  await expect(page.locator(`#${id}-error`)).toHaveText(message);
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(field).toHaveAttribute('aria-describedby', `${id}-error`);
  await expect(field).toBeFocused();
}

test('phases, phase gate and maintenance window are created and edited through the form, as the API stores them', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto(`${baseUrl()}/console/apps/${APP}/software/new`);
  await page.getByLabel('Version (SemVer)').fill('2.0.0');
  await page.getByLabel('Rollout strategy').selectOption('general');
  await page.getByLabel('Upgradable from (one version or range per line)').fill('1.0.0');

  // three phases, typed in the wrong order first: the API refuses the second, at its field
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Add phase' }).click();
  await phase(page, 1, '50', '30');
  await phase(page, 2, '10');
  await phase(page, 3, '100');
  await page.getByLabel('Health gate for advancing a phase').check();
  await page.getByLabel('Gate: maximum failure rate (0–1)').fill('0.2');
  await page.getByLabel('Gate: minimum reports').fill('5');
  await page.getByLabel('Offer only inside a maintenance window').check();
  await page.getByLabel('Time zone (IANA)').fill('Mars/Olympus_Mons');
  await page.getByLabel('Opens at').fill('22:00');
  await page.getByLabel('Closes at').fill('04:00');
  for (const d of ['mon', 'tue', 'wed', 'thu', 'fri']) await page.getByRole('checkbox', { name: d, exact: true }).check();
  await expectAccessible(page, 'editor with phases and window');

  await save(page, 'Create software');
  await expectFieldError(page, 'f-phases-1-percent', /^phases\[1\]\.percent: must be greater than the previous phase's 50$/);
  await screenshot(page, 'editor-phases-error');
  await phase(page, 1, '10');
  await phase(page, 2, '50');

  // an unknown time zone: the API's message at the time zone
  await save(page, 'Create software');
  await expectFieldError(page, 'f-window-timeZone', /^maintenanceWindow\.timeZone: must be an IANA time zone name/);
  await expect(page.locator('#f-phases-1-percent')).not.toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Time zone (IANA)').fill('Europe/Berlin');

  // a gate rate outside (0, 1]: the schema's message at the gate's field
  await page.getByLabel('Gate: maximum failure rate (0–1)').fill('1.5');
  await save(page, 'Create software');
  await expectFieldError(page, 'f-phaseGate-maxFailureRate', /^phaseGate\.maxFailureRate: /);
  await page.getByLabel('Gate: maximum failure rate (0–1)').fill('0.2');

  await save(page, 'Create software');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`${APP} 2.0.0`);

  const created = (await rest('GET', `/applications/${APP}/software/2.0.0`)) as Stored;
  expect(created).toMatchObject({ version: '2.0.0', rolloutStrategy: 'general', upgradableFrom: ['1.0.0'] });
  expect(created.phases).toEqual([
    { percent: 10, soakMinutes: 30 },
    { percent: 50, soakMinutes: 60 },
    { percent: 100, soakMinutes: 60 },
  ]);
  expect(created.phaseGate).toEqual({ maxFailureRate: 0.2, minReports: 5 });
  expect(created.maintenanceWindow).toEqual({ timeZone: 'Europe/Berlin', start: '22:00', end: '04:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] });
  expect(created.failurePolicy).toBeUndefined();

  // edit: the form shows what is stored; change a phase, the gate and the window
  await page.goto(`${baseUrl()}/console/apps/${APP}/software/2.0.0/edit`);
  await expect(page.getByLabel('Phase 1 percent of endpoints')).toHaveValue('10');
  await expect(page.getByLabel('Phase 1 soak minutes (default 60)')).toHaveValue('30');
  await expect(page.getByLabel('Phase 2 percent of endpoints')).toHaveValue('50');
  await expect(page.getByLabel('Phase 3 percent of endpoints')).toHaveValue('100');
  await expect(page.getByLabel('Health gate for advancing a phase')).toBeChecked();
  await expect(page.getByLabel('Gate: minimum reports')).toHaveValue('5');
  await expect(page.getByLabel('Time zone (IANA)')).toHaveValue('Europe/Berlin');
  await expect(page.getByLabel('Opens at')).toHaveValue('22:00');
  await expect(page.getByLabel('Closes at')).toHaveValue('04:00');
  await expect(page.getByRole('checkbox', { name: 'fri', exact: true })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'sat', exact: true })).not.toBeChecked();
  await screenshot(page, 'editor-phases');

  // the window's end equal to its start is refused at the end; a fractional soak at that phase's soak
  await page.getByLabel('Closes at').fill('22:00');
  await save(page, 'Save changes');
  await expectFieldError(page, 'f-window-end', /^maintenanceWindow\.end: must differ from start/);
  await page.getByLabel('Closes at').fill('05:30');
  await phase(page, 2, '60', '1.5');
  await save(page, 'Save changes');
  await expectFieldError(page, 'f-phases-1-soakMinutes', /^phases\[1\]\.soakMinutes: /);
  await phase(page, 2, '60', '90');

  await page.getByRole('button', { name: 'Remove phase 1' }).click();
  await page.getByLabel('Gate: minimum reports').fill('8');
  for (const d of ['mon', 'tue', 'wed', 'thu', 'fri']) await page.getByRole('checkbox', { name: d, exact: true }).uncheck();
  for (const d of ['sat', 'sun']) await page.getByRole('checkbox', { name: d, exact: true }).check();
  await save(page, 'Save changes');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`${APP} 2.0.0`);

  const edited = (await rest('GET', `/applications/${APP}/software/2.0.0`)) as Stored;
  expect(edited.phases).toEqual([
    { percent: 60, soakMinutes: 90 },
    { percent: 100, soakMinutes: 60 },
  ]);
  expect(edited.phaseGate).toEqual({ maxFailureRate: 0.2, minReports: 8 });
  expect(edited.maintenanceWindow).toEqual({ timeZone: 'Europe/Berlin', start: '22:00', end: '05:30', days: ['sat', 'sun'] });
  expect(edited.upgradableFrom).toEqual(['1.0.0']);

  // switching the window and the gate off removes them; no phase left removes the phases
  await page.goto(`${baseUrl()}/console/apps/${APP}/software/2.0.0/edit`);
  await page.getByLabel('Offer only inside a maintenance window').uncheck();
  await page.getByLabel('Health gate for advancing a phase').uncheck();
  await page.getByRole('button', { name: 'Remove phase 2' }).click();
  await page.getByRole('button', { name: 'Remove phase 1' }).click();
  await save(page, 'Save changes');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`${APP} 2.0.0`);
  const cleared = (await rest('GET', `/applications/${APP}/software/2.0.0`)) as Stored;
  expect(cleared.phases).toBeUndefined();
  expect(cleared.phaseGate).toBeUndefined();
  expect(cleared.maintenanceWindow).toBeUndefined();
  // the browser logs each refused save as a failed load (400): those are the only errors
  expect(errors.filter((e) => !/status of 400 \(Bad Request\)/.test(e))).toEqual([]);
  expect(errors).toHaveLength(5);
});
