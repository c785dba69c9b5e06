import { type Actor, OTAO_ACTOR, softwareChanges } from '../domain/audit';
import { formatKaaDate } from '../domain/kaa-date';
import { gateWait, nextPhaseState, phaseGateOf, type PhaseState, type PhaseWait, phaseWaitBeforeGate, soakEndsAt } from '../domain/phases';
import { err, failure, type Failure, ok, type Result } from '../domain/result';
import type { Software } from '../domain/software';
import { isStrictSemver } from '../domain/version';
import type { RolloutCounts } from '../ports';
import { AuditTrail } from './audit.use-case';
import type { CatalogueCache } from './catalogue-cache';
import type { CoreDeps, CoreOptions } from './core-deps';
import { rolloutViewOf, type RolloutView } from './insight.use-case';
import { failureRate, reportCount } from './rollout-safety';
import { UNCONDITIONAL_ATTEMPTS } from './software.use-case';
import { CAS_LOST, retryCompareAndSet } from './compare-and-set';
import { findApplication, softwareNotFound } from './lookups';

export const PHASES_LEASE = 'phases';

export interface PhaseRun {
  /** Whether this replica held the lease and ran. */
  readonly ran: boolean;
  /** Rollouts whose next phase this run opened. */
  readonly advanced: number;
  /** Phase openings since the last run (by an operator, or an advance whose pushes may not have been stored) whose pushes this run stored again. */
  readonly caughtUp: number;
  /** When a phased rollout is next due for a check (the earliest soak end, or the next periodic check), if any. */
  readonly nextCheckAt?: number;
}

/** A change of the phase state of one software, as stored by `PhaseService.store`. */
export interface PhaseChange {
  readonly action: 'advanced' | 'held' | 'resumed';
  /** Who made it: an operator over REST, or OTAO itself (the automatic advance). */
  readonly by: 'operator' | 'otao';
  /** The actor of the audit entry: the operator's, or OTAO's for the automatic advance. */
  readonly actor: Actor;
  readonly before: Software;
  readonly after: Software;
  readonly correlationId: string;
}

export type PhaseCommandError = Failure<
  'application.not_found' | 'software.not_found' | 'rollout.not_phased' | 'rollout.suspended' | 'rollout.last_phase' | 'software.edit_conflict'
>;

export interface HoldCommand {
  readonly hold: boolean;
  readonly reason?: string;
}

/** Why the open phase of `sw` does not advance automatically now (undefined: it advances), reading the counts only when the gate needs them. */
export async function phaseWait(sw: Software, now: number, counts: () => Promise<RolloutCounts>): Promise<PhaseWait | undefined> {
  const before = phaseWaitBeforeGate(sw, now);
  if (before !== undefined) return before;
  const gate = phaseGateOf(sw);
  if (!gate) return undefined;
  const c = await counts();
  return gateWait(gate, { reports: reportCount(c), failureRate: failureRate(c) });
}

/** The ports PhaseService uses. */
export type PhaseServiceDeps = Pick<
  CoreDeps,
  'software' | 'stats' | 'lease' | 'clock' | 'ids' | 'registry' | 'softwareEvents' | 'work' | 'audit' | 'sha256' | 'zones'
>;

/** The options PhaseService reads. */
export type PhaseServiceOptions = Pick<CoreOptions, 'phaseCheckMs' | 'schedulerLeaseMs'>;

/**
 * Phased rollouts (spec §4.10): the automatic advance (`tick`, under a lease) and the operator's
 * advance, hold and resume (§6.3). Every change of a phase state is a compare-and-set of the
 * software stored by `store` — the one place to audit it (§4.13).
 *
 * The pushes of a phase opening: an automatic advance stores a durable push job for the app
 * before the tick moves its checkpoint; an operator's advance schedules one (like any REST change);
 * and every tick stores a push job again for every phase opened since its last checkpoint, so an
 * opening whose job was lost (a crash right after the compare-and-set) is still pushed. The push
 * machinery computes exactly the endpoints whose next hop became the version and were not pushed it.
 */
export class PhaseService {
  constructor(
    private readonly deps: PhaseServiceDeps,
    private readonly options: PhaseServiceOptions,
    private readonly catalogues: CatalogueCache,
  ) {
    this.trail = new AuditTrail(deps);
  }

  private readonly trail: AuditTrail;

