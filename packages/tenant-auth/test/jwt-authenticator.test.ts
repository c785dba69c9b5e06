import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { isOtaoError } from '@otao/core';
import { JwtAuthenticator, RptPermissionChecker, StaticTenantDirectory, TenantManagerDirectory, parseTenantList } from '../src';
import { b64url, LocalIssuer } from './local-issuer';

let issuer: LocalIssuer;
let other: LocalIssuer;
beforeAll(async () => {
  issuer = await LocalIssuer.start();
  other = await LocalIssuer.start();
});
afterAll(async () => {
  await issuer.stop();
  await other.stop();
});

const auth = (audience?: string) =>
  new JwtAuthenticator({
    directory: new StaticTenantDirectory([
      { id: 'tenant-a', issuer: issuer.url },
      { id: 'tenant-b', issuer: `${other.url}/` },
    ]),
    clockToleranceSeconds: 0,
    jwksCooldownMs: 0,
    ...(audience ? { audience } : {}),
  });

test('a valid token authenticates as the tenant of its issuer', async () => {
  const a = auth();
  const r = await a.authenticate(`Bearer ${await issuer.sign({ scope: 'x' })}`);
  expect(r.ok && r.value.tenantId).toBe('tenant-a');
  expect(r.ok && r.value.subject).toBe('user-1');
  const b = await a.authenticate(`Bearer ${await other.sign({})}`);
  expect(b.ok && b.value.tenantId).toBe('tenant-b');
});

test.each([
  ['missing header', async () => undefined],
  ['not bearer', async () => 'Basic abc'],
  ['garbage', async () => 'Bearer not-a-jwt'],
  ['expired', async () => `Bearer ${await issuer.sign({}, { expSeconds: -60 })}`],
  ['not yet valid', async () => `Bearer ${await issuer.sign({}, { nbf: Math.floor(Date.now() / 1000) + 600 })}`],
  ['unknown issuer', async () => `Bearer ${await issuer.sign({}, { iss: 'https://evil.example/realms/x' })}`],
  ['issuer of another tenant signed with this key', async () => `Bearer ${await issuer.sign({}, { iss: other.url })}`],
  ['unknown kid', async () => `Bearer ${await issuer.sign({}, { kid: 'k1', key: await issuer.unpublishedKey() })}`],
  ['alg none', async () => `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: issuer.url, sub: 'x', exp: 9999999999 })}.`],
  [
    'HS256 with the public key as secret',
    async () =>
      `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setIssuer(issuer.url).setExpirationTime('5m').sign(new TextEncoder().encode('secret'))}`,
  ],
  [
    'tampered payload',
    async () => {
      const [h, , s] = (await issuer.sign({ role: 'user' })).split('.');
      return `Bearer ${h}.${b64url({ iss: issuer.url, sub: 'admin', exp: 9999999999, role: 'admin' })}.${s}`;
    },
  ],
  [
    'no exp',
    async () =>
      `Bearer ${await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'nokid' })
        .setIssuer(issuer.url)
        .sign(await issuer.unpublishedKey())}`,
  ],
])('401: %s', async (_name, header) => {
  const r = await auth().authenticate(await header());
  expect(r.ok).toBe(false);
  expect(!r.ok && r.error.code).toBe('auth.unauthenticated');
});

test('wrong audience is refused when an audience is configured', async () => {
  const a = auth('otao');
  expect((await a.authenticate(`Bearer ${await issuer.sign({ aud: 'other' })}`)).ok).toBe(false);
  expect((await a.authenticate(`Bearer ${await issuer.sign({ aud: ['otao', 'x'] })}`)).ok).toBe(true);
});

test('key rotation: a token with a new kid verifies after the JWKS is refetched', async () => {
  const a = auth();
  expect((await a.authenticate(`Bearer ${await issuer.sign({})}`)).ok).toBe(true);
  const before = issuer.jwksRequests;
  await issuer.rotate('k2');
  const r = await a.authenticate(`Bearer ${await issuer.sign({}, { kid: 'k2' })}`);
  expect(r.ok).toBe(true);
  expect(issuer.jwksRequests).toBeGreaterThan(before);
});

test('an unreachable issuer is a dependency failure (503), not a 401', async () => {
  const dead = await LocalIssuer.start();
  const token = await dead.sign({});
  await dead.stop();
  const a = new JwtAuthenticator({ directory: new StaticTenantDirectory([{ id: 't', issuer: dead.url }]), timeoutMs: 500 });
  const e: unknown = await a.authenticate(`Bearer ${token}`).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isOtaoError(e) && e.code).toBe('dependency.unavailable');
});

test('RPT permissions: granted, forbidden (resource without scope), none (no resource)', async () => {
  const p = new RptPermissionChecker();
  const principal = (perms: unknown) => ({ tenantId: 't', subject: 's', token: '', claims: { authorization: { permissions: perms } } });
  const perms = [{ rsname: 'application-kettle', scopes: ['application:software:read'] }];
  expect(await p.check(principal(perms), 'kettle', 'application:software:read')).toBe('granted');
  expect(await p.check(principal(perms), 'kettle', 'application:software:update')).toBe('forbidden');
  expect(await p.check(principal(perms), 'toaster', 'application:software:read')).toBe('none');
  expect(await p.check({ tenantId: 't', subject: 's', token: '', claims: {} }, 'kettle', 'application:software:read')).toBe('none');
});

