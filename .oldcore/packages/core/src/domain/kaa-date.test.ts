import fc from 'fast-check';
import { formatKaaDate, parseKaaDate } from './kaa-date';

const KAA_FORM = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const MIN_MS = new Date('0000-01-01T00:00:00.000Z').getTime();
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

describe('parseKaaDate', () => {
  test.each([
    ['2026-01-31T12:00:00Z', Date.UTC(2026, 0, 31, 12)],
    ['2026-01-31T12:00:00+00:00', Date.UTC(2026, 0, 31, 12)],
    ['2026-01-31T12:00:00-00:00', Date.UTC(2026, 0, 31, 12)],
    ['2026-01-31t12:00:00z', Date.UTC(2026, 0, 31, 12)],
    ['2026-01-31T12:00:00.1Z', Date.UTC(2026, 0, 31, 12, 0, 0, 100)],
    ['2026-01-31T12:00:00.12Z', Date.UTC(2026, 0, 31, 12, 0, 0, 120)],
    ['2026-01-31T12:00:00.123Z', Date.UTC(2026, 0, 31, 12, 0, 0, 123)],
    ['2026-01-31T12:00:00.1239Z', Date.UTC(2026, 0, 31, 12, 0, 0, 123)],
    ['2026-01-31T12:00:00.999999999Z', Date.UTC(2026, 0, 31, 12, 0, 0, 999)],
    ['2026-01-31T12:00:00.000000001+00:00', Date.UTC(2026, 0, 31, 12)],
    ['1970-01-01T00:00:00Z', 0],
    ['1969-12-31T23:59:59Z', -1000],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['9999-12-31T23:59:59Z', Date.UTC(9999, 11, 31, 23, 59, 59)],
  ])('parses %s', (s, ms) => {
    expect(parseKaaDate(s)).toBe(ms);
  });

  test('parses years 0000-0099 as themselves (not as 1900-1999)', () => {
    const y50 = new Date(0);
    y50.setUTCFullYear(50, 0, 1);
    expect(parseKaaDate('0050-01-01T00:00:00Z')).toBe(y50.getTime());
    expect(new Date(parseKaaDate('0099-12-31T23:59:59Z') as number).getUTCFullYear()).toBe(99);
    expect(new Date(parseKaaDate('0000-01-01T00:00:00Z') as number).getUTCFullYear()).toBe(0);
    // year 0 is a leap year in the proleptic Gregorian calendar, 1900 is not
    expect(parseKaaDate('0000-02-29T00:00:00Z')).toBeDefined();
    expect(parseKaaDate('0100-02-29T00:00:00Z')).toBeUndefined();
    expect(parseKaaDate('1900-02-29T00:00:00Z')).toBeUndefined();
  });

  test.each([
    ['a +01:00 offset', '2026-01-31T12:00:00+01:00'],
    ['a -05:00 offset', '2026-01-31T12:00:00-05:00'],
    ['a +00:01 offset', '2026-01-31T12:00:00+00:01'],
    ['a +0000 offset', '2026-01-31T12:00:00+0000'],
    ['no zone', '2026-01-31T12:00:00'],
    ['Feb 30', '2026-02-30T00:00:00Z'],
    ['Feb 29 of 2025', '2025-02-29T00:00:00Z'],
    ['Feb 29 of 2100', '2100-02-29T00:00:00Z'],
    ['Jun 31', '2026-06-31T00:00:00Z'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['month 0', '2026-00-10T00:00:00Z'],
    ['day 0', '2026-01-00T00:00:00Z'],
    ['day 32', '2026-01-32T00:00:00Z'],
    ['hour 25', '2026-01-31T25:00:00Z'],
    ['hour 24', '2026-01-31T24:00:00Z'],
    ['minute 60', '2026-01-31T12:60:00Z'],
    ['second 60', '2026-01-31T12:00:60Z'],
    ['a date only', '2026-01-31'],
    ['no seconds', '2026-01-31T12:00Z'],
    ['a space separator', '2026-01-31 12:00:00Z'],
    ['an empty fraction', '2026-01-31T12:00:00.Z'],
    ['a 10-digit fraction', '2026-01-31T12:00:00.0123456789Z'],
    ['a comma fraction', '2026-01-31T12:00:00,5Z'],
    ['a 5-digit year', '12026-01-31T12:00:00Z'],
    ['an expanded year', '+002026-01-31T12:00:00Z'],
    ['leading space', ' 2026-01-31T12:00:00Z'],
    ['trailing newline', '2026-01-31T12:00:00Z\n'],
    ['non-ASCII digits', '２０２６-01-31T12:00:00Z'],
    ['an empty string', ''],
    ['garbage', 'tomorrow'],
    ['epoch millis', '1767225600000'],
  ])('rejects %s', (_n, s) => {
    expect(parseKaaDate(s)).toBeUndefined();
  });

  test('agrees with Date.parse on generated valid UTC dates (fraction truncated to ms)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 59 }),
        fc.option(fc.stringMatching(/^[0-9]{1,9}$/)),
        fc.constantFrom('Z', 'z', '+00:00', '-00:00'),
        (y, mo, d, h, mi, se, frac, zone) => {
          const s = `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(se)}${frac === null ? '' : `.${frac}`}${zone}`;
          const iso = `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(se)}.${((frac ?? '') + '000').slice(0, 3)}Z`;
          const real = new Date(iso);
          const valid = !Number.isNaN(real.getTime()) && real.getUTCDate() === d;
          expect(parseKaaDate(s)).toBe(valid ? real.getTime() : undefined);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('the fraction is truncated to the millisecond exactly, for every millisecond', () => {
    for (let i = 0; i < 1000; i++) {
      const f = pad(i, 3);
      expect(parseKaaDate(`2026-01-01T00:00:00.${f}Z`)).toBe(Date.UTC(2026, 0, 1) + i);
      expect(parseKaaDate(`2026-01-01T00:00:00.${f}999999Z`)).toBe(Date.UTC(2026, 0, 1) + i);
    }
  });

  test('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseKaaDate(s);
        if (r !== undefined) expect(Number.isFinite(r)).toBe(true);
      }),
    );
  });
});

