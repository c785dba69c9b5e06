import { type Actor, type AuditAction, type AuditChanges, isAuditAction, OTAO_ACTOR } from '../domain/audit';
import { isOtaoError } from '../domain/errors';
import { err, failure, type Failure, ok, type Result } from '../domain/result';
import type { Software } from '../domain/software';
import type { AuditPage, AuditQuery, AuditRecord, AuditWitness, ReplaceOutcome, SoftwareRepository } from '../ports';
import type { CoreDeps, CoreOptions } from './core-deps';
import { findApplication } from './lookups';

/** What an entry says, before it gets its id and time. */
export interface AuditIntent {
  readonly tenantId: string;
  readonly appName: string;
  readonly action: AuditAction;
  /** Default: OTAO itself. */
  readonly actor?: Actor;
  readonly correlationId: string;
  readonly version?: string;
  readonly endpointId?: string;
  readonly changes?: AuditChanges;
}

type TrailDeps = Pick<CoreDeps, 'audit' | 'clock' | 'ids'>;

/**
 * Writing the entry is part of the change (spec §4.13): the entry is appended `pending` before the
 * change, the change is made, and the entry is committed (or discarded when the change was not
 * made). A crash or a store outage between the steps leaves a pending entry, which the reconciler
 * of `AuditService.maintain` resolves by its witness. See docs/audit.md.
 *
 * For a use case: `around` for one write with a witness of your own; `software` / `softwareDelete`
 * for one compare-and-set write of a software record (the witness and the settling of the previous
 * change are done for you: write `{ ...next, changeId }`).
 */
export class AuditTrail {
  constructor(private readonly deps: TrailDeps) {}

  /**
   * Appends the pending entry (a failure throws: the change is not attempted), runs `change` with
   * the entry's id, then commits the entry when `applied(result)` holds and discards it otherwise.
   * When `change` throws, the outcome is unknown: the entry stays pending for the reconciler and the
   * error is rethrown. A failed commit or discard is left to the reconciler too (the change itself
   * is done: it is not reported as failed).
   */
  async around<T>(
    intent: AuditIntent,
    witness: AuditWitness | undefined,
    change: (changeId: string) => Promise<T>,
    applied: (result: T) => boolean,
  ): Promise<T> {
    const record = this.recordOf(intent, 'pending', witness);
    await this.deps.audit.append(record);
    const result = await change(record.id);
    if (applied(result)) await quietly(() => this.deps.audit.commit(record.tenantId, [record.id]));
    else await quietly(() => this.deps.audit.discard(record.tenantId, record.id));
    return result;
  }

  /**
   * One write (create or compare-and-set replace) of a software record whose new state is `next`:
   * `write` gets `next` stamped with the entry's id as `changeId` — store exactly that. `current` is
   * the state being replaced (absent on create): its own change is committed first, as it is
   * evidently stored (a later write must not hide it from the reconciler). Returns the write's
   * outcome and the stamped state.
   */
  async software<T>(
    current: Software | undefined,
    next: Software,
    intent: AuditIntent,
    write: (stamped: Software) => Promise<T>,
    applied: (result: T) => boolean,
  ): Promise<{ readonly outcome: T; readonly stored: Software }> {
    await this.settle(current);
    let stored = next;
    const outcome = await this.around(intent, { kind: 'software', createdAt: next.createdAt }, (changeId) => write((stored = { ...next, changeId })), applied);
    return { outcome, stored };
  }

  /**
   * The audited compare-and-set of a software record: `next` (stamped) replaces `current` on
   * `current`'s revision; the entry is committed iff the store answers `replaced`.
   */
  replaceSoftware(
    software: Pick<SoftwareRepository, 'replace'>,
    current: Software,
    next: Software,
    intent: AuditIntent,
  ): Promise<{ readonly outcome: ReplaceOutcome; readonly stored: Software }> {
    return this.software(
      current,
      next,
      intent,
      (s) => software.replace(s, current.revision),
      (o) => o === 'replaced',
    );
  }

