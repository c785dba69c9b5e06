import request from 'supertest';
import Ajv2020 from 'ajv/dist/2020';
import { createTestOtao, StaticAuthenticator, TablePermissionChecker } from '@otao/core/testing';
import { createHttpApp } from '../src';
import { OPENAPI_DOCUMENT } from '../src/openapi';

// Spec §6.3: advance and hold of a phased rollout, the rollout view's phase and the preview's later reasons.
const A = 'tenant-a';
const APP = 'kettle';
const admin = { Authorization: `Bearer ${A}:admin` };
const reader = { Authorization: `Bearer ${A}:reader` };
const stranger = { Authorization: `Bearer ${A}:stranger` };
const R = `/api/v1/applications/${APP}/software`;

async function setup() {
  const t = createTestOtao({
    apps: [
      { tenantId: A, appName: APP, versions: ['kettle-v1'] },
      { tenantId: A, appName: 'toaster', versions: ['toaster-v1'] },
      { tenantId: 'tenant-b', appName: APP, versions: ['kettle-b-v1'] },
    ],
    start: '2026-03-04T05:06:07Z',
  });
  const permissions = new TablePermissionChecker()
    .grant(A, 'admin', APP, ['application:software:read', 'application:software:update', 'application:software:delete'])
    .grant(A, 'reader', APP, ['application:software:read'])
    .grant(A, 'stranger', 'toaster', ['application:software:read'])
    .grant('tenant-b', 'bob', APP, ['application:software:read', 'application:software:update']);
  const app = createHttpApp({ core: t.core, authenticator: new StaticAuthenticator(), permissions });
  await request(app).post(R).set(admin).send({ version: '1.0.0', rolloutStrategy: 'general' }).expect(201);
  await request(app)
    .post(R)
    .set(admin)
    .send({
      version: '2.0.0',
      upgradableFrom: ['1.0.0'],
      rolloutStrategy: 'general',
      phases: [{ percent: 10, soakMinutes: 30 }, { percent: 50 }, { percent: 100 }],
    })
    .expect(201);
  return { t, app };
}

const ajv = new Ajv2020({ strict: false });
ajv.addSchema(OPENAPI_DOCUMENT as object, 'openapi.json');
const matchesSchema = (name: string, value: unknown): void => {
  const v = ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });
  if (!v(value)) throw new Error(`${name}: ${JSON.stringify(v.errors)}`);
};

test('GET rollout shows the open phase with Kaa dates and what it waits for', async () => {
  const { app } = await setup();
  const res = await request(app).get(`${R}/2.0.0/rollout`).set(reader).expect(200);
  expect(res.body.phase).toEqual({
    index: 0,
    percent: 10,
    openedAt: '2026-03-04T05:06:07Z',
    hold: false,
    waitingFor: 'soak',
    nextCheckAt: '2026-03-04T05:36:07Z',
  });
  matchesSchema('Rollout', res.body);
  expect((await request(app).get(`${R}/1.0.0/rollout`).set(reader).expect(200)).body.phase).toBeUndefined();
});

test('POST advance opens the next phase (200 with the rollout); 409 on the last phase and when not phased', async () => {
  const { t, app } = await setup();
  const res = await request(app).post(`${R}/2.0.0/rollout/advance`).set(admin).set('Correlation-ID', 'adv-1').expect(200);
  expect(res.body).toMatchObject({ version: '2.0.0', phase: { index: 1, percent: 50, hold: false } });
  matchesSchema('Rollout', res.body);
  expect(t.events.events.at(-1)).toMatchObject({ type: 'phase-advanced', correlationId: 'adv-1' });
  await request(app).post(`${R}/2.0.0/rollout/advance`).set(admin).expect(200);
  const last = await request(app).post(`${R}/2.0.0/rollout/advance`).set(admin).expect(409);
  expect(last.body.code).toBe('rollout.last_phase');
  expect((await request(app).post(`${R}/1.0.0/rollout/advance`).set(admin).expect(409)).body.code).toBe('rollout.not_phased');
  expect((await request(app).post(`${R}/9.9.9/rollout/advance`).set(admin).expect(404)).body.code).toBe('software.not_found');
  await request(app)
    .put(`${R}/2.0.0`)
    .set(admin)
    .send({ rolloutStrategy: 'suspended', upgradableFrom: ['1.0.0'], phases: [{ percent: 10 }, { percent: 100 }] })
    .expect(200);
  expect((await request(app).post(`${R}/2.0.0/rollout/advance`).set(admin).expect(409)).body.code).toBe('rollout.suspended');
});

