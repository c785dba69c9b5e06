/** A JSON value as parsed by JSON.parse: the free-form `specification` and `metadata` of software. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** UTF-8 length of a string in bytes, without Node's Buffer (the core does no I/O). */
export function utf8ByteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * Maximum nesting of objects and arrays in free JSON. JSON.parse accepts any depth, but recursion
 * over a value (this check, JSON.stringify) overflows the stack a few thousand levels down, which
 * would turn bad input into a crash instead of a `request.invalid`.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * Checks that a value is plain JSON (what JSON.parse can produce): finite numbers, no undefined,
 * functions, symbols, bigints, class instances or cycles, and at most {@link MAX_JSON_DEPTH}
 * nested objects/arrays. Returns the path of the first offence.
 */
export function findNonJson(v: unknown, path = '', seen: Set<object> = new Set(), depth = 0): string | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : path || '(root)';
  if (typeof v !== 'object') return path || '(root)';
  if (seen.has(v) || depth >= MAX_JSON_DEPTH) return path || '(root)';
  seen.add(v);
  try {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const bad = findNonJson(v[i], `${path}[${i}]`, seen, depth + 1);
        if (bad !== undefined) return bad;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return path || '(root)';
    for (const [k, x] of Object.entries(v)) {
      const bad = findNonJson(x, path ? `${path}.${k}` : k, seen, depth + 1);
      if (bad !== undefined) return bad;
    }
    return undefined;
  } finally {
    seen.delete(v);
  }
}

/** A deep copy through JSON text: what callers get can never alias what the core keeps. */
export function cloneJson<T extends JsonValue>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * Sets `value` at a dot-separated path inside a copy of `obj`, creating intermediate objects and
 * replacing whatever was there (spec §5: the download link injected at OTAO_S3_URL_PATH).
 * Non-object intermediates are replaced by objects.
 */
export function setAtPath(obj: JsonObject, path: readonly string[], value: JsonValue): JsonObject {
  const [head, ...rest] = path;
  if (head === undefined) return obj;
  const copy: JsonObject = { ...obj };
  // Own properties only, defined rather than assigned: a `__proto__` segment must neither read
  // Object.prototype nor invoke its setter (which would change the copy's prototype, not its data).
  const child = Object.prototype.hasOwnProperty.call(copy, head) ? copy[head] : undefined;
  const next = rest.length === 0 ? value : setAtPath(isJsonObject(child) ? child : {}, rest, value);
  Object.defineProperty(copy, head, { value: next, enumerable: true, writable: true, configurable: true });
  return copy;
}
