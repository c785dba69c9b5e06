import { Range, satisfies, SemVer, valid as semverValid } from 'semver';

/** The SemVer 2.0.0 grammar (semver.org), strictly: no `v` prefix, no loose forms, no spaces. */
const STRICT_SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export const MAX_VERSION_LENGTH = 256;

export function isStrictSemver(s: string): boolean;
export function isStrictSemver(s: unknown): s is string;
export function isStrictSemver(s: unknown): boolean {
  // semverValid also rejects major/minor/patch above Number.MAX_SAFE_INTEGER, which the grammar
  // allows but the semver library cannot compare (it would throw later).
  return typeof s === 'string' && s.length <= MAX_VERSION_LENGTH && STRICT_SEMVER.test(s) && semverValid(s) !== null;
}

/** Parsed versions, so comparisons on hot paths (sorting, planning) do not re-parse. Bounded. */
const parsed = new Map<string, SemVer>();

function parse(v: string): SemVer {
  let p = parsed.get(v);
  if (p === undefined) {
    p = new SemVer(v);
    if (parsed.size >= 50_000) parsed.clear();
    parsed.set(v, p);
  }
  return p;
}

/** SemVer precedence: negative, zero (build metadata ignored) or positive. Throws on an invalid version. */
export function compareVersions(a: string, b: string): number {
  return a === b ? 0 : parse(a).compare(parse(b));
}

export function sameVersion(a: string, b: string): boolean {
  return compareVersions(a, b) === 0;
}

/** One parsed entry of `upgradableFrom`: an exact version or (ours) a SemVer range. */
export type VersionMatcher = { readonly kind: 'exact'; readonly source: string } | { readonly kind: 'range'; readonly source: string; readonly range: Range };

// A range as OTAO accepts it on input (spec §2): semver's range grammar, written strictly. Versions
// in it are strict SemVer or partial/X forms of it (`1`, `1.2`, `1.x`, `*`), without a `v` prefix or
// leading zeros; operators are `<`, `<=`, `>`, `>=`, `~`, `^` written against their version, or a
// hyphen range `A - B`; comparators are separated by spaces, sets by `||`. Loose spellings that
// semver tolerates even in its non-loose mode — `v1.0.0`, `=1.0.0`, `~>1.2`, `>= 1.0.0` — are not.
const NUM = '(?:0|[1-9]\\d*)';
const XR = `(?:${NUM}|[xX*])`;
const PRE_ID = '(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)';
const BUILD_ID = '[0-9a-zA-Z-]+';
const PARTIAL = `${XR}(?:\\.${XR}(?:\\.${XR}(?:-${PRE_ID}(?:\\.${PRE_ID})*)?(?:\\+${BUILD_ID}(?:\\.${BUILD_ID})*)?)?)?`;
const COMPARATOR = `(?:<=?|>=?|~|\\^)?${PARTIAL}`;
const COMPARATOR_SET = `(?:${PARTIAL} - ${PARTIAL}|${COMPARATOR}(?: +${COMPARATOR})*)`;
const STRICT_RANGE = new RegExp(`^${COMPARATOR_SET}(?: *\\|\\| *${COMPARATOR_SET})*$`);

/** An `upgradableFrom` entry as given on input: strict, or a loose spelling of a version or range, or neither. */
export type InputMatcher = { readonly ok: true; readonly matcher: VersionMatcher } | { readonly ok: false; readonly loose: boolean };

/**
 * Parses an `upgradableFrom` entry of a create or replace (spec §2): an exact strict SemVer
 * version, or a range that semver parses in its non-loose mode and whose every comparator is
 * written strictly (see STRICT_RANGE). `loose` tells an entry semver would take (`v1.0.0`,
 * `=1.0.0`) from one that is no version or range at all.
 */
export function parseInputMatcher(entry: unknown): InputMatcher {
  const m = parseMatcher(entry);
  if (!m) return { ok: false, loose: false };
  if (m.kind === 'exact' || STRICT_RANGE.test(m.source)) return { ok: true, matcher: m };
  return { ok: false, loose: true };
}

/**
 * Parses an `upgradableFrom` entry, or returns undefined when it is neither a version nor a range.
 * Lenient about how a range is spelled: it also reads entries stored before input was checked with
 * parseInputMatcher.
 */
export function parseMatcher(entry: unknown): VersionMatcher | undefined {
  if (typeof entry !== 'string' || entry.length === 0 || entry.length > MAX_VERSION_LENGTH) return undefined;
  if (isStrictSemver(entry)) return { kind: 'exact', source: entry };
  if (entry.trim() !== entry) return undefined;
  try {
    const range = new Range(entry);
    return { kind: 'range', source: entry, range };
  } catch {
    return undefined;
  }
}

/** Whether a concrete version matches an entry (exact: by precedence; range: prereleases excluded unless named). */
export function matches(m: VersionMatcher, version: string): boolean {
  if (m.kind === 'exact') return compareVersions(m.source, version) === 0;
  return satisfies(version, m.range);
}
