/// <reference types="node" />
import fc from 'fast-check';
import { cloneJson, findNonJson, isJsonObject, type JsonObject, type JsonValue, MAX_JSON_DEPTH, setAtPath, utf8ByteLength } from './json';

describe('utf8ByteLength', () => {
  test.each([
    ['', 0],
    ['a', 1],
    ['\u0000', 1],
    ['\u007f', 1],
    ['\u0080', 2],
    ['é', 2],
    ['\u07ff', 2],
    ['\u0800', 3],
    ['€', 3],
    ['日本', 6],
    ['\uffff', 3],
    ['🚀', 4],
    ['\u{10ffff}', 4],
    ['👩‍👩‍👧', 18],
    ['\ud800', 3], // lone high surrogate: U+FFFD
    ['\udc00', 3], // lone low surrogate
    ['\udc00\ud800', 6], // reversed pair: two lone surrogates
    ['a\ud800', 4], // high surrogate at the end
    ['\ud800a', 4], // high surrogate followed by a non-surrogate
    ['\ud800\ud800\udc00', 7], // lone high then a pair
  ])('%j is %p bytes', (s, n) => {
    expect(utf8ByteLength(s)).toBe(n);
    expect(utf8ByteLength(s)).toBe(Buffer.byteLength(s, 'utf8'));
  });

  test('agrees with Buffer.byteLength on random strings of every unit kind', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ unit: 'grapheme', maxLength: 100 }),
          fc.string({ unit: 'grapheme-composite', maxLength: 100 }),
          fc.string({ unit: 'binary-ascii', maxLength: 200 }),
          fc.string({ maxLength: 200 }),
          // raw UTF-16 code units, including lone and mis-ordered surrogates
          fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 200 }).map((units) => String.fromCharCode(...units)),
          fc.array(fc.integer({ min: 0xd7f0, max: 0xe010 }), { maxLength: 50 }).map((units) => String.fromCharCode(...units)),
        ),
        (s) => {
          expect(utf8ByteLength(s)).toBe(Buffer.byteLength(s, 'utf8'));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('agrees with Buffer.byteLength on serialized JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const s = JSON.stringify(v);
        expect(utf8ByteLength(s)).toBe(Buffer.byteLength(s, 'utf8'));
      }),
    );
  });

  test('counts a long string in linear time', () => {
    const s = '🚀é€a'.repeat(250_000);
    expect(utf8ByteLength(s)).toBe(250_000 * 10);
  });
});

describe('isJsonObject', () => {
  test('is true only for non-null, non-array objects', () => {
    expect(isJsonObject({})).toBe(true);
    expect(isJsonObject({ a: 1 })).toBe(true);
    expect(isJsonObject(Object.create(null))).toBe(true);
    for (const v of [null, [], [1], 'a', 1, true, undefined]) expect(isJsonObject(v)).toBe(false);
  });
});

