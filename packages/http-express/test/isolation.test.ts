import request from 'supertest';
import { createTestOtao, StaticAuthenticator, TablePermissionChecker } from '@otao/core/testing';
import { createHttpApp } from '../src';

// Two tenants, each with an application named "kettle". Tenant A has every scope on its kettle.
// Whatever A does, on every route and every method, B's software, endpoints and consents are
// neither visible, nor changed, nor detectable.
const ALL = ['application:software:read', 'application:software:update', 'application:software:delete'] as const;

async function setup() {
  const t = createTestOtao({
    apps: [
      { tenantId: 'tenant-a', appName: 'kettle', versions: ['kettle-a-v1'] },
      { tenantId: 'tenant-b', appName: 'kettle', versions: ['kettle-b-v1'] },
    ],
  });
  const permissions = new TablePermissionChecker().grant('tenant-a', 'alice', 'kettle', ALL).grant('tenant-b', 'bob', 'kettle', ALL);
  const app = createHttpApp({ core: t.core, authenticator: new StaticAuthenticator(), permissions });
  const bob = { Authorization: 'Bearer tenant-b:bob' };
  await request(app)
    .post('/api/v1/applications/kettle/software')
    .set(bob)
    .send({ version: '1.0.0', rolloutStrategy: 'general', specification: { secret: 'b' } })
    .expect(201);
  await request(app)
    .post('/api/v1/applications/kettle/software')
    .set(bob)
    .send({ version: '1.1.0', upgradableFrom: ['1.0.0'], rolloutStrategy: 'general' })
    .expect(201);
  await t.core.config.decide({ appVersionName: 'kettle-b-v1', endpointId: 'ep-b', configId: '1.0.0', correlationId: 'c' });
  await request(app).put('/api/v1/applications/kettle/endpoints/ep-b/consents/*').set(bob).expect(204);
  return { t, app, bob };
}

const snapshot = async (app: Parameters<typeof request>[0], bob: Record<string, string>) =>
  JSON.stringify([
    (await request(app).get('/api/v1/applications/kettle/software').set(bob)).body,
    (await request(app).get('/api/v1/applications/kettle/endpoints').set(bob)).body,
    (await request(app).get('/api/v1/applications/kettle/endpoints/ep-b/software').set(bob)).body,
    (await request(app).get('/api/v1/applications/kettle/software/1.1.0/rollout').set(bob)).body,
  ]);

test('tenant A can neither read, change, delete nor detect tenant B data on any route', async () => {
  const { t, app, bob } = await setup();
  const before = await snapshot(app, bob);
  const alice = { Authorization: 'Bearer tenant-a:alice' };
  const A = '/api/v1/applications/kettle';

  // reads: A sees its own (empty) application, never B's
  expect((await request(app).get(`${A}/software`).set(alice)).body).toEqual([]);
  for (const path of [
    `${A}/software/1.0.0`,
    `${A}/software/1.0.0/preview`,
    `${A}/software/1.0.0/rollout`,
    `${A}/software/1.0.0/rollout/history`,
    `${A}/endpoints/ep-b/software`,
  ]) {
    const res = await request(app).get(path).set(alice);
    expect(res.status).toBe(404);
    const absent = await request(app).get(path.replace('1.0.0', '9.9.9').replace('ep-b', 'nobody')).set(alice);
    expect(res.body.code).toBe(absent.body.code); // indistinguishable from something that does not exist
  }
  expect((await request(app).get(`${A}/endpoints`).set(alice)).body).toMatchObject({ content: [], totalElements: 0 });
  expect((await request(app).get(`${A}/endpoints?version=1.0.0`).set(alice)).body.totalElements).toBe(0);

  // writes: on B's versions and endpoints
  expect((await request(app).put(`${A}/software/1.0.0`).set(alice).send({ rolloutStrategy: 'suspended' })).status).toBe(404);
  expect((await request(app).delete(`${A}/software/1.0.0`).set(alice)).status).toBe(404);
  expect((await request(app).delete(`${A}/software/1.1.0`).set(alice).set('If-Match', '"r1"')).status).toBe(404);
  expect((await request(app).post(`${A}/software/1.1.0/rollout/advance`).set(alice)).status).toBe(404);
  expect((await request(app).put(`${A}/software/1.1.0/rollout/hold`).set(alice).send({ hold: true })).status).toBe(404);
  // consent calls act on A's own endpoint record of that id, never on B's
  await request(app).delete(`${A}/endpoints/ep-b/consents/*`).set(alice).expect(204);
  await request(app).put(`${A}/endpoints/ep-b/consents/1.1.0`).set(alice).expect(204);
  // A may create its own 1.0.0: no conflict with B's, so B's existence is not revealed
  await request(app).post(`${A}/software`).set(alice).send({ version: '1.0.0', rolloutStrategy: 'suspended' }).expect(201);
  await request(app)
    .post(`${A}/software`)
    .set(alice)
    .send({ version: '1.1.0', upgradableFrom: ['1.0.0'], rolloutStrategy: 'general' })
    .expect(201);

  // B is unchanged
  expect(await snapshot(app, bob)).toBe(before);
  expect((await t.software.get('tenant-b', 'kettle', '1.0.0'))?.specification).toEqual({ secret: 'b' });
  expect((await t.endpoints.get({ tenantId: 'tenant-b', appName: 'kettle', endpointId: 'ep-b' }))?.consents).toEqual(['*']);

  // and B cannot see A's either
  expect((await request(app).get(`${A}/software/1.0.0`).set(bob)).body.rolloutStrategy).toBe('general');
});

