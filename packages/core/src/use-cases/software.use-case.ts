import { type Actor, OTAO_ACTOR, softwareChanges } from '../domain/audit';
import { OtaoError } from '../domain/errors';
import { formatKaaDate } from '../domain/kaa-date';
import { isJsonObject } from '../domain/json';
import { err, failure, type Failure, ok, type Result } from '../domain/result';
import { phaseStateAfterChange } from '../domain/phases';
import { type Software, type SoftwareDraft, validateSoftwareInput } from '../domain/software';
import { describeCycle, findCycle, versionKey } from '../domain/upgrade-graph';
import { isStrictSemver } from '../domain/version';
import { incarnationPrefix, type SoftwareEventType, storedObjectKey } from '../ports';
import { AuditTrail } from './audit.use-case';
import type { CatalogueCache } from './catalogue-cache';
import type { CoreDeps, CoreOptions } from './core-deps';
import { CAS_LOST, retryCompareAndSet } from './compare-and-set';
import { findApplication, softwareNotFound } from './lookups';

export type CreateSoftwareError = Failure<
  'application.not_found' | 'software.invalid' | 'software.specification_too_large' | 'software.version_conflict' | 'software.cycle'
>;
export type ReplaceSoftwareError = Failure<
  | 'application.not_found'
  | 'software.not_found'
  | 'software.invalid'
  | 'software.specification_too_large'
  | 'software.cycle'
  | 'software.precondition_failed'
  | 'software.edit_conflict'
  | 'software.specification_not_object'
>;
export type DeleteSoftwareError = Failure<'application.not_found' | 'software.not_found' | 'software.precondition_failed' | 'software.edit_conflict'>;
export type GetSoftwareError = Failure<'application.not_found' | 'software.not_found'>;

/**
 * One revision of one incarnation of a software, as an ETag names it. `createdAt` is the
 * incarnation: a deleted and re-created version restarts at revision 1 with another `createdAt`, so
 * no (createdAt, revision) pair ever names two different states (spec §10).
 */
export interface SoftwareRevisionRef {
  readonly createdAt: number;
  readonly revision: number;
}

/** Optimistic concurrency (`If-Match`): when `ifMatch` is given, the software must currently be one of these revisions. */
export interface Precondition {
  readonly ifMatch?: readonly SoftwareRevisionRef[];
}

/** Whether the software is in a state the precondition names (strong comparison: incarnation and revision). */
export function preconditionHolds(pre: Precondition, s: Software): boolean {
  return pre.ifMatch === undefined || pre.ifMatch.some((t) => t.createdAt === s.createdAt && t.revision === s.revision);
}

/**
 * How often an unconditional replace or delete (no If-Match) reads again and retries after losing
 * its compare-and-set to another writer, before it answers `software.edit_conflict`. Each lost
 * attempt means another writer succeeded, so this only runs out under a storm of writes to one software.
 */
export const UNCONDITIONAL_ATTEMPTS = 10;

/** An attempt of a read-modify-write lost its compare-and-set and may be run again. */

/** The ports SoftwareService uses. */
export type SoftwareServiceDeps = Pick<
  CoreDeps,
  'software' | 'endpoints' | 'stats' | 'clock' | 'ids' | 'registry' | 'softwareEvents' | 'work' | 'files' | 'audit' | 'sha256' | 'zones'
>;

/** The options SoftwareService reads. */
export type SoftwareServiceOptions = Pick<CoreOptions, 'onFileCleanupFailed' | 'specMaxBytes'>;

/** Create, replace, delete, list and get software (spec §2, §6.1). Its file: `SoftwareFilesService`. */
export class SoftwareService {
  private readonly trail: AuditTrail;
  constructor(
    private readonly deps: SoftwareServiceDeps,
    private readonly options: SoftwareServiceOptions,
    private readonly catalogues: CatalogueCache,
  ) {
    this.trail = new AuditTrail(deps);
  }