describe('findNonJson', () => {
  test('accepts every value JSON.parse can produce', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(findNonJson(v)).toBeUndefined();
        expect(findNonJson(JSON.parse(JSON.stringify(v)) as unknown)).toBeUndefined();
      }),
    );
  });

  test.each([
    ['null', null],
    ['a string', ''],
    ['true', true],
    ['zero', 0],
    ['negative zero', -0],
    ['the largest double', Number.MAX_VALUE],
    ['the smallest double', Number.MIN_VALUE],
    ['an empty object', {}],
    ['an empty array', []],
    ['a null-prototype object', Object.assign(Object.create(null) as object, { a: 1 })],
    ['$ and dotted keys', { $a: { 'b.c': [1] } }],
    ['an own __proto__ key', JSON.parse('{"__proto__":{"x":1}}') as unknown],
  ])('accepts %s', (_n, v) => {
    expect(findNonJson(v)).toBeUndefined();
  });

  const nested = (levels: number, leaf: unknown = 1): unknown => {
    let v: unknown = leaf;
    for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { a: v };
    return v;
  };

  test('accepts MAX_JSON_DEPTH levels of nesting', () => {
    expect(MAX_JSON_DEPTH).toBe(1000);
    expect(findNonJson(nested(MAX_JSON_DEPTH))).toBeUndefined();
    // an empty container counts as a level too
    expect(findNonJson(nested(MAX_JSON_DEPTH - 1, {}))).toBeUndefined();
    expect(findNonJson(nested(MAX_JSON_DEPTH - 1, []))).toBeUndefined();
    expect(findNonJson(nested(MAX_JSON_DEPTH, {}))).toBeDefined();
    expect(findNonJson(nested(MAX_JSON_DEPTH, []))).toBeDefined();
  });

  test('reports the first container beyond MAX_JSON_DEPTH instead of overflowing the stack', () => {
    const tooDeep = findNonJson(nested(MAX_JSON_DEPTH + 1));
    expect(tooDeep).toBeDefined();
    // the offending container is the 1001st one: 1000 steps down from the root
    expect((tooDeep as string).match(/\[0\]|\.a|^a/g)).toHaveLength(MAX_JSON_DEPTH);
    for (const levels of [5000, 100_000]) {
      let v: unknown = 1;
      for (let i = 0; i < levels; i++) v = [v];
      expect(() => findNonJson(v)).not.toThrow();
      expect(findNonJson(v)).toBe('[0]'.repeat(MAX_JSON_DEPTH));
    }
    // as JSON.parse produces it
    const parsed = JSON.parse('['.repeat(50_000) + ']'.repeat(50_000)) as unknown;
    expect(findNonJson(parsed)).toBe('[0]'.repeat(MAX_JSON_DEPTH));
  });

  test.each([
    ['NaN at the root', NaN, '(root)'],
    ['Infinity at the root', Infinity, '(root)'],
    ['-Infinity at the root', -Infinity, '(root)'],
    ['undefined at the root', undefined, '(root)'],
    ['a function at the root', () => 1, '(root)'],
    ['a symbol at the root', Symbol('s'), '(root)'],
    ['a bigint at the root', BigInt(10), '(root)'],
    ['a Date at the root', new Date(0), '(root)'],
    ['a class instance at the root', new (class Foo {})(), '(root)'],
    ['a Map at the root', new Map([[1, 2]]), '(root)'],
    ['NaN in an object', { a: { b: NaN } }, 'a.b'],
    ['undefined in an object', { a: undefined }, 'a'],
    ['undefined in an array', [1, undefined], '[1]'],
    ['a hole in a sparse array', [1, , 3], '[1]'], // eslint-disable-line no-sparse-arrays
    ['a function deep inside', { a: [{ b: [0, { c: () => 0 }] }] }, 'a[0].b[1].c'],
    ['a boxed string', { s: Object('x') as unknown }, 's'],
    ['a RegExp', { r: /x/ }, 'r'],
    ['a typed array', { t: new Uint8Array(2) }, 't'],
    ['an object with a custom prototype', { o: Object.create({ inherited: 1 }) as unknown }, 'o'],
    ['a dotted key path', { 'a.b': { $c: Infinity } }, 'a.b.$c'],
  ])('finds %s', (_n, v, path) => {
    expect(findNonJson(v)).toBe(path);
  });

  test('reports the first offence in order', () => {
    expect(findNonJson({ a: 1, b: NaN, c: undefined })).toBe('b');
    expect(findNonJson([0, [1, Infinity], undefined])).toBe('[1][1]');
  });

  test('finds cycles through objects and arrays', () => {
    const o: Record<string, unknown> = { a: 1 };
    o['self'] = o;
    expect(findNonJson(o)).toBe('self');
    const arr: unknown[] = [1];
    arr.push({ back: arr });
    expect(findNonJson(arr)).toBe('[1].back');
    const a: Record<string, unknown> = {};
    const b: Record<string, unknown> = { a };
    a['b'] = b;
    expect(findNonJson({ root: a })).toBe('root.b.a');
  });

  test('a shared (non-cyclic) reference is fine', () => {
    const shared = { x: [1] };
    expect(findNonJson({ a: shared, b: shared, c: [shared, shared] })).toBeUndefined();
  });

  test('uses the given base path', () => {
    expect(findNonJson({ a: NaN }, 'specification')).toBe('specification.a');
    expect(findNonJson(NaN, 'x')).toBe('x');
  });

  test('agrees with a JSON round trip on generated values with injected non-JSON leaves', () => {
    const bad = fc.constantFrom<unknown>(NaN, Infinity, undefined, () => 0, Symbol('s'), BigInt(1), new Date(0));
    fc.assert(
      fc.property(fc.jsonValue(), bad, fc.string(), (v, b, key) => {
        expect(findNonJson({ ok: v, [`k${key}`]: b })).toBe(`k${key}`);
        expect(findNonJson([v, b])).toBe('[1]');
      }),
    );
  });
});

describe('cloneJson', () => {
  test('deep-copies without aliasing', () => {
    const v: JsonObject = { a: { b: [1, { c: 'x' }] }, $d: null, 'e.f': 1e300 };
    const c = cloneJson(v);
    expect(c).toEqual(v);
    expect(c).not.toBe(v);
    (c['a'] as JsonObject)['b'] = [];
    expect(v).toEqual({ a: { b: [1, { c: 'x' }] }, $d: null, 'e.f': 1e300 });
  });

  test('is lossless on generated JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(JSON.stringify(cloneJson(v as JsonValue))).toBe(JSON.stringify(v));
      }),
    );
  });
});