test('PUT hold holds and resumes; the body is validated (hold required, reason ≤ 500 characters, nothing else)', async () => {
  const { app } = await setup();
  const held = await request(app).put(`${R}/2.0.0/rollout/hold`).set(admin).send({ hold: true, reason: 'canaries look odd' }).expect(200);
  expect(held.body.phase).toMatchObject({ hold: true, holdReason: 'canaries look odd', waitingFor: 'hold' });
  expect(held.body.phase.nextCheckAt).toBeUndefined();
  matchesSchema('Rollout', held.body);
  expect((await request(app).get(`${R}/2.0.0`).set(reader).expect(200)).body.phase).toMatchObject({ hold: true, holdReason: 'canaries look odd' });
  const resumed = await request(app).put(`${R}/2.0.0/rollout/hold`).set(admin).send({ hold: false }).expect(200);
  expect(resumed.body.phase).toMatchObject({ hold: false, waitingFor: 'soak' });
  for (const bad of [{}, { hold: 'yes' }, { hold: true, reason: 'x'.repeat(501) }, { hold: true, colour: 'red' }, [true]]) {
    expect((await request(app).put(`${R}/2.0.0/rollout/hold`).set(admin).send(bad)).status).toBe(400);
  }
  await request(app)
    .put(`${R}/2.0.0/rollout/hold`)
    .set(admin)
    .send({ hold: true, reason: 'x'.repeat(500) })
    .expect(200);
  expect((await request(app).put(`${R}/2.0.0/rollout/hold`).set(admin).set('Content-Type', 'text/plain').send('hold')).status).toBe(415);
  expect((await request(app).put(`${R}/1.0.0/rollout/hold`).set(admin).send({ hold: true }).expect(409)).body.code).toBe('rollout.not_phased');
});

test('authorization like the other routes: 401 without a token, 403 with read only, 404 with no permission at all (same as absent); checked before the body', async () => {
  const { t, app } = await setup();
  const rev = (await t.software.get(A, APP, '2.0.0'))?.revision;
  for (const [method, path, send] of [
    ['post', `${R}/2.0.0/rollout/advance`, undefined],
    ['put', `${R}/2.0.0/rollout/hold`, { hold: true }],
  ] as const) {
    const call = (h: Record<string, string>, b: unknown = send) => {
      const r = method === 'post' ? request(app).post(path).set(h) : request(app).put(path).set(h);
      return b === undefined ? r : r.send(b as object);
    };
    expect((await call({})).status).toBe(401);
    const forb = await call(reader);
    expect(forb.status).toBe(403);
    expect(forb.body.code).toBe('auth.forbidden');
    const none = await call(stranger, { bad: 'body' });
    expect(none.status).toBe(404);
    const absent = await (method === 'post'
      ? request(app).post(path.replace(APP, 'teapot')).set(stranger)
      : request(app).put(path.replace(APP, 'teapot')).set(stranger).send({ hold: true }));
    expect(none.body.code).toBe(absent.body.code);
    expect((await call(reader, 'not json')).status).toBe(403); // before the body
  }
  expect((await t.software.get(A, APP, '2.0.0'))?.revision).toBe(rev);
  // 405 for another method on the new paths
  expect((await request(app).get(`${R}/2.0.0/rollout/advance`).set(admin)).status).toBe(405);
  expect((await request(app).post(`${R}/2.0.0/rollout/hold`).set(admin)).status).toBe(405);
});

test("tenant isolation: tenant B's commands act on B's application only; A's rollout is neither changed nor revealed", async () => {
  const { t, app } = await setup();
  const bob = { Authorization: 'Bearer tenant-b:bob' };
  const before = await t.software.get(A, APP, '2.0.0');
  const adv = await request(app).post(`${R}/2.0.0/rollout/advance`).set(bob);
  const absent = await request(app).post(`${R}/7.7.7/rollout/advance`).set(bob);
  expect(adv.status).toBe(404);
  expect(adv.body.code).toBe(absent.body.code);
  expect((await request(app).put(`${R}/2.0.0/rollout/hold`).set(bob).send({ hold: true })).status).toBe(404);
  expect(await t.software.get(A, APP, '2.0.0')).toEqual(before);
});

test('preview: later items say why (phase-not-open with the phase, rollout-date with the filter)', async () => {
  const { t, app } = await setup();
  for (let i = 0; i < 40; i++) await t.core.config.decide({ appVersionName: 'kettle-v1', endpointId: `ep-${i}`, configId: '1.0.0', correlationId: 'c' });
  const res = await request(app).get(`${R}/2.0.0/preview?limit=1000`).set(reader).expect(200);
  matchesSchema('Preview', res.body);
  const later = res.body.content.filter((i: { group: string }) => i.group === 'later');
  expect(later.length).toBe(res.body.counts.later);
  expect(later.length).toBeGreaterThan(0);
  for (const i of later) expect(i).toMatchObject({ reason: 'phase-not-open', phase: expect.any(Number) });
});
