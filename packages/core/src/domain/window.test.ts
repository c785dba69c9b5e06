import { IntlZoneRules } from '../testing/intl-zone-rules';
import * as win from './window';
import type { MaintenanceWindow } from './window';

const ZONES = new IntlZoneRules();
const currentSpan = (w: MaintenanceWindow, t: number) => win.currentSpan(ZONES, w, t);
const isWindowOpen = (w: MaintenanceWindow, t: number) => win.isWindowOpen(ZONES, w, t);
const nextWindowOpening = (w: MaintenanceWindow, t: number) => win.nextWindowOpening(ZONES, w, t);
const nextWindowTransition = (w: MaintenanceWindow, t: number) => win.nextWindowTransition(ZONES, w, t);
const lastWindowTransition = (w: MaintenanceWindow, t: number) => win.lastWindowTransition(ZONES, w, t);

const at = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;

describe('maintenance windows (spec §4.12) in the window time zone', () => {
  const berlinNight: MaintenanceWindow = { timeZone: 'Europe/Berlin', start: '01:30', end: '03:30' };

  test('a plain day: 01:30–03:30 in Berlin is 00:30Z–02:30Z in winter and 23:30Z–01:30Z in summer', () => {
    expect(currentSpan(berlinNight, at('2026-01-15T01:00:00Z'))).toEqual({ opensAt: at('2026-01-15T00:30:00Z'), closesAt: at('2026-01-15T02:30:00Z') });
    expect(currentSpan(berlinNight, at('2026-07-15T00:00:00Z'))).toEqual({ opensAt: at('2026-07-14T23:30:00Z'), closesAt: at('2026-07-15T01:30:00Z') });
    expect(isWindowOpen(berlinNight, at('2026-01-15T00:29:59Z'))).toBe(false);
    expect(isWindowOpen(berlinNight, at('2026-01-15T00:30:00Z'))).toBe(true);
    expect(isWindowOpen(berlinNight, at('2026-01-15T02:29:59Z'))).toBe(true);
    expect(isWindowOpen(berlinNight, at('2026-01-15T02:30:00Z'))).toBe(false);
  });

  test('spring forward (2026-03-29, 02:00 CET -> 03:00 CEST): the window lasts one hour', () => {
    const span = currentSpan(berlinNight, at('2026-03-29T01:00:00Z'));
    expect(span).toEqual({ opensAt: at('2026-03-29T00:30:00Z'), closesAt: at('2026-03-29T01:30:00Z') });
    expect(isWindowOpen(berlinNight, at('2026-03-29T01:29:59Z'))).toBe(true);
    expect(isWindowOpen(berlinNight, at('2026-03-29T01:30:00Z'))).toBe(false);
  });

  test('fall back (2026-10-25, 03:00 CEST -> 02:00 CET): the window lasts three hours', () => {
    const span = currentSpan(berlinNight, at('2026-10-25T00:00:00Z'));
    expect(span).toEqual({ opensAt: at('2026-10-24T23:30:00Z'), closesAt: at('2026-10-25T02:30:00Z') });
    expect(isWindowOpen(berlinNight, at('2026-10-25T02:29:59Z'))).toBe(true);
    expect(isWindowOpen(berlinNight, at('2026-10-25T02:30:00Z'))).toBe(false);
  });

  test('a start inside the spring-forward gap moves forward by the gap (02:30 -> 03:30 CEST)', () => {
    const w: MaintenanceWindow = { timeZone: 'Europe/Berlin', start: '02:30', end: '04:00' };
    expect(nextWindowOpening(w, at('2026-03-28T12:00:00Z'))).toBe(at('2026-03-29T01:30:00Z'));
    expect(currentSpan(w, at('2026-03-29T01:45:00Z'))).toEqual({ opensAt: at('2026-03-29T01:30:00Z'), closesAt: at('2026-03-29T02:00:00Z') });
  });

  test('New York across its own DST change (2026-03-08): 06:00 local is 11:00Z before, 10:00Z after', () => {
    const w: MaintenanceWindow = { timeZone: 'America/New_York', start: '06:00', end: '07:00' };
    expect(nextWindowOpening(w, at('2026-03-07T12:00:00Z'))).toBe(at('2026-03-08T10:00:00Z'));
    expect(nextWindowOpening(w, at('2026-03-06T12:00:00Z'))).toBe(at('2026-03-07T11:00:00Z'));
  });

  test('a window crossing midnight belongs to the day it starts', () => {
    // Friday 22:00 to Saturday 02:00, Berlin (CET, UTC+1 in January); 2026-01-02 is a Friday
    const w: MaintenanceWindow = { timeZone: 'Europe/Berlin', start: '22:00', end: '02:00', days: ['fri'] };
    expect(isWindowOpen(w, at('2026-01-02T20:59:59Z'))).toBe(false);
    expect(isWindowOpen(w, at('2026-01-02T21:00:00Z'))).toBe(true);
    expect(isWindowOpen(w, at('2026-01-03T00:30:00Z'))).toBe(true); // Saturday 01:30 local, opened Friday
    expect(isWindowOpen(w, at('2026-01-03T01:00:00Z'))).toBe(false);
    expect(isWindowOpen(w, at('2026-01-03T21:30:00Z'))).toBe(false); // Saturday 22:30: not a window day
    expect(nextWindowOpening(w, at('2026-01-03T01:00:00Z'))).toBe(at('2026-01-09T21:00:00Z'));
  });

  test('a window crossing midnight on the night of the fall-back change', () => {
    // Saturday 2026-10-24 23:00 CEST to Sunday 03:00 CET: 21:00Z to 02:00Z, five hours
    const w: MaintenanceWindow = { timeZone: 'Europe/Berlin', start: '23:00', end: '03:00', days: ['sat'] };
    expect(currentSpan(w, at('2026-10-25T01:00:00Z'))).toEqual({ opensAt: at('2026-10-24T21:00:00Z'), closesAt: at('2026-10-25T02:00:00Z') });
  });

  test('transitions: between the last and the next, whether the window is open does not change', () => {
    const w: MaintenanceWindow = { timeZone: 'Europe/Berlin', start: '22:00', end: '02:00', days: ['mon', 'fri'] };
    let t = at('2026-03-20T12:00:00Z');
    for (let i = 0; i < 20; i++) {
      const next = nextWindowTransition(w, t) as number;
      expect(next).toBeGreaterThan(t);
      expect(lastWindowTransition(w, next)).toBe(next);
      const open = isWindowOpen(w, t);
      expect(isWindowOpen(w, next - 1)).toBe(open);
      expect(isWindowOpen(w, next)).toBe(!open);
      t = next;
    }
    expect(t - at('2026-03-20T12:00:00Z')).toBeGreaterThan(14 * 24 * HOUR);
  });
});

