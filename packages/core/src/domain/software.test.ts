/// <reference types="node" />
import {
  DEFAULT_SOFTWARE_RULES,
  MAX_FILTER_ID_LENGTH,
  MAX_FILTERS,
  MAX_UPGRADABLE_FROM,
  isValidAppName,
  isValidFilterId,
  type SoftwareDraft,
  type SoftwareRules,
  validateSoftwareInput,
} from './software';
import { MAX_JSON_DEPTH } from './json';
import { IntlZoneRules } from '../testing/intl-zone-rules';

const ZONES = new IntlZoneRules();
import { MAX_VERSION_LENGTH } from './version';

const RULES: SoftwareRules = DEFAULT_SOFTWARE_RULES;

function body(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { version: '1.0.0', rolloutStrategy: 'general', ...extra };
}

/** Validates and returns the draft, failing the test with the error when rejected. */
function accept(b: unknown, pathVersion?: string, rules: SoftwareRules = RULES): SoftwareDraft {
  const r = validateSoftwareInput(b, rules, ZONES, pathVersion);
  if (!r.ok) throw new Error(`expected acceptance, got ${JSON.stringify(r.error)}`);
  return r.value;
}

/** Asserts a rejection with this code and this offending field; returns the message. */
function reject(b: unknown, field: string, opts: { code?: string; pathVersion?: string; rules?: SoftwareRules } = {}): string {
  const r = validateSoftwareInput(b, opts.rules ?? RULES, ZONES, opts.pathVersion);
  if (r.ok) throw new Error(`expected rejection on ${field}, got ${JSON.stringify(r.value)}`);
  expect(r.error.code).toBe(opts.code ?? 'software.invalid');
  expect(r.error.field).toBe(field);
  expect(typeof r.error.message).toBe('string');
  expect(r.error.message.length).toBeGreaterThan(0);
  return r.error.message;
}

function nest(depth: number, leaf: unknown): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = { [`k${i}`]: v };
  return v;
}

describe('validateSoftwareInput: body', () => {
  test.each([
    ['null', null],
    ['an array', []],
    ['a string', '{"version":"1.0.0"}'],
    ['a number', 42],
    ['undefined', undefined],
    ['a boolean', true],
  ])('rejects a body that is %s', (_name, b) => {
    reject(b, '(body)');
  });

  test('accepts a minimal body and applies every default', () => {
    expect(accept({ version: '1.0.0', rolloutStrategy: 'general' })).toEqual({
      version: '1.0.0',
      upgradableFrom: [],
      specification: {},
      metadata: null,
      rolloutStrategy: 'general',
      filters: [],
    });
  });

  test('a full valid body round-trips into the draft', () => {
    const d = accept({
      version: '2.1.0-rc.1+build.7',
      upgradableFrom: ['2.0.0', '>=1.0.0 <2.0.0'],
      specification: { url: 'x', n: 1 },
      metadata: { notes: 'hi' },
      rolloutStrategy: 'targeted',
      filters: [{ filterId: 'eu-west', rolloutDate: '2026-01-31T12:00:00Z' }, { filterId: 'beta' }],
      failurePolicy: { maxFailureRate: 0.25, minReports: 10 },
    });
    expect(d).toEqual({
      version: '2.1.0-rc.1+build.7',
      upgradableFrom: ['2.0.0', '>=1.0.0 <2.0.0'],
      specification: { url: 'x', n: 1 },
      metadata: { notes: 'hi' },
      rolloutStrategy: 'targeted',
      filters: [{ filterId: 'eu-west', rolloutDate: Date.UTC(2026, 0, 31, 12, 0, 0) }, { filterId: 'beta' }],
      failurePolicy: { maxFailureRate: 0.25, minReports: 10 },
    });
  });

  test.each(['revision', 'tenantId', 'appName', 'id', 'Version', 'upgradeableFrom', 'hasFile', '__proto__x'])(
    'rejects the unknown field %s, naming it',
    (key) => {
      reject(body({ [key]: 1 }), key);
    },
  );

  test('rejects an own __proto__ key (as JSON.parse produces it) as an unknown field', () => {
    reject(JSON.parse('{"version":"1.0.0","rolloutStrategy":"general","__proto__":{"x":1}}'), '__proto__');
  });

  test('ignores the read-only fields createdAt, updatedAt, file, suspendedReason whatever they hold', () => {
    const d = accept(
      body({
        createdAt: '2025-01-01T00:00:00Z',
        updatedAt: 12,
        file: { name: 'fw.bin', size: 3, sha256: 'abc', contentType: 'application/octet-stream', uploadedAt: '2025-01-01T00:00:00Z' },
        suspendedReason: 'failure rate',
      }),
    );
    expect(d).toEqual({ version: '1.0.0', upgradableFrom: [], specification: {}, metadata: null, rolloutStrategy: 'general', filters: [] });
    for (const k of ['createdAt', 'updatedAt', 'file', 'suspendedReason']) expect(d).not.toHaveProperty(k);
  });

  test('the input body is not mutated', () => {
    const b = body({ upgradableFrom: ['0.9.0', '0.9.0'], filters: [{ filterId: 'a' }], specification: { a: [1, 2] } });
    const before = JSON.stringify(b);
    accept(b);
    expect(JSON.stringify(b)).toBe(before);
  });
});