describe('formatKaaDate', () => {
  test.each([
    [0, '1970-01-01T00:00:00Z'],
    [999, '1970-01-01T00:00:00Z'],
    [1000, '1970-01-01T00:00:01Z'],
    [-1, '1969-12-31T23:59:59Z'],
    [-1000, '1969-12-31T23:59:59Z'],
    [-1001, '1969-12-31T23:59:58Z'],
    [Date.UTC(2026, 0, 31, 12, 0, 0, 987), '2026-01-31T12:00:00Z'],
    [Date.UTC(2024, 1, 29, 23, 59, 59, 999), '2024-02-29T23:59:59Z'],
    [MAX_MS, '9999-12-31T23:59:59Z'],
  ])('formats %p as %s', (ms, s) => {
    expect(formatKaaDate(ms)).toBe(s);
  });

  test('formats years before 1000 with four digits', () => {
    const d = new Date(0);
    d.setUTCFullYear(50, 5, 15);
    expect(formatKaaDate(d.getTime())).toBe('0050-06-15T00:00:00Z');
  });

  test("always yields Kaa's form yyyy-MM-dd'T'HH:mm:ss'Z' (whole seconds, Z)", () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_MS, max: MAX_MS }), (ms) => {
        const s = formatKaaDate(ms);
        expect(s).toMatch(KAA_FORM);
        expect(Date.parse(s)).toBe(Math.floor(ms / 1000) * 1000);
      }),
    );
  });
});

describe('round trips', () => {
  test('format(parse(s)) === s for every date in Kaa form', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_MS, max: MAX_MS }), (ms) => {
        const s = formatKaaDate(ms);
        expect(parseKaaDate(s)).toBe(Math.floor(ms / 1000) * 1000);
        expect(formatKaaDate(parseKaaDate(s) as number)).toBe(s);
      }),
    );
  });

  test('parse(format(ms)) truncates to the second', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_MS, max: MAX_MS }), (ms) => {
        expect(parseKaaDate(formatKaaDate(ms))).toBe(ms - (((ms % 1000) + 1000) % 1000));
      }),
    );
  });

  test('other accepted UTC spellings normalise to the Kaa form', () => {
    for (const s of ['2026-01-31T12:00:00.5+00:00', '2026-01-31t12:00:00z', '2026-01-31T12:00:00.999999999-00:00']) {
      expect(formatKaaDate(parseKaaDate(s) as number)).toBe('2026-01-31T12:00:00Z');
    }
  });

  test('round trips years 0000-0099', () => {
    for (const s of ['0000-01-01T00:00:00Z', '0001-03-01T01:02:03Z', '0050-01-01T00:00:00Z', '0099-12-31T23:59:59Z', '0000-02-29T12:00:00Z']) {
      expect(formatKaaDate(parseKaaDate(s) as number)).toBe(s);
    }
  });
});
