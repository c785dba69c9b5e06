/**
 * Deterministic `_id`s: the JSON text of the identifying tuple. Unique by construction (JSON text of
 * an array of strings is injective), free of `.`/`$` key problems (it is a value) and of NUL
 * characters (JSON escapes them), and usable as an insert-only compare-and-set: FerretDB v1 keeps
 * inserts against a unique index atomic even where it does not keep updates atomic (docs/mongo-store.md).
 */
export function idOf(...parts: readonly (string | number)[]): string {
  return JSON.stringify(parts);
}

/** Milliseconds of the wall clock, for garbage-collection ages only (never for lease semantics). */
export function wallClock(): number {
  return Date.now();
}