describe('validateSoftwareInput: version', () => {
  test.each([
    '0.0.0',
    '1.0.0',
    '10.20.30',
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-0.3.7',
    '1.0.0-x.7.z.92',
    '1.0.0+20130313144700',
    '1.0.0-beta+exp.sha.5114f85',
    '1.0.0-rc.1+build.1',
    '1.2.3-----RC-SNAPSHOT.12.9.1--.12+788',
  ])('accepts the strict SemVer version %s', (v) => {
    expect(accept(body({ version: v })).version).toBe(v);
  });

  test.each([
    'v1.0.0',
    'V1.0.0',
    '=1.0.0',
    '1.0',
    '1',
    ' 1.0.0',
    '1.0.0 ',
    '\t1.0.0',
    '1.0.0\n',
    '01.0.0',
    '1.01.0',
    '1.0.01',
    '1.0.0-01',
    '1.0.0-alpha.01',
    '1.0.0-',
    '1.0.0+',
    '1.0.0-alpha..1',
    '1.0.0+build..1',
    '1.0.0-alpha_1',
    '1.0.0.0',
    '1.0.x',
    '^1.0.0',
    '>=1.0.0',
    '',
    'latest',
    '-1.0.0',
    '1.0.0-α',
    '9007199254740992.0.0',
    '1.99999999999999999999.0',
  ])('rejects the non-strict version %j', (v) => {
    reject(body({ version: v }), 'version');
  });

  test.each([
    ['a number', 1],
    ['null', null],
    ['an object', { major: 1 }],
    ['an array', ['1.0.0']],
    ['a boolean', true],
  ])('rejects a version that is %s', (_n, v) => {
    reject(body({ version: v }), 'version');
  });

  test('rejects a version longer than the maximum, accepts one at the maximum', () => {
    const atMax = `1.0.0-${'a'.repeat(MAX_VERSION_LENGTH - 6)}`;
    expect(atMax).toHaveLength(MAX_VERSION_LENGTH);
    expect(accept(body({ version: atMax })).version).toBe(atMax);
    reject(body({ version: `${atMax}a` }), 'version');
    reject(body({ version: `1.0.0-${'a'.repeat(100_000)}` }), 'version');
  });

  test('version is required on create', () => {
    const msg = reject({ rolloutStrategy: 'general' }, 'version');
    expect(msg).toMatch(/required/);
  });

  describe('on replace (path version given)', () => {
    test('the version may be omitted and is taken from the path', () => {
      expect(accept({ rolloutStrategy: 'general' }, '1.2.3').version).toBe('1.2.3');
    });

    test('the body version may equal the path version', () => {
      expect(accept({ version: '1.2.3-rc.1+b', rolloutStrategy: 'general' }, '1.2.3-rc.1+b').version).toBe('1.2.3-rc.1+b');
    });

    test.each([
      ['another version', '1.2.4'],
      ['the same precedence with other build metadata', '1.2.3+other'],
      ['a non-strict form of it', 'v1.2.3'],
      ['a padded form of it', ' 1.2.3'],
      ['a number', 123],
      ['null', null],
    ])('rejects a body version that is %s', (_n, v) => {
      reject({ version: v, rolloutStrategy: 'general' }, 'version', { pathVersion: '1.2.3' });
    });

    test('checks upgradableFrom against the path version', () => {
      reject({ rolloutStrategy: 'general', upgradableFrom: ['0.9.0', '^1.0.0'] }, 'upgradableFrom[1]', { pathVersion: '1.2.3' });
    });
  });
});

