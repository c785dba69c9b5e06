import { isOtaoError } from '../domain/errors';
import { formatKaaDate } from '../domain/kaa-date';
import type { Software } from '../domain/software';
import type { EndpointKey, RolloutCounts } from '../ports';
import type { CatalogueCache } from './catalogue-cache';
import type { CoreDeps } from './core-deps';

/** The failure rate of spec §4.8: failed / (applied + failed); 0 with no reports. */
export function failureRate(c: RolloutCounts): number {
  const reports = c.applied + c.failed;
  return reports === 0 ? 0 : c.failed / reports;
}

/** Whether a software's failure policy calls for suspending it after these counts. */
export function breachesPolicy(sw: Software, c: RolloutCounts): boolean {
  const p = sw.failurePolicy;
  if (!p || sw.rolloutStrategy === 'suspended') return false;
  return c.applied + c.failed >= p.minReports && failureRate(c) >= p.maxFailureRate;
}

/** Rollout statistics and the failure policy (spec §4.8). */
export class RolloutSafety {
  constructor(
    private readonly deps: CoreDeps,
    private readonly catalogues: CatalogueCache,
  ) {}

  /** Counts an endpoint as offered a version, once per (endpoint, version). */
  async offered(key: EndpointKey, version: string): Promise<void> {
    if (await this.deps.endpoints.markOffered(key, version)) {
      await this.deps.stats.increment(key.tenantId, key.appName, version, 'offered');
    }
  }

  /** Counts endpoints newly offered a version by a push batch (they were marked offered by the batch's confirmation). */
  async offeredMany(tenantId: string, appName: string, version: string, count: number): Promise<void> {
    if (count > 0) await this.deps.stats.increment(tenantId, appName, version, 'offered', count);
  }

  /** Counts a report; on failure applies the failure policy. Returns true when the software got suspended. */
  async reported(tenantId: string, appName: string, version: string, applied: boolean, correlationId: string): Promise<boolean> {
    const counts = await this.deps.stats.increment(tenantId, appName, version, applied ? 'applied' : 'failed');
    if (applied) return false;
    try {
      return await this.enforce(tenantId, appName, version, counts, correlationId);
    } catch (e) {
      // The count is taken; failing now would make the caller repeat the report (and count it
      // twice). The policy is checked again at the next failure report.
      if (isOtaoError(e)) return false;
      throw e;
    }
  }

  private async enforce(tenantId: string, appName: string, version: string, counts: RolloutCounts, correlationId: string): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const sw = await this.deps.software.get(tenantId, appName, version);
      if (!sw || !breachesPolicy(sw, counts)) return false;
      const p = sw.failurePolicy!;
      const now = this.deps.clock.now();
      const reason = `suspended by failure policy: failure rate ${failureRate(counts).toFixed(3)} (${counts.failed} failed of ${counts.applied + counts.failed} reports) reached maxFailureRate ${p.maxFailureRate} after at least ${p.minReports} reports`;
      const next: Software = { ...sw, rolloutStrategy: 'suspended', suspendedReason: reason, updatedAt: now, revision: sw.revision + 1 };
      const outcome = await this.deps.software.replace(next, sw.revision);
      if (outcome === 'not_found') return false;
      if (outcome === 'replaced') {
        this.catalogues.invalidate(tenantId, appName);
        // Like any change (spec §4.3): a running push job stops before its next batch (the catalogue
        // revision moved), and the pushes are recomputed — another hop may now be next for some.
        this.deps.work.schedulePushes({ kind: 'app', tenantId, appName, reason: `${sw.version} suspended by its failure policy` });
        await this.deps.softwareEvents.publish({
          type: 'suspended',
          tenantId,
          appName,
          version: sw.version,
          rolloutStrategy: 'suspended',
          at: formatKaaDate(now),
          correlationId,
        });
        return true;
      }
    }
    return false;
  }
}