  /** Advances every due phased rollout by one phase. Call it periodically (every `phaseCheckMs`, or at `nextCheckAt` if sooner). */
  async tick(replicaId: string): Promise<PhaseRun> {
    const now = this.deps.clock.now();
    if (!(await this.deps.lease.tryAcquire(PHASES_LEASE, replicaId, this.options.schedulerLeaseMs, now))) {
      return { ran: false, advanced: 0, caughtUp: 0 };
    }
    const since = (await this.deps.lease.getCheckpoint(PHASES_LEASE)) ?? Number.NEGATIVE_INFINITY;
    let advanced = 0;
    let caughtUp = 0;
    let nextCheckAt: number | undefined;
    const due = (t: number): void => {
      if (nextCheckAt === undefined || t < nextCheckAt) nextCheckAt = t;
    };
    for (const sw of await this.deps.software.listPhased()) {
      const wait = await phaseWait(sw, now, () => this.deps.stats.get(sw.tenantId, sw.appName, sw.version));
      if (wait === undefined) {
        const stored = await this.store(
          { action: 'advanced', by: 'otao', actor: OTAO_ACTOR, before: sw, after: this.advanced(sw, now), correlationId: this.deps.ids.newId() },
          true,
        );
        if (stored === 'stored') {
          advanced++;
          if (!this.isLast(sw, 1)) due(now); // the next phase may be due at once (soak 0)
          continue;
        }
        due(now + this.options.phaseCheckMs); // lost to a concurrent change: read again next time
      } else if (wait === 'soak') due(soakEndsAt(sw) as number);
      else if (wait === 'reports' || wait === 'gate') due(now + this.options.phaseCheckMs);
      const openedAt = sw.phase?.openedAt;
      if (openedAt !== undefined && openedAt > since && openedAt <= now) {
        caughtUp++;
        await this.deps.work.enqueuePushes({
          kind: 'app',
          tenantId: sw.tenantId,
          appName: sw.appName,
          reason: `phase ${sw.phase?.index ?? 0} of ${sw.version} opened`,
        });
      }
    }
    // Only once every opening's pushes are stored: a failure above throws and the window is retried.
    await this.deps.lease.setCheckpoint(PHASES_LEASE, now);
    return nextCheckAt === undefined ? { ran: true, advanced, caughtUp } : { ran: true, advanced, caughtUp, nextCheckAt };
  }

  /** Opens the next phase now, soak and gate skipped (spec §6.3); clears a hold. */
  async advance(
    tenantId: string,
    appName: string,
    version: string,
    correlationId: string,
    actor: Actor = OTAO_ACTOR,
  ): Promise<Result<RolloutView, PhaseCommandError>> {
    return this.command(tenantId, appName, version, (sw, now) => {
      if (sw.rolloutStrategy === 'suspended')
        return err(failure('rollout.suspended', `software ${sw.version} is suspended: its phases do not advance (resume the rollout first)`));
      const state = sw.phase as PhaseState;
      if (this.isLast(sw, 0))
        return err(
          failure(
            'rollout.last_phase',
            `software ${sw.version} is on its last phase (${state.index}, ${this.percent(sw, state.index)} %): there is no next phase`,
          ),
        );
      return ok({ action: 'advanced', by: 'operator', actor, before: sw, after: this.advanced(sw, now), correlationId });
    });
  }

  /** Holds (`hold: true`, with an optional reason) or resumes a phased rollout (spec §6.3). Holding a held rollout only updates the reason; resuming a running one changes nothing. */
  async hold(
    tenantId: string,
    appName: string,
    version: string,
    command: HoldCommand,
    correlationId: string,
    actor: Actor = OTAO_ACTOR,
  ): Promise<Result<RolloutView, PhaseCommandError>> {
    return this.command(tenantId, appName, version, (sw, now) => {
      const state = sw.phase as PhaseState;
      const reason = command.hold ? command.reason : undefined;
      if (state.hold === command.hold && state.holdReason === reason) return ok(undefined);
      const phase: PhaseState = { index: state.index, openedAt: state.openedAt, hold: command.hold, ...(reason !== undefined ? { holdReason: reason } : {}) };
      return ok({
        action: command.hold ? 'held' : 'resumed',
        by: 'operator',
        actor,
        before: sw,
        after: { ...sw, phase, updatedAt: now, revision: sw.revision + 1 },
        correlationId,
      });
    });
  }

