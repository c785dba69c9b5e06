import fc from 'fast-check';
import { fileNameProblem, isStrictSemver, parseKaaDate, isValidAppName, isValidEndpointId, isValidFilterId, parseInputMatcher } from '@otao/core';
import { OPENAPI_DOCUMENT } from '../src/openapi';
import { RequestValidator } from '../src/validation';

// The OpenAPI document is the contract (issue 15 item 7): each rule of the code that JSON Schema can
// express is in the document. These tests hold the document's schemas (compiled by the same ajv
// as the request validation) and the core's validators to the same verdict on sample values and on
// random ones, so the two cannot drift apart.

interface Schema {
  readonly pattern?: string;
  readonly $ref?: string;
  readonly [k: string]: unknown;
}
interface Param {
  readonly name: string;
  readonly in: string;
  readonly schema: Schema;
  readonly example?: unknown;
}
interface Operation {
  readonly operationId: string;
  readonly parameters?: Param[];
  readonly requestBody?: { content: Record<string, { schema?: Schema; example?: unknown }> };
  readonly responses: Record<string, { links?: Record<string, { operationId: string; parameters: Record<string, string> }> }>;
}
type PathItem = Record<string, Operation> & { parameters?: Param[] };
const doc = OPENAPI_DOCUMENT as { paths: Record<string, PathItem>; components: { schemas: Record<string, Schema> } };
const validator = new RequestValidator();
const accepts = (schema: string, value: unknown): boolean => validator.check(schema, value) === undefined;

/** Every operation with its path, method and effective parameters (path-level ones included). */
function operations(): { path: string; method: string; op: Operation; params: Param[] }[] {
  const out: { path: string; method: string; op: Operation; params: Param[] }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue;
      out.push({ path, method, op: op as Operation, params: [...(item.parameters ?? []), ...((op as Operation).parameters ?? [])] });
    }
  }
  return out;
}