  /** The delete of the software `current` (its incarnation): applied iff that incarnation is gone. */
  async softwareDelete<T>(current: Software, intent: AuditIntent, remove: () => Promise<T>, applied: (result: T) => boolean): Promise<T> {
    await this.settle(current);
    return this.around(intent, { kind: 'software-gone', createdAt: current.createdAt }, () => remove(), applied);
  }

  /**
   * Appends a committed entry at once. Only for a change that is already stored and that its caller
   * re-runs until this succeeded (e.g. a durable job, retried): otherwise a crash between the change
   * and this call loses the entry — use `around`.
   */
  async record(intent: AuditIntent): Promise<void> {
    await this.deps.audit.append(this.recordOf(intent, 'committed', undefined));
  }

  private async settle(current: Software | undefined): Promise<void> {
    if (current?.changeId !== undefined) await this.deps.audit.commit(current.tenantId, [current.changeId]);
  }

  private recordOf(intent: AuditIntent, state: AuditRecord['state'], witness: AuditWitness | undefined): AuditRecord {
    return {
      id: this.deps.ids.newId(),
      at: this.deps.clock.now(),
      tenantId: intent.tenantId,
      appName: intent.appName,
      actor: intent.actor ?? OTAO_ACTOR,
      action: intent.action,
      ...(intent.version !== undefined ? { version: intent.version } : {}),
      ...(intent.endpointId !== undefined ? { endpointId: intent.endpointId } : {}),
      ...(intent.changes !== undefined ? { changes: intent.changes } : {}),
      correlationId: intent.correlationId,
      state,
      ...(witness ? { witness } : {}),
    };
  }
}

async function quietly(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (e) {
    if (!isOtaoError(e)) throw e;
  }
}

/** Filters of `GET /applications/{appName}/audit` (spec §6.4.1), already parsed from text. */
export interface AuditFilters {
  readonly version?: string;
  readonly endpointId?: string;
  readonly action?: string;
  readonly actor?: string;
  readonly since?: number;
  readonly until?: number;
  readonly offset: number;
  readonly limit: number;
}

export type AuditPageError = Failure<'application.not_found' | 'request.invalid'>;

export const AUDIT_MAINTENANCE_LEASE = 'audit-maintenance';
export const AUDIT_MAX_LIMIT = 1000;
const MAX_FILTER_TEXT = 512;

export interface AuditMaintenanceRun {
  /** Whether this replica held the lease and ran. */
  readonly ran: boolean;
  /** Pending entries found applied and committed. */
  readonly committed: number;
  /** Pending entries found not applied and discarded. */
  readonly discarded: number;
  /** Entries older than the retention pruned. */
  readonly pruned: number;
}

/** Re-runs an interrupted tenant deletion (spec §4.7) without auditing it again. */
export interface TenantPurge {
  purge(tenantId: string): Promise<void>;
}

/** The ports AuditService uses. */
export type AuditServiceDeps = Pick<CoreDeps, 'software' | 'endpoints' | 'lease' | 'clock' | 'registry' | 'audit'>;

/** The options AuditService reads. */
export type AuditServiceOptions = Pick<CoreOptions, 'auditBatchSize' | 'auditMaxBatches' | 'auditReconcileAfterMs' | 'auditRetentionMs' | 'schedulerLeaseMs'>;

/** Reading the audit log (§6.4.1), and its background maintenance: the reconciler and retention (§4.13). */
export class AuditService {
  constructor(
    private readonly deps: AuditServiceDeps,
    private readonly options: AuditServiceOptions,
    private readonly tenants: TenantPurge,
  ) {}

