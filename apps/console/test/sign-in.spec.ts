// Authentication on (spec §8, §11): a real Keycloak with two tenants (realms), the console's public
// client in each, and a second built server with OTAO_TENANTS and UMA decisions. A person picks a
// tenant, signs in at its issuer (authorization code + PKCE) and sees that tenant's software only;
// the same application name in the other tenant is another application.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type Keycloak, startKeycloak } from '@otao/test-services';
import { expect, type Page, test } from '@playwright/test';
import { expectAccessible, screenshot, watchConsole } from './support/helpers';
import { type RunningServer, startServer } from './support/server';

test.describe.configure({ mode: 'serial', timeout: 240_000 });

let kc: Keycloak;
let otao: RunningServer;

async function adminCall(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${kc.url}/admin/realms${path}`, {
    method,
    headers: { Authorization: `Bearer ${await kc.adminToken()}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok && res.status !== 409) throw new Error(`Keycloak admin ${method} ${path}: ${res.status} ${await res.text()}`);
}

async function api(method: string, path: string, token: string, body?: unknown): Promise<void> {
  const res = await fetch(`${otao.baseUrl}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok && res.status !== 409) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

test.beforeAll(async () => {
  test.setTimeout(240_000);
  kc = await startKeycloak({ realms: ['tenant-a', 'tenant-b'], verbose: false });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  for (const realm of kc.realms) {
    await adminCall('POST', `/${realm}/clients`, {
      clientId: 'otao-console',
      publicClient: true,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      redirectUris: [`${base}/console/*`],
      webOrigins: ['+'],
      attributes: { 'pkce.code.challenge.method': 'S256', 'post.logout.redirect.uris': `${base}/console/*` },
    });
  }
  const appsFile = join(mkdtempSync(join(tmpdir(), 'otao-console-auth-')), 'applications.json');
  const app = (tenantId: string, v: string) => ({ tenantId, consentRequired: false, versions: { [v]: {} } });
  writeFileSync(
    appsFile,
    JSON.stringify({
      kaa: {
        tenants: {
          'tenant-a': { applications: { kettle: app('tenant-a', 'kettle-a1'), toaster: app('tenant-a', 'toaster-a1') } },
          'tenant-b': { applications: { kettle: app('tenant-b', 'kettle-b1') } },
        },
      },
    }),
  );
  const tag = `consoleauth${Date.now().toString(36)}`;
  otao = await startServer(port, {
    OTAO_REPLICA_ID: `${tag}-1`,
    OTAO_NATS_URLS: process.env['CONSOLE_TEST_NATS_URL']!,
    OTAO_MONGODB_URI: process.env['CONSOLE_TEST_MONGODB_URI']!,
    OTAO_MONGODB_DATABASE: tag,
    OTAO_SERVICE_INSTANCE_NAME: `otao-${tag}`,
    OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME: `cmx-${tag}`,
    OTAO_EPR_INSTANCE_NAME: `epr-${tag}`,
    OTAO_APPLICATIONS_FILE: appsFile,
    OTAO_TENANTS: JSON.stringify(kc.realms.map((r) => ({ id: r, issuer: kc.issuer(r) }))),
    OTAO_AUTHZ_MODE: 'uma',
    OTAO_OAUTH_CLIENT_ID: kc.clientId,
    OTAO_OAUTH_CLIENT_SECRET: kc.clientSecret,
  });
  await api('POST', '/applications/kettle/software', await kc.passwordToken('tenant-a', 'admin'), { version: '1.0.0', rolloutStrategy: 'general' });
  await api('POST', '/applications/kettle/software', await kc.passwordToken('tenant-b', 'admin'), { version: '7.0.0', rolloutStrategy: 'suspended' });
});

test.afterAll(async () => {
  await otao?.stop();
  await kc?.stop();
});

async function signIn(page: Page, tenant: string, username: string, password: string): Promise<void> {
  await page.goto(`${otao.baseUrl}/console/?tenant=${tenant}`);
  await expect(page.getByRole('heading', { name: 'Sign in to OTAO' })).toBeVisible();
  await expect(page.getByText(`Tenant ${tenant}`)).toBeVisible();
  await page.getByRole('button', { name: 'Sign in with your organisation' }).click();
  await page.waitForURL(/\/realms\/.*\/protocol\/openid-connect\/auth/);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#kc-login').click();
  await expect(page.getByText(`${username} · tenant ${tenant}`)).toBeVisible({ timeout: 20_000 });
  expect(page.url()).toBe(`${otao.baseUrl}/console/`);
}

test('a tenant is picked, sign-in at its issuer, and only its software is seen', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto(`${otao.baseUrl}/console/`);
  await expect(page.getByLabel('Tenant')).toBeVisible();
  await expectAccessible(page, 'tenant picker');
  await screenshot(page, 'sign-in-tenant');

  await signIn(page, 'tenant-a', 'admin', 'admin-pass');
  await expect(page.getByText(/admin · tenant tenant-a/)).toBeVisible();
  await expect(page.getByRole('link', { name: 'kettle', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'toaster', exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'kettle', exact: true }).click();
  await expect(page.getByRole('link', { name: '1.0.0', exact: true })).toBeVisible();
  await expect(page.getByText('7.0.0')).toHaveCount(0);
  await screenshot(page, 'sign-in-tenant-a');
  expect(errors).toEqual([]);
});

test('the same application name in another tenant is another application', async ({ page }) => {
  await signIn(page, 'tenant-b', 'admin', 'admin-pass');
  await expect(page.getByText(/admin · tenant tenant-b/)).toBeVisible();
  await expect(page.getByRole('link', { name: 'toaster', exact: true })).toHaveCount(0);
  await page.getByRole('link', { name: 'kettle', exact: true }).click();
  await expect(page.getByRole('link', { name: '7.0.0', exact: true })).toBeVisible();
  await expect(page.getByText('1.0.0')).toHaveCount(0);
});

test('a reader sees the software but the API refuses a change, in words', async ({ page }) => {
  await signIn(page, 'tenant-a', 'reader', 'reader-pass');
  await page.goto(`${otao.baseUrl}/console/apps/kettle/software/new`);
  await page.getByLabel('Version (SemVer)').fill('1.1.0');
  await page.getByRole('button', { name: 'Create software' }).click();
  await expect(page.getByRole('alert')).toContainText(/scope application:software:update is required/);
});
