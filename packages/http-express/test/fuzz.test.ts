import fc from 'fast-check';
import request from 'supertest';
import { createTestOtao, StaticAuthenticator, TablePermissionChecker } from '@otao/core/testing';
import { createHttpApp } from '../src';

// Property: whatever the body, path or query, the API answers 2xx or 4xx — never 5xx — and every
// non-2xx answer carries {message, code}.
const A = 'tenant-a';
const APP = 'kettle';
const admin = { Authorization: `Bearer ${A}:admin` };

function setup() {
  const t = createTestOtao({ apps: [{ tenantId: A, appName: APP, versions: ['kettle-v1'] }] });
  const permissions = new TablePermissionChecker().grant(A, 'admin', APP, [
    'application:software:read',
    'application:software:update',
    'application:software:delete',
  ]);
  return { t, app: createHttpApp({ core: t.core, authenticator: new StaticAuthenticator(), permissions }) };
}

const semverish = fc.oneof(
  fc.constantFrom(
    '1.0.0',
    '2.0.0-rc.1',
    '1.0.0+b',
    'v1.0.0',
    '01.0.0',
    '1.0',
    '',
    ' 1.0.0',
    '9999999999999999999.0.0',
    '1.0.0-01',
    '>=1.0.0 <2.0.0',
    '^1',
    '*',
    'x'.repeat(300),
  ),
  fc.string({ maxLength: 20 }),
);
const dateish = fc.oneof(
  fc.constantFrom('2026-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-01T00:00:00+02:00', 'yesterday', '0000-01-01T00:00:00Z'),
  fc.string({ maxLength: 30 }),
  fc.integer(),
);
const hostileKey = fc.constantFrom('$set', 'a.b', '__proto__', 'constructor', '', '\u0000', '$where');
const deep = (n: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = i % 2 ? { a: v } : [v];
  return v;
};
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.dictionary(hostileKey, fc.jsonValue({ maxDepth: 2 })),
  fc.integer({ min: 1, max: 3000 }).map(deep),
  fc.constant(Array.from({ length: 5000 }, (_, i) => i)),
);
const softwareBody = fc.record(
  {
    version: fc.oneof(semverish, fc.jsonValue({ maxDepth: 1 })),
    upgradableFrom: fc.oneof(fc.array(semverish, { maxLength: 5 }), anyJson),
    specification: anyJson,
    metadata: anyJson,
    rolloutStrategy: fc.oneof(fc.constantFrom('general', 'targeted', 'suspended', 'GENERAL'), anyJson),
    filters: fc.oneof(
      fc.array(
        fc.record(
          { filterId: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('a.b', '*', '>', ' x', 'ok')), rolloutDate: dateish },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
      anyJson,
    ),
    failurePolicy: fc.oneof(fc.record({ maxFailureRate: fc.double(), minReports: fc.oneof(fc.integer(), fc.double()) }), anyJson),
    extra: anyJson,
  },
  { requiredKeys: [] },
);

describe('fuzzed requests never produce a 5xx', () => {
  const { t, app } = setup();
  beforeAll(async () => {
    // PUT targets an existing software, so its bodies reach validation rather than a 404.
    const r = await t.core.software.create(A, APP, { version: '1.0.0', rolloutStrategy: 'general' }, 'fuzz');
    expect(r.ok).toBe(true);
  });
  const check = (res: request.Response): void => {
    expect(res.status).toBeLessThan(500);
    if (res.status >= 400) {
      expect(typeof res.body.message).toBe('string');
      expect(typeof res.body.code).toBe('string');
    }
  };

  test('POST and PUT with random and adversarial bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(softwareBody, anyJson), async (payload) => {
        const text = JSON.stringify(payload) ?? 'null';
        check(await request(app).post(`/api/v1/applications/${APP}/software`).set(admin).set('Content-Type', 'application/json').send(text));
        check(await request(app).put(`/api/v1/applications/${APP}/software/1.0.0`).set(admin).set('Content-Type', 'application/json').send(text));
      }),
      { numRuns: 250 },
    );
  }, 120_000);

  test('random raw bodies and content types', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.constantFrom(
          'application/json',
          'application/json; charset=latin1',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=utf-16',
        ),
        async (raw, ct) => {
          check(await request(app).post(`/api/v1/applications/${APP}/software`).set(admin).set('Content-Type', ct).send(raw));
        },
      ),
      { numRuns: 150 },
    );
  }, 60_000);

  test('random path segments and queries', async () => {
    const seg = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('..', '%2e%2e', '%00', 'kettle', '1.0.0', '*', '%ZZ', 'a%2Fb'));
    await fc.assert(
      fc.asyncProperty(seg, seg, seg, fc.string({ maxLength: 20 }), async (a, v, e, q) => {
        const enc = (s: string): string => (/%/.test(s) ? s : encodeURIComponent(s));
        for (const path of [
          `/api/v1/applications/${enc(a)}/software/${enc(v)}`,
          `/api/v1/applications/${enc(a)}/software/${enc(v)}/preview?limit=${encodeURIComponent(q)}&offset=${encodeURIComponent(q)}`,
          `/api/v1/applications/${APP}/endpoints?version=${encodeURIComponent(q)}&limit=${encodeURIComponent(q)}`,
          `/api/v1/applications/${APP}/endpoints/${enc(e)}/software`,
        ]) {
          check(await request(app).get(path).set(admin));
        }
        check(
          await request(app)
            .put(`/api/v1/applications/${APP}/endpoints/${enc(e)}/consents/${enc(v)}`)
            .set(admin),
        );
        check(
          await request(app)
            .delete(`/api/v1/applications/${enc(a)}/software/${enc(v)}`)
            .set(admin),
        );
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