describe('instantOfLocal: the core’s rule for daylight-saving gaps and overlaps, whatever the zone data', () => {
  // A made-up zone whose offset goes 60 -> 120 at T1 (a one-hour gap) and back 120 -> 60 at T2 (a one-hour overlap).
  const T1 = at('2030-03-31T01:00:00Z');
  const T2 = at('2030-10-27T01:00:00Z');
  const synthetic = { isValidZone: (z: string) => z === 'Test/Zone', offsetMinutes: (_z: string, t: number) => (t >= T1 && t < T2 ? 120 : 60) };
  const local = (iso: string): number => at(`${iso}Z`); // a local wall-clock time, as ms since 1970 local

  test('outside a change: the one instant', () => {
    expect(win.instantOfLocal(synthetic, 'Test/Zone', local('2030-01-10T12:00:00'))).toBe(at('2030-01-10T11:00:00Z'));
    expect(win.instantOfLocal(synthetic, 'Test/Zone', local('2030-07-10T12:00:00'))).toBe(at('2030-07-10T10:00:00Z'));
  });

  test('inside the gap (02:00–03:00 local does not exist): forward by the gap', () => {
    expect(win.instantOfLocal(synthetic, 'Test/Zone', local('2030-03-31T02:30:00'))).toBe(at('2030-03-31T01:30:00Z')); // = 03:30 at +120
    expect(win.instantOfLocal(synthetic, 'Test/Zone', local('2030-03-31T01:59:00'))).toBe(at('2030-03-31T00:59:00Z'));
    expect(win.instantOfLocal(synthetic, 'Test/Zone', local('2030-03-31T03:00:00'))).toBe(at('2030-03-31T01:00:00Z'));
  });

  test('inside the overlap (02:00–03:00 local happens twice): the later instant', () => {
    expect(win.instantOfLocal(synthetic, 'Test/Zone', local('2030-10-27T02:30:00'))).toBe(at('2030-10-27T01:30:00Z'));
    expect(win.instantOfLocal(synthetic, 'Test/Zone', local('2030-10-27T02:00:00'))).toBe(at('2030-10-27T01:00:00Z'));
    expect(win.instantOfLocal(synthetic, 'Test/Zone', local('2030-10-27T01:59:00'))).toBe(at('2030-10-26T23:59:00Z'));
  });

  test('local days and weekdays come from the offset at the instant', () => {
    expect(win.localDay(synthetic, 'Test/Zone', at('2030-07-10T22:30:00Z'))).toBe(Date.UTC(2030, 6, 11) / 86_400_000); // 00:30 local, next day
    expect(win.weekdayOf(0)).toBe('thu'); // 1970-01-01
    expect(win.weekdayOf(Date.UTC(2026, 0, 2) / 86_400_000)).toBe('fri');
    expect(win.weekdayOf(-1)).toBe('wed');
  });
});

