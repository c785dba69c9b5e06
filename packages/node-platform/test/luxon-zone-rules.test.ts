import { Settings } from 'luxon';
import { LuxonZoneRules } from '../src';

const at = (iso: string): number => Date.parse(iso);

// Luxon's own DateTime.fromObject resolves a local time in a fall-back overlap with the offset of
// the current date (the earlier instant in summer, the later in winter). The adapter hands the core
// offsets only, so the overlap rule is the core's and does not change with the season (ADR 0018).
test('offsets do not depend on the current date (Luxon’s Settings.now)', () => {
  const zones = new LuxonZoneRules();
  const saved = Settings.now;
  try {
    for (const now of [at('2026-01-15T00:00:00Z'), at('2026-07-15T00:00:00Z')]) {
      Settings.now = () => now;
      expect(zones.offsetMinutes('Europe/Berlin', at('2026-10-25T00:30:00Z'))).toBe(120);
      expect(zones.offsetMinutes('Europe/Berlin', at('2026-10-25T01:30:00Z'))).toBe(60);
    }
  } finally {
    Settings.now = saved;
  }
});

test('an unknown zone: not valid, and its offset is refused rather than guessed', () => {
  const zones = new LuxonZoneRules();
  expect(zones.isValidZone('Mars/Olympus')).toBe(false);
  expect(() => zones.offsetMinutes('Mars/Olympus', 0)).toThrow(RangeError);
});
