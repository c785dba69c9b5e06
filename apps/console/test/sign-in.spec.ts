// Authentication on (spec §8, §11): a real Keycloak with two tenants (realms), the console's public
// client in each, and two more built servers with OTAO_TENANTS: one with UMA decisions, one with
// requesting-party tokens (OTAO_AUTHZ_MODE=rpt). A person picks a tenant, signs in at its issuer
// (authorization code + PKCE) and sees that tenant's software only; the same application name in the
// other tenant is another application. In rpt mode the console exchanges the access token for an
// RPT at the tenant's token endpoint and calls the API with it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type Keycloak, startKeycloak } from '@otao/test-services';
import { expect, type Page, test } from '@playwright/test';
import { expectAccessible, screenshot, watchConsole } from './support/helpers';
import { type RunningServer, startServer } from './support/server';

test.describe.configure({ mode: 'serial', timeout: 240_000 });

let kc: Keycloak;
let otao: RunningServer; // OTAO_AUTHZ_MODE=uma
let rpt: RunningServer; // OTAO_AUTHZ_MODE=rpt

async function adminCall(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${kc.url}/admin/realms${path}`, {
    method,
    headers: { Authorization: `Bearer ${await kc.adminToken()}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok && res.status !== 409) throw new Error(`Keycloak admin ${method} ${path}: ${res.status} ${await res.text()}`);
}