  async list(tenantId: string, appName: string): Promise<Result<Software[], Failure<'application.not_found'>>> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    return ok(await this.deps.software.list(tenantId, appName));
  }

  async get(tenantId: string, appName: string, version: string): Promise<Result<Software, GetSoftwareError>> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    const sw = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
    return sw ? ok(sw) : err(softwareNotFound(appName, version));
  }

  /** `actor`: who asks (audit log, spec §4.13); OTAO itself when absent. */
  async create(
    tenantId: string,
    appName: string,
    body: unknown,
    correlationId: string,
    actor: Actor = OTAO_ACTOR,
  ): Promise<Result<Software, CreateSoftwareError>> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    const v = validateSoftwareInput(body, this.options, this.deps.zones);
    if (!v.ok) return v;
    const draft = v.value;
    const existing = await this.deps.software.list(tenantId, appName);
    if (existing.some((s) => versionKey(s.version) === versionKey(draft.version))) return err(conflict(appName, draft.version));
    const cycle = findCycle([...existing, draft]);
    if (cycle) return err(cycleError(cycle));
    const now = this.deps.clock.now();
    const phase = phaseStateAfterChange(undefined, draft, now);
    const sw: Software = { ...draft, tenantId, appName, createdAt: now, updatedAt: now, revision: 1, ...(phase ? { phase } : {}) };
    const intent = {
      tenantId,
      appName,
      action: 'software.created',
      actor,
      correlationId,
      version: sw.version,
      changes: softwareChanges(this.deps.sha256, undefined, sw),
    } as const;
    const { outcome, stored } = await this.trail.software(
      undefined,
      sw,
      intent,
      (s) => this.deps.software.create(s),
      (o) => o === 'created',
    );
    if (outcome === 'conflict') return err(conflict(appName, draft.version));
    await this.changed(stored, 'created', correlationId, sw.rolloutStrategy !== 'suspended');
    return ok(stored);
  }

  /**
   * Full replacement of the mutable fields (§6.1). With `pre.ifMatch` it applies only to the named
   * revision (else `software.precondition_failed`); without, it is unconditional: a concurrent
   * write is not an error, the change is applied on top of it (read again, checked again, retried).
   */
  async replace(
    tenantId: string,
    appName: string,
    version: string,
    body: unknown,
    pre: Precondition,
    correlationId: string,
    actor: Actor = OTAO_ACTOR,
  ): Promise<Result<Software, ReplaceSoftwareError>> {
    return this.retryUnconditional(version, () => this.replaceOnce(tenantId, appName, version, body, pre, correlationId, actor));
  }

  private async replaceOnce(
    tenantId: string,
    appName: string,
    version: string,
    body: unknown,
    pre: Precondition,
    correlationId: string,
    actor: Actor,
  ): Promise<Result<Software, ReplaceSoftwareError> | typeof CAS_LOST> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    const current = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
    if (!current) return err(softwareNotFound(appName, version));
    if (!preconditionHolds(pre, current)) return err(preconditionFailed(current));
    const v = validateSoftwareInput(body, this.options, this.deps.zones, version);
    if (!v.ok) return v;
    if (current.file && !isJsonObject(v.value.specification)) {
      return err(
        failure('software.specification_not_object', `specification: must stay a JSON object while a file is attached (${current.file.name})`, 'specification'),
      );
    }
    const next = this.merge(current, v.value);
    const others = (await this.deps.software.list(tenantId, appName)).filter((s) => versionKey(s.version) !== versionKey(current.version));
    const cycle = findCycle([...others, next]);
    if (cycle) return err(cycleError(cycle));
    const intent = {
      tenantId,
      appName,
      action: 'software.updated',
      actor,
      correlationId,
      version: current.version,
      changes: softwareChanges(this.deps.sha256, current, next),
    } as const;
    const { outcome, stored } = await this.trail.replaceSoftware(this.deps.software, current, next, intent);
    if (outcome === 'not_found') return err(softwareNotFound(appName, version));
    if (outcome === 'revision_mismatch') return pre.ifMatch === undefined ? CAS_LOST : err(preconditionFailed(current));
    await this.changed(stored, next.rolloutStrategy === 'suspended' && current.rolloutStrategy !== 'suspended' ? 'suspended' : 'updated', correlationId, true);
    return ok(stored);
  }

  /** Deletes (§6.1); like replace, conditional with `pre.ifMatch`, else unconditional and retried after a concurrent write. */
  async delete(
    tenantId: string,
    appName: string,
    version: string,
    pre: Precondition,
    correlationId: string,
    actor: Actor = OTAO_ACTOR,
  ): Promise<Result<Software, DeleteSoftwareError>> {
    return this.retryUnconditional(version, () => this.deleteOnce(tenantId, appName, version, pre, correlationId, actor));
  }

  private async deleteOnce(
    tenantId: string,
    appName: string,
    version: string,
    pre: Precondition,
    correlationId: string,
    actor: Actor,
  ): Promise<Result<Software, DeleteSoftwareError> | typeof CAS_LOST> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    const current = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
    if (!current) return err(softwareNotFound(appName, version));
    if (!preconditionHolds(pre, current)) return err(preconditionFailed(current));
    // Its file could not be deleted now: fail with dependency.unavailable rather than leave it behind.
    if (current.file && this.deps.files && !this.deps.files.available()) {
      throw new OtaoError('dependency.unavailable', `the file store (S3) is unavailable: software ${current.version} and its file cannot be deleted now`);
    }
    const intent = {
      tenantId,
      appName,
      action: 'software.deleted',
      actor,
      correlationId,
      version: current.version,
      changes: softwareChanges(this.deps.sha256, current, undefined),
    } as const;
    const outcome = await this.trail.softwareDelete(
      current,
      intent,
      () => this.deps.software.delete(tenantId, appName, current.version, current.revision, current.createdAt),
      (o) => o === 'deleted',
    );
    if (outcome === 'not_found') return err(softwareNotFound(appName, version));
    if (outcome === 'revision_mismatch') return pre.ifMatch === undefined ? CAS_LOST : err(preconditionFailed(current));
    // The record first, its files after: an object without a record is an orphan, never the reverse.
    await this.deleteFiles(current);
    await this.deps.stats.delete(tenantId, appName, current.version);
    this.catalogues.invalidate(tenantId, appName);
    await this.publish('deleted', current, correlationId);
    // Deleting a software can open another path for endpoints that were routed through it.
    this.deps.work.schedulePushes({ kind: 'app', tenantId, appName, reason: `software ${current.version} deleted` });
    return ok(current);
  }

  /**
   * Deletes the objects of a deleted software: every upload of its incarnation (the attached file
   * and any orphan left by an interrupted change), and a file stored before keys were unique per
   * upload. A failure leaves orphans (reported), not an error: the software is deleted.
   */
  private async deleteFiles(deleted: Software): Promise<void> {
    const files = this.deps.files;
    if (!files) return;
    const prefix = incarnationPrefix(deleted);
    await files.deletePrefix(prefix).catch((e: unknown) => this.options.onFileCleanupFailed?.(prefix, e));
    if (deleted.file && deleted.file.objectKey === undefined) {
      const legacy = storedObjectKey(deleted, deleted.file);
      await files.delete(legacy).catch((e: unknown) => this.options.onFileCleanupFailed?.(legacy, e));
    }
  }

  /** Runs a read-modify-write until it is not asked to retry, at most UNCONDITIONAL_ATTEMPTS times. */
  private async retryUnconditional<T, E>(
    version: string,
    attempt: () => Promise<Result<T, E> | typeof CAS_LOST>,
  ): Promise<Result<T, E | Failure<'software.edit_conflict'>>> {
    return retryCompareAndSet(UNCONDITIONAL_ATTEMPTS, attempt, () =>
      err(
        failure(
          'software.edit_conflict',
          `software ${version} was changed by others ${UNCONDITIONAL_ATTEMPTS} times while this change was applied; retry, or send If-Match to apply it only to the revision you read`,
        ),
      ),
    );
  }

  private merge(current: Software, draft: SoftwareDraft): Software {
    const { failurePolicy: _fp, phases: _p, phaseGate: _g, maintenanceWindow: _w, phase: _ph, suspendedReason, ...base } = current;
    const keepReason = draft.rolloutStrategy === 'suspended' && suspendedReason !== undefined;
    const now = this.deps.clock.now();
    const phase = phaseStateAfterChange(current, draft, now);
    return {
      ...base,
      ...draft,
      version: current.version,
      updatedAt: now,
      revision: current.revision + 1,
      ...(keepReason ? { suspendedReason } : {}),
      ...(phase ? { phase } : {}),
    };
  }

  /** After a change: caches, event, and when the rollout may have changed, filter bootstrap and pushes. */
  private async changed(sw: Software, type: SoftwareEventType, correlationId: string, rolloutChanged: boolean): Promise<void> {
    this.catalogues.invalidate(sw.tenantId, sw.appName);
    await this.publish(type, sw, correlationId);
    if (!rolloutChanged) return;
    if (sw.rolloutStrategy === 'targeted' && sw.filters.length > 0) {
      const loaded = await this.deps.endpoints.loadedFilters(sw.tenantId, sw.appName);
      const missing = sw.filters.map((f) => f.filterId).filter((f) => !loaded.has(f));
      if (missing.length > 0) this.deps.work.scheduleFilterBootstrap(sw.tenantId, sw.appName, missing);
    }
    this.deps.work.schedulePushes({ kind: 'app', tenantId: sw.tenantId, appName: sw.appName, reason: `software ${sw.version} ${type}` });
  }

  private async publish(type: SoftwareEventType, sw: Software, correlationId: string): Promise<void> {
    await this.deps.softwareEvents.publish({
      type,
      tenantId: sw.tenantId,
      appName: sw.appName,
      version: sw.version,
      rolloutStrategy: sw.rolloutStrategy,
      at: formatKaaDate(this.deps.clock.now()),
      correlationId,
    });
  }
}

function conflict(appName: string, version: string): Failure<'software.version_conflict'> {
  return failure(
    'software.version_conflict',
    `software ${version} already exists in application ${JSON.stringify(appName)} (versions are compared by SemVer precedence)`,
    'version',
  );
}

function cycleError(cycle: readonly string[]): Failure<'software.cycle'> {
  return failure('software.cycle', `upgradableFrom would close a cycle in the upgrade graph: ${describeCycle(cycle)}`, 'upgradableFrom');
}

function preconditionFailed(current: Software): Failure<'software.precondition_failed'> {
  return failure('software.precondition_failed', `software ${current.version} was changed by someone else (revision ${current.revision}); reload it and retry`);
}
