// The reference implementation of the core's `ZoneRules` port on `Intl.DateTimeFormat` alone (the
// platform's ICU data, no dependency): for the contract suite and the core's tests. Production
// uses Luxon through @otao/node-platform (ADR 0018).
import type { ZoneRules } from '../ports';

/** `ZoneRules` read from `Intl.DateTimeFormat` (one formatter per known zone, kept). */
export class IntlZoneRules implements ZoneRules {
  private readonly formats = new Map<string, Intl.DateTimeFormat>();

  isValidZone(zone: string): boolean {
    return this.format(zone) !== undefined;
  }

  offsetMinutes(zone: string, epochMs: number): number {
    const f = this.format(zone);
    if (!f) throw new RangeError(`unknown time zone ${JSON.stringify(zone)}`);
    const t = epochMs - (((epochMs % 1000) + 1000) % 1000); // whole seconds, as formatted
    const p: Record<string, number> = {};
    for (const part of f.formatToParts(t)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    const local = Date.UTC(p['year'] ?? 1970, (p['month'] ?? 1) - 1, p['day'] ?? 1, (p['hour'] ?? 0) % 24, p['minute'] ?? 0, p['second'] ?? 0);
    return (local - t) / 60_000;
  }

  private format(zone: string): Intl.DateTimeFormat | undefined {
    let f = this.formats.get(zone);
    if (f) return f;
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      return undefined; // unknown names are not kept: they come from requests
    }
    this.formats.set(zone, f);
    return f;
  }
}