async function api(method: string, path: string, token: string, body?: unknown, server = otao): Promise<void> {
  const res = await fetch(`${server.baseUrl}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok && res.status !== 409) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

test.beforeAll(async () => {
  test.setTimeout(240_000);
  kc = await startKeycloak({ realms: ['tenant-a', 'tenant-b'], verbose: false });
  const ports = [await freePort(), await freePort()];
  const bases = ports.map((p) => `http://127.0.0.1:${p}`);
  for (const realm of kc.realms) {
    // the console's public client; Web Origins '+' (the redirect URIs' origins) lets the console call
    // the token endpoint from the browser (CORS), which the RPT exchange needs
    await adminCall('POST', `/${realm}/clients`, {
      clientId: 'otao-console',
      publicClient: true,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      redirectUris: bases.map((b) => `${b}/console/*`),
      webOrigins: ['+'],
      attributes: { 'pkce.code.challenge.method': 'S256', 'post.logout.redirect.uris': bases.map((b) => `${b}/console/*`).join('##') },
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
  const server = (port: number, mode: 'uma' | 'rpt') =>
    startServer(port, {
      OTAO_REPLICA_ID: `${tag}-${mode}`,
      OTAO_NATS_URLS: process.env['CONSOLE_TEST_NATS_URL']!,
      OTAO_MONGODB_URI: process.env['CONSOLE_TEST_MONGODB_URI']!,
      OTAO_MONGODB_DATABASE: `${tag}${mode}`,
      OTAO_SERVICE_INSTANCE_NAME: `otao-${tag}-${mode}`,
      OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME: `cmx-${tag}-${mode}`,
      OTAO_EPR_INSTANCE_NAME: `epr-${tag}-${mode}`,
      OTAO_APPLICATIONS_FILE: appsFile,
      OTAO_TENANTS: JSON.stringify(kc.realms.map((r) => ({ id: r, issuer: kc.issuer(r) }))),
      OTAO_AUTHZ_MODE: mode,
      OTAO_OAUTH_CLIENT_ID: kc.clientId,
      OTAO_OAUTH_CLIENT_SECRET: kc.clientSecret,
    });
  [otao, rpt] = await Promise.all([server(ports[0]!, 'uma'), server(ports[1]!, 'rpt')]);
  await api('POST', '/applications/kettle/software', await kc.passwordToken('tenant-a', 'admin'), { version: '1.0.0', rolloutStrategy: 'general' });
  await api('POST', '/applications/kettle/software', await kc.passwordToken('tenant-b', 'admin'), { version: '7.0.0', rolloutStrategy: 'suspended' });
  await api('POST', '/applications/kettle/software', await kc.rptToken('tenant-a', 'admin'), { version: '1.0.0', rolloutStrategy: 'general' }, rpt);
});

test.afterAll(async () => {
  await otao?.stop();
  await rpt?.stop();
  await kc?.stop();
});

async function signIn(page: Page, tenant: string, username: string, password: string, server = otao): Promise<void> {
  await page.goto(`${server.baseUrl}/console/?tenant=${tenant}`);
  await expect(page.getByRole('heading', { name: 'Sign in to OTAO' })).toBeVisible();
  await expect(page.getByText(`Tenant ${tenant}`)).toBeVisible();
  await page.getByRole('button', { name: 'Sign in with your organisation' }).click();
  await page.waitForURL(/\/realms\/.*\/protocol\/openid-connect\/auth/);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#kc-login').click();
  await expect(page.getByText(`${username} · tenant ${tenant}`)).toBeVisible({ timeout: 20_000 });
  expect(page.url()).toBe(`${server.baseUrl}/console/`);
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

/** The claims of a JWT (not verified: the server under test verifies it). */
function claims(jwt: string): { authorization?: { permissions?: { rsname: string; scopes?: string[] }[] } } {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as ReturnType<typeof claims>;
}

test('rpt mode: after sign-in the console obtains an RPT, calls the API with it, and renews it when it expires', async ({ page }) => {
  const errors = watchConsole(page);
  const config = (await (await fetch(`${rpt.baseUrl}/console/config.json`)).json()) as Record<string, unknown>;
  expect(config).toMatchObject({ auth: true, authzMode: 'rpt', rptAudience: kc.clientId });
  const rptGrants: string[] = [];
  const apiTokens: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url() === kc.tokenEndpoint('tenant-a') && /uma-ticket/.test(r.postData() ?? '')) rptGrants.push(r.postData()!);
    const auth = r.headers()['authorization'];
    if (r.url().startsWith(`${rpt.baseUrl}/api/v1/`) && auth) apiTokens.push(auth.replace(/^Bearer /, ''));
  });
  await page.clock.install(); // the page's clock, to let the RPT expire without waiting 30 minutes
  await signIn(page, 'tenant-a', 'admin', 'admin-pass', rpt);
  await expect(page.getByRole('link', { name: 'kettle', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'toaster', exact: true })).toBeVisible();
  expect(rptGrants).toHaveLength(1);
  expect(new URLSearchParams(rptGrants[0]).get('audience')).toBe(kc.clientId);
  // every API call carried the RPT: the token with the permissions claim, not the sign-in's access token
  expect(apiTokens.length).toBeGreaterThan(0);
  for (const t of apiTokens) expect(claims(t).authorization?.permissions?.map((p) => p.rsname)).toEqual(expect.arrayContaining(['application-kettle']));

  // the RPT lives as long as Keycloak's access tokens (30 min here): half an hour later the next call asks for a new one
  await page.clock.fastForward('30:00');
  await page.getByRole('link', { name: 'kettle', exact: true }).click();
  await expect(page.getByRole('link', { name: '1.0.0', exact: true })).toBeVisible();
  await expect.poll(() => rptGrants.length).toBeGreaterThanOrEqual(2);
  await screenshot(page, 'sign-in-rpt');
  expect(errors).toEqual([]);
});

test('rpt mode: a reader sees kettle only, and the API refuses a change in words (403)', async ({ page }) => {
  await signIn(page, 'tenant-a', 'reader', 'reader-pass', rpt);
  await expect(page.getByRole('link', { name: 'kettle', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'toaster', exact: true })).toHaveCount(0);
  await page.goto(`${rpt.baseUrl}/console/apps/kettle/software/new`);
  await page.getByLabel('Version (SemVer)').fill('1.1.0');
  await page.getByRole('button', { name: 'Create software' }).click();
  await expect(page.getByRole('alert')).toContainText(/scope application:software:update is required/);
});

test('rpt mode: a person without any permission is refused an RPT and sees no application', async ({ page }) => {
  const errors = watchConsole(page);
  await signIn(page, 'tenant-a', 'nobody', 'nobody-pass', rpt);
  await expect(page.getByText('No application of this tenant is visible to you.')).toBeVisible();
  await expect(page.getByRole('link', { name: 'kettle', exact: true })).toHaveCount(0);
  await page.goto(`${rpt.baseUrl}/console/apps/kettle`);
  await expect(page.getByRole('alert')).toContainText(/not found/i); // 404, as if kettle did not exist (spec §8)
  // Keycloak's 403 to the RPT request is logged by the browser as a failed resource load: the only error
  expect(errors.filter((e) => !/status of 403/.test(e) && !/status of 404/.test(e))).toEqual([]);
});
