import type { ZoneRules } from '../ports/zone-rules.port';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * A maintenance window (spec §4.12): open from `start` to `end` (`HH:MM`, 24 h) local time in
 * `timeZone` (IANA), on `days` (the day the window starts; every day when absent). `end` before
 * `start` crosses midnight.
 */
export interface MaintenanceWindow {
  readonly timeZone: string;
  readonly start: string;
  readonly end: string;
  readonly days?: readonly Weekday[];
}

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Whether `s` is `HH:MM` on a 24-hour clock. */
export function isHourMinute(s: unknown): s is string {
  return typeof s === 'string' && HH_MM.test(s);
}

/** Whether `zone` is an IANA time-zone name the zone rules know (e.g. `Europe/Berlin`, `UTC`), at most 64 characters. */
export function isTimeZone(zones: ZoneRules, zone: unknown): zone is string {
  return typeof zone === 'string' && zone.length > 0 && zone.length <= 64 && zones.isValidZone(zone);
}

function hm(s: string): number {
  const m = HH_MM.exec(s) as RegExpExecArray;
  return Number(m[1]) * 60 + Number(m[2]);
}

/** One opening of a window: [opensAt, closesAt) in epoch ms. */
export interface WindowSpan {
  readonly opensAt: number;
  readonly closesAt: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The local calendar day of the instant `t` in `zone`, as days since 1970-01-01 (local). */
export function localDay(zones: ZoneRules, zone: string, t: number): number {
  return Math.floor((t + zones.offsetMinutes(zone, t) * MINUTE) / DAY);
}

/** The weekday of a local day number (days since 1970-01-01, a Thursday). */
export function weekdayOf(day: number): Weekday {
  return WEEKDAYS[(((day + 3) % 7) + 7) % 7] as Weekday;
}

/**
 * The instant of the local wall-clock time `local` (ms since 1970-01-01T00:00 local) in `zone`. The
 * rule for a daylight-saving change is the core's, whatever the zone data: a local time inside a
 * gap (spring forward) moves forward by the gap — it is read with the offset before the change
 * (Berlin 2026-03-29 02:30 is 03:30 CEST, 01:30Z); a local time inside an overlap (fall back) is the
 * later of its two instants (Berlin 2026-10-25 02:30 is 02:30 CET, 01:30Z). It assumes at most one
 * offset change within a day of `local` (true of the IANA data).
 */
export function instantOfLocal(zones: ZoneRules, zone: string, local: number): number {
  const before = zones.offsetMinutes(zone, local - DAY);
  const after = zones.offsetMinutes(zone, local + DAY);
  const tBefore = local - before * MINUTE;
  const okBefore = zones.offsetMinutes(zone, tBefore) === before;
  if (before === after && okBefore) return tBefore;
  const tAfter = local - after * MINUTE;
  const okAfter = zones.offsetMinutes(zone, tAfter) === after;
  if (okBefore && okAfter) return Math.max(tBefore, tAfter); // overlap: the later instant
  if (okAfter) return tAfter;
  return tBefore; // valid with the earlier offset only, or a gap: forward by the gap
}

/**
 * The opening that starts on the local day `day` (days since 1970-01-01 in the window's zone), or
 * none when `days` excludes that day or the opening is empty. Local times become instants by
 * {@link instantOfLocal}: a start or end inside a spring-forward gap moves forward by the gap
 * (02:30 becomes 03:30); inside a fall-back overlap the later instant (the second 02:30) is taken.
 */
function spanStarting(zones: ZoneRules, w: MaintenanceWindow, day: number): WindowSpan | undefined {
  if (w.days && !w.days.includes(weekdayOf(day))) return undefined;
  const s = hm(w.start);
  const e = hm(w.end);
  const endDay = e <= s ? day + 1 : day;
  const opensAt = instantOfLocal(zones, w.timeZone, day * DAY + s * MINUTE);
  const closesAt = instantOfLocal(zones, w.timeZone, endDay * DAY + e * MINUTE);
  return closesAt > opensAt ? { opensAt, closesAt } : undefined;
}

/** Openings that start on local days from `fromDay` days before `t` to `toDay` days after, in order. */
function spansAround(zones: ZoneRules, w: MaintenanceWindow, t: number, fromDay: number, toDay: number): WindowSpan[] {
  const today = localDay(zones, w.timeZone, t);
  const out: WindowSpan[] = [];
  for (let d = fromDay; d <= toDay; d++) {
    const s = spanStarting(zones, w, today + d);
    if (s) out.push(s);
  }
  return out;
}

/** Whether the window is open at `t`. */
export function isWindowOpen(zones: ZoneRules, w: MaintenanceWindow, t: number): boolean {
  return spansAround(zones, w, t, -1, 0).some((s) => s.opensAt <= t && t < s.closesAt);
}

/** The opening in which `t` lies, if the window is open. */
export function currentSpan(zones: ZoneRules, w: MaintenanceWindow, t: number): WindowSpan | undefined {
  return spansAround(zones, w, t, -1, 0).find((s) => s.opensAt <= t && t < s.closesAt);
}

/** The next time the window opens strictly after `t` (a week ahead at most, since every window opens at least once a week). */
export function nextWindowOpening(zones: ZoneRules, w: MaintenanceWindow, t: number): number | undefined {
  for (const s of spansAround(zones, w, t, -1, 8)) if (s.opensAt > t) return s.opensAt;
  return undefined;
}

/** The first time after `t` the window opens or closes: until then, whether it is open does not change. */
export function nextWindowTransition(zones: ZoneRules, w: MaintenanceWindow, t: number): number | undefined {
  let best: number | undefined;
  for (const s of spansAround(zones, w, t, -1, 8)) {
    for (const x of [s.opensAt, s.closesAt]) if (x > t && (best === undefined || x < best)) best = x;
  }
  return best;
}

/** The last time at or before `t` the window opened or closed. */
export function lastWindowTransition(zones: ZoneRules, w: MaintenanceWindow, t: number): number | undefined {
  let best: number | undefined;
  for (const s of spansAround(zones, w, t, -8, 0)) {
    for (const x of [s.opensAt, s.closesAt]) if (x <= t && (best === undefined || x > best)) best = x;
  }
  return best;
}
