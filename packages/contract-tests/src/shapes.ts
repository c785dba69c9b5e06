import type { JsonValue, Software } from '@otao/core';

/**
 * Free JSON that a naive MongoDB/FerretDB mapping corrupts or refuses: dotted and `$`-prefixed keys,
 * nested arrays, NUL characters, large and tiny numbers, unicode, deep nesting, empty keys.
 * Every software repository must return these equal after a JSON round trip.
 */
export const HOSTILE_JSON: readonly { readonly name: string; readonly value: JsonValue }[] = [
  { name: 'dotted and $-prefixed keys', value: { 'a.b': 1, $set: { $inc: 2 }, $: 'dollar', 'x.$y': [1] } },
  { name: 'nested arrays', value: { m: [[1, 2], [[3]], [], [[[]]]] } },
  { name: 'NUL and control characters', value: { 'k\u0000ey': 'v\u0000al\u0001\u001f', s: '\u0000' } },
  { name: 'large and small numbers', value: { big: 1.7976931348623157e308, small: 5e-324, neg: -9007199254740991, max: 9007199254740991, frac: 0.1 } },
  { name: 'unicode', value: { ключ: 'значение', emoji: '🚀🔥', cjk: '漢字', rtl: 'עברית', combining: 'e\u0301' } },
  { name: 'empty key and empty containers', value: { '': '', o: {}, a: [] } },
  { name: 'deep nesting', value: deep(120) },
  { name: 'a bare array', value: [1, 'two', null, true, { three: [3] }] },
  { name: 'a bare string', value: 'just text' },
  { name: 'a bare number', value: 42 },
  { name: 'null', value: null },
  { name: 'key order kept', value: { z: 1, a: 2, m: { y: 1, b: 2 } } },
  { name: '__proto__ and constructor keys', value: JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":1}}') as JsonValue },
];

function deep(n: number): JsonValue {
  let v: JsonValue = { leaf: true };
  for (let i = 0; i < n; i++) v = i % 2 === 0 ? { [`level${i}`]: v } : [v];
  return v;
}

export function software(tenantId: string, appName: string, version: string, overrides: Partial<Software> = {}): Software {
  return {
    tenantId,
    appName,
    version,
    upgradableFrom: [],
    specification: { version },
    metadata: null,
    rolloutStrategy: 'general',
    filters: [],
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    revision: 1,
    ...overrides,
  };
}

/** What a JSON round trip makes of a value (what the REST API would return). */
export function viaJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

let counter = 0;
/** A fresh id per test, so suites may share one database. */
export function unique(prefix: string): string {
  counter++;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}