describe('validateSoftwareInput: upgradableFrom', () => {
  test('defaults to [] when absent or null', () => {
    expect(accept(body()).upgradableFrom).toEqual([]);
    expect(accept(body({ upgradableFrom: null })).upgradableFrom).toEqual([]);
    expect(accept(body({ upgradableFrom: [] })).upgradableFrom).toEqual([]);
  });

  test('accepts exact versions, including unregistered ones, prereleases and build metadata', () => {
    const uf = ['0.9.0', '0.0.1', '0.9.9-beta.2', '0.9.9+factory', '3.0.0'];
    expect(accept(body({ upgradableFrom: uf })).upgradableFrom).toEqual(uf);
  });

  test.each([
    '>=1.2.0 <2.0.0',
    '^0.9.0',
    '~0.9.1',
    '0.x',
    '0.9.x',
    '<1.0.0',
    '>1.0.0',
    '>=2.0.0',
    '0.1.0 - 0.9.0',
    '<0.5.0 || >=2.0.0',
    '>=0.1.0-alpha <1.0.0',
    '2',
  ])('accepts the range %j', (range) => {
    expect(accept(body({ upgradableFrom: [range] })).upgradableFrom).toEqual([range]);
  });

  test.each(['>=1.2.0 <2.0.0', '^1.0.0', '1.x'])('accepts the range %j for a version outside it', (range) => {
    expect(accept(body({ version: '3.0.0', upgradableFrom: [range] })).upgradableFrom).toEqual([range]);
  });

  test.each([
    'foo',
    'latest',
    '1.0.0.0',
    '01.0.0',
    '1.0.0-01',
    '>=01.0.0',
    '>=1.0.0-01',
    '>= foo',
    '1.0.0 <',
    ' 0.9.0',
    '0.9.0 ',
    '\t^0.9.0',
    '',
    '>=',
    '!0.9.0',
  ])('rejects the entry %j that is neither a version nor a range', (entry) => {
    expect(reject(body({ upgradableFrom: ['0.1.0', entry] }), 'upgradableFrom[1]')).toMatch(/neither/);
  });

  test.each(['v0.9.0', '=0.9.0', '= 0.9.0', '>=v0.1.0 <1.0.0', '>= 0.1.0', '~>0.9', '^v0.9.0', 'v0.x', '0.1.0 - v0.9.0', '=0.9.0 || 2.x', '>=0.1.0 =0.5.0'])(
    'rejects the loose spelling %j, naming the field (strict SemVer, §2)',
    (entry) => {
      const message = reject(body({ upgradableFrom: ['0.1.0', entry] }), 'upgradableFrom[1]');
      expect(message).toContain(JSON.stringify(entry));
      expect(message).toMatch(/loose spelling.*strict SemVer/);
    },
  );

  test('a loose single entry is rejected even though semver reads it as the exact version', () => {
    expect(reject(body({ version: '2.0.0', upgradableFrom: ['v1.0.0'] }), 'upgradableFrom[0]')).toMatch(/"v1\.0\.0" is a loose spelling/);
    expect(reject(body({ version: '2.0.0', upgradableFrom: ['=1.0.0'] }), 'upgradableFrom[0]')).toMatch(/"=1\.0\.0" is a loose spelling/);
    expect(accept(body({ version: '2.0.0', upgradableFrom: ['1.0.0'] })).upgradableFrom).toEqual(['1.0.0']);
  });

  test('rejects an entry longer than the maximum', () => {
    reject(body({ upgradableFrom: [`0.1.0-${'a'.repeat(MAX_VERSION_LENGTH)}`] }), 'upgradableFrom[0]');
    reject(body({ upgradableFrom: [`>=0.1.0 ${'<2.0.0 '.repeat(60)}`.trim()] }), 'upgradableFrom[0]');
  });

  test.each([
    ['a number', 1],
    ['null', null],
    ['an object', { v: '0.9.0' }],
    ['an array', ['0.9.0']],
    ['a boolean', false],
  ])('rejects an entry that is %s', (_n, entry) => {
    reject(body({ upgradableFrom: ['0.9.0', '0.8.0', entry] }), 'upgradableFrom[2]');
  });

  test.each([
    ['a string', '0.9.0'],
    ['an object', { 0: '0.9.0' }],
    ['a number', 0],
    ['a boolean', true],
  ])('rejects upgradableFrom that is %s', (_n, uf) => {
    reject(body({ upgradableFrom: uf }), 'upgradableFrom');
  });

  test('rejects more entries than the maximum, accepts the maximum', () => {
    const many = Array.from({ length: MAX_UPGRADABLE_FROM }, (_, i) => `0.0.${i}`);
    expect(accept(body({ version: '9.0.0', upgradableFrom: many })).upgradableFrom).toHaveLength(MAX_UPGRADABLE_FROM);
    reject(body({ version: '9.0.0', upgradableFrom: [...many, '0.1.0'] }), 'upgradableFrom');
  });

  test.each([
    ['the exact own version', '1.0.0', '1.0.0'],
    ['the own version with other build metadata', '1.0.0', '1.0.0+other'],
    ['the own version without its build metadata', '1.0.0+b1', '1.0.0'],
    ['the own prerelease', '1.0.0-rc.1', '1.0.0-rc.1'],
    ['a range containing it', '1.5.0', '>=1.2.0 <2.0.0'],
    ['a caret range', '1.5.0', '^1.0.0'],
    ['an x-range', '1.5.0', '1.x'],
    ['a tilde range', '1.0.3', '~1.0.0'],
    ['a range written as a bare version with =', '1.0.0', '=1.0.0'],
    ['a partial version', '1.0.0', '1'],
    ['the wildcard', '1.0.0', '*'],
    ['a range naming its prerelease', '2.0.0-beta.2', '>=2.0.0-beta.1 <2.0.0'],
    ['one arm of an OR range', '5.0.0', '<1.0.0 || 5.x'],
  ])('rejects an entry matching the own version: %s', (_n, version, entry) => {
    const msg = reject(body({ version, upgradableFrom: ['0.0.1', entry] }), 'upgradableFrom[1]');
    expect(msg).toContain(version);
  });

  test('accepts a range that would contain the own prerelease only if prereleases were included', () => {
    expect(accept(body({ version: '1.5.0-beta', upgradableFrom: ['>=1.0.0 <2.0.0'] })).upgradableFrom).toEqual(['>=1.0.0 <2.0.0']);
  });

  test('the first offending entry is named', () => {
    reject(body({ upgradableFrom: ['0.1.0', '1.0.0', 'junk'] }), 'upgradableFrom[1]');
    reject(body({ upgradableFrom: ['0.1.0', 'junk', '1.0.0'] }), 'upgradableFrom[1]');
  });

  test('removes duplicates, keeping the first occurrence order', () => {
    const d = accept(body({ version: '3.0.0', upgradableFrom: ['1.0.0', '^1.0.0', '1.0.0', '2.0.0', '^1.0.0', '1.0.0'] }));
    expect(d.upgradableFrom).toEqual(['1.0.0', '^1.0.0', '2.0.0']);
  });
});

