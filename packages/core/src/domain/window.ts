import { DateTime, IANAZone } from 'luxon';

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

/** Whether the platform's IANA time-zone data knows `zone` (e.g. `Europe/Berlin`, `UTC`). */
export function isTimeZone(zone: unknown): zone is string {
  return typeof zone === 'string' && zone.length > 0 && zone.length <= 64 && IANAZone.isValidZone(zone);
}

function hm(s: string): { hour: number; minute: number } {
  const m = HH_MM.exec(s) as RegExpExecArray;
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** One opening of a window: [opensAt, closesAt) in epoch ms. */
export interface WindowSpan {
  readonly opensAt: number;
  readonly closesAt: number;
}

/**
 * The opening that starts on the local calendar day `day` (a DateTime at local midnight), or none
 * when `days` excludes that day. Local times are turned into instants by the zone's rules (Luxon on
 * the platform's IANA data): a start or end inside a spring-forward gap moves forward by the gap
 * (02:30 becomes 03:30); inside a fall-back overlap the later instant (standard time: the second
 * 02:30) is taken — Luxon's rule, pinned by the tests.
 */
function spanStarting(w: MaintenanceWindow, day: DateTime): WindowSpan | undefined {
  if (w.days && !w.days.includes(WEEKDAYS[day.weekday - 1] as Weekday)) return undefined;
  const s = hm(w.start);
  const e = hm(w.end);
  const crosses = e.hour * 60 + e.minute <= s.hour * 60 + s.minute;
  const opens = DateTime.fromObject({ year: day.year, month: day.month, day: day.day, ...s }, { zone: w.timeZone });
  const endDay = crosses ? day.plus({ days: 1 }) : day;
  const closes = DateTime.fromObject({ year: endDay.year, month: endDay.month, day: endDay.day, ...e }, { zone: w.timeZone });
  const opensAt = opens.toMillis();
  const closesAt = closes.toMillis();
  return closesAt > opensAt ? { opensAt, closesAt } : undefined;
}

/** Openings that start on local days from `fromDay` days before `t` to `toDay` days after, in order. */
function spansAround(w: MaintenanceWindow, t: number, fromDay: number, toDay: number): WindowSpan[] {
  const local = DateTime.fromMillis(t, { zone: w.timeZone }).startOf('day');
  const out: WindowSpan[] = [];
  for (let d = fromDay; d <= toDay; d++) {
    const s = spanStarting(w, local.plus({ days: d }));
    if (s) out.push(s);
  }
  return out;
}

/** Whether the window is open at `t`. */
export function isWindowOpen(w: MaintenanceWindow, t: number): boolean {
  return spansAround(w, t, -1, 0).some((s) => s.opensAt <= t && t < s.closesAt);
}

/** The opening in which `t` lies, if the window is open. */
export function currentSpan(w: MaintenanceWindow, t: number): WindowSpan | undefined {
  return spansAround(w, t, -1, 0).find((s) => s.opensAt <= t && t < s.closesAt);
}

/** The next time the window opens strictly after `t` (a week ahead at most, since every window opens at least once a week). */
export function nextWindowOpening(w: MaintenanceWindow, t: number): number | undefined {
  for (const s of spansAround(w, t, -1, 8)) if (s.opensAt > t) return s.opensAt;
  return undefined;
}

/** The first time after `t` the window opens or closes: until then, whether it is open does not change. */
export function nextWindowTransition(w: MaintenanceWindow, t: number): number | undefined {
  let best: number | undefined;
  for (const s of spansAround(w, t, -1, 8)) {
    for (const x of [s.opensAt, s.closesAt]) if (x > t && (best === undefined || x < best)) best = x;
  }
  return best;
}

/** The last time at or before `t` the window opened or closed. */
export function lastWindowTransition(w: MaintenanceWindow, t: number): number | undefined {
  let best: number | undefined;
  for (const s of spansAround(w, t, -8, 0)) {
    for (const x of [s.opensAt, s.closesAt]) if (x <= t && (best === undefined || x > best)) best = x;
  }
  return best;
}
