import { isOtaoError } from '../domain/errors';
import { compareVersions, isStrictSemver } from '../domain/version';
import type { EndpointKey, EndpointState } from '../ports';
import type { CoreDeps } from './core-deps';
import type { PushService } from './push.use-case';
import { rollbackWindowMs, type RolloutSafety } from './rollout-safety';

/** A decoded 6/CDTP ConfigApplied. Older producers send no status: 200 is assumed. */
export interface AppliedReport {
  readonly appVersionName: string;
  readonly endpointId: string;
  readonly configId: string;
  readonly statusCode: number;
  readonly reasonPhrase?: string | null;
  readonly correlationId: string;
}

export type ReportOutcome = 'applied' | 'failed' | 'duplicate' | 'unknown_app_version' | 'invalid_config_id';

/** The ports ReportService uses. */
export type ReportServiceDeps = Pick<CoreDeps, 'software' | 'endpoints' | 'clock' | 'registry'>;

/** Spec §4.4: records what an endpoint reports, counts it, applies the failure policy and pushes a further hop. */
export class ReportService {
  constructor(
    private readonly deps: ReportServiceDeps,
    private readonly safety: RolloutSafety,
    private readonly pushes: PushService,
  ) {}

  async applied(r: AppliedReport): Promise<ReportOutcome> {
    const app = this.deps.registry.resolve(r.appVersionName);
    if (!app) return 'unknown_app_version';
    if (!isStrictSemver(r.configId)) return 'invalid_config_id';
    const key: EndpointKey = { tenantId: app.tenantId, appName: app.appName, endpointId: r.endpointId };
    const ok = r.statusCode >= 200 && r.statusCode < 300;
    const before = await this.deps.endpoints.get(key);
    // Before the report is recorded (it moves lastApplied): a retry after a failure here finds it again.
    if (ok) await this.countRollback(key, before, r.configId, r.correlationId);
    await this.deps.endpoints.recordReport(
      key,
      r.appVersionName,
      { configId: r.configId, statusCode: r.statusCode, at: this.deps.clock.now(), ...(r.reasonPhrase != null ? { reasonPhrase: r.reasonPhrase } : {}) },
      ok,
    );
    const known = (await this.deps.software.get(app.tenantId, app.appName, r.configId)) !== undefined;
    if (!known) {
      // Not a version of the catalogue: recorded, not counted.
      const last = before?.lastReport;
      const duplicate =
        last !== undefined &&
        last.configId === r.configId &&
        (last.statusCode >= 200 && last.statusCode < 300) === ok &&
        (!ok || before?.currentVersion === r.configId);
      if (duplicate) return 'duplicate';
    } else {
      // An endpoint reporting a version was offered it, even if the offer was never recorded (a
      // push confirmed by NATS whose replica died before recording it, re-sent after the install).
      if (!(before?.offered ?? []).includes(r.configId)) await this.safety.offered(key, r.configId);
      // Counted once per outcome, by a compare-and-set of its own taken after the report was
      // recorded: a report retried after a store outage between recording and counting (it looked
      // like a duplicate then) is still counted; a repeated report is not.
      // The token lets a retry of this same report (the mark stored, its answer lost) count it.
      // Each endpoint counts once per version, in its latest state: a changed state moves its count.
      const counted = await this.deps.endpoints.markReportCounted(key, r.configId, ok, r.correlationId || undefined);
      if (!counted) return 'duplicate';
      await this.safety.reported(app.tenantId, app.appName, r.configId, ok, r.correlationId, counted.previous);
      // Counted: from here nothing may fail the report (a retry would count it again). A push the
      // store cannot compute now is not lost: the endpoint's next pull or the next change finds it.
      if (ok)
        await this.pushes.evaluateEndpoint(key, r.correlationId).catch((e: unknown) => {
          if (!isOtaoError(e)) throw e;
        });
      return ok ? 'applied' : 'failed';
    }
    if (ok) await this.pushes.evaluateEndpoint(key, r.correlationId);
    return ok ? 'applied' : 'failed';
  }

  /**
   * Spec §4.8: an applied report of a version lower than the one the endpoint last reported applied,
   * within that software's rollback window, counts the endpoint as rolled back from it (once).
   */
  private async countRollback(key: EndpointKey, before: EndpointState | undefined, configId: string, correlationId: string): Promise<void> {
    const last = before?.lastApplied;
    if (!last || compareVersions(configId, last.version) >= 0) return;
    const sw = await this.deps.software.get(key.tenantId, key.appName, last.version);
    if (!sw || this.deps.clock.now() - last.at > rollbackWindowMs(sw)) return;
    await this.safety.rolledBack(key, sw.version, correlationId);
  }
}