describe('windows on real zone data (the reference ZoneRules)', () => {
  test('a start inside the Berlin fall-back overlap (2026-10-25 02:30) is the later 02:30, standard time', () => {
    const w: MaintenanceWindow = { timeZone: 'Europe/Berlin', start: '02:30', end: '04:00' };
    expect(nextWindowOpening(w, at('2026-10-24T12:00:00Z'))).toBe(at('2026-10-25T01:30:00Z'));
    expect(currentSpan(w, at('2026-10-25T02:00:00Z'))).toEqual({ opensAt: at('2026-10-25T01:30:00Z'), closesAt: at('2026-10-25T03:00:00Z') });
    expect(isWindowOpen(w, at('2026-10-25T00:45:00Z'))).toBe(false); // the first 02:45 (CEST) is not yet in the window
  });

  test('zones with a 30-minute offset: Asia/Kolkata (+05:30) and Adelaide (+09:30, +10:30 in summer)', () => {
    const kolkata: MaintenanceWindow = { timeZone: 'Asia/Kolkata', start: '01:00', end: '02:00' };
    expect(currentSpan(kolkata, at('2026-01-14T20:00:00Z'))).toEqual({ opensAt: at('2026-01-14T19:30:00Z'), closesAt: at('2026-01-14T20:30:00Z') });
    const adelaide: MaintenanceWindow = { timeZone: 'Australia/Adelaide', start: '02:30', end: '04:00', days: ['sun'] };
    // 2026-10-04: 02:00 ACST -> 03:00 ACDT; 02:30 is in the gap and moves to 03:30 ACDT (17:00Z the day before)
    expect(nextWindowOpening(adelaide, at('2026-10-01T00:00:00Z'))).toBe(at('2026-10-03T17:00:00Z'));
    expect(currentSpan(adelaide, at('2026-10-03T17:10:00Z'))).toEqual({ opensAt: at('2026-10-03T17:00:00Z'), closesAt: at('2026-10-03T17:30:00Z') });
  });

  test('Lord Howe Island changes by 30 minutes (2026-10-04 02:00 -> 02:30, +10:30 -> +11:00): 02:15 is in the gap, opens at 02:45', () => {
    const w: MaintenanceWindow = { timeZone: 'Australia/Lord_Howe', start: '02:15', end: '03:00' };
    expect(currentSpan(w, at('2026-10-03T15:50:00Z'))).toEqual({ opensAt: at('2026-10-03T15:45:00Z'), closesAt: at('2026-10-03T16:00:00Z') });
    expect(currentSpan(w, at('2026-01-03T15:50:00Z'))).toEqual({ opensAt: at('2026-01-03T15:15:00Z'), closesAt: at('2026-01-03T16:00:00Z') }); // summer, +11:00
  });
});
