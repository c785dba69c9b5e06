import request from 'supertest';
import Ajv2020 from 'ajv/dist/2020';
import { OtaoError } from '@otao/core';
import { createTestOtao, StaticAuthenticator, TablePermissionChecker, type TestOtao } from '@otao/core/testing';
import { createHttpApp } from '../src';
import { OPENAPI_DOCUMENT } from '../src/openapi';

const A = 'tenant-a';
const APP = 'kettle';
const admin = { Authorization: `Bearer ${A}:admin` };
const reader = { Authorization: `Bearer ${A}:reader` };
const stranger = { Authorization: `Bearer ${A}:stranger` };

function setup(): { t: TestOtao; app: ReturnType<typeof createHttpApp> } {
  const t = createTestOtao({
    apps: [
      { tenantId: A, appName: APP, versions: ['kettle-v1'] },
      { tenantId: A, appName: 'toaster', versions: ['toaster-v1'] },
    ],
    start: '2026-03-04T05:06:07Z',
  });
  const permissions = new TablePermissionChecker()
    .grant(A, 'admin', APP, ['application:software:read', 'application:software:update', 'application:software:delete'])
    .grant(A, 'reader', APP, ['application:software:read'])
    .grant(A, 'stranger', 'toaster', ['application:software:read']);
  const app = createHttpApp({ core: t.core, authenticator: new StaticAuthenticator(), permissions });
  return { t, app };
}

const body = (version: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  version,
  rolloutStrategy: 'general',
  specification: { v: version },
  ...extra,
});

// Response bodies are checked against the OpenAPI document's schemas.
const ajv = new Ajv2020({ strict: false });
ajv.addSchema(OPENAPI_DOCUMENT as object, 'openapi.json');
const matchesSchema = (name: string, value: unknown): void => {
  const v = ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });
  if (!v(value)) throw new Error(`${name}: ${JSON.stringify(v.errors)}`);
};

