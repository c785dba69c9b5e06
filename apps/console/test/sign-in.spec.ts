// Authentication on (spec §8, §11): a real Keycloak with two tenants (realms), the console's public
// client in each, and two more built servers with OTAO_TENANTS: one with UMA decisions, one with
// requesting-party tokens (OTAO_AUTHZ_MODE=rpt). A person picks a tenant, signs in at its issuer
// (authorization code + PKCE) and sees that tenant's software only; the same application name in the
// other tenant is another application. In rpt mode the console exchanges the access token for an
// RPT at the tenant's token endpoint and calls the API with it. A third server takes its tenants
// from a Tenant Manager stand-in (HTTP, the Tenant Manager's REST answer): there the person names the
// tenant and the console builds its issuer from config.json's `issuerBase`; its console client
// (`otao-console-short`) has access tokens of 5 s, so silent renewal is exercised, and sign-out ends
// the session at the issuer.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type Keycloak, startKeycloak } from '@otao/test-services';
import { expect, type Page, test } from '@playwright/test';
import { eventually, expectAccessible, screenshot, watchConsole } from './support/helpers';
import { type RunningServer, startServer } from './support/server';

test.describe.configure({ mode: 'serial', timeout: 240_000 });

let kc: Keycloak;
let otao: RunningServer; // OTAO_AUTHZ_MODE=uma
let rpt: RunningServer; // OTAO_AUTHZ_MODE=rpt
let tm: RunningServer; // tenants from the Tenant Manager stand-in, OTAO_AUTHZ_MODE=uma
let tenantManager: Server;
/** The console client of the Tenant Manager server: access tokens live this long (seconds). */
const SHORT_LIFESPAN_S = 5;

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
  const ports = [await freePort(), await freePort(), await freePort()];
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
    // the same for the Tenant Manager server, with access tokens of a few seconds (renewed silently)
    await adminCall('POST', `/${realm}/clients`, {
      clientId: 'otao-console-short',
      publicClient: true,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      redirectUris: [`${bases[2]}/console/*`],
      webOrigins: ['+'],
      attributes: {
        'pkce.code.challenge.method': 'S256',
        'post.logout.redirect.uris': `${bases[2]}/console/*`,
        'access.token.lifespan': String(SHORT_LIFESPAN_S),
      },
    });
  }
  // the Kaa Tenant Manager's REST answer (GET /api/v1/tenants): the tenants and their realms
  tenantManager = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ count: kc.realms.length, results: kc.realms.map((r) => ({ id: r, realm_name: r })) }));
  });
  await new Promise<void>((r) => tenantManager.listen(0, '127.0.0.1', () => r()));
  const tenantManagerUrl = `http://127.0.0.1:${(tenantManager.address() as AddressInfo).port}`;
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
  const server = (port: number, mode: 'uma' | 'rpt', name: string, directory: Record<string, string>) =>
    startServer(port, {
      OTAO_REPLICA_ID: `${tag}-${name}`,
      OTAO_NATS_URLS: process.env['CONSOLE_TEST_NATS_URL']!,
      OTAO_MONGODB_URI: process.env['CONSOLE_TEST_MONGODB_URI']!,
      OTAO_MONGODB_DATABASE: `${tag}${name}`,
      OTAO_SERVICE_INSTANCE_NAME: `otao-${tag}-${name}`,
      OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME: `cmx-${tag}-${name}`,
      OTAO_EPR_INSTANCE_NAME: `epr-${tag}-${name}`,
      OTAO_APPLICATIONS_FILE: appsFile,
      OTAO_AUTHZ_MODE: mode,
      OTAO_OAUTH_CLIENT_ID: kc.clientId,
      OTAO_OAUTH_CLIENT_SECRET: kc.clientSecret,
      ...directory,
    });
  const tenants = { OTAO_TENANTS: JSON.stringify(kc.realms.map((r) => ({ id: r, issuer: kc.issuer(r) }))) };
  [otao, rpt, tm] = await Promise.all([
    server(ports[0]!, 'uma', 'uma', tenants),
    server(ports[1]!, 'rpt', 'rpt', tenants),
    server(ports[2]!, 'uma', 'tm', {
      OTAO_TENANT_MANAGER_URL: tenantManagerUrl,
      OTAO_OAUTH_ISSUER: kc.issuer('tenant-a'), // the system tenant: OTAO's own calls, and the Keycloak base of every tenant's issuer
      OTAO_CONSOLE_CLIENT_ID: 'otao-console-short',
    }),
  ]);
  await api('POST', '/applications/kettle/software', await kc.passwordToken('tenant-a', 'admin'), { version: '1.0.0', rolloutStrategy: 'general' });
  await api('POST', '/applications/kettle/software', await kc.passwordToken('tenant-b', 'admin'), { version: '7.0.0', rolloutStrategy: 'suspended' });
  await api('POST', '/applications/kettle/software', await kc.rptToken('tenant-a', 'admin'), { version: '1.0.0', rolloutStrategy: 'general' }, rpt);
  await api('POST', '/applications/kettle/software', await kc.passwordToken('tenant-a', 'admin'), { version: '1.0.0', rolloutStrategy: 'general' }, tm);
  await api('POST', '/applications/kettle/software', await kc.passwordToken('tenant-b', 'admin'), { version: '7.0.0', rolloutStrategy: 'suspended' }, tm);
});