const MAX = '9007199254740991';
const two = (lo: number, hi: number): fc.Arbitrary<string> => fc.integer({ min: lo, max: hi }).map((n) => String(n).padStart(2, '0'));
/** Date-times near the rule's edges: months 00–13, days 00–32, leap and common years, the accepted and some refused offsets. */
const dateish = fc
  .tuple(
    fc.constantFrom('0000', '1900', '2000', '2024', '2026', '2100', '9999'),
    two(0, 13),
    two(0, 32),
    two(0, 24),
    two(0, 60),
    two(0, 60),
    fc.constantFrom('', '.5', '.123456789', '.1234567890'),
    fc.constantFrom('Z', 'z', '+00:00', '-00:00', '+01:00', ''),
  )
  .map(([y, mo, d, h, mi, s, f, z]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${f}${z}`);

const rules: { schema: string; code: (v: string) => boolean; good: string[]; bad: string[]; arbitrary: fc.Arbitrary<string> }[] = [
  {
    schema: 'AppName',
    code: isValidAppName,
    good: ['a', 'smart-kettle', 'app_1', '0', '-', 'a'.repeat(256)],
    bad: ['', 'App', 'a.b', 'a b', 'a/b', 'ü', 'a'.repeat(257), 'a\n', '\nabc'],
    arbitrary: fc.string({ unit: fc.constantFrom('a', 'z', '0', '_', '-', 'A', '.', ' ', '\n', 'é'), maxLength: 8 }),
  },
  {
    schema: 'Version',
    code: (v) => isStrictSemver(v),
    good: ['0.0.0', '1.1.0', '1.0.0-rc.1', '1.0.0+build.7', '1.0.0-0.3.7', '1.0.0-x-y.z--', `${MAX}.${MAX}.${MAX}`, '1.0.0-99999999999999999999', '1.0.0-01a'],
    bad: [
      '',
      'v1.0.0',
      '1.0',
      '01.0.0',
      '1.0.0-01',
      '1.0.0-',
      '1.0.0+',
      ' 1.0.0',
      '1.0.0\n',
      '9007199254740992.0.0',
      '1.99999999999999999.0',
      '1.0.0-a..b',
      `1.0.0-${'a'.repeat(251)}`,
      '١.0.0',
      '*',
    ],
    arbitrary: fc.string({ unit: fc.constantFrom('0', '1', '9', '.', '-', '+', 'a', 'v', ' '), maxLength: 12 }),
  },
  {
    schema: 'ConsentVersion',
    code: (v) => v === '*' || isStrictSemver(v),
    good: ['*', '2.0.0', '1.0.0-beta.2+b'],
    bad: ['', '**', '* ', '1.x', '>=1.0.0', 'latest', '1.0'],
    arbitrary: fc.string({ unit: fc.constantFrom('0', '1', '.', '-', '+', '*', 'x'), maxLength: 8 }),
  },
  {
    schema: 'VersionOrRange',
    code: (v) => parseInputMatcher(v).ok,
    good: ['1.0.0', '>=1.2.0 <2.0.0', '^1.2.0', '~1.2.3', '1.x', '*', '1.0.0 - 2.0.0', '<1.0.0 || >=2.0.0', '1', '1.2', 'X', '>1.0.0-rc.1', `<=${MAX}.0.0`],
    bad: ['', 'v1.0.0', '=1.0.0', '>= 1.0.0', '~>1.2', 'latest', ' 1.0.0', '1.0.0 ', '1.0.0||', '01.0.0', '9007199254740992.0.0', '>=9007199254740992'],
    arbitrary: fc.string({ unit: fc.constantFrom('0', '1', '.', ' ', '<', '>', '=', '^', '~', '|', '-', 'x', '*'), maxLength: 10 }),
  },
  {
    schema: 'EndpointId',
    code: isValidEndpointId,
    good: ['kettle-1', 'a', ' ', '.', 'ü/x', 'e'.repeat(512)],
    bad: ['', 'e'.repeat(513)],
    arbitrary: fc.string({ maxLength: 3 }),
  },
  {
    schema: 'FilterId',
    code: isValidFilterId,
    good: ['beta-testers', 'a', 'ü', 'a,b', 'x'.repeat(256), 'a\u200bb'],
    bad: ['', 'a.b', 'a*', '>', 'a b', 'a\tb', 'a\u00a0b', 'a\u2028b', 'a\ufeffb', 'a\u3000b', 'x'.repeat(257)],
    arbitrary: fc.string({ unit: fc.constantFrom('a', '.', '*', '>', ' ', '\u00a0', '\u2029', '\ufeff', '\u180e', '\u200b', '\u0085'), maxLength: 4 }),
  },
  {
    schema: 'FileName',
    code: (v) => fileNameProblem(v) === undefined,
    good: ['kettle-1.1.0.bin', 'firmware.bin', '.hidden', 'a.b.c', 'ü', '..a'.slice(1), 'x'.repeat(255), '😀'],
    bad: ['', '.', '..', 'a..b', 'a/b', 'a\\b', 'a\u0000', 'a\u001f', 'a\u007f', 'a\u0085', 'a\u009f', 'a\nb', 'x'.repeat(256)],
    arbitrary: fc.string({ unit: fc.constantFrom('a', '.', '/', '\\', '\u0000', '\u0085', '\u2028', '😀'), maxLength: 5 }),
  },
  {
    schema: 'UtcDateTime',
    code: (v) => parseKaaDate(v) !== undefined,
    good: [
      '2026-01-31T12:00:00Z',
      '2026-01-31t12:00:00z',
      '2026-01-31T12:00:00.123456789+00:00',
      '2024-02-29T00:00:00-00:00',
      '2000-02-29T23:59:59Z',
      '0000-02-29T00:00:00Z',
      '2026-04-30T00:00:00Z',
    ],
    bad: [
      '',
      '2026-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:00:60Z',
      '2026-01-01T00:00:00+01:00',
      '2026-01-01 00:00:00Z',
      '2026-01-01T00:00:00',
      '2026-01-01T00:00:00.Z',
      '2026-01-01T00:00:00.1234567890Z',
      '0159-08-23T13:55:55.0+08:50',
    ],
    arbitrary: dateish,
  },
];

describe('the OpenAPI document encodes the code rules', () => {
  for (const r of rules) {
    describe(r.schema, () => {
      test('the samples: the code and the document agree, and agree with the samples', () => {
        for (const v of r.good) expect({ v, code: r.code(v), doc: accepts(r.schema, v) }).toEqual({ v, code: true, doc: true });
        for (const v of r.bad) expect({ v, code: r.code(v), doc: accepts(r.schema, v) }).toEqual({ v, code: false, doc: false });
      });
      test('random values: the code and the document give the same verdict', () => {
        fc.assert(
          fc.property(r.arbitrary, (v) => {
            expect({ v, doc: accepts(r.schema, v) }).toEqual({ v, doc: r.code(v) });
          }),
          { numRuns: 2000, seed: 15 },
        );
      });
    });
  }

  test('FileName: what JSON Schema cannot state is left to the server — over 255 UTF-8 bytes within 255 characters, lone surrogates', () => {
    const name = 'é'.repeat(128);
    expect(accepts('FileName', name)).toBe(true);
    expect(fileNameProblem(name)).toMatch(/255 bytes/);
    for (const lone of ['\ud800', 'a\udc00b']) expect(fileNameProblem(lone)).toMatch(/valid Unicode/);
  });

  test('every parameter and body field of those kinds uses the shared schema', () => {
    const expected: Record<string, string> = { appName: 'AppName', endpointId: 'EndpointId' };
    for (const { path, method, params } of operations()) {
      for (const p of params) {
        const where = `${method.toUpperCase()} ${path} ${p.in} ${p.name}`;
        let want: string | undefined;
        if (p.in === 'path') want = p.name === 'version' ? (path.includes('/consents/') ? 'ConsentVersion' : 'Version') : expected[p.name];
        if (p.in === 'query' && p.name === 'name') want = 'FileName';
        if (p.in === 'query' && p.name === 'version' && path.endsWith('/endpoints')) want = 'Version';
        if (p.in === 'query' && (p.name === 'since' || p.name === 'until')) want = 'UtcDateTime';
        if (want !== undefined) expect({ where, ref: p.schema.$ref }).toEqual({ where, ref: `#/components/schemas/${want}` });
      }
    }
    for (const body of ['SoftwareCreate', 'SoftwareReplace']) {
      const props = (doc.components.schemas[body] as { properties: Record<string, Schema & { items?: Schema }> }).properties;
      expect(props['version']?.$ref).toBe('#/components/schemas/Version');
      expect(props['upgradableFrom']?.items?.$ref).toBe('#/components/schemas/VersionOrRange');
    }
    const filter = doc.components.schemas['FilterInput'] as { properties: Record<string, Schema & { anyOf?: Schema[] }> };
    expect(filter.properties['filterId']?.$ref).toBe('#/components/schemas/FilterId');
    expect(filter.properties['rolloutDate']?.anyOf?.[0]?.$ref).toBe('#/components/schemas/UtcDateTime');
  });

  test('every path parameter has an example that its schema accepts, and every JSON request body an example its schema accepts', () => {
    for (const { path, method, op, params } of operations()) {
      for (const p of params.filter((x) => x.in === 'path')) {
        const where = `${method.toUpperCase()} ${path} ${p.name}`;
        expect({ where, hasExample: p.example !== undefined }).toEqual({ where, hasExample: true });
        const name = p.schema.$ref?.replace('#/components/schemas/', '');
        if (name !== undefined) expect({ where, valid: accepts(name, p.example) }).toEqual({ where, valid: true });
      }
      const json = op.requestBody?.content['application/json'];
      if (json) {
        const where = `${method.toUpperCase()} ${path} body`;
        expect({ where, hasExample: json.example !== undefined }).toEqual({ where, hasExample: true });
        const name = json.schema?.$ref?.replace('#/components/schemas/', '');
        if (name !== undefined) expect({ where, problem: validator.check(name, json.example) }).toEqual({ where, problem: undefined });
      }
    }
  });

  test('every link names an existing operation and only parameters it has', () => {
    const byId = new Map(operations().map((o) => [o.op.operationId, o]));
    let links = 0;
    for (const { op } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        for (const [name, link] of Object.entries(response.links ?? {})) {
          links++;
          const target = byId.get(link.operationId);
          const where = `${op.operationId} ${status} ${name}`;
          expect({ where, target: target !== undefined }).toEqual({ where, target: true });
          for (const key of Object.keys(link.parameters)) {
            const [loc, pname] = key.includes('.') ? (key.split(/\.(.*)/s) as [string, string]) : [undefined, key];
            const found = target?.params.some((p) => p.name === pname && (loc === undefined || p.in === loc));
            expect({ where, key, found }).toEqual({ where, key, found: true });
          }
        }
      }
    }
    expect(links).toBeGreaterThan(20);
    // The created software leads to every operation on it (the stateful fuzzer starts there).
    const created = byId.get('createSoftware')?.op.responses['201']?.links ?? {};
    const targets = new Set(Object.values(created).map((l) => l.operationId));
    for (const id of [
      'getSoftware',
      'replaceSoftware',
      'deleteSoftware',
      'previewRollout',
      'rolloutStatistics',
      'uploadSoftwareFile',
      'getSoftwareFile',
      'deleteSoftwareFile',
    ])
      expect(targets).toContain(id);
  });
});