describe('software routes', () => {
  let t: TestOtao;
  let app: ReturnType<typeof createHttpApp>;
  beforeEach(() => ({ t, app } = setup()));

  test('POST 201 with Location, ETag, Kaa dates; GET 200; list ordered by precedence', async () => {
    const res = await request(app)
      .post(`/api/v1/applications/${APP}/software`)
      .set(admin)
      .send(body('1.0.0+build.1', { filters: [{ filterId: 'f1', rolloutDate: '2026-05-01T10:00:00.123Z' }], rolloutStrategy: 'targeted' }));
    expect(res.status).toBe(201);
    expect(res.headers['location']).toBe('/api/v1/applications/kettle/software/1.0.0%2Bbuild.1');
    expect(res.headers['etag']).toMatch(/^"r1\.[0-9a-z]+"$/);
    expect(res.body).toMatchObject({
      version: '1.0.0+build.1',
      createdAt: '2026-03-04T05:06:07Z',
      filters: [{ filterId: 'f1', rolloutDate: '2026-05-01T10:00:00Z' }],
    });
    matchesSchema('Software', res.body);
    await request(app).post(`/api/v1/applications/${APP}/software`).set(admin).send(body('0.9.0')).expect(201);
    await request(app).post(`/api/v1/applications/${APP}/software`).set(admin).send(body('1.0.0-rc.1')).expect(201);
    const list = await request(app).get(`/api/v1/applications/${APP}/software`).set(reader).expect(200);
    expect(list.body.map((s: { version: string }) => s.version)).toEqual(['0.9.0', '1.0.0-rc.1', '1.0.0+build.1']);
    const one = await request(app).get(`/api/v1/applications/${APP}/software/1.0.0%2Bbuild.1`).set(reader).expect(200);
    expect(one.headers['etag']).toBe(res.headers['etag']);
    expect(one.body.specification).toEqual({ v: '1.0.0+build.1' });
  });

  test('ETags never repeat across delete and re-create (§10); If-Match compares strongly (RFC 9110): W/ never matches, * always does', async () => {
    const url = `/api/v1/applications/${APP}/software/1.0.0`;
    const old = (await request(app).post(`/api/v1/applications/${APP}/software`).set(admin).send(body('1.0.0')).expect(201)).headers['etag'] as string;
    await request(app).delete(url).set(admin).set('If-Match', old).expect(204);
    t.clock.advance(1000);
    const reborn = (
      await request(app)
        .post(`/api/v1/applications/${APP}/software`)
        .set(admin)
        .send(body('1.0.0', { specification: { reborn: true } }))
        .expect(201)
    ).headers['etag'] as string;
    expect(reborn).not.toBe(old);
    expect((await request(app).get(url).set(reader)).headers['etag']).toBe(reborn);
    // The tag of the deleted software does not match the new one: PUT and DELETE get 412, nothing changes.
    const put = await request(app).put(url).set(admin).set('If-Match', old).send({ rolloutStrategy: 'suspended' });
    expect(put.status).toBe(412);
    expect(put.body.code).toBe('software.precondition_failed');
    expect((await request(app).delete(url).set(admin).set('If-Match', old)).status).toBe(412);
    // A weak tag never matches, not even the current one.
    expect((await request(app).put(url).set(admin).set('If-Match', `W/${reborn}`).send({ rolloutStrategy: 'suspended' })).status).toBe(412);
    expect((await request(app).delete(url).set(admin).set('If-Match', `W/${reborn}`)).status).toBe(412);
    // Malformed or foreign tags match nothing.
    for (const h of ['r1', '"r1"', '"xyz"', '', `${reborn} ${old}`]) {
      expect((await request(app).put(url).set(admin).set('If-Match', h).send({ rolloutStrategy: 'suspended' })).status).toBe(412);
    }
    expect((await request(app).get(url).set(reader)).body).toMatchObject({ rolloutStrategy: 'general', specification: { reborn: true } });
    // A list naming the current tag matches; so does *.
    const listed = await request(app).put(url).set(admin).set('If-Match', `W/${reborn}, ${old}, ${reborn}`).send({ rolloutStrategy: 'suspended' });
    expect(listed.status).toBe(200);
    await request(app).put(url).set(admin).set('If-Match', '*').send({ rolloutStrategy: 'general' }).expect(200);
    await request(app).delete(url).set(admin).set('If-Match', '*').expect(204);
  });

  test('two concurrent writers without If-Match: both PUTs answer 200, a PUT and a DELETE never 412 (docs/api.md)', async () => {
    const url = `/api/v1/applications/${APP}/software/1.0.0`;
    await request(app).post(`/api/v1/applications/${APP}/software`).set(admin).send(body('1.0.0')).expect(201);
    // A slow store: every request reads before any of them writes, so all but one lose the compare-and-set.
    const get = t.software.get.bind(t.software);
    t.software.get = async (...args) => {
      const r = await get(...args);
      await new Promise((done) => setTimeout(done, 50));
      return r;
    };
    const puts = await Promise.all(['a', 'b', 'c'].map((w) => request(app).put(url).set(admin).send({ rolloutStrategy: 'general', specification: { w } })));
    expect(puts.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(puts.map((r) => r.body.specification.w).sort()).toEqual(['a', 'b', 'c']);
    const tags = new Set(puts.map((r) => r.headers['etag']));
    expect(tags.size).toBe(3);
    const [put, del] = await Promise.all([request(app).put(url).set(admin).send({ rolloutStrategy: 'suspended' }), request(app).delete(url).set(admin)]);
    expect(del.status).toBe(204);
    expect([200, 404]).toContain(put.status);
    expect((await request(app).get(url).set(admin)).status).toBe(404);
  });

  test('PUT replaces; If-Match stale -> 412; body version must equal path -> 400; DELETE 204 then 404', async () => {
    const r1 = (await request(app).post(`/api/v1/applications/${APP}/software`).set(admin).send(body('1.0.0')).expect(201)).headers['etag'] as string;
    const put = await request(app)
      .put(`/api/v1/applications/${APP}/software/1.0.0`)
      .set(admin)
      .set('If-Match', r1)
      .send({ rolloutStrategy: 'suspended', specification: [1, 2] });
    expect(put.status).toBe(200);
    const r2 = put.headers['etag'] as string;
    expect(r2).toMatch(/^"r2\.[0-9a-z]+"$/);
    expect(put.body).toMatchObject({ version: '1.0.0', rolloutStrategy: 'suspended', specification: [1, 2] });
    const stale = await request(app).put(`/api/v1/applications/${APP}/software/1.0.0`).set(admin).set('If-Match', r1).send({ rolloutStrategy: 'general' });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('software.precondition_failed');
    const other = await request(app).put(`/api/v1/applications/${APP}/software/1.0.0`).set(admin).send({ version: '2.0.0', rolloutStrategy: 'general' });
    expect(other.status).toBe(400);
    expect(other.body).toEqual({ code: 'software.invalid', message: expect.stringContaining('version') });
    expect((await request(app).delete(`/api/v1/applications/${APP}/software/1.0.0`).set(admin).set('If-Match', r1)).status).toBe(412);
    await request(app).delete(`/api/v1/applications/${APP}/software/1.0.0`).set(admin).set('If-Match', r2).expect(204);
    const gone = await request(app).get(`/api/v1/applications/${APP}/software/1.0.0`).set(admin);
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('software.not_found');
  });

  test('409 duplicate version by precedence and 409 cycle naming it', async () => {
    await request(app).post(`/api/v1/applications/${APP}/software`).set(admin).send(body('1.0.0+a')).expect(201);
    const dup = await request(app).post(`/api/v1/applications/${APP}/software`).set(admin).send(body('1.0.0+b'));
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('software.version_conflict');
    await request(app)
      .post(`/api/v1/applications/${APP}/software`)
      .set(admin)
      .send(body('2.0.0', { upgradableFrom: ['1.0.0'] }))
      .expect(201);
    const cyc = await request(app)
      .put(`/api/v1/applications/${APP}/software/1.0.0%2Ba`)
      .set(admin)
      .send({ rolloutStrategy: 'general', upgradableFrom: ['2.0.0'] });
    expect(cyc.status).toBe(409);
    expect(cyc.body.code).toBe('software.cycle');
    expect(cyc.body.message).toContain('1.0.0+a -> 2.0.0 -> 1.0.0+a');
  });

  test.each([
    ['missing version', { rolloutStrategy: 'general' }, 'version'],
    ['invalid SemVer', { version: 'v1.0.0', rolloutStrategy: 'general' }, 'version'],
    ['wrong type', { version: '1.0.0', rolloutStrategy: 'general', upgradableFrom: 'x' }, 'upgradableFrom'],
    ['bad enum', { version: '1.0.0', rolloutStrategy: 'sometimes' }, 'rolloutStrategy'],
    ['bad filter id', { version: '1.0.0', rolloutStrategy: 'targeted', filters: [{ filterId: 'a.b' }] }, 'filters[0].filterId'],
    [
      'bad date',
      { version: '1.0.0', rolloutStrategy: 'targeted', filters: [{ filterId: 'f', rolloutDate: '2026-13-01T00:00:00Z' }] },
      'filters[0].rolloutDate',
    ],
    ['unknown field', { version: '1.0.0', rolloutStrategy: 'general', colour: 'red' }, 'colour'],
    ['bad range', { version: '1.0.0', rolloutStrategy: 'general', upgradableFrom: ['>>1'] }, 'upgradableFrom[0]'],
    ['array body', [1, 2], '(body)'],
  ])('400 %s names the field', async (_n, payload, field) => {
    const res = await request(app).post(`/api/v1/applications/${APP}/software`).set(admin).send(payload);
    expect(res.status).toBe(400);
    expect(['request.invalid', 'software.invalid']).toContain(res.body.code);
    expect(res.body.message).toContain(field);
  });

  test('400 invalid JSON, 415 wrong media type, 413 body too large, 413 specification too large', async () => {
    const bad = await request(app).post(`/api/v1/applications/${APP}/software`).set(admin).set('Content-Type', 'application/json').send('{"version": ');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('request.invalid_json');
    const text = await request(app).post(`/api/v1/applications/${APP}/software`).set(admin).set('Content-Type', 'text/plain').send('hello');
    expect(text.status).toBe(415);
    expect(text.body.code).toBe('request.unsupported_media_type');
    const huge = await request(app)
      .post(`/api/v1/applications/${APP}/software`)
      .set(admin)
      .send(body('1.0.0', { specification: { x: 'y'.repeat(700_000) } }));
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe('request.too_large');
    const big = await request(app)
      .post(`/api/v1/applications/${APP}/software`)
      .set(admin)
      .send(body('1.0.0', { specification: { x: 'y'.repeat(300_000) } }));
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('software.specification_too_large');
  });

  test('401 without or with a bad token; 403 lacking the scope; 404 with no permission at all (same as absent)', async () => {
    const none = await request(app).get(`/api/v1/applications/${APP}/software`);
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('auth.unauthenticated');
    expect((await request(app).get(`/api/v1/applications/${APP}/software`).set('Authorization', 'Bearer ???')).status).toBe(401);
    const forb = await request(app).post(`/api/v1/applications/${APP}/software`).set(reader).send(body('1.0.0'));
    expect(forb.status).toBe(403);
    expect(forb.body.code).toBe('auth.forbidden');
    expect((await request(app).delete(`/api/v1/applications/${APP}/software/1.0.0`).set(reader)).status).toBe(403);
    const hidden = await request(app).get(`/api/v1/applications/${APP}/software`).set(stranger);
    const absent = await request(app).get(`/api/v1/applications/nosuchapp/software`).set(stranger);
    expect(hidden.status).toBe(404);
    expect(absent.status).toBe(404);
    expect(hidden.body.code).toBe(absent.body.code);
  });

  test('the caller is checked before the body: anonymous 401, unpermitted 404/403, never 415/400/413 first (docs/security.md)', async () => {
    const create = `/api/v1/applications/${APP}/software`;
    const replace = `${create}/1.0.0`;
    const bodies: [string, string][] = [
      ['text/plain', 'hello'], // 415 for a permitted caller
      ['application/json', '{"version": '], // 400 request.invalid_json
      ['application/json', JSON.stringify({ version: 'one' })], // 400 software.invalid
      ['application/json', JSON.stringify({ specification: 'y'.repeat(700_000) })], // 413 request.too_large
    ];
    for (const [type, payload] of bodies) {
      for (const [method, url] of [
        ['post', create],
        ['put', replace],
      ] as const) {
        const anonymous = await request(app)[method](url).set('Content-Type', type).send(payload);
        expect([method, type, anonymous.status, anonymous.body.code]).toEqual([method, type, 401, 'auth.unauthenticated']);
        const badToken = await request(app)[method](url).set('Authorization', 'Bearer ???').set('Content-Type', type).send(payload);
        expect([method, type, badToken.status]).toEqual([method, type, 401]);
        const forbidden = await request(app)[method](url).set(reader).set('Content-Type', type).send(payload);
        expect([method, type, forbidden.status, forbidden.body.code]).toEqual([method, type, 403, 'auth.forbidden']);
        const hidden = await request(app)[method](url).set(stranger).set('Content-Type', type).send(payload);
        expect([method, type, hidden.status, hidden.body.code]).toEqual([method, type, 404, 'application.not_found']);
      }
    }
    // A permitted caller gets the body's own answer.
    expect((await request(app).post(create).set(admin).set('Content-Type', 'text/plain').send('hello')).status).toBe(415);
  });

  test('503 when the store is down, with a code and no stack', async () => {
    t.software.faults.unavailable = true;
    const res = await request(app).get(`/api/v1/applications/${APP}/software`).set(admin);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('store.unavailable');
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts/);
  });

  test('Correlation-ID echoed when sane, generated otherwise; unknown routes 404; wrong method 405', async () => {
    const given = await request(app).get('/api/v1/openapi.json').set('Correlation-ID', 'abc-123');
    expect(given.headers['correlation-id']).toBe('abc-123');
    const generated = await request(app).get('/api/v1/openapi.json').set('Correlation-ID', 'x'.repeat(500));
    expect(generated.headers['correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect((await request(app).get('/api/v1/nothing')).status).toBe(404);
    const m = await request(app).patch(`/api/v1/applications/${APP}/software`).set(admin);
    expect(m.status).toBe(405);
    expect(m.body.code).toBe('method.not_allowed');
    expect(m.headers['allow']).toBe('GET, HEAD, POST');
    expect((await request(app).get('/health')).body).toEqual({ status: 'UP' });
  });

  test('openapi.json is served and describes every route', async () => {
    const res = await request(app).get('/api/v1/openapi.json').expect(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/applications',
        '/applications/{appName}/software',
        '/applications/{appName}/software/{version}',
        '/applications/{appName}/software/{version}/preview',
        '/applications/{appName}/software/{version}/rollout',
        '/applications/{appName}/endpoints',
        '/applications/{appName}/endpoints/{endpointId}/software',
        '/applications/{appName}/endpoints/{endpointId}/consents/{version}',
      ]),
    );
  });
});