describe('validateSoftwareInput: specification and metadata', () => {
  test('specification defaults to {} and metadata to null', () => {
    const d = accept(body());
    expect(d.specification).toEqual({});
    expect(d.metadata).toBeNull();
  });

  test('an explicit null is kept as null', () => {
    const d = accept(body({ specification: null, metadata: null }));
    expect(d.specification).toBeNull();
    expect(d.metadata).toBeNull();
  });

  test.each([
    ['a string', 'text'],
    ['a number', 3.5],
    ['a boolean', false],
    ['an array', [1, 'a', null, { b: [] }]],
    ['an empty object', {}],
    ['an empty string', ''],
    ['zero', 0],
  ])('accepts any JSON value: %s', (_n, v) => {
    const d = accept(body({ specification: v, metadata: v }));
    expect(d.specification).toEqual(v);
    expect(d.metadata).toEqual(v);
  });

  const LOSSLESS = {
    $set: { a: 1 },
    $where: 'x',
    $: null,
    'a.b.c': 'dotted',
    '.': 'dot',
    '': 'empty key',
    'key with spaces': true,
    unicode: 'héllo wörld — 日本語 🚀👩‍👩‍👧 \u0000\u001f',
    ключ: 'значение',
    '🔑': '🔒',
    numbers: [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1.7976931348623157e308, 5e-324, -0.5, 1e21, 123456789012345680000],
    nested: { arr: [[[]]], obj: { $ref: '#/x', 'x.y': [{ $z: 1 }] } },
    constructor: 'not special',
    toString: 'plain',
  };

  test('stores $-keys, dotted keys, unicode and large numbers losslessly', () => {
    const input = JSON.parse(JSON.stringify(LOSSLESS)) as unknown;
    const d = accept(body({ specification: input, metadata: input }));
    expect(JSON.stringify(d.specification)).toBe(JSON.stringify(LOSSLESS));
    expect(JSON.stringify(d.metadata)).toBe(JSON.stringify(LOSSLESS));
    expect(JSON.parse(JSON.stringify(d.specification))).toEqual(LOSSLESS);
  });

  test('keeps an own __proto__ key of parsed JSON', () => {
    const spec = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as unknown;
    const d = accept(body({ specification: spec }));
    expect(JSON.stringify(d.specification)).toBe('{"__proto__":{"polluted":true},"a":1}');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  test('accepts deep nesting (200 levels of objects and of arrays)', () => {
    const deepObj = nest(200, 'leaf');
    let deepArr: unknown = 'leaf';
    for (let i = 0; i < 200; i++) deepArr = [deepArr];
    const d = accept(body({ specification: deepObj, metadata: deepArr }));
    expect(JSON.stringify(d.specification)).toBe(JSON.stringify(deepObj));
    expect(JSON.stringify(d.metadata)).toBe(JSON.stringify(deepArr));
  });

  test('accepts MAX_JSON_DEPTH (1000) levels of nesting', () => {
    const deep = nest(MAX_JSON_DEPTH, 1);
    expect(JSON.stringify(accept(body({ specification: deep })).specification)).toBe(JSON.stringify(deep));
    expect(JSON.stringify(accept(body({ metadata: deep })).metadata)).toBe(JSON.stringify(deep));
  });

  test('rejects deeper nesting with a 400-class error instead of overflowing the stack', () => {
    const text = '['.repeat(100_000) + ']'.repeat(100_000); // 200 KB: within the size limit
    const spec = JSON.parse(`{"a":${text}}`) as unknown;
    const msg = reject(body({ specification: spec }), 'specification');
    expect(msg).toMatch(/levels deep/);
    expect(msg.length).toBeLessThan(500);
    reject(body({ metadata: nest(MAX_JSON_DEPTH + 1, 1) }), 'metadata');
    reject(body({ specification: JSON.parse('['.repeat(5000) + ']'.repeat(5000)) as unknown }), 'specification');
  });

  test.each([
    ['NaN', { a: NaN }, 'a'],
    ['Infinity', { a: { b: Infinity } }, 'a.b'],
    ['undefined in an array', { a: [1, undefined] }, 'a[1]'],
    ['a function', { f: () => 1 }, 'f'],
    ['a bigint', { n: BigInt(1) }, 'n'],
    ['a symbol', { s: Symbol('x') }, 's'],
    ['a Date', { d: new Date(0) }, 'd'],
    ['a Map', { m: new Map() }, 'm'],
  ])('rejects a specification/metadata that is not plain JSON: %s', (_n, v, at) => {
    expect(reject(body({ specification: v }), 'specification')).toContain(at);
    expect(reject(body({ metadata: v }), 'metadata')).toContain(at);
  });

  test('rejects a cyclic value', () => {
    const c: Record<string, unknown> = { a: 1 };
    c['self'] = c;
    reject(body({ specification: c }), 'specification');
    reject(body({ metadata: [c] }), 'metadata');
  });

  test('accepts the same object twice (shared, not cyclic)', () => {
    const shared = { x: 1 };
    expect(accept(body({ specification: { a: shared, b: shared } })).specification).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  describe('size limit', () => {
    const rules: SoftwareRules = { specMaxBytes: 100 };
    /** A string spec whose serialized size is exactly n bytes (2 bytes for the quotes). */
    const ofSize = (n: number, ch = 'a', chBytes = 1): string => ch.repeat((n - 2) / chBytes);

    test('the default maximum is 256 KiB', () => {
      expect(DEFAULT_SOFTWARE_RULES.specMaxBytes).toBe(256 * 1024);
      const atMax = ofSize(256 * 1024);
      expect(JSON.stringify(atMax)).toHaveLength(256 * 1024);
      accept(body({ specification: atMax, metadata: atMax }));
      reject(body({ specification: `${atMax}a` }), 'specification', { code: 'software.specification_too_large' });
    });

    test('accepts exactly the maximum, rejects one byte more (specification)', () => {
      accept(body({ specification: ofSize(100) }), undefined, rules);
      const msg = reject(body({ specification: ofSize(101, 'a') + '' }), 'specification', { code: 'software.specification_too_large', rules });
      expect(msg).toContain('101');
      expect(msg).toContain('100');
    });

    test('accepts exactly the maximum, rejects one byte more (metadata)', () => {
      accept(body({ metadata: ofSize(100) }), undefined, rules);
      reject(body({ metadata: ofSize(101) }), 'metadata', { code: 'software.specification_too_large', rules });
    });

    test('counts the serialized form (keys, quotes, escapes), not the characters', () => {
      // {"k":"..."} = 8 bytes of structure
      accept(body({ specification: { k: 'a'.repeat(92) } }), undefined, rules);
      reject(body({ specification: { k: 'a'.repeat(93) } }), 'specification', { code: 'software.specification_too_large', rules });
      // each quote inside a string serializes as \" (2 bytes)
      accept(body({ specification: '"'.repeat(49) }), undefined, rules);
      reject(body({ specification: '"'.repeat(50) }), 'specification', { code: 'software.specification_too_large', rules });
    });

    test.each([
      ['2-byte characters (é)', 'é', 2],
      ['3-byte characters (€)', '€', 3],
      ['4-byte characters (🚀, a surrogate pair)', '🚀', 4],
    ])('counts UTF-8 bytes of %s', (_n, ch, bytes) => {
      const r: SoftwareRules = { specMaxBytes: 2 + 12 * bytes };
      const fits = ch.repeat(12);
      expect(Buffer.byteLength(JSON.stringify(fits), 'utf8')).toBe(r.specMaxBytes);
      accept(body({ specification: fits, metadata: fits }), undefined, r);
      // one character more is too large, although the UTF-16 length would still fit
      const over = ch.repeat(13);
      expect(JSON.stringify(over).length).toBeLessThanOrEqual(r.specMaxBytes);
      reject(body({ specification: over }), 'specification', { code: 'software.specification_too_large', rules: r });
      reject(body({ metadata: over }), 'metadata', { code: 'software.specification_too_large', rules: r });
    });

    test('specification and metadata are limited separately', () => {
      accept(body({ specification: ofSize(100), metadata: ofSize(100) }), undefined, rules);
    });

    test('the default {} and null fit even a tiny limit', () => {
      accept(body(), undefined, { specMaxBytes: 4 });
      reject(body(), 'metadata', { code: 'software.specification_too_large', rules: { specMaxBytes: 3 } });
    });
  });
});

describe('validateSoftwareInput: rolloutStrategy', () => {
  test.each(['suspended', 'targeted', 'general'])('accepts %s', (s) => {
    expect(accept(body({ rolloutStrategy: s })).rolloutStrategy).toBe(s);
  });

  test('is required', () => {
    reject({ version: '1.0.0' }, 'rolloutStrategy');
  });

  test.each([null, 'GENERAL', 'General', ' general', 'paused', '', 1, true, ['general'], { s: 'general' }])('rejects %j', (s) => {
    reject(body({ rolloutStrategy: s }), 'rolloutStrategy');
  });
});

describe('validateSoftwareInput: filters', () => {
  const targeted = (filters: unknown): Record<string, unknown> => body({ rolloutStrategy: 'targeted', filters });

  test('defaults to [] when absent or null', () => {
    expect(accept(body({ rolloutStrategy: 'targeted' })).filters).toEqual([]);
    expect(accept(targeted(null)).filters).toEqual([]);
  });

  test('are accepted (and kept) for every strategy', () => {
    for (const s of ['suspended', 'general', 'targeted']) {
      expect(accept(body({ rolloutStrategy: s, filters: [{ filterId: 'a' }] })).filters).toEqual([{ filterId: 'a' }]);
    }
  });

  test('a filter without rolloutDate (absent or null) has none', () => {
    const d = accept(targeted([{ filterId: 'a' }, { filterId: 'b', rolloutDate: null }]));
    expect(d.filters).toEqual([{ filterId: 'a' }, { filterId: 'b' }]);
    expect(d.filters[1]).not.toHaveProperty('rolloutDate');
  });

  test.each(['a', 'eu-west_1', 'UPPER', 'ünïcødé', '日本', 'a'.repeat(MAX_FILTER_ID_LENGTH), 'with-$-and-#', 'a/b', 'a:b'])('accepts the filterId %j', (id) => {
    expect(accept(targeted([{ filterId: id }])).filters).toEqual([{ filterId: id }]);
  });

  test.each([
    ['empty', ''],
    ['containing .', 'a.b'],
    ['only .', '.'],
    ['containing *', 'a*'],
    ['only *', '*'],
    ['containing >', 'a>'],
    ['only >', '>'],
    ['containing a space', 'a b'],
    ['with a leading space', ' a'],
    ['with a trailing space', 'a '],
    ['containing a tab', 'a\tb'],
    ['containing a newline', 'a\nb'],
    ['containing a carriage return', 'a\rb'],
    ['containing a no-break space', 'a\u00a0b'],
    ['containing an ideographic space', 'a\u3000b'],
    ['containing a line separator', 'a\u2028b'],
    ['too long', 'a'.repeat(MAX_FILTER_ID_LENGTH + 1)],
    ['a number', 1],
    ['null', null],
    ['missing', undefined],
    ['an array', ['a']],
    ['an object', { id: 'a' }],
  ])('rejects a filterId %s', (_n, id) => {
    const f: Record<string, unknown> = id === undefined ? {} : { filterId: id };
    reject(targeted([{ filterId: 'ok' }, f]), 'filters[1].filterId');
  });

  test('rejects duplicate filterIds, naming the duplicate', () => {
    const msg = reject(targeted([{ filterId: 'a' }, { filterId: 'b' }, { filterId: 'a', rolloutDate: '2026-01-01T00:00:00Z' }]), 'filters[2].filterId');
    expect(msg).toMatch(/duplicate/);
  });

  test('filterIds are case-sensitive (not duplicates)', () => {
    expect(accept(targeted([{ filterId: 'a' }, { filterId: 'A' }])).filters).toHaveLength(2);
  });

  test.each(['id', 'filterid', 'FilterId', 'rolloutdate', 'rolloutDateMs', 'name'])('rejects the unknown filter key %s', (k) => {
    reject(targeted([{ filterId: 'a' }, { filterId: 'b', [k]: 'x' }]), `filters[1].${k}`);
  });

  test.each([
    ['null', null],
    ['a string', 'a'],
    ['a number', 3],
    ['an array', [{ filterId: 'a' }]],
  ])('rejects a filter that is %s', (_n, f) => {
    reject(targeted([{ filterId: 'a' }, f]), 'filters[1]');
  });

  test.each([
    ['a string', 'a'],
    ['an object', { filterId: 'a' }],
    ['a number', 1],
  ])('rejects filters that are %s', (_n, fs) => {
    reject(targeted(fs), 'filters');
  });

  test('rejects more filters than the maximum, accepts the maximum', () => {
    const many = Array.from({ length: MAX_FILTERS }, (_, i) => ({ filterId: `f${i}` }));
    expect(accept(targeted(many)).filters).toHaveLength(MAX_FILTERS);
    reject(targeted([...many, { filterId: 'extra' }]), 'filters');
  });

  test.each([
    ['Z', '2026-01-31T12:00:00Z', Date.UTC(2026, 0, 31, 12, 0, 0)],
    ['lowercase z and t', '2026-01-31t12:00:00z', Date.UTC(2026, 0, 31, 12, 0, 0)],
    ['+00:00', '2026-01-31T12:00:00+00:00', Date.UTC(2026, 0, 31, 12, 0, 0)],
    ['-00:00', '2026-01-31T12:00:00-00:00', Date.UTC(2026, 0, 31, 12, 0, 0)],
    ['a millisecond fraction', '2026-01-31T12:00:00.123Z', Date.UTC(2026, 0, 31, 12, 0, 0, 123)],
    ['a one-digit fraction', '2026-01-31T12:00:00.5Z', Date.UTC(2026, 0, 31, 12, 0, 0, 500)],
    ['a nanosecond fraction with +00:00', '2026-01-31T12:00:00.987654321+00:00', Date.UTC(2026, 0, 31, 12, 0, 0, 987)],
    ['a leap day', '2024-02-29T23:59:59Z', Date.UTC(2024, 1, 29, 23, 59, 59)],
    ['the epoch', '1970-01-01T00:00:00Z', 0],
    ['a date in the past', '1999-12-31T23:59:59Z', Date.UTC(1999, 11, 31, 23, 59, 59)],
  ])('accepts a rolloutDate with %s', (_n, date, ms) => {
    expect(accept(targeted([{ filterId: 'a', rolloutDate: date }])).filters).toEqual([{ filterId: 'a', rolloutDate: ms }]);
  });

  test.each([
    ['a non-UTC offset', '2026-01-31T12:00:00+01:00'],
    ['a negative non-UTC offset', '2026-01-31T12:00:00-05:00'],
    ['a +00:30 offset', '2026-01-31T12:00:00+00:30'],
    ['no offset', '2026-01-31T12:00:00'],
    ['Feb 30', '2026-02-30T12:00:00Z'],
    ['Feb 29 of a common year', '2025-02-29T12:00:00Z'],
    ['Apr 31', '2026-04-31T12:00:00Z'],
    ['month 13', '2026-13-01T12:00:00Z'],
    ['month 00', '2026-00-01T12:00:00Z'],
    ['day 00', '2026-01-00T12:00:00Z'],
    ['day 32', '2026-01-32T12:00:00Z'],
    ['hour 25', '2026-01-31T25:00:00Z'],
    ['hour 24', '2026-01-31T24:00:00Z'],
    ['minute 60', '2026-01-31T12:60:00Z'],
    ['second 60 (leap second)', '2026-12-31T23:59:60Z'],
    ['a date only', '2026-01-31'],
    ['a space instead of T', '2026-01-31 12:00:00Z'],
    ['no seconds', '2026-01-31T12:00Z'],
    ['an empty fraction', '2026-01-31T12:00:00.Z'],
    ['a 10-digit fraction', '2026-01-31T12:00:00.1234567890Z'],
    ['a two-digit year', '26-01-31T12:00:00Z'],
    ['one-digit fields', '2026-1-31T12:00:00Z'],
    ['leading whitespace', ' 2026-01-31T12:00:00Z'],
    ['trailing whitespace', '2026-01-31T12:00:00Z '],
    ['a Date.toString form', 'Sat Jan 31 2026 12:00:00 GMT+0000'],
    ['an empty string', ''],
    ['epoch milliseconds', 1767225600000],
    ['epoch milliseconds as a string', '1767225600000'],
    ['an object', { date: '2026-01-31T12:00:00Z' }],
    ['a boolean', true],
  ])('rejects a rolloutDate with %s', (_n, date) => {
    reject(targeted([{ filterId: 'a' }, { filterId: 'b', rolloutDate: date }]), 'filters[1].rolloutDate');
  });
});

describe('validateSoftwareInput: failurePolicy', () => {
  test('is absent by default and when null', () => {
    expect(accept(body())).not.toHaveProperty('failurePolicy');
    expect(accept(body({ failurePolicy: null }))).not.toHaveProperty('failurePolicy');
  });

  test.each([
    [1, 1],
    [0.0001, 1],
    [0.5, 20],
    [1, 1_000_000_000],
    [Number.MIN_VALUE, 5],
  ])('accepts maxFailureRate %p with minReports %p', (rate, min) => {
    expect(accept(body({ failurePolicy: { maxFailureRate: rate, minReports: min } })).failurePolicy).toEqual({ maxFailureRate: rate, minReports: min });
  });

  test.each([0, -0.1, 1.0001, 2, NaN, Infinity, -Infinity, '0.5', null, undefined, true, [0.5], { v: 0.5 }])('rejects maxFailureRate %p', (rate) => {
    const fp: Record<string, unknown> = { minReports: 10 };
    if (rate !== undefined) fp['maxFailureRate'] = rate;
    reject(body({ failurePolicy: fp }), 'failurePolicy.maxFailureRate');
  });

  test.each([0, -1, 1.5, 1_000_000_001, NaN, Infinity, '10', null, undefined, false, [10]])('rejects minReports %p', (min) => {
    const fp: Record<string, unknown> = { maxFailureRate: 0.5 };
    if (min !== undefined) fp['minReports'] = min;
    reject(body({ failurePolicy: fp }), 'failurePolicy.minReports');
  });

  test.each([
    ['a number', 0.5],
    ['a string', 'strict'],
    ['an array', [0.5, 10]],
    ['a boolean', true],
  ])('rejects a failurePolicy that is %s', (_n, fp) => {
    reject(body({ failurePolicy: fp }), 'failurePolicy');
  });

  test('rejects unknown failurePolicy keys', () => {
    reject(body({ failurePolicy: { maxFailureRate: 0.5, minReports: 1, window: 10 } }), 'failurePolicy.window');
  });
});

describe('validateSoftwareInput: reportTimeoutMinutes, phases, phaseGate, maintenanceWindow (spec §2)', () => {
  test('reportTimeoutMinutes is optional, an integer from 1 to 43200', () => {
    expect(accept(body({ failurePolicy: { maxFailureRate: 0.1, minReports: 5, reportTimeoutMinutes: 30 } })).failurePolicy).toEqual({
      maxFailureRate: 0.1,
      minReports: 5,
      reportTimeoutMinutes: 30,
    });
    for (const bad of [0, 43_201, 1.5, '30', -1]) {
      reject(body({ failurePolicy: { maxFailureRate: 0.1, minReports: 5, reportTimeoutMinutes: bad } }), 'failurePolicy.reportTimeoutMinutes');
    }
  });

  test('phases: soakMinutes defaults to 60, percents strictly increase and end at 100', () => {
    expect(accept(body({ phases: [{ percent: 1 }, { percent: 10, soakMinutes: 0 }, { percent: 100, soakMinutes: 43_200 }] })).phases).toEqual([
      { percent: 1, soakMinutes: 60 },
      { percent: 10, soakMinutes: 0 },
      { percent: 100, soakMinutes: 43_200 },
    ]);
    expect(accept(body({ phases: [{ percent: 100 }] })).phases).toEqual([{ percent: 100, soakMinutes: 60 }]);
    expect(accept(body({ phases: null }))).not.toHaveProperty('phases');
    reject(body({ phases: [] }), 'phases');
    reject(body({ phases: {} }), 'phases');
    reject(body({ phases: Array.from({ length: 11 }, (_, i) => ({ percent: (i + 1) * 9 + 1 })) }), 'phases');
    reject(body({ phases: [{ percent: 10 }, { percent: 10 }, { percent: 100 }] }), 'phases[1].percent');
    reject(body({ phases: [{ percent: 50 }, { percent: 10 }, { percent: 100 }] }), 'phases[1].percent');
    reject(body({ phases: [{ percent: 10 }, { percent: 50 }] }), 'phases[1].percent');
    reject(body({ phases: [{ percent: 0 }, { percent: 100 }] }), 'phases[0].percent');
    reject(body({ phases: [{ percent: 101 }] }), 'phases[0].percent');
    reject(body({ phases: [{ percent: '10' }, { percent: 100 }] }), 'phases[0].percent');
    reject(body({ phases: [{ percent: 10, soakMinutes: 43_201 }, { percent: 100 }] }), 'phases[0].soakMinutes');
    reject(body({ phases: [{ percent: 10, soakMinutes: -1 }, { percent: 100 }] }), 'phases[0].soakMinutes');
    reject(body({ phases: [{ percent: 10, soak: 1 }, { percent: 100 }] }), 'phases[0].soak');
    reject(body({ phases: [5, { percent: 100 }] }), 'phases[0]');
  });

  test('phaseGate: like a failure policy without the timeout', () => {
    expect(accept(body({ phaseGate: { maxFailureRate: 0.05, minReports: 20 } })).phaseGate).toEqual({ maxFailureRate: 0.05, minReports: 20 });
    reject(body({ phaseGate: { maxFailureRate: 0, minReports: 20 } }), 'phaseGate.maxFailureRate');
    reject(body({ phaseGate: { maxFailureRate: 0.5, minReports: 0 } }), 'phaseGate.minReports');
    reject(body({ phaseGate: { maxFailureRate: 0.5, minReports: 2, reportTimeoutMinutes: 5 } }), 'phaseGate.reportTimeoutMinutes');
    reject(body({ phaseGate: 'strict' }), 'phaseGate');
  });

  test('maintenanceWindow: an IANA zone, HH:MM start and end (different), weekdays', () => {
    expect(
      accept(body({ maintenanceWindow: { timeZone: 'Europe/Berlin', start: '22:00', end: '04:30', days: ['sun', 'mon', 'mon'] } })).maintenanceWindow,
    ).toEqual({
      timeZone: 'Europe/Berlin',
      start: '22:00',
      end: '04:30',
      days: ['mon', 'sun'],
    });
    expect(accept(body({ maintenanceWindow: { timeZone: 'UTC', start: '00:00', end: '23:59' } })).maintenanceWindow).toEqual({
      timeZone: 'UTC',
      start: '00:00',
      end: '23:59',
    });
    reject(body({ maintenanceWindow: { timeZone: 'Mars/Olympus', start: '01:00', end: '02:00' } }), 'maintenanceWindow.timeZone');
    reject(body({ maintenanceWindow: { timeZone: '+02:00', start: '01:00', end: '02:00' } }), 'maintenanceWindow.timeZone');
    reject(body({ maintenanceWindow: { start: '01:00', end: '02:00' } }), 'maintenanceWindow.timeZone');
    reject(body({ maintenanceWindow: { timeZone: 'UTC', start: '24:00', end: '02:00' } }), 'maintenanceWindow.start');
    reject(body({ maintenanceWindow: { timeZone: 'UTC', start: '1:00', end: '02:00' } }), 'maintenanceWindow.start');
    reject(body({ maintenanceWindow: { timeZone: 'UTC', start: '01:00', end: '02:60' } }), 'maintenanceWindow.end');
    reject(body({ maintenanceWindow: { timeZone: 'UTC', start: '01:00', end: '01:00' } }), 'maintenanceWindow.end');
    reject(body({ maintenanceWindow: { timeZone: 'UTC', start: '01:00', end: '02:00', days: [] } }), 'maintenanceWindow.days');
    reject(body({ maintenanceWindow: { timeZone: 'UTC', start: '01:00', end: '02:00', days: ['monday'] } }), 'maintenanceWindow.days[0]');
    reject(body({ maintenanceWindow: { timeZone: 'UTC', start: '01:00', end: '02:00', weeks: 1 } }), 'maintenanceWindow.weeks');
  });

  test('the read-only phase is ignored on input', () => {
    expect(accept(body({ phase: { index: 3, percent: 100, openedAt: 'x', hold: false } }))).not.toHaveProperty('phase');
  });
});

describe('isValidFilterId / isValidAppName', () => {
  test('isValidFilterId', () => {
    expect(isValidFilterId('abc')).toBe(true);
    for (const bad of ['', 'a.b', 'a*', 'a>', 'a b', 'a\u2003b', 1, null, undefined, 'x'.repeat(257)]) expect(isValidFilterId(bad)).toBe(false);
  });

  test('isValidAppName', () => {
    for (const good of ['a', 'smart-kettle', 'app_1', '0', 'a'.repeat(256)]) expect(isValidAppName(good)).toBe(true);
    for (const bad of ['', 'App', 'a.b', 'a b', 'a/b', 'ü', 'a'.repeat(257), 1, null]) expect(isValidAppName(bad)).toBe(false);
  });
});
