import type { ZoneRules } from '@otao/core';
import { IANAZone } from 'luxon';

/**
 * The core's `ZoneRules` port on Luxon, which reads the IANA rules through `Intl` (the ICU data
 * Node.js ships): zone data is updated with the platform. Luxon keeps one zone object and one
 * formatter per zone name.
 */
export class LuxonZoneRules implements ZoneRules {
  isValidZone(zone: string): boolean {
    return IANAZone.isValidZone(zone);
  }

  offsetMinutes(zone: string, epochMs: number): number {
    const z = IANAZone.create(zone);
    if (!z.isValid) throw new RangeError(`unknown time zone ${JSON.stringify(zone)}`);
    return z.offset(epochMs);
  }
}
