import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrivateKey, generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import request from 'supertest';
import { actorOfToken } from '@otao/core';
import { createTestOtao, type TestOtao } from '@otao/core/testing';
import { createHttpApp } from '@otao/http-express';
import { startKeycloak, type Keycloak } from '@otao/test-services';
import { loadConfig } from '../src/config';
import { createSecurity } from '../src/security';

// REST with real tokens signed by a real Keycloak: two realms = two tenants (tenant-a, tenant-b),
// each with applications kettle and toaster, users admin / reader / nobody / toaster-admin.
// Tenants come from a Tenant Manager stand-in over HTTP.
let kc: Keycloak;
let tm: Server;
let tmUrl = '';
jest.setTimeout(240_000);

beforeAll(async () => {
  kc = await startKeycloak();
  tm = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        count: 2,
        results: [
          { id: 'tenant-a', realm_name: 'tenant-a' },
          { id: 'tenant-b', realm_name: 'tenant-b' },
        ],
      }),
    );
  });
  await new Promise<void>((r) => tm.listen(0, '127.0.0.1', () => r()));
  tmUrl = `http://127.0.0.1:${(tm.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => (tm ? tm.close(() => r()) : r()));
  await kc?.stop();
});

function stack(mode: 'rpt' | 'uma', audience = 'otao'): { t: TestOtao; app: ReturnType<typeof createHttpApp>; sec: ReturnType<typeof createSecurity> } {
  const cfg = loadConfig({
    OTAO_APPLICATIONS_FILE: __filename, // exists; the registry here is the test's own
    OTAO_TENANT_MANAGER_URL: tmUrl,
    OTAO_OAUTH_ISSUER: kc.issuer('tenant-a'),
    OTAO_OAUTH_CLIENT_ID: kc.clientId,
    OTAO_OAUTH_CLIENT_SECRET: kc.clientSecret,
    OTAO_OAUTH_AUDIENCE: audience,
    OTAO_AUTHZ_MODE: mode,
  });
  const t = createTestOtao({
    apps: ['tenant-a', 'tenant-b'].flatMap((tenantId) =>
      ['kettle', 'toaster'].map((appName) => ({ tenantId, appName, versions: [`${appName}-${tenantId}-v1`] })),
    ),
  });
  const sec = createSecurity(cfg);
  return { t, sec, app: createHttpApp({ core: t.core, authenticator: sec.authenticator, permissions: sec.permissions }) };
}

const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');

describe.each(['rpt', 'uma'] as const)('REST with Keycloak tokens, %s permission mode', (mode) => {
  let app: ReturnType<typeof createHttpApp>;
  let t: TestOtao;
  let sec: ReturnType<typeof createSecurity>;
  const token = async (realm: string, user: string): Promise<string> => (mode === 'rpt' ? kc.rptToken(realm, user) : kc.passwordToken(realm, user));
  const bearer = async (realm: string, user: string): Promise<Record<string, string>> => ({ Authorization: `Bearer ${await token(realm, user)}` });
  beforeAll(() => ({ t, app, sec } = stack(mode)));

  test('every status of the software routes with real tokens', async () => {
    const admin = await bearer('tenant-a', 'admin');
    const reader = await bearer('tenant-a', 'reader');
    const toasterAdmin = await bearer('tenant-a', 'toaster-admin');
    const base = '/api/v1/applications/kettle/software';
    // 201, 200, 409, 400, 412, 204
    const created = await request(app).post(base).set(admin).send({ version: '1.0.0', rolloutStrategy: 'general' });
    expect(created.status).toBe(201);
    expect((await request(app).get(base).set(reader)).body.map((s: { version: string }) => s.version)).toEqual(['1.0.0']);
    expect((await request(app).post(base).set(admin).send({ version: '1.0.0', rolloutStrategy: 'general' })).status).toBe(409);
    expect((await request(app).post(base).set(admin).send({ version: 'one', rolloutStrategy: 'general' })).status).toBe(400);
    expect((await request(app).put(`${base}/1.0.0`).set(admin).set('If-Match', '"r9"').send({ rolloutStrategy: 'suspended' })).status).toBe(412);
    // 403: reader has read on kettle but not update/delete
    const forbidden = await request(app).post(base).set(reader).send({ version: '2.0.0', rolloutStrategy: 'general' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('auth.forbidden');
    expect((await request(app).delete(`${base}/1.0.0`).set(reader)).status).toBe(403);
    // 404: no permission at all on kettle, indistinguishable from a missing application
    const hidden = await request(app).get(base).set(toasterAdmin);
    expect(hidden.status).toBe(404);
    expect(hidden.body.code).toBe((await request(app).get('/api/v1/applications/teapot/software').set(admin)).body.code);
    await request(app).delete(`${base}/1.0.0`).set(admin).expect(204);
    expect(t.events.events.map((e) => e.type)).toEqual(expect.arrayContaining(['created', 'deleted']));
  });

  test('a user with no permission at all gets 404 (rpt: no RPT can even be issued, so their plain token is refused the same way)', async () => {
    const plain = { Authorization: `Bearer ${await kc.passwordToken('tenant-a', 'nobody')}` };
    const res = await request(app).get('/api/v1/applications/kettle/software').set(plain);
    expect(res.status).toBe(404);
  });

  test('tenants are isolated: the same application name in tenant-b is another application', async () => {
    const a = await bearer('tenant-a', 'admin');
    const b = await bearer('tenant-b', 'admin');
    await request(app)
      .post('/api/v1/applications/kettle/software')
      .set(b)
      .send({ version: '7.0.0', rolloutStrategy: 'general', specification: { tenant: 'b' } })
      .expect(201);
    expect((await request(app).get('/api/v1/applications/kettle/software/7.0.0').set(a)).status).toBe(404);
    expect((await request(app).get('/api/v1/applications/kettle/software').set(a)).body).toEqual([]);
    expect((await request(app).delete('/api/v1/applications/kettle/software/7.0.0').set(a)).status).toBe(404);
    expect((await request(app).get('/api/v1/applications/kettle/software/7.0.0').set(b)).body.specification).toEqual({ tenant: 'b' });
    await request(app).delete('/api/v1/applications/kettle/software/7.0.0').set(b).expect(204);
  });

  test("GET /applications lists the applications of the caller's realm it may read, and nothing of the other realm", async () => {
    const names = async (headers: Record<string, string>): Promise<unknown> => {
      const res = await request(app).get('/api/v1/applications').set(headers).expect(200);
      return res.body;
    };
    const app1 = (appName: string, tenantId: string) => ({ appName, consentRequired: false, appVersionNames: [`${appName}-${tenantId}-v1`] });
    expect(await names(await bearer('tenant-a', 'admin'))).toEqual([app1('kettle', 'tenant-a'), app1('toaster', 'tenant-a')]);
    expect(await names(await bearer('tenant-b', 'admin'))).toEqual([app1('kettle', 'tenant-b'), app1('toaster', 'tenant-b')]);
    expect(await names(await bearer('tenant-a', 'reader'))).toEqual([app1('kettle', 'tenant-a')]);
    expect(await names(await bearer('tenant-b', 'toaster-admin'))).toEqual([app1('toaster', 'tenant-b')]);
    // no permission at all: an empty list (a plain token, as no RPT can be issued)
    expect(await names({ Authorization: `Bearer ${await kc.passwordToken('tenant-a', 'nobody')}` })).toEqual([]);
    expect((await request(app).get('/api/v1/applications')).status).toBe(401);
  });

  test('forged, tampered, unsigned, foreign-key and wrong-audience tokens get 401', async () => {
    const real = await token('tenant-a', 'admin');
    const [h, p, s] = real.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${h}.${b64({ ...payload, sub: 'someone-else' })}.${s}`;
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const foreignInput = `${b64({ ...header, kid: 'unknown-kid' })}.${p}`;
    const foreign = `${foreignInput}.${rsaSign('RSA-SHA256', Buffer.from(foreignInput), createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }))).toString('base64url')}`;
    const wrongIssuer = `${h}.${b64({ ...payload, iss: 'http://127.0.0.1:1/realms/evil' })}.${s}`;
    for (const bad of [tampered, unsigned, foreign, wrongIssuer, 'not.a.jwt', `${h}.${p}`]) {
      const res = await request(app).get('/api/v1/applications/kettle/software').set('Authorization', `Bearer ${bad}`);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('auth.unauthenticated');
    }
    expect((await request(app).get('/api/v1/applications/kettle/software')).status).toBe(401);
    // wrong audience: a genuine token (aud otao, account) at an OTAO that requires another audience
    const strict = stack(mode, 'billing').app;
    const res = await request(strict).get('/api/v1/applications/kettle/software').set('Authorization', `Bearer ${real}`);
    expect(res.status).toBe(401);
    expect(res.body.message).toContain('aud');
    expect((await request(app).get('/api/v1/applications/kettle/software').set('Authorization', `Bearer ${real}`)).status).toBe(200);
  });

  test('audit log: the actor of a user token is the user (sub, preferred_username); of a client-credentials token the client', async () => {
    const admin = await token('tenant-a', 'admin');
    await request(app)
      .post('/api/v1/applications/toaster/software')
      .set('Authorization', `Bearer ${admin}`)
      .set('Correlation-ID', `kc-audit-${mode}`)
      .send({ version: '3.0.0', rolloutStrategy: 'general' })
      .expect(201);
    const res = await request(app)
      .get('/api/v1/applications/toaster/audit?action=software.created')
      .set(await bearer('tenant-a', 'admin'))
      .expect(200);
    const entry = res.body.content.find((e: { correlationId: string }) => e.correlationId === `kc-audit-${mode}`);
    const sub = JSON.parse(Buffer.from(admin.split('.')[1]!, 'base64url').toString()).sub as string;
    expect(entry).toMatchObject({ tenantId: 'tenant-a', appName: 'toaster', version: '3.0.0', actor: { type: 'user', id: sub, name: 'admin' } });
    expect(JSON.stringify(res.body)).not.toContain(admin);
    // a client-credentials token, verified by the same authenticator
    const client = await sec.authenticator.authenticate(`Bearer ${await kc.clientCredentialsToken('tenant-a')}`);
    if (!client.ok) throw new Error(client.error.message);
    expect(actorOfToken(client.value.subject, client.value.claims)).toEqual({ type: 'client', id: kc.clientId, name: `service-account-${kc.clientId}` });
    await request(app).delete('/api/v1/applications/toaster/software/3.0.0').set('Authorization', `Bearer ${admin}`).expect(204);
  });
});
