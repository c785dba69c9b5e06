import { softwareChanges } from '../domain/audit';
import { isOtaoError } from '../domain/errors';
import type { JsonValue } from '../domain/json';
import { formatKaaDate } from '../domain/kaa-date';
import type { Software } from '../domain/software';
import { DEFAULT_SOAK_MINUTES } from '../domain/phases';
import type { CountedOutcome, EndpointKey, RolloutCounts } from '../ports';
import type { CatalogueCache } from './catalogue-cache';
import { AuditTrail } from './audit.use-case';
import type { CoreDeps } from './core-deps';
import { CAS_LOST, retryCompareAndSet } from './compare-and-set';

/** The reports of spec §4.8 (what `minReports` counts): applied + failed + timedOut. */
export function reportCount(c: RolloutCounts): number {
  return c.applied + c.failed + c.timedOut;
}

/** The failure rate of spec §4.8: (failed + timedOut + rolledBack) / (applied + failed + timedOut); 0 with no reports. */
export function failureRate(c: RolloutCounts): number {
  const reports = reportCount(c);
  return reports === 0 ? 0 : (c.failed + c.timedOut + c.rolledBack) / reports;
}

/** Whether a software's failure policy calls for suspending it after these counts. */
export function breachesPolicy(sw: Software, c: RolloutCounts): boolean {
  const p = sw.failurePolicy;
  if (!p || sw.rolloutStrategy === 'suspended') return false;
  return reportCount(c) >= p.minReports && failureRate(c) >= p.maxFailureRate;
}

/** How long after an apply a lower version counts as a rollback (spec §4.8): the longest `soakMinutes` of the phases, else 60 min. */
export function rollbackWindowMs(sw: Pick<Software, 'phases'> | undefined): number {
  const phases = sw?.phases ?? [];
  const minutes = phases.length > 0 ? Math.max(...phases.map((p) => p.soakMinutes)) : DEFAULT_SOAK_MINUTES;
  return minutes * 60_000;
}

/** The ports RolloutSafety uses. */
export type RolloutSafetyDeps = Pick<CoreDeps, 'software' | 'endpoints' | 'stats' | 'clock' | 'ids' | 'softwareEvents' | 'work' | 'audit' | 'sha256'>;

/** Rollout statistics and the failure policy (spec §4.8). */
export class RolloutSafety {
  private readonly trail: AuditTrail;
  constructor(
    private readonly deps: RolloutSafetyDeps,
    private readonly catalogues: CatalogueCache,
  ) {
    this.trail = new AuditTrail(deps);
  }

  /**
   * Counts an endpoint as offered a version, once per (endpoint, version). `software` is the offered
   * software when known: with a report timeout (§4.11) the offer is kept pending until a report.
   */
  async offered(key: EndpointKey, version: string, software?: Pick<Software, 'failurePolicy'>): Promise<void> {
    const now = this.deps.clock.now();
    if (await this.deps.endpoints.markOffered(key, version, software?.failurePolicy?.reportTimeoutMinutes !== undefined ? now : undefined)) {
      await this.deps.stats.increment(key.tenantId, key.appName, version, 'offered', 1, now);
    }
  }

  /** Counts endpoints newly offered a version by a push batch (they were marked offered by the batch's confirmation). */
  async offeredMany(tenantId: string, appName: string, version: string, count: number): Promise<void> {
    if (count > 0) await this.deps.stats.increment(tenantId, appName, version, 'offered', count, this.deps.clock.now());
  }

  /**
   * Counts a report in the endpoint's latest state for the version: a first report adds to applied or
   * failed, a changed one moves the count from its `previous` state (spec §4.8). Applies the failure
   * policy after a failure. Returns true when the software got suspended.
   */
  async reported(tenantId: string, appName: string, version: string, applied: boolean, correlationId: string, previous?: CountedOutcome): Promise<boolean> {
    const now = this.deps.clock.now();
    const to = applied ? 'applied' : 'failed';
    const counts =
      previous === undefined
        ? await this.deps.stats.increment(tenantId, appName, version, to, 1, now)
        : await this.deps.stats.move(tenantId, appName, version, previous, to, now);
    if (applied) return false;
    return this.afterCount(tenantId, appName, version, counts, correlationId);
  }

  /**
   * Spec §4.8: counts the endpoint as rolled back from `version` (once per endpoint and version) and
   * applies the failure policy. Returns true when the software got suspended.
   */
  async rolledBack(key: EndpointKey, version: string, correlationId: string): Promise<boolean> {
    if (!(await this.deps.endpoints.markRolledBack(key, version))) return false;
    const counts = await this.deps.stats.increment(key.tenantId, key.appName, version, 'rolledBack', 1, this.deps.clock.now());
    return this.afterCount(key.tenantId, key.appName, version, counts, correlationId);
  }

  /** Spec §4.11: counts `count` endpoints newly timed out and applies the failure policy. Returns true when the software got suspended. */
  async timedOut(tenantId: string, appName: string, version: string, count: number, correlationId: string): Promise<boolean> {
    if (count <= 0) return false;
    const counts = await this.deps.stats.increment(tenantId, appName, version, 'timedOut', count, this.deps.clock.now());
    return this.afterCount(tenantId, appName, version, counts, correlationId);
  }

  private async afterCount(tenantId: string, appName: string, version: string, counts: RolloutCounts, correlationId: string): Promise<boolean> {
    try {
      return await this.enforce(tenantId, appName, version, counts, correlationId);
    } catch (e) {
      // The count is taken; failing now would make the caller repeat the report (and count it
      // twice). The policy is checked again at the next failure, timeout or rollback.
      if (isOtaoError(e)) return false;
      throw e;
    }
  }

  private async enforce(tenantId: string, appName: string, version: string, counts: RolloutCounts, correlationId: string): Promise<boolean> {
    return retryCompareAndSet(
      5,
      async () => {
        const sw = await this.deps.software.get(tenantId, appName, version);
        if (!sw || !breachesPolicy(sw, counts)) return false;
        const p = sw.failurePolicy!;
        const now = this.deps.clock.now();
        const reason = `suspended by failure policy: failure rate ${failureRate(counts).toFixed(3)} (${counts.failed} failed, ${counts.timedOut} timed out, ${counts.rolledBack} rolled back of ${reportCount(counts)} reports) reached maxFailureRate ${p.maxFailureRate} after at least ${p.minReports} reports`;
        const next: Software = { ...sw, rolloutStrategy: 'suspended', suspendedReason: reason, updatedAt: now, revision: sw.revision + 1 };
        // Audited (spec §4.13): actor otao, with the counts that triggered it.
        const triggered = { ...counts, failureRate: failureRate(counts) } as unknown as JsonValue;
        const intent = {
          tenantId,
          appName,
          action: 'software.suspended',
          correlationId,
          version: sw.version,
          changes: { ...softwareChanges(this.deps.sha256, sw, next), counts: { new: triggered } },
        } as const;
        const { outcome } = await this.trail.replaceSoftware(this.deps.software, sw, next, intent);
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
        return CAS_LOST;
      },
      () => false,
    );
  }
}
