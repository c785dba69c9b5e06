import { CohortMemo } from '../domain/cohort-memo';
import type { CatalogueRules } from '../domain/upgrade-graph';
import { IntlZoneRules } from './intl-zone-rules';
import { PlainSha256 } from './sha256';

/** The reference implementations of the core's platform ports (ADR 0018), as `createTestOtao` gives them. */
export function referencePlatform(): { readonly sha256: PlainSha256; readonly zones: IntlZoneRules } {
  return { sha256: new PlainSha256(), zones: new IntlZoneRules() };
}

/** What an `AppCatalogue` built in a test evaluates windows and cohorts with: the reference implementations. */
export function testCatalogueRules(): CatalogueRules {
  const { sha256, zones } = referencePlatform();
  return { zones, cohorts: new CohortMemo(sha256) };
}