describe('endpoint, consent and insight routes', () => {
  let t: TestOtao;
  let app: ReturnType<typeof createHttpApp>;
  beforeEach(() => ({ t, app } = setup()));

  test('endpoint view, list, consents, preview and rollout', async () => {
    await request(app)
      .post(`/api/v1/applications/${APP}/software`)
      .set(admin)
      .send(body('1.1.0', { upgradableFrom: ['1.0.0'] }))
      .expect(201);
    await t.core.config.decide({ appVersionName: 'kettle-v1', endpointId: 'ep-1', configId: '1.0.0', correlationId: 'c' });
    await t.core.reports.applied({
      appVersionName: 'kettle-v1',
      endpointId: 'ep-2',
      configId: '1.0.0',
      statusCode: 500,
      reasonPhrase: 'boom',
      correlationId: 'c',
    });
    const view = await request(app).get(`/api/v1/applications/${APP}/endpoints/ep-1/software`).set(reader).expect(200);
    expect(view.body).toMatchObject({ endpointId: 'ep-1', currentVersion: '1.0.0', next: '1.1.0', path: ['1.1.0'], goal: '1.1.0', consents: [] });
    matchesSchema('EndpointView', view.body);
    expect((await request(app).get(`/api/v1/applications/${APP}/endpoints/nobody/software`).set(reader)).status).toBe(404);
    const page = await request(app).get(`/api/v1/applications/${APP}/endpoints?limit=1`).set(reader).expect(200);
    expect(page.body.totalElements).toBe(2);
    expect(page.body.countedAt).toBe('2026-03-04T05:06:07Z'); // counted for this answer: a small application
    expect(page.body.content).toHaveLength(1);
    matchesSchema('EndpointPage', page.body);
    const ep2 = await request(app).get(`/api/v1/applications/${APP}/endpoints?offset=1`).set(reader).expect(200);
    expect(ep2.body.content[0].lastReport).toEqual({ configId: '1.0.0', statusCode: 500, reasonPhrase: 'boom', reportedAt: '2026-03-04T05:06:07Z' });
    expect((await request(app).get(`/api/v1/applications/${APP}/endpoints?limit=0`).set(reader)).status).toBe(400);
    expect((await request(app).get(`/api/v1/applications/${APP}/endpoints?limit=abc`).set(reader)).status).toBe(400);
    expect((await request(app).get(`/api/v1/applications/${APP}/endpoints?version=nope`).set(reader)).status).toBe(400);
    await request(app).put(`/api/v1/applications/${APP}/endpoints/ep-1/consents/*`).set(admin).expect(204);
    await request(app).put(`/api/v1/applications/${APP}/endpoints/ep-1/consents/1.1.0`).set(admin).expect(204);
    const bad = await request(app).put(`/api/v1/applications/${APP}/endpoints/ep-1/consents/latest`).set(admin);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('consent.invalid_version');
    expect((await request(app).put(`/api/v1/applications/${APP}/endpoints/ep-1/consents/*`).set(reader)).status).toBe(403);
    await request(app).delete(`/api/v1/applications/${APP}/endpoints/ep-1/consents/1.1.0`).set(admin).expect(204);
    expect((await request(app).get(`/api/v1/applications/${APP}/endpoints/ep-1/software`).set(reader)).body.consents).toEqual(['*']);
    const preview = await request(app).get(`/api/v1/applications/${APP}/software/1.1.0/preview?limit=10`).set(reader).expect(200);
    expect(preview.body.counts).toMatchObject({ now: 1, 'version-unknown': 1 }); // ep-2 reported only a failure: its version is unknown
    expect(preview.body.countedAt).toBe('2026-03-04T05:06:07Z');
    matchesSchema('Preview', preview.body);
    expect((await request(app).get(`/api/v1/applications/${APP}/software/1.1.0/preview?limit=1001`).set(reader)).status).toBe(400);
    const rollout = await request(app).get(`/api/v1/applications/${APP}/software/1.1.0/rollout`).set(reader).expect(200);
    expect(rollout.body).toMatchObject({ version: '1.1.0', offered: 1, applied: 0, failed: 0, failureRate: 0, rolloutStrategy: 'general' });
    matchesSchema('Rollout', rollout.body);
  });
});

