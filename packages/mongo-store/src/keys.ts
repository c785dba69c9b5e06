/**
 * Deterministic `_id`s: the JSON text of the identifying tuple. Unique by construction (JSON text of
 * an array of strings is injective), free of `.`/`$` key problems (it is a value) and of NUL
 * characters (JSON escapes them). Single-record reads and writes go by `_id`, the store's primary key.
 */
export function idOf(...parts: readonly (string | number)[]): string {
  return JSON.stringify(parts);
}

/**
 * The `_id` range of every record whose tuple starts with `parts` (followed by at least one string):
 * all of them begin with the JSON text of `parts` plus `,"` and nothing else does, so
 * `{_id: {$gt: lo, $lt: hi}}` with `sort({_id: 1})` walks them in primary-key order. Within one
 * (tenant, app) that is the order of the endpoint ids (exactly so for ids without control
 * characters, spaces, `!`, `"` or `\`, which JSON escapes or which sort before the closing quote).
 */
export function idRange(...parts: readonly string[]): { readonly lo: string; readonly hi: string } {
  const open = `${JSON.stringify(parts).slice(0, -1)},`;
  return { lo: open, hi: `${open}#` }; // '#' is the character after '"', which opens the next string
}

/** Milliseconds of the wall clock, for garbage-collection ages only (never for lease semantics). */
export function wallClock(): number {
  return Date.now();
}