describe('setAtPath', () => {
  test('sets a top-level key', () => {
    expect(setAtPath({ a: 1 }, ['b'], 'x')).toEqual({ a: 1, b: 'x' });
  });

  test('replaces an existing value', () => {
    expect(setAtPath({ a: 1, b: { c: 2 } }, ['b'], 'x')).toEqual({ a: 1, b: 'x' });
    expect(setAtPath({ a: { b: { c: 1, d: 2 } } }, ['a', 'b', 'c'], { n: 1 })).toEqual({ a: { b: { c: { n: 1 }, d: 2 } } });
  });

  test('creates missing intermediate objects', () => {
    expect(setAtPath({}, ['a', 'b', 'c'], 'url')).toEqual({ a: { b: { c: 'url' } } });
    expect(setAtPath({ x: 1 }, ['ota', 'download', 'url'], 'https://s3/x')).toEqual({ x: 1, ota: { download: { url: 'https://s3/x' } } });
  });

  test('keeps siblings along the path', () => {
    expect(setAtPath({ a: { keep: 1, b: { keep: 2 } }, z: 0 }, ['a', 'b', 'c'], true)).toEqual({ a: { keep: 1, b: { keep: 2, c: true } }, z: 0 });
  });

  test.each([
    ['a string', 'text'],
    ['a number', 5],
    ['null', null],
    ['true', true],
    ['an array', [1, 2]],
  ])('replaces a non-object intermediate that is %s with an object', (_n, v) => {
    expect(setAtPath({ a: v, b: 1 }, ['a', 'c'], 'x')).toEqual({ a: { c: 'x' }, b: 1 });
  });

  test('an empty path returns the object unchanged', () => {
    const o = { a: 1 };
    expect(setAtPath(o, [], 'x')).toEqual({ a: 1 });
  });

  test('handles $-keys, dotted keys and __proto__ as plain keys', () => {
    expect(setAtPath({}, ['$x', 'a.b'], 1)).toEqual({ $x: { 'a.b': 1 } });
    const r = setAtPath({}, ['__proto__', 'polluted'], true);
    expect(Object.prototype.hasOwnProperty.call(r, '__proto__')).toBe(true);
    expect(JSON.stringify(r)).toBe('{"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  test('does not mutate the input, at any depth', () => {
    const input: JsonObject = { a: { b: { c: 1 }, s: [1, 2] }, n: 'str', arr: [{ x: 1 }] };
    const snapshot = JSON.stringify(input);
    const inner = input['a'] as JsonObject;
    const innerB = inner['b'];
    const out = setAtPath(input, ['a', 'b', 'c'], 2);
    const out2 = setAtPath(input, ['n', 'deep'], 2);
    const out3 = setAtPath(input, ['a', 'new', 'x'], 3);
    expect(JSON.stringify(input)).toBe(snapshot);
    expect(input['a']).toBe(inner);
    expect(inner['b']).toBe(innerB);
    expect(out).not.toBe(input);
    expect(out['a']).not.toBe(inner);
    expect((out['a'] as JsonObject)['b']).not.toBe(innerB);
    expect(out).toEqual({ a: { b: { c: 2 }, s: [1, 2] }, n: 'str', arr: [{ x: 1 }] });
    expect(out2['n']).toEqual({ deep: 2 });
    expect((out3['a'] as JsonObject)['new']).toEqual({ x: 3 });
  });

  test('does not mutate a frozen input', () => {
    const deepFreeze = <T>(o: T): T => {
      if (typeof o === 'object' && o !== null) {
        Object.values(o).forEach(deepFreeze);
        Object.freeze(o);
      }
      return o;
    };
    const input = deepFreeze<JsonObject>({ a: { b: { c: 1 } } });
    expect(() => setAtPath(input, ['a', 'b', 'c'], 2)).not.toThrow();
    expect(setAtPath(input, ['a', 'b', 'd'], 2)).toEqual({ a: { b: { c: 1, d: 2 } } });
  });

  test('property: the value is readable at the path, the input is unchanged', () => {
    const key = fc.oneof(fc.string({ maxLength: 5 }), fc.constantFrom('a', 'b', '$x', 'a.b'));
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 3 })),
        fc.array(key, { minLength: 1, maxLength: 6 }),
        fc.jsonValue({ maxDepth: 2 }),
        (obj, path, value) => {
          const before = JSON.stringify(obj);
          const out = setAtPath(obj as JsonObject, path, value as JsonValue);
          expect(JSON.stringify(obj)).toBe(before);
          let cur: unknown = out;
          for (const k of path) {
            expect(isJsonObject(cur)).toBe(true);
            expect(Object.prototype.hasOwnProperty.call(cur, k)).toBe(true);
            cur = (cur as JsonObject)[k];
          }
          expect(cur).toEqual(value);
          // keys outside the path are untouched
          const [head] = path;
          for (const k of Object.keys(obj)) if (k !== head) expect(out[k]).toEqual((obj as JsonObject)[k]);
        },
      ),
    );
  });
});