describe('GET /applications (§6.4.1)', () => {
  const setupApps = () => {
    const t = createTestOtao({
      apps: [
        { tenantId: A, appName: 'toaster', versions: ['toaster-v2', 'toaster-v1'], consentRequired: true },
        { tenantId: A, appName: APP, versions: ['kettle-v1'] },
        { tenantId: A, appName: 'blender', versions: ['blender-v1'] },
        { tenantId: A, appName: 'mixer', versions: ['mixer-v1'] },
      ],
    });
    const permissions = new TablePermissionChecker()
      .grant(A, 'admin', APP, ['application:software:read', 'application:software:update'])
      .grant(A, 'admin', 'toaster', ['application:software:read'])
      .grant(A, 'admin', 'blender', ['application:software:update']) // some permission, not read: left out
      .grant(A, 'reader', APP, ['application:software:read']);
    return { t, app: createHttpApp({ core: t.core, authenticator: new StaticAuthenticator(), permissions }) };
  };

  test('the applications the caller may read, sorted by name, with consentRequired and sorted appVersionNames', async () => {
    const { app } = setupApps();
    const res = await request(app).get('/api/v1/applications').set(admin).expect(200);
    expect(res.body).toEqual([
      { appName: 'kettle', consentRequired: false, appVersionNames: ['kettle-v1'] },
      { appName: 'toaster', consentRequired: true, appVersionNames: ['toaster-v1', 'toaster-v2'] },
    ]);
    matchesSchema('Application', res.body[0]);
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await request(app).get('/api/v1/applications').set(reader).expect(200)).body.map((a: { appName: string }) => a.appName)).toEqual(['kettle']);
    // no permission on any application: an empty list, not an error
    expect((await request(app).get('/api/v1/applications').set(stranger).expect(200)).body).toEqual([]);
  });

  test('401 without or with a bad token; 405 on other methods; 503 while the registry has not loaded', async () => {
    const { t, app } = setupApps();
    const none = await request(app).get('/api/v1/applications');
    expect([none.status, none.body.code]).toEqual([401, 'auth.unauthenticated']);
    expect((await request(app).get('/api/v1/applications').set('Authorization', 'Bearer ???')).status).toBe(401);
    const post = await request(app).post('/api/v1/applications').set(admin).send({});
    expect([post.status, post.body.code, post.headers['allow']]).toEqual([405, 'method.not_allowed', 'GET, HEAD']);
    t.registry.loaded = false;
    const down = await request(app).get('/api/v1/applications').set(admin);
    expect([down.status, down.body.code]).toEqual([503, 'dependency.unavailable']);
    // as on the other routes
    expect((await request(app).get(`/api/v1/applications/${APP}/software`).set(admin)).status).toBe(503);
  });

  test('a permission check that cannot be made is 503, not a shorter list', async () => {
    const { t } = setupApps();
    const permissions = {
      check: async () => {
        throw new OtaoError('dependency.unavailable', 'authorization server unreachable');
      },
    };
    const app = createHttpApp({ core: t.core, authenticator: new StaticAuthenticator(), permissions });
    const res = await request(app).get('/api/v1/applications').set(admin);
    expect([res.status, res.body.code]).toEqual([503, 'dependency.unavailable']);
  });
});

