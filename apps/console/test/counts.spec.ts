// The counts of a large application (docs/api.md "Counts of large applications"): a server of its
// own with OTAO_EXACT_COUNTS_BELOW=20 (and counts kept for an hour), an application `fleet` of 25
// endpoints — large for this server — and `small` of 3. Once the fleet's counts are stored, more
// endpoints arrive; the endpoint list and the preview answer from the stored counts, and the console
// says how old they are. The small application's pages carry no such note: their counts are exact.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeCmx } from '@otao/nats-cdtp/testing';
import { freePort } from '@otao/test-services';
import { expect, test } from '@playwright/test';
import { expectAccessible, screenshot, watchConsole } from './support/helpers';
import { type RunningServer, startServer } from './support/server';

test.describe.configure({ mode: 'serial', timeout: 180_000 });

let otao: RunningServer;
let cmx: FakeCmx;

type Page = { totalElements: number; countedAt: string };

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${otao.baseUrl}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function report(app: string, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    await cmx.applied({ endpointId: `${app}-${String(i).padStart(3, '0')}`, appVersionName: `${app}-v1`, configId: '1.0.0', statusCode: 200 });
  }
}

/**
 * Polls until the endpoints `from`…`from + n - 1` are known (reports are events: stored in the
 * background). Each endpoint's own view is asked, not the list: a list read would count — and store
 * the counts of the application as soon as it is large — before every report is in.
 */
async function known(app: string, from: number, n: number): Promise<void> {
  const until = Date.now() + 30_000;
  for (let i = from; i < from + n; i++) {
    const id = `${app}-${String(i).padStart(3, '0')}`;
    while ((await fetch(`${otao.baseUrl}/api/v1/applications/${app}/endpoints/${id}/software`)).status !== 200) {
      if (Date.now() > until) throw new Error(`${app}: ${id} not known after 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test.beforeAll(async () => {
  const tag = `consolecounts${Date.now().toString(36)}`;
  const appsFile = join(mkdtempSync(join(tmpdir(), 'otao-console-counts-')), 'applications.json');
  const app = (v: string) => ({ tenantId: 'default', consentRequired: false, versions: { [v]: {} } });
  writeFileSync(appsFile, JSON.stringify({ kaa: { applications: { fleet: app('fleet-v1'), small: app('small-v1') } } }));
  otao = await startServer(await freePort(), {
    OTAO_REPLICA_ID: tag,
    OTAO_NATS_URLS: process.env['CONSOLE_TEST_NATS_URL']!,
    OTAO_MONGODB_URI: process.env['CONSOLE_TEST_MONGODB_URI']!,
    OTAO_MONGODB_DATABASE: tag,
    OTAO_SERVICE_INSTANCE_NAME: `otao-${tag}`,
    OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME: `cmx-${tag}`,
    OTAO_EPR_INSTANCE_NAME: `epr-${tag}`,
    OTAO_APPLICATIONS_FILE: appsFile,
    OTAO_SECURITY_IGNORED: '/**',
    OTAO_EXACT_COUNTS_BELOW: '20',
    OTAO_COUNTS_MAX_AGE_MS: '3600000',
  });
  cmx = await new FakeCmx({ servers: process.env['CONSOLE_TEST_NATS_URL']!, instanceName: `cmx-${tag}`, providerInstanceName: `otao-${tag}` }).start();
  for (const a of ['fleet', 'small']) {
    await call('POST', `/applications/${a}/software`, { version: '1.0.0', rolloutStrategy: 'general' });
    await call('POST', `/applications/${a}/software`, { version: '1.1.0', upgradableFrom: ['1.0.0'], rolloutStrategy: 'general' });
  }
  await report('fleet', 0, 25);
  await report('small', 0, 3);
  await known('fleet', 0, 25);
  await known('small', 0, 3);
  // the first count of the large application is stored in the background: the answers' countedAt stops moving
  let last = '';
  for (let i = 0; ; i++) {
    const p = await call<Page>('GET', '/applications/fleet/endpoints?limit=1');
    if (p.countedAt === last) break;
    if (i > 60) throw new Error('the counts of fleet were not stored');
    last = p.countedAt;
    await new Promise((r) => setTimeout(r, 1100));
  }
  // five more endpoints, after the count: not in the stored counts for an hour
  await report('fleet', 25, 5);
  await report('small', 3, 2);
  await known('fleet', 25, 5);
  await known('small', 3, 2);
  // the note shows counts at least 5 s old
  await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(last) + 6_000 - Date.now())));
});

test.afterAll(async () => {
  await cmx?.stop();
  await otao?.stop();
});

test('the endpoint list and the preview of a large application say how old their counts are; a small one’s do not', async ({ page }) => {
  const errors = watchConsole(page);
  const stored = await call<Page>('GET', '/applications/fleet/endpoints?limit=50');
  expect(stored.totalElements).toBe(25); // the stored count, not the 30 now known

  await page.goto(`${otao.baseUrl}/console/apps/fleet/endpoints`);
  await expect(page.getByRole('row')).toHaveCount(31); // the page itself is read now: 30 endpoints and the header
  const note = page.getByTestId('counted-at');
  await expect(note).toContainText('Counts as of');
  await expect(note).toContainText(stored.countedAt.replace('T', ' ').replace('Z', ' UTC'));
  await expect(note).toContainText(/\(\d+ s ago\)/);
  await expect(page.getByRole('navigation', { name: 'Endpoints pages' })).toContainText('of 25');
  await expectAccessible(page, 'endpoints of a large application');
  await screenshot(page, 'endpoints-large');

  await page.goto(`${otao.baseUrl}/console/apps/fleet/software/1.1.0/preview`);
  await expect(page.getByTestId('counted-at')).toContainText('Counts as of');
  await expect(page.locator('[data-group="now"] dd')).toHaveText('25');

  for (const [path, pager] of [
    ['endpoints', 'Endpoints pages'],
    ['software/1.1.0/preview', 'Preview pages'],
  ] as const) {
    await page.goto(`${otao.baseUrl}/console/apps/small/${path}`);
    await expect(page.getByRole('navigation', { name: pager })).toContainText('of 5'); // exact at once
    await expect(page.getByTestId('counted-at')).toHaveCount(0);
  }
  expect(errors).toEqual([]);
});