  /** A page of the application's committed entries, newest first. */
  async page(tenantId: string, appName: string, f: AuditFilters): Promise<Result<AuditPage, AuditPageError>> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    const bad = (field: string, why: string): Result<AuditPage, AuditPageError> => err(failure('request.invalid', `${field}: ${why}`, field));
    for (const field of ['version', 'endpointId', 'actor'] as const) {
      const v = f[field];
      if (v !== undefined && (v.length === 0 || v.length > MAX_FILTER_TEXT)) return bad(field, `must be 1 to ${MAX_FILTER_TEXT} characters`);
    }
    if (f.action !== undefined && !isAuditAction(f.action))
      return bad('action', `must be one of the audited actions (docs/audit.md), got ${JSON.stringify(f.action)}`);
    if (!Number.isInteger(f.limit) || f.limit < 1 || f.limit > AUDIT_MAX_LIMIT) return bad('limit', `must be an integer from 1 to ${AUDIT_MAX_LIMIT}`);
    if (!Number.isInteger(f.offset) || f.offset < 0) return bad('offset', 'must be a non-negative integer');
    if (f.since !== undefined && f.until !== undefined && f.since > f.until) return bad('since', 'must not be after until');
    const query: AuditQuery = {
      tenantId,
      appName,
      offset: f.offset,
      limit: f.limit,
      ...(f.version !== undefined ? { version: f.version } : {}),
      ...(f.endpointId !== undefined ? { endpointId: f.endpointId } : {}),
      ...(f.action !== undefined && isAuditAction(f.action) ? { action: f.action } : {}),
      ...(f.actor !== undefined ? { actor: f.actor } : {}),
      ...(f.since !== undefined ? { since: f.since } : {}),
      ...(f.until !== undefined ? { until: f.until } : {}),
    };
    return ok(await this.deps.audit.page(query));
  }

  /**
   * One round of maintenance under the lease (one replica at a time): resolves pending entries
   * older than `auditReconcileAfterMs`, then prunes entries older than the retention; both in
   * batches of `auditBatchSize`, at most `auditMaxBatches` of each per round. Call periodically.
   */
  async maintain(holder: string): Promise<AuditMaintenanceRun> {
    const now = this.deps.clock.now();
    if (!(await this.deps.lease.tryAcquire(AUDIT_MAINTENANCE_LEASE, holder, this.options.schedulerLeaseMs, now))) {
      return { ran: false, committed: 0, discarded: 0, pruned: 0 };
    }
    const { committed, discarded } = await this.reconcile(now);
    let pruned = 0;
    const cutoff = now - this.options.auditRetentionMs;
    for (let i = 0; i < this.options.auditMaxBatches; i++) {
      const n = await this.deps.audit.prune(cutoff, this.options.auditBatchSize);
      pruned += n;
      if (n < this.options.auditBatchSize) break;
    }
    return { ran: true, committed, discarded, pruned };
  }

  /** Resolves the pending entries older than the reconcile delay, by their witness. */
  async reconcile(now = this.deps.clock.now()): Promise<{ committed: number; discarded: number }> {
    let committed = 0;
    let discarded = 0;
    const before = now - this.options.auditReconcileAfterMs;
    for (let i = 0; i < this.options.auditMaxBatches; i++) {
      const batch = await this.deps.audit.pending(before, this.options.auditBatchSize);
      for (const r of batch) {
        if (await this.applied(r)) {
          await this.deps.audit.commit(r.tenantId, [r.id]);
          committed++;
        } else {
          await this.deps.audit.discard(r.tenantId, r.id);
          discarded++;
        }
      }
      if (batch.length < this.options.auditBatchSize) break;
    }
    return { committed, discarded };
  }

  /** Whether the change of a pending entry is in the store (see `AuditWitness`). */
  private async applied(r: AuditRecord): Promise<boolean> {
    const w = r.witness;
    if (!w) return true;
    switch (w.kind) {
      case 'software': {
        const sw = r.version === undefined ? undefined : await this.deps.software.get(r.tenantId, r.appName, r.version);
        return sw !== undefined && sw.createdAt === w.createdAt && sw.changeId === r.id;
      }
      case 'software-gone': {
        const sw = r.version === undefined ? undefined : await this.deps.software.get(r.tenantId, r.appName, r.version);
        return sw === undefined || sw.createdAt !== w.createdAt;
      }
      case 'consent': {
        if (r.endpointId === undefined || r.version === undefined) return false;
        const ep = await this.deps.endpoints.get({ tenantId: r.tenantId, appName: r.appName, endpointId: r.endpointId });
        return (ep?.consents.includes(r.version) ?? false) === w.granted;
      }
      case 'tenant-deleted':
        // The tenant was unregistered: finish its deletion (idempotent), then it is done.
        await this.tenants.purge(r.tenantId);
        return true;
    }
  }
}