describe('security ignored', () => {
  test('OTAO_SECURITY_IGNORED=/** serves the default tenant without a token', async () => {
    const t = createTestOtao({ apps: [{ tenantId: 'default', appName: APP, versions: ['kettle-v1'] }] });
    const app = createHttpApp({ core: t.core, authenticator: new StaticAuthenticator(), permissions: new TablePermissionChecker(), securityIgnored: ['/**'] });
    await request(app).post(`/api/v1/applications/${APP}/software`).send(body('1.0.0')).expect(201);
    expect((await t.software.list('default', APP)).map((s) => s.version)).toEqual(['1.0.0']);
  });

  test('GET /applications without a token lists every application of the default tenant, no other', async () => {
    const t = createTestOtao({
      apps: [
        { tenantId: 'default', appName: APP, versions: ['kettle-v1'] },
        { tenantId: 'default', appName: 'blender', versions: ['blender-v1'], consentRequired: true },
        { tenantId: A, appName: 'toaster', versions: ['toaster-v1'] },
      ],
    });
    const app = createHttpApp({ core: t.core, authenticator: new StaticAuthenticator(), permissions: new TablePermissionChecker(), securityIgnored: ['/**'] });
    expect((await request(app).get('/api/v1/applications').expect(200)).body).toEqual([
      { appName: 'blender', consentRequired: true, appVersionNames: ['blender-v1'] },
      { appName: APP, consentRequired: false, appVersionNames: ['kettle-v1'] },
    ]);
    const other = createHttpApp({
      core: t.core,
      authenticator: new StaticAuthenticator(),
      permissions: new TablePermissionChecker(),
      securityIgnored: ['/**'],
      defaultTenant: A,
    });
    expect((await request(other).get('/api/v1/applications').expect(200)).body.map((a: { appName: string }) => a.appName)).toEqual(['toaster']);
  });
});