  /** A read-modify-write of one phased software, retried after a concurrent write, answering the rollout view. */
  private async command(
    tenantId: string,
    appName: string,
    version: string,
    decide: (sw: Software, now: number) => Result<PhaseChange | undefined, PhaseCommandError>,
  ): Promise<Result<RolloutView, PhaseCommandError>> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    return retryCompareAndSet(
      UNCONDITIONAL_ATTEMPTS,
      async () => {
        const sw = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
        if (!sw) return err(softwareNotFound(appName, version));
        if (!sw.phases || sw.phases.length === 0) return err(failure('rollout.not_phased', `software ${sw.version} has no phases`));
        // Phased but never opened: suspended since it was created (its first phase opens when it leaves `suspended`).
        if (!sw.phase) return err(failure('rollout.suspended', `software ${sw.version} is suspended and its first phase has not opened yet`));
        const now = this.deps.clock.now();
        const d = decide(sw, now);
        if (!d.ok) return d;
        const change = d.value;
        if (!change) return ok(await this.view(sw));
        const stored = await this.store(change, false);
        if (stored === 'stored') return ok(await this.view(change.after));
        if (stored === 'not_found') return err(softwareNotFound(appName, version));
        return CAS_LOST;
      },
      () =>
        err(
          failure('software.edit_conflict', `software ${version} was changed by others ${UNCONDITIONAL_ATTEMPTS} times while its rollout was changed; retry`),
        ),
    );
  }

  /**
   * The one place a phase change is stored: a compare-and-set of the software on the revision it
   * was read at, then the catalogue invalidation, the software event and — for an advance — the
   * pushes to the endpoints that became eligible (`durable`: stored before returning, for the tick).
   * The change is audited with the compare-and-set (§4.13, `AuditTrail`: the entry is written
   * pending first and committed after the write): `rollout.advanced|held|resumed` by the operator,
   * `phase.advanced` by OTAO for the automatic advance, with the phase before and after.
   */
  private async store(change: PhaseChange, durable: boolean): Promise<'stored' | 'conflict' | 'not_found'> {
    const { before, after } = change;
    const action =
      change.by === 'otao'
        ? 'phase.advanced'
        : change.action === 'advanced'
          ? 'rollout.advanced'
          : change.action === 'held'
            ? 'rollout.held'
            : 'rollout.resumed';
    const intent = {
      tenantId: after.tenantId,
      appName: after.appName,
      action,
      actor: change.actor,
      correlationId: change.correlationId,
      version: after.version,
      changes: softwareChanges(this.deps.sha256, before, after),
    } as const;
    const { outcome } = await this.trail.replaceSoftware(this.deps.software, before, after, intent);
    if (outcome === 'not_found') return 'not_found';
    if (outcome === 'revision_mismatch') return 'conflict';
    const { tenantId, appName } = after;
    this.catalogues.invalidate(tenantId, appName);
    if (change.action === 'advanced') {
      const scope = { kind: 'app', tenantId, appName, reason: `phase ${after.phase?.index ?? 0} of ${after.version} opened` } as const;
      if (durable) await this.deps.work.enqueuePushes(scope);
      else this.deps.work.schedulePushes(scope);
    }
    await this.deps.softwareEvents.publish({
      type: change.action === 'advanced' ? 'phase-advanced' : 'updated',
      tenantId,
      appName,
      version: after.version,
      rolloutStrategy: after.rolloutStrategy,
      at: formatKaaDate(this.deps.clock.now()),
      correlationId: change.correlationId,
    });
    return 'stored';
  }

  private advanced(sw: Software, now: number): Software {
    return { ...sw, phase: nextPhaseState(sw.phase as PhaseState, now), updatedAt: now, revision: sw.revision + 1 };
  }

  /** Whether the phase `ahead` phases after the open one is the last. */
  private isLast(sw: Software, ahead: number): boolean {
    return (sw.phase?.index ?? 0) + ahead >= (sw.phases?.length ?? 0) - 1;
  }

  private percent(sw: Software, index: number): number {
    return sw.phases?.[index]?.percent ?? 100;
  }

  private async view(sw: Software): Promise<RolloutView> {
    return rolloutViewOf(sw, await this.deps.stats.get(sw.tenantId, sw.appName, sw.version), this.deps.clock.now(), this.options.phaseCheckMs, this.deps.zones);
  }
}
