import Ajv2020 from 'ajv/dist/2020';
import request from 'supertest';
import { createTestOtao, StaticAuthenticator, TablePermissionChecker } from '@otao/core/testing';
import { createHttpApp } from '../src';
import { OPENAPI_DOCUMENT } from '../src/openapi';

// GET /api/v1/applications/{appName}/audit (spec §6.4.1, §4.13): tenant-isolated like every route,
// the actor of each change taken from the caller's token, clear 400s for bad queries.
const ALL = ['application:software:read', 'application:software:update', 'application:software:delete'] as const;
const ajv = new Ajv2020({ strict: false });
ajv.addSchema(OPENAPI_DOCUMENT as object, 'openapi.json');
const auditPage = ajv.compile({ $ref: 'openapi.json#/components/schemas/AuditPage' });

function setup() {
  const t = createTestOtao({
    apps: [
      { tenantId: 'tenant-a', appName: 'kettle', versions: ['kettle-a-v1'] },
      { tenantId: 'tenant-b', appName: 'kettle', versions: ['kettle-b-v1'] },
    ],
  });
  const permissions = new TablePermissionChecker()
    .grant('tenant-a', 'alice', 'kettle', ALL)
    .grant('tenant-a', 'writer', 'kettle', ['application:software:update'])
    .grant('tenant-b', 'bob', 'kettle', ALL);
  const app = createHttpApp({ core: t.core, authenticator: new StaticAuthenticator(), permissions });
  return { t, app };
}
const alice = { Authorization: 'Bearer tenant-a:alice' };
const bob = { Authorization: 'Bearer tenant-b:bob' };
const AUDIT = '/api/v1/applications/kettle/audit';

test('every change made over REST is audited with the caller as actor and the request id', async () => {
  const { t, app } = setup();
  const sw = '/api/v1/applications/kettle/software';
  await request(app)
    .post(sw)
    .set(alice)
    .set('Correlation-ID', 'req-1')
    .send({ version: '1.0.0', rolloutStrategy: 'general', specification: { key: 'hush' } })
    .expect(201);
  t.clock.advance(1000);
  await request(app)
    .put(`${sw}/1.0.0`)
    .set(alice)
    .set('Correlation-ID', 'req-2')
    .send({ rolloutStrategy: 'suspended', specification: { key: 'hush' } })
    .expect(200);
  t.clock.advance(1000);
  await request(app).put('/api/v1/applications/kettle/endpoints/ep-1/consents/*').set(alice).set('Correlation-ID', 'req-3').expect(204);
  t.clock.advance(1000);
  await request(app).delete('/api/v1/applications/kettle/endpoints/ep-1/consents/*').set(alice).set('Correlation-ID', 'req-4').expect(204);
  t.clock.advance(1000);
  await request(app).delete(`${sw}/1.0.0`).set(alice).set('Correlation-ID', 'req-5').expect(204);

  const res = await request(app).get(AUDIT).set(alice).expect(200);
  if (!auditPage(res.body as object)) throw new Error(JSON.stringify(auditPage.errors));
  expect(res.body.totalElements).toBe(5);
  expect(res.body.content.map((e: { action: string; correlationId: string }) => [e.action, e.correlationId])).toEqual([
    ['software.deleted', 'req-5'],
    ['consent.revoked', 'req-4'],
    ['consent.granted', 'req-3'],
    ['software.updated', 'req-2'],
    ['software.created', 'req-1'],
  ]);
  expect(res.body.content[0]).toMatchObject({
    tenantId: 'tenant-a',
    appName: 'kettle',
    actor: { type: 'user', id: 'alice' },
    version: '1.0.0',
    at: '2026-01-01T00:00:04Z',
  });
  expect(res.body.content[3].changes).toEqual({ rolloutStrategy: { old: 'general', new: 'suspended' } });
  expect(JSON.stringify(res.body)).not.toContain('hush');
  // filters and pages
  const q = async (query: string) => (await request(app).get(`${AUDIT}?${query}`).set(alice).expect(200)).body;
  expect((await q('action=consent.granted')).content.map((e: { endpointId: string }) => e.endpointId)).toEqual(['ep-1']);
  expect((await q('endpointId=ep-1')).totalElements).toBe(2);
  expect((await q('version=1.0.0&limit=1&offset=1')).content.map((e: { correlationId: string }) => e.correlationId)).toEqual(['req-2']);
  expect((await q('actor=alice')).totalElements).toBe(5);
  expect((await q('actor=mallory')).totalElements).toBe(0);
  expect((await q('since=2026-01-01T00:00:01Z&until=2026-01-01T00:00:03Z')).content.map((e: { correlationId: string }) => e.correlationId)).toEqual([
    'req-3',
    'req-2',
  ]);
});

test('tenant-isolated: another tenant sees none of the entries; 404 without any permission, 403 without the read scope', async () => {
  const { app } = setup();
  await request(app).post('/api/v1/applications/kettle/software').set(bob).send({ version: '1.0.0', rolloutStrategy: 'general' }).expect(201);
  expect((await request(app).get(AUDIT).set(bob).expect(200)).body.totalElements).toBe(1);
  expect((await request(app).get(AUDIT).set(alice).expect(200)).body).toEqual({ content: [], totalElements: 0 });
  const none = await request(app).get(AUDIT).set({ Authorization: 'Bearer tenant-b:mallory' });
  const absent = await request(app).get('/api/v1/applications/teapot/audit').set(bob);
  expect([none.status, none.body.code]).toEqual([404, 'application.not_found']);
  expect(absent.body.code).toBe(none.body.code);
  const forbidden = await request(app).get(AUDIT).set({ Authorization: 'Bearer tenant-a:writer' });
  expect([forbidden.status, forbidden.body.code]).toEqual([403, 'auth.forbidden']);
  expect((await request(app).get(AUDIT)).status).toBe(401);
  expect((await request(app).post(AUDIT).set(alice)).status).toBe(405);
});

test.each([
  ['limit=0', 'limit'],
  ['limit=1001', 'limit'],
  ['limit=ten', 'limit'],
  ['offset=-1', 'offset'],
  ['action=software.exploded', 'action'],
  ['since=yesterday', 'since'],
  ['until=2026-13-01T00:00:00Z', 'until'],
  ['since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', 'since'],
  ['version=1.0.0&version=2.0.0', 'version'],
  ['acton=software.created', 'acton'],
  ['actor=', 'actor'],
])('400 for %s, naming %s', async (query, field) => {
  const { app } = setup();
  const res = await request(app).get(`${AUDIT}?${query}`).set(alice);
  expect(res.status).toBe(400);
  expect(res.body.code).toBe('request.invalid');
  expect(res.body.message.startsWith(`${field}:`)).toBe(true);
});

test('with authentication off the actor is the fixed anonymous actor', async () => {
  const t = createTestOtao({ apps: [{ tenantId: 'default', appName: 'kettle', versions: ['kettle-v1'] }] });
  const app = createHttpApp({ core: t.core, authenticator: new StaticAuthenticator(), permissions: new TablePermissionChecker(), securityIgnored: ['/**'] });
  await request(app).post('/api/v1/applications/kettle/software').send({ version: '1.0.0', rolloutStrategy: 'general' }).expect(201);
  const res = await request(app).get(AUDIT).expect(200);
  expect(res.body.content[0].actor).toEqual({ type: 'user', id: 'anonymous', name: 'anonymous (authentication off)' });
});
