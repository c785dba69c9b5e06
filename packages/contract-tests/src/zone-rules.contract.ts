import {
  currentSpan,
  DEFAULT_SOFTWARE_RULES,
  isTimeZone,
  isWindowOpen,
  type MaintenanceWindow,
  nextWindowOpening,
  validateSoftwareInput,
  type ZoneRules,
} from '@otao/core';
import { type SubjectFactory, suiteTest, type SuiteOptions } from './subject';

const at = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;

/**
 * The contract of ZoneRules (the IANA data behind maintenance windows, spec §4.12, ADR 0018): which
 * names are zones, and a zone's UTC offset in whole minutes at an instant — checked on the offsets
 * themselves and through the core's window rules: the Europe/Berlin spring-forward gap and
 * fall-back overlap, zones with a 30-minute offset (Kolkata, Adelaide, St John's) and Lord Howe's
 * 30-minute change, and an unknown zone refused by the software validation with its message.
 */
export function zoneRulesContract(name: string, factory: SubjectFactory<ZoneRules>, options?: SuiteOptions): void {
  describe(`ZoneRules contract: ${name}`, () => {
    let zones: ZoneRules;
    const it = suiteTest(options);
    beforeEach(async () => {
      zones = await factory.create();
    });
    afterEach(async () => {
      await factory.dispose?.(zones);
    });

    it('knows IANA names and aliases; anything else is false, never a throw', async () => {
      for (const z of ['Europe/Berlin', 'UTC', 'Etc/UTC', 'Asia/Kolkata', 'America/St_Johns', 'Australia/Lord_Howe', 'America/New_York', 'Etc/GMT-2']) {
        expect([z, zones.isValidZone(z)]).toEqual([z, true]);
      }
      for (const z of ['Mars/Olympus', '', 'Europe/Berlinn', 'Europe/', 'not a zone', '../../etc/passwd', 'Europe/Berlin\u0000']) {
        expect([z, zones.isValidZone(z)]).toEqual([z, false]);
      }
    });

    it('an unknown zone is refused by the software validation, with the field and message the REST API shows', async () => {
      expect(isTimeZone(zones, 'Mars/Olympus')).toBe(false);
      expect(isTimeZone(zones, 'Europe/Berlin')).toBe(true);
      const body = { version: '1.0.0', rolloutStrategy: 'general', maintenanceWindow: { timeZone: 'Mars/Olympus', start: '01:00', end: '02:00' } };
      const r = validateSoftwareInput(body, DEFAULT_SOFTWARE_RULES, zones);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error).toMatchObject({
        code: 'software.invalid',
        field: 'maintenanceWindow.timeZone',
        message: 'maintenanceWindow.timeZone: must be an IANA time zone name such as Europe/Berlin, got "Mars/Olympus"',
      });
      const good = validateSoftwareInput(
        { ...body, maintenanceWindow: { ...body.maintenanceWindow, timeZone: 'Asia/Kolkata' } },
        DEFAULT_SOFTWARE_RULES,
        zones,
      );
      expect(good.ok).toBe(true);
    });

    it('offsets in minutes east of UTC, changing at the exact instant of a transition', async () => {
      expect(zones.offsetMinutes('UTC', at('2026-06-01T00:00:00Z'))).toBe(0);
      expect(zones.offsetMinutes('Europe/Berlin', at('2026-01-15T12:00:00Z'))).toBe(60);
      expect(zones.offsetMinutes('Europe/Berlin', at('2026-07-15T12:00:00Z'))).toBe(120);
      // 2026-03-29 01:00Z: 02:00 CET -> 03:00 CEST; 2026-10-25 01:00Z: 03:00 CEST -> 02:00 CET
      expect(zones.offsetMinutes('Europe/Berlin', at('2026-03-29T00:59:59.999Z'))).toBe(60);
      expect(zones.offsetMinutes('Europe/Berlin', at('2026-03-29T01:00:00Z'))).toBe(120);
      expect(zones.offsetMinutes('Europe/Berlin', at('2026-10-25T00:59:59.999Z'))).toBe(120);
      expect(zones.offsetMinutes('Europe/Berlin', at('2026-10-25T01:00:00Z'))).toBe(60);
      expect(zones.offsetMinutes('Asia/Kolkata', at('2026-07-15T12:00:00Z'))).toBe(330);
      expect(zones.offsetMinutes('America/St_Johns', at('2026-01-15T12:00:00Z'))).toBe(-210);
      expect(zones.offsetMinutes('America/St_Johns', at('2026-07-15T12:00:00Z'))).toBe(-150);
      expect(zones.offsetMinutes('Australia/Adelaide', at('2026-07-15T12:00:00Z'))).toBe(570);
      expect(zones.offsetMinutes('Australia/Adelaide', at('2026-01-15T12:00:00Z'))).toBe(630);
      expect(zones.offsetMinutes('Australia/Lord_Howe', at('2026-07-15T12:00:00Z'))).toBe(630);
      expect(zones.offsetMinutes('Australia/Lord_Howe', at('2026-01-15T12:00:00Z'))).toBe(660);
    });

    it('Europe/Berlin over 2026 hour by hour: whole minutes, 60 or 120, changing exactly twice', async () => {
      let changes = 0;
      let prev = zones.offsetMinutes('Europe/Berlin', at('2026-01-01T00:00:00Z'));
      for (let t = at('2026-01-01T00:00:00Z'); t < at('2027-01-01T00:00:00Z'); t += HOUR) {
        const o = zones.offsetMinutes('Europe/Berlin', t + 1234); // not on a whole second
        expect(o === 60 || o === 120).toBe(true);
        if (o !== prev) changes++;
        prev = o;
      }
      expect(changes).toBe(2);
    });

    it('Europe/Berlin spring forward (2026-03-29): a window 01:30–03:30 lasts one hour; a start in the gap moves forward by it', async () => {
      const night: MaintenanceWindow = { timeZone: 'Europe/Berlin', start: '01:30', end: '03:30' };
      expect(currentSpan(zones, night, at('2026-03-29T01:00:00Z'))).toEqual({ opensAt: at('2026-03-29T00:30:00Z'), closesAt: at('2026-03-29T01:30:00Z') });
      const inGap: MaintenanceWindow = { timeZone: 'Europe/Berlin', start: '02:30', end: '04:00' };
      expect(nextWindowOpening(zones, inGap, at('2026-03-28T12:00:00Z'))).toBe(at('2026-03-29T01:30:00Z')); // 03:30 CEST
    });

    it('Europe/Berlin fall back (2026-10-25): a window 01:30–03:30 lasts three hours; a start in the overlap is the later instant', async () => {
      const night: MaintenanceWindow = { timeZone: 'Europe/Berlin', start: '01:30', end: '03:30' };
      expect(currentSpan(zones, night, at('2026-10-25T00:00:00Z'))).toEqual({ opensAt: at('2026-10-24T23:30:00Z'), closesAt: at('2026-10-25T02:30:00Z') });
      const inOverlap: MaintenanceWindow = { timeZone: 'Europe/Berlin', start: '02:30', end: '04:00' };
      expect(nextWindowOpening(zones, inOverlap, at('2026-10-24T12:00:00Z'))).toBe(at('2026-10-25T01:30:00Z')); // 02:30 CET
      expect(isWindowOpen(zones, inOverlap, at('2026-10-25T00:45:00Z'))).toBe(false); // 02:45 CEST, the first pass
    });

    it('30-minute offsets: Kolkata, Adelaide’s spring-forward gap, Lord Howe’s 30-minute change', async () => {
      const kolkata: MaintenanceWindow = { timeZone: 'Asia/Kolkata', start: '01:00', end: '02:00' };
      expect(currentSpan(zones, kolkata, at('2026-01-14T20:00:00Z'))).toEqual({ opensAt: at('2026-01-14T19:30:00Z'), closesAt: at('2026-01-14T20:30:00Z') });
      // 2026-10-04 02:00 ACST -> 03:00 ACDT: 02:30 moves to 03:30 ACDT (17:00Z the day before)
      const adelaide: MaintenanceWindow = { timeZone: 'Australia/Adelaide', start: '02:30', end: '04:00', days: ['sun'] };
      expect(nextWindowOpening(zones, adelaide, at('2026-10-01T00:00:00Z'))).toBe(at('2026-10-03T17:00:00Z'));
      // 2026-10-04 02:00 -> 02:30 (+10:30 -> +11:00): 02:15 moves to 02:45
      const lordHowe: MaintenanceWindow = { timeZone: 'Australia/Lord_Howe', start: '02:15', end: '03:00' };
      expect(currentSpan(zones, lordHowe, at('2026-10-03T15:50:00Z'))).toEqual({ opensAt: at('2026-10-03T15:45:00Z'), closesAt: at('2026-10-03T16:00:00Z') });
    });
  });
}