describe('rollout statistics and history (§6.3)', () => {
  test('GET …/rollout has timedOut and rolledBack; GET …/rollout/history per bucket, with clear 400s', async () => {
    const { t, app } = setup();
    await request(app)
      .post('/api/v1/applications/kettle/software')
      .set(admin)
      .send(body('1.1.0', { upgradableFrom: ['1.0.0'] }))
      .expect(201);
    await t.core.config.decide({ appVersionName: 'kettle-v1', endpointId: 'e1', configId: '1.0.0', correlationId: 'p1' });
    await t.core.reports.applied({ appVersionName: 'kettle-v1', endpointId: 'e1', configId: '1.1.0', statusCode: 200, correlationId: 'r1' });
    await t.core.config.decide({ appVersionName: 'kettle-v1', endpointId: 'e1', configId: '1.0.0', correlationId: 'p2' }); // rolled back
    const base = '/api/v1/applications/kettle/software/1.1.0/rollout';
    const rollout = await request(app).get(base).set(reader).expect(200);
    expect(rollout.body).toMatchObject({ offered: 1, applied: 1, failed: 0, timedOut: 0, rolledBack: 1, failureRate: 1 });
    matchesSchema('Rollout', rollout.body);
    const history = await request(app).get(`${base}/history`).set(reader).expect(200);
    expect(history.body).toEqual({
      version: '1.1.0',
      bucket: 'minute',
      since: '2026-03-04T03:06:00Z',
      until: '2026-03-04T05:06:07Z',
      buckets: [{ start: '2026-03-04T05:06:00Z', offered: 1, applied: 1, failed: 0, timedOut: 0, rolledBack: 1 }],
    });
    matchesSchema('RolloutHistory', history.body);
    const hour = await request(app).get(`${base}/history?bucket=hour&since=2026-03-04T00:00:00Z&until=2026-03-05T00:00:00Z`).set(reader).expect(200);
    expect(hour.body.buckets).toEqual([{ start: '2026-03-04T05:00:00Z', offered: 1, applied: 1, failed: 0, timedOut: 0, rolledBack: 1 }]);
    for (const q of [
      'bucket=day',
      'since=yesterday',
      'until=2026-03-04',
      'since=2026-03-04T06:00:00Z&until=2026-03-04T05:00:00Z',
      'since=2026-03-01T00:00:00Z',
      'bucket=minute&bucket=hour',
    ]) {
      const res = await request(app).get(`${base}/history?${q}`).set(reader);
      expect([q, res.status, res.body.code]).toEqual([q, 400, 'request.invalid']);
    }
    expect((await request(app).get(`${base}/history`).set(stranger)).status).toBe(404);
    expect((await request(app).get('/api/v1/applications/kettle/software/9.9.9/rollout/history').set(reader)).status).toBe(404);
    expect((await request(app).post(`${base}/history`).set(admin)).status).toBe(405);
  });
});