test("a principal of tenant B with no permission on A's application gets 404, as if it did not exist", async () => {
  const { app } = await setup();
  const mallory = { Authorization: 'Bearer tenant-b:mallory' };
  const res = await request(app).get('/api/v1/applications/kettle/software').set(mallory);
  const absent = await request(app).get('/api/v1/applications/teapot/software').set(mallory);
  expect(res.status).toBe(404);
  expect(res.body.code).toBe(absent.body.code);
});

test('GET /applications shows each tenant its own applications only, the same name in two tenants being two applications', async () => {
  const t = createTestOtao({
    apps: [
      { tenantId: 'tenant-a', appName: 'kettle', versions: ['kettle-a-v1'] },
      { tenantId: 'tenant-a', appName: 'toaster', versions: ['toaster-a-v1'], consentRequired: true },
      { tenantId: 'tenant-b', appName: 'kettle', versions: ['kettle-b-v2', 'kettle-b-v1'], consentRequired: true },
      { tenantId: 'tenant-b', appName: 'secret-b', versions: ['secret-b-v1'] },
    ],
  });
  // alice's grants name "secret-b" too, but in her own tenant, where no such application exists
  const permissions = new TablePermissionChecker()
    .grant('tenant-a', 'alice', 'kettle', ALL)
    .grant('tenant-a', 'alice', 'toaster', ['application:software:read'])
    .grant('tenant-a', 'alice', 'secret-b', ALL)
    .grant('tenant-b', 'bob', 'kettle', ALL);
  const app = createHttpApp({ core: t.core, authenticator: new StaticAuthenticator(), permissions });
  const alice = (await request(app).get('/api/v1/applications').set({ Authorization: 'Bearer tenant-a:alice' }).expect(200)).body;
  expect(alice).toEqual([
    { appName: 'kettle', consentRequired: false, appVersionNames: ['kettle-a-v1'] },
    { appName: 'toaster', consentRequired: true, appVersionNames: ['toaster-a-v1'] },
  ]);
  const bob = (await request(app).get('/api/v1/applications').set({ Authorization: 'Bearer tenant-b:bob' }).expect(200)).body;
  expect(bob).toEqual([{ appName: 'kettle', consentRequired: true, appVersionNames: ['kettle-b-v1', 'kettle-b-v2'] }]);
  // a principal of tenant B without any permission sees nothing of B (and nothing of A)
  expect((await request(app).get('/api/v1/applications').set({ Authorization: 'Bearer tenant-b:mallory' }).expect(200)).body).toEqual([]);
  // a tenant the registry does not know has no applications
  expect((await request(app).get('/api/v1/applications').set({ Authorization: 'Bearer tenant-c:alice' }).expect(200)).body).toEqual([]);
});
