// The applications of a tenant (spec §6.4.1): which ones the caller sees, with which settings.
import { isOtaoError } from '../domain/errors';
import { createTestOtao } from '../testing';
import { APPLICATION_CHECK_CONCURRENCY } from './applications.use-case';

const everything = async (): Promise<boolean> => true;

function setup() {
  return createTestOtao({
    apps: [
      { tenantId: 'tenant-a', appName: 'toaster', versions: ['toaster-v2', 'toaster-v1'], consentRequired: true },
      { tenantId: 'tenant-a', appName: 'kettle', versions: ['kettle-a-v1'] },
      { tenantId: 'tenant-a', appName: 'blender', versions: [] },
      { tenantId: 'tenant-b', appName: 'kettle', versions: ['kettle-b-v1', 'kettle-b-v0'], consentRequired: true },
    ],
  });
}

test("a tenant's applications, sorted by name, with their settings and sorted version names", async () => {
  const t = setup();
  expect(await t.core.applications.list('tenant-a', everything)).toEqual([
    { appName: 'blender', consentRequired: false, appVersionNames: [] },
    { appName: 'kettle', consentRequired: false, appVersionNames: ['kettle-a-v1'] },
    { appName: 'toaster', consentRequired: true, appVersionNames: ['toaster-v1', 'toaster-v2'] },
  ]);
});

test('the same application name in another tenant is another application, never shown nor asked about', async () => {
  const t = setup();
  const asked: string[] = [];
  const list = await t.core.applications.list('tenant-b', async (app) => (asked.push(app), true));
  expect(list).toEqual([{ appName: 'kettle', consentRequired: true, appVersionNames: ['kettle-b-v0', 'kettle-b-v1'] }]);
  expect(asked).toEqual(['kettle']);
  expect(await t.core.applications.list('tenant-c', everything)).toEqual([]);
});

test('only the applications the caller may read', async () => {
  const t = setup();
  const asked: string[] = [];
  const list = await t.core.applications.list('tenant-a', async (app) => (asked.push(app), app !== 'kettle'));
  expect(list.map((a) => a.appName)).toEqual(['blender', 'toaster']);
  expect([...asked].sort()).toEqual(['blender', 'kettle', 'toaster']);
  expect(await t.core.applications.list('tenant-a', async () => false)).toEqual([]);
});

test('settings changed in the registry show at once', async () => {
  const t = setup();
  t.registry.setConsentRequired('tenant-a', 'kettle', true);
  t.registry.remove('tenant-a', 'toaster');
  expect(await t.core.applications.list('tenant-a', everything)).toEqual([
    { appName: 'blender', consentRequired: false, appVersionNames: [] },
    { appName: 'kettle', consentRequired: true, appVersionNames: ['kettle-a-v1'] },
  ]);
});

test('a registry that has not loaded: dependency.unavailable, no permission asked', async () => {
  const t = setup();
  t.registry.loaded = false;
  const asked: string[] = [];
  const e = await t.core.applications.list('tenant-a', async (app) => (asked.push(app), true)).catch((x: unknown) => x);
  expect(isOtaoError(e) && e.code).toBe('dependency.unavailable');
  expect(asked).toEqual([]);
});

test('a failing permission check fails the listing; checks run with bounded concurrency', async () => {
  const apps = Array.from({ length: 40 }, (_, i) => ({ tenantId: 'tenant-a', appName: `app-${String(i).padStart(2, '0')}`, versions: [`v-${i}`] }));
  const t = createTestOtao({ apps });
  let inFlight = 0;
  let most = 0;
  const list = await t.core.applications.list('tenant-a', async (app) => {
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
    return app.endsWith('7');
  });
  expect(list.map((a) => a.appName)).toEqual(['app-07', 'app-17', 'app-27', 'app-37']);
  expect(most).toBeGreaterThan(1);
  expect(most).toBeLessThanOrEqual(APPLICATION_CHECK_CONCURRENCY);
  const boom = new Error('authorization server down');
  await expect(
    t.core.applications.list('tenant-a', async (app) => {
      if (app === 'app-13') throw boom;
      return true;
    }),
  ).rejects.toBe(boom);
});
