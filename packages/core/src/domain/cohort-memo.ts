import type { Sha256 } from '../ports/sha256.port';
import { cohortOf } from './phases';

/**
 * `cohortOf` (spec §4.10), memoised (bounded: cleared when `limit` endpoints are held): a SHA-256 costs a
 * microsecond or more, a pull decides in less. One per core (`createOtaoCore`), shared by its
 * catalogues, so an application's cohorts survive its catalogue being reloaded.
 */
export class CohortMemo {
  /** tenant\0app -> endpointId -> cohort (no key string built per endpoint look-up). */
  private readonly byApp = new Map<string, Map<string, number>>();
  private size = 0;

  constructor(
    readonly sha256: Sha256,
    private readonly limit = 250_000,
  ) {}

  of(tenantId: string, appName: string, endpointId: string): number {
    const appKey = tenantId + '\u0000' + appName;
    let app = this.byApp.get(appKey);
    let c = app?.get(endpointId);
    if (c === undefined) {
      c = cohortOf(this.sha256, tenantId, appName, endpointId);
      if (this.size >= this.limit) {
        this.byApp.clear();
        this.size = 0;
        app = undefined;
      }
      if (!app) this.byApp.set(appKey, (app = new Map<string, number>()));
      app.set(endpointId, c);
      this.size++;
    }
    return c;
  }
}
