import { inOpenPhase } from './phases';
import type { Software } from './software';
import { sameVersion } from './version';
import type { MaintenanceWindow } from './window';

/** What the planner knows of one endpoint (spec §4.1). */
export interface EndpointContext {
  /** Current version; undefined when the endpoint never reported one. */
  readonly current: string | undefined;
  /** Filter ids the endpoint matches. */
  readonly memberships: readonly string[];
  /** Consent grants: versions or `*`. */
  readonly consents: readonly string[];
  /** The application's `consentRequired` setting. */
  readonly consentRequired: boolean;
  /**
   * The endpoint's cohort b(E) (spec §4.10), needed only while the catalogue has a phase below
   * 100 % open (`AppCatalogue.phaseBoundaries`); undefined means unknown: outside every such phase.
   */
  readonly cohort: number | undefined;
}

/** Why an endpoint is not eligible for a software (besides the graph). */
export type IneligibleReason = 'suspended' | 'filter-not-matched' | 'consent-missing' | 'phase-not-open' | 'window-closed';

export function hasConsent(consents: readonly string[], version: string): boolean {
  return consents.some((c) => c === '*' || (c !== '' && safeSame(c, version)));
}

function safeSame(a: string, b: string): boolean {
  try {
    return sameVersion(a, b);
  } catch {
    return false;
  }
}

/** The filter condition of a targeted software at time `now`: a matched filter whose date is absent or passed. */
export function matchesActiveFilter(sw: Software, memberships: ReadonlySet<string>, now: number): boolean {
  return sw.filters.some((f) => memberships.has(f.filterId) && (f.rolloutDate === undefined || f.rolloutDate <= now));
}

/**
 * Spec §3 (and the phase and window conditions of §4.10, §4.12): whether `sw` may be offered to the
 * endpoint at `now`, ignoring the graph; or why not. `windowOpen` answers for a maintenance window
 * (`AppCatalogue.windowOpen`: the zone rules, remembered until the next transition).
 */
export function ineligibility(
  sw: Software,
  memberships: ReadonlySet<string>,
  consents: readonly string[],
  consentRequired: boolean,
  now: number,
  cohort: number | undefined,
  windowOpen: (w: MaintenanceWindow, t: number) => boolean,
): IneligibleReason | undefined {
  if (sw.rolloutStrategy === 'suspended') return 'suspended';
  if (sw.rolloutStrategy === 'targeted' && !matchesActiveFilter(sw, memberships, now)) return 'filter-not-matched';
  if (consentRequired && !hasConsent(consents, sw.version)) return 'consent-missing';
  if (!inOpenPhase(sw, cohort)) return 'phase-not-open';
  if (sw.maintenanceWindow && !windowOpen(sw.maintenanceWindow, now)) return 'window-closed';
  return undefined;
}
