/**
 * Dates in Kaa's form `yyyy-MM-dd'T'HH:mm:ss'Z'`. Input is accepted as RFC 3339 in UTC (`Z` or
 * `+00:00`, optional fraction); output always has whole seconds and `Z`.
 */
const RFC3339_UTC = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|z|\+00:00|-00:00)$/;

/** Parses an RFC 3339 UTC date into epoch milliseconds, or undefined when it is not one. */
export function parseKaaDate(s: string): number | undefined {
  const m = RFC3339_UTC.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59) return undefined;
  // Not Date.UTC: it maps years 0–99 to 1900–1999.
  const check = new Date(0);
  check.setUTCFullYear(y, mo - 1, d);
  check.setUTCHours(h, mi, se, 0);
  const ms = check.getTime();
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1) return undefined; // e.g. Feb 30
  const frac = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  return ms + frac;
}

/** Formats epoch milliseconds as Kaa's `yyyy-MM-dd'T'HH:mm:ss'Z'` (fraction truncated). */
export function formatKaaDate(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  let s = formatted.get(seconds);
  if (s === undefined) {
    const iso = new Date(seconds * 1000).toISOString();
    // yyyy-MM-ddTHH:mm:ss.sssZ (24 characters) for years 0–9999; expanded years keep the regex path
    s = iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, 'Z');
    if (formatted.size >= 4096) formatted.clear();
    formatted.set(seconds, s);
  }
  return s;
}

/** Formatted dates by second: responses repeat the same createdAt/updatedAt values over and over. */
const formatted = new Map<number, string>();
