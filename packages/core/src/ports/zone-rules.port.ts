/**
 * What the maintenance-window rules (spec §4.12, `domain/window.ts`) need from the IANA time-zone
 * database: whether a zone name is known, and a zone's UTC offset at an instant. Everything else —
 * local calendar days and weekdays, the instant of a local time, the choice inside a daylight-saving
 * gap or overlap — is the core's (ADR 0018). apps/server gives `LuxonZoneRules`
 * (`@otao/node-platform`, Luxon on the platform's ICU data); `@otao/core/testing` has
 * `IntlZoneRules`, a reference on `Intl.DateTimeFormat` alone.
 */
export interface ZoneRules {
  /**
   * Whether the IANA data knows `zone` (`Europe/Berlin`, `Asia/Kolkata`, `UTC`, `Etc/GMT-2`), as the
   * platform's `Intl` accepts names (case-insensitively). False — never a throw — for anything else
   * (`Mars/Olympus`, `''`). Pure, no I/O.
   */
  isValidZone(zone: string): boolean;
  /**
   * The UTC offset of `zone` at the instant `epochMs`, in minutes east of UTC: the local wall-clock
   * time is `epochMs + offset × 60 000` (Europe/Berlin: 60 in winter, 120 in summer; Asia/Kolkata:
   * 330; America/St_Johns: −210 or −150). Whole minutes for every instant since 1970. Defined only
   * for a zone `isValidZone` accepted (may throw otherwise). Pure, no I/O; called often (a window's
   * opening costs three calls), so an implementation caches what it can per zone.
   */
  offsetMinutes(zone: string, epochMs: number): number;
}