test('Tenant Manager directory: derived issuers, refresh on unknown issuer, rate-limited', async () => {
  let calls = 0;
  let tenants = [{ id: 'acme', realm_name: 'acme' }];
  const srv = createServer((req, res) => {
    calls++;
    expect(req.url).toBe('/api/v1/tenants?limit=0');
    expect(req.headers.authorization).toBe('Bearer svc');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ count: tenants.length, results: tenants }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  let now = 1_000_000;
  const dir = new TenantManagerDirectory({
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    keycloakBaseUrl: 'http://kc:8080/',
    tokens: { token: async () => 'svc' },
    minRefreshIntervalMs: 10_000,
    now: () => now,
  });
  expect(await dir.tenantOfIssuer('http://kc:8080/realms/acme')).toBe('acme');
  expect(calls).toBe(1);
  tenants = [...tenants, { id: 'beta', realm_name: 'beta' }];
  expect(await dir.tenantOfIssuer('http://kc:8080/realms/beta')).toBeUndefined(); // within the interval: no refresh
  expect(calls).toBe(1);
  now += 10_001;
  expect(await dir.tenantOfIssuer('http://kc:8080/realms/beta')).toBe('beta');
  expect(calls).toBe(2);
  await new Promise<void>((r) => srv.close(() => r()));
});

test('21/TLE unregistered: a token verified (and cached) before gets 401 after forgetTenant; other tenants are untouched', async () => {
  const a = auth();
  const tokenA = `Bearer ${await issuer.sign({})}`;
  const tokenB = `Bearer ${await other.sign({})}`;
  expect((await a.authenticate(tokenA)).ok).toBe(true);
  expect((await a.authenticate(tokenA)).ok).toBe(true); // now served from the verified-token cache
  expect((await a.authenticate(tokenB)).ok).toBe(true);
  a.forgetTenant('tenant-a');
  const after = await a.authenticate(tokenA);
  expect(!after.ok && after.error.code).toBe('auth.unauthenticated');
  expect((await a.authenticate(`Bearer ${await issuer.sign({ sub: 'fresh' })}`)).ok).toBe(false); // new tokens too
  expect((await a.authenticate(tokenB)).ok).toBe(true);
  a.forgetTenant('tenant-a'); // idempotent
});

test('21/TLE unregistered during a verification: the token is refused and not cached', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const directory = new StaticTenantDirectory([{ id: 'tenant-a', issuer: issuer.url }]);
  const slow = {
    tenantOfIssuer: async (iss: string) => {
      const t = await directory.tenantOfIssuer(iss);
      await gate;
      return t;
    },
    refresh: () => directory.refresh(),
    forget: (id: string) => directory.forget(id),
  };
  const a = new JwtAuthenticator({ directory: slow, jwksCooldownMs: 0 });
  const token = `Bearer ${await issuer.sign({})}`;
  const pending = a.authenticate(token);
  await new Promise((r) => setTimeout(r, 20));
  a.forgetTenant('tenant-a');
  release();
  const r = await pending;
  expect(!r.ok && r.error.message).toMatch(/unregistered/);
  expect((await a.authenticate(token)).ok).toBe(false);
});

test('Tenant Manager directory: forget drops a tenant at once, and a refresh already under way does not bring it back', async () => {
  let tenants = [
    { id: 'acme', realm_name: 'acme' },
    { id: 'beta', realm_name: 'beta' },
  ];
  let hold: Promise<void> | undefined;
  const srv = createServer((_req, res) => {
    const list = tenants; // the list as it is when the request arrives
    void (hold ?? Promise.resolve()).then(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ count: list.length, results: list }));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const dir = new TenantManagerDirectory({
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    keycloakBaseUrl: 'http://kc:8080',
    minRefreshIntervalMs: 0,
  });
  await dir.refresh();
  expect(await dir.tenantOfIssuer('http://kc:8080/realms/acme')).toBe('acme');
  // A refresh is under way (the Tenant Manager still lists acme) when acme is unregistered.
  let release!: () => void;
  hold = new Promise<void>((r) => (release = r));
  const refreshing = dir.refresh();
  await new Promise((r) => setTimeout(r, 50));
  dir.forget('acme');
  release();
  await refreshing;
  hold = undefined;
  tenants = [{ id: 'beta', realm_name: 'beta' }];
  expect(await dir.tenantOfIssuer('http://kc:8080/realms/acme')).toBeUndefined();
  expect(await dir.tenantOfIssuer('http://kc:8080/realms/beta')).toBe('beta');
  // Registered again later: a refresh started after the forget decides.
  tenants = [...tenants, { id: 'acme', realm_name: 'acme' }];
  await dir.refresh();
  expect(await dir.tenantOfIssuer('http://kc:8080/realms/acme')).toBe('acme');
  await new Promise<void>((r) => srv.close(() => r()));
});

test('OTAO_TENANTS parsing reports every problem', () => {
  expect(parseTenantList('[{"id":"a","issuer":"https://x/realms/a"}]').tenants).toEqual([{ id: 'a', issuer: 'https://x/realms/a' }]);
  expect(parseTenantList('nope').problems).toHaveLength(1);
  expect(parseTenantList('[{"id":""},{"issuer":"ftp://x"}]').problems).toHaveLength(2);
});