test.afterAll(async () => {
  await otao?.stop();
  await rpt?.stop();
  await tm?.stop();
  await new Promise<void>((r) => (tenantManager ? tenantManager.close(() => r()) : r()));
  await kc?.stop();
});

async function signIn(page: Page, tenant: string, username: string, password: string, server = otao): Promise<void> {
  await page.goto(`${server.baseUrl}/console/?tenant=${tenant}`);
  await signInAtIssuer(page, tenant, username, password, server);
}

/** From the console's sign-in page of `tenant`: the Keycloak login page of the tenant's realm, and back. */
async function signInAtIssuer(page: Page, tenant: string, username: string, password: string, server: RunningServer): Promise<void> {
  await expect(page.getByRole('heading', { name: 'Sign in to OTAO' })).toBeVisible();
  await expect(page.getByText(`Tenant ${tenant}`)).toBeVisible();
  await page.getByRole('button', { name: 'Sign in with your organisation' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${kc.issuer(tenant)}/protocol/openid-connect/auth?`));
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

/** The `iss` of each API call's bearer token, and the tokens, as the page sends them to `server`. */
function watchApiTokens(page: Page, server: RunningServer): { token: string; path: string }[] {
  const seen: { token: string; path: string }[] = [];
  page.on('request', (r) => {
    const auth = r.headers()['authorization'];
    if (r.url().startsWith(`${server.baseUrl}/api/v1/`)) seen.push({ token: auth?.replace(/^Bearer /, '') ?? '', path: new URL(r.url()).pathname });
  });
  return seen;
}
const issOf = (jwt: string): string => (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { iss: string }).iss;

test.describe('tenants from the Tenant Manager', () => {
  test('the person names a tenant, signs in at its realm (issuerBase + tenant) and sees only its applications', async ({ page }) => {
    const errors = watchConsole(page);
    const config = (await (await fetch(`${tm.baseUrl}/console/config.json`)).json()) as Record<string, unknown>;
    expect(config).toMatchObject({ auth: true, clientId: 'otao-console-short', tenants: [], issuerBase: `${kc.url}/realms/` });
    const calls = watchApiTokens(page, tm);

    await page.goto(`${tm.baseUrl}/console/`);
    const tenant = page.getByRole('combobox', { name: 'Tenant' }); // free text (with the Tenant Manager the console lists no tenant)
    await expect(tenant).toBeVisible();
    await expectAccessible(page, 'tenant picker with the Tenant Manager');
    await tenant.fill('tenant-b');
    await page.getByRole('button', { name: 'Continue' }).click();
    await signInAtIssuer(page, 'tenant-b', 'admin', 'admin-pass', tm);
    await expect(page.getByRole('link', { name: 'kettle', exact: true })).toBeVisible();
    await expect(page.getByRole('link', { name: 'toaster', exact: true })).toHaveCount(0); // tenant-a's application
    await page.getByRole('link', { name: 'kettle', exact: true }).click();
    await expect(page.getByRole('link', { name: '7.0.0', exact: true })).toBeVisible();
    await expect(page.getByText('1.0.0')).toHaveCount(0); // tenant-a's kettle
    await page.goto(`${tm.baseUrl}/console/apps/toaster`);
    await expect(page.getByRole('alert')).toContainText(/not found/i);
    // every call carried a token of tenant-b's realm
    expect(calls.length).toBeGreaterThan(2);
    for (const c of calls) expect(issOf(c.token)).toBe(kc.issuer('tenant-b'));
    await screenshot(page, 'sign-in-tenant-manager');
    expect(errors.filter((e) => !/status of 404/.test(e))).toEqual([]);
  });

  test('tenant-a through the same picker sees its own kettle and toaster', async ({ page }) => {
    await page.goto(`${tm.baseUrl}/console/`);
    await page.getByRole('combobox', { name: 'Tenant' }).fill('tenant-a');
    await page.getByRole('button', { name: 'Continue' }).click();
    await signInAtIssuer(page, 'tenant-a', 'admin', 'admin-pass', tm);
    await expect(page.getByRole('link', { name: 'toaster', exact: true })).toBeVisible();
    await page.getByRole('link', { name: 'kettle', exact: true }).click();
    await expect(page.getByRole('link', { name: '1.0.0', exact: true })).toBeVisible();
    await expect(page.getByText('7.0.0')).toHaveCount(0);
  });

  test('a tenant the issuer does not know is said in words, and another can be chosen', async ({ page }) => {
    await page.goto(`${tm.baseUrl}/console/`);
    await page.getByRole('combobox', { name: 'Tenant' }).fill('tenant-zz');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Sign in with your organisation' }).click();
    await expect(page.getByRole('alert')).toContainText('The sign-in service of tenant tenant-zz could not be reached, or it does not know this tenant');
    expect(page.url()).toBe(`${tm.baseUrl}/console/`);
    await expectAccessible(page, 'sign-in refused for an unknown tenant');
    await page.getByRole('button', { name: 'Choose another tenant' }).click();
    await expect(page.getByRole('combobox', { name: 'Tenant' })).toBeVisible();
  });

  test('the access token is renewed silently (refresh token) and API calls keep working after the first one expired', async ({ page }) => {
    const errors = watchConsole(page);
    const grants: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url() === kc.tokenEndpoint('tenant-a')) grants.push(new URLSearchParams(r.postData() ?? '').get('grant_type') ?? '');
    });
    const calls = watchApiTokens(page, tm);
    // The page's Date stands still (its timers run): the console's renewal is due 60 s before expiry,
    // which for a 5 s token is at once; with the time held, nothing is renewed until the test moves it.
    const t0 = Date.now();
    await page.clock.setFixedTime(t0);
    await signIn(page, 'tenant-a', 'admin', 'admin-pass', tm);
    await expect(page.getByRole('link', { name: 'kettle', exact: true })).toBeVisible();
    expect(grants).toEqual(['authorization_code']);
    const first = calls.at(-1)!.token;
    expect(first).not.toBe('');

    // real time passes until the API refuses the first token (5 s lifespan + the server's 30 s clock tolerance)
    const refused = await eventually(
      'the first access token refused',
      async () => {
        const res = await fetch(`${tm.baseUrl}/api/v1/applications`, { headers: { Authorization: `Bearer ${first}` } });
        return res.status === 200 ? undefined : res.status;
      },
      60_000,
    );
    expect(refused).toBe(401);
    expect(grants).toEqual(['authorization_code']); // the page's time stood still: not renewed yet

    // the page's time moves on: the console renews the token with the refresh token, without a redirect
    await page.clock.setFixedTime(t0 + 10_000);
    await expect.poll(() => grants).toEqual(['authorization_code', 'refresh_token']);
    const stored = () =>
      page.evaluate(() =>
        Object.keys(sessionStorage).flatMap((k) =>
          k.startsWith('oidc.user:') ? [(JSON.parse(sessionStorage.getItem(k)!) as { access_token: string }).access_token] : [],
        ),
      );
    await expect.poll(stored).toEqual([expect.not.stringMatching(`^${first}$`)]);
    const before = calls.length;
    await page.getByRole('link', { name: 'kettle', exact: true }).click();
    await expect(page.getByRole('link', { name: '1.0.0', exact: true })).toBeVisible();
    const after = calls.slice(before);
    expect(after.length).toBeGreaterThan(0);
    for (const c of after) {
      expect(c.token).not.toBe(first);
      expect(issOf(c.token)).toBe(kc.issuer('tenant-a'));
    }
    expect(page.url()).toBe(`${tm.baseUrl}/console/apps/kettle`); // no redirect to the issuer meanwhile
    expect(grants).toEqual(['authorization_code', 'refresh_token']); // one renewal
    expect(errors).toEqual([]);
  });

  test('a call that finds the access token expired waits for one renewal instead of failing (the timer came late)', async ({ page }) => {
    const errors = watchConsole(page);
    const grants: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url() === kc.tokenEndpoint('tenant-a')) grants.push(new URLSearchParams(r.postData() ?? '').get('grant_type') ?? '');
    });
    const calls = watchApiTokens(page, tm);
    const t0 = Date.now();
    await page.clock.setFixedTime(t0);
    await signIn(page, 'tenant-a', 'admin', 'admin-pass', tm);
    await expect(page.getByRole('link', { name: 'kettle', exact: true })).toBeVisible();
    const first = calls.at(-1)!.token;
    await eventually(
      'the first access token refused',
      async () => ((await fetch(`${tm.baseUrl}/api/v1/applications`, { headers: { Authorization: `Bearer ${first}` } })).status === 401 ? true : undefined),
      60_000,
    );
    // the page's time jumps and a call is made at once, before the expiring timer's next tick
    await page.clock.setFixedTime(t0 + 10_000);
    const before = calls.length;
    await page.getByRole('link', { name: 'kettle', exact: true }).click();
    await expect(page.getByRole('link', { name: '1.0.0', exact: true })).toBeVisible();
    for (const c of calls.slice(before)) expect(c.token).not.toBe(first);
    await expect.poll(() => grants).toEqual(['authorization_code', 'refresh_token']); // the timer and the call shared one renewal
    expect(errors).toEqual([]);
  });

  test('sign-out ends the session at the issuer and returns to the tenant picker; the old token is not used again', async ({ page }) => {
    const errors = watchConsole(page);
    let refreshToken: string | undefined;
    page.on('response', (r) => {
      if (r.request().method() === 'POST' && r.url() === kc.tokenEndpoint('tenant-a'))
        void r.json().then(
          (b: { refresh_token?: string }) => (refreshToken = b.refresh_token ?? refreshToken),
          () => undefined,
        );
    });
    const logouts: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(`${kc.issuer('tenant-a')}/protocol/openid-connect/logout`)) logouts.push(r.url());
    });
    const calls = watchApiTokens(page, tm);
    await signIn(page, 'tenant-a', 'admin', 'admin-pass', tm);
    await expect(page.getByRole('link', { name: 'kettle', exact: true })).toBeVisible();
    const used = new Set(calls.map((c) => c.token));
    expect(used.size).toBeGreaterThan(0);
    await expect.poll(() => refreshToken).toBeDefined();
    const signedInCalls = calls.length;

    const signOut = page.getByRole('button', { name: 'Sign out' });
    await signOut.focus(); // reachable by keyboard
    await page.keyboard.press('Enter');
    await page.waitForURL(`${tm.baseUrl}/console/`);
    await expect(page.getByRole('combobox', { name: 'Tenant' })).toBeVisible(); // the tenant picker
    expect(logouts).toHaveLength(1);
    const logout = new URL(logouts[0]!);
    expect(logout.searchParams.get('id_token_hint')).toBeTruthy();
    expect(logout.searchParams.get('post_logout_redirect_uri')).toBe(`${tm.baseUrl}/console/`);

    // the session is over at the issuer: its refresh token is refused, and signing in asks for the password again
    const refresh = await kc.tokenRequest('tenant-a', { grant_type: 'refresh_token', refresh_token: refreshToken!, client_id: 'otao-console-short' });
    expect(refresh.status).toBe(400);
    expect(refresh.body['error']).toBe('invalid_grant');
    await page.goto(`${tm.baseUrl}/console/?tenant=tenant-a`);
    await expect(page.getByRole('button', { name: 'Sign in with your organisation' })).toBeVisible();
    await page.goto(`${tm.baseUrl}/console/apps/kettle`);
    await expect(page.getByRole('heading', { name: 'Sign in to OTAO' })).toBeVisible();
    await page.getByRole('button', { name: 'Sign in with your organisation' }).click();
    await expect(page.locator('#username')).toBeVisible();
    // after the sign-out no API call carried a token of the session: none was made at all
    for (const c of calls.slice(signedInCalls)) expect(used.has(c.token)).toBe(false);
    expect(calls.slice(signedInCalls)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