// The zone rules reach the core through its ZoneRules port (ADR 0018; here the reference
// implementation of @otao/core/testing, in the server Luxon): the REST answers stay what they were.
describe('maintenance windows over REST (spec §4.12)', () => {
  let t: TestOtao;
  let app: ReturnType<typeof createHttpApp>;
  beforeEach(() => ({ t, app } = setup()));
  const url = `/api/v1/applications/${APP}/software`;
  const MESSAGE = 'maintenanceWindow.timeZone: must be an IANA time zone name such as Europe/Berlin, got "Mars/Olympus"';

  test('an unknown time zone: 400 software.invalid naming the field, on create and on replace; nothing stored', async () => {
    const win = { timeZone: 'Mars/Olympus', start: '01:00', end: '02:00' };
    const created = await request(app)
      .post(url)
      .set(admin)
      .send(body('1.0.0', { maintenanceWindow: win }));
    expect(created.status).toBe(400);
    expect(created.body).toEqual({ code: 'software.invalid', message: MESSAGE });
    expect((await request(app).get(`${url}/1.0.0`).set(reader)).status).toBe(404);
    await request(app).post(url).set(admin).send(body('1.0.0')).expect(201);
    const replaced = await request(app)
      .put(`${url}/1.0.0`)
      .set(admin)
      .send(body('1.0.0', { maintenanceWindow: win }));
    expect(replaced.status).toBe(400);
    expect(replaced.body).toEqual({ code: 'software.invalid', message: MESSAGE });
    expect((await request(app).get(`${url}/1.0.0`).set(reader)).body).not.toHaveProperty('maintenanceWindow');
  });

  test('a zone with a 30-minute offset: stored as given; the rollout view says closed / open and the next opening', async () => {
    const win = { timeZone: 'Asia/Kolkata', start: '01:00', end: '02:00' }; // 19:30Z–20:30Z
    const res = await request(app)
      .post(url)
      .set(admin)
      .send(body('1.0.0', { maintenanceWindow: win }))
      .expect(201);
    expect(res.body.maintenanceWindow).toEqual(win);
    const closed = await request(app).get(`${url}/1.0.0/rollout`).set(reader).expect(200);
    expect(closed.body.window).toEqual({ open: false, nextOpenAt: '2026-03-04T19:30:00Z' }); // clock at 05:06:07Z
    t.clock.set('2026-03-04T19:45:00Z');
    const open = await request(app).get(`${url}/1.0.0/rollout`).set(reader).expect(200);
    expect(open.body.window).toEqual({ open: true, nextOpenAt: '2026-03-05T19:30:00Z' });
  });
});
