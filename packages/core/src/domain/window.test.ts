import { currentSpan, isWindowOpen, lastWindowTransition, type MaintenanceWindow, nextWindowOpening, nextWindowTransition } from './window';

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
