import { formatKaaDate } from '../domain/kaa-date';
import { isJsonObject } from '../domain/json';
import { err, failure, type Failure, ok, type Result } from '../domain/result';
import { type Software, type SoftwareDraft, type SoftwareFile, validateSoftwareInput } from '../domain/software';
import { describeCycle, findCycle, versionKey } from '../domain/upgrade-graph';
import { isStrictSemver } from '../domain/version';
import { fileObjectKey, type SoftwareEventType } from '../ports';
import type { CatalogueCache } from './catalogue-cache';
import type { CoreDeps, CoreOptions } from './core-deps';

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
export type AttachFileError = Failure<'application.not_found' | 'software.not_found' | 'software.specification_not_object'>;

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
const RETRY = Symbol('retry');

/** Create, replace, delete, list and get software (spec §2, §6.1), and attach or detach its file (§6.2). */
export class SoftwareService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly options: CoreOptions,
    private readonly catalogues: CatalogueCache,
  ) {}

  async list(tenantId: string, appName: string): Promise<Result<Software[], Failure<'application.not_found'>>> {
    if (!this.deps.registry.settings(tenantId, appName)) return err(appNotFound(appName));
    return ok(await this.deps.software.list(tenantId, appName));
  }

  async get(tenantId: string, appName: string, version: string): Promise<Result<Software, GetSoftwareError>> {
    if (!this.deps.registry.settings(tenantId, appName)) return err(appNotFound(appName));
    const sw = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
    return sw ? ok(sw) : err(notFound(appName, version));
  }

  async create(tenantId: string, appName: string, body: unknown, correlationId: string): Promise<Result<Software, CreateSoftwareError>> {
    if (!this.deps.registry.settings(tenantId, appName)) return err(appNotFound(appName));
    const v = validateSoftwareInput(body, this.options);
    if (!v.ok) return v;
    const draft = v.value;
    const existing = await this.deps.software.list(tenantId, appName);
    if (existing.some((s) => versionKey(s.version) === versionKey(draft.version))) return err(conflict(appName, draft.version));
    const cycle = findCycle([...existing, draft]);
    if (cycle) return err(cycleError(cycle));
    const now = this.deps.clock.now();
    const sw: Software = { ...draft, tenantId, appName, createdAt: now, updatedAt: now, revision: 1 };
    if ((await this.deps.software.create(sw)) === 'conflict') return err(conflict(appName, draft.version));
    await this.changed(sw, 'created', correlationId, sw.rolloutStrategy !== 'suspended');
    return ok(sw);
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
  ): Promise<Result<Software, ReplaceSoftwareError>> {
    return this.retryUnconditional(version, () => this.replaceOnce(tenantId, appName, version, body, pre, correlationId));
  }

  private async replaceOnce(
    tenantId: string,
    appName: string,
    version: string,
    body: unknown,
    pre: Precondition,
    correlationId: string,
  ): Promise<Result<Software, ReplaceSoftwareError> | typeof RETRY> {
    if (!this.deps.registry.settings(tenantId, appName)) return err(appNotFound(appName));
    const current = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
    if (!current) return err(notFound(appName, version));
    if (!preconditionHolds(pre, current)) return err(preconditionFailed(current));
    const v = validateSoftwareInput(body, this.options, version);
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
    const outcome = await this.deps.software.replace(next, current.revision);
    if (outcome === 'not_found') return err(notFound(appName, version));
    if (outcome === 'revision_mismatch') return pre.ifMatch === undefined ? RETRY : err(preconditionFailed(current));
    await this.changed(next, next.rolloutStrategy === 'suspended' && current.rolloutStrategy !== 'suspended' ? 'suspended' : 'updated', correlationId, true);
    return ok(next);
  }

  /** Deletes (§6.1); like replace, conditional with `pre.ifMatch`, else unconditional and retried after a concurrent write. */
  async delete(tenantId: string, appName: string, version: string, pre: Precondition, correlationId: string): Promise<Result<Software, DeleteSoftwareError>> {
    return this.retryUnconditional(version, () => this.deleteOnce(tenantId, appName, version, pre, correlationId));
  }

  private async deleteOnce(tenantId: string, appName: string, version: string, pre: Precondition, correlationId: string): Promise<Result<Software, DeleteSoftwareError> | typeof RETRY> {
    if (!this.deps.registry.settings(tenantId, appName)) return err(appNotFound(appName));
    const current = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
    if (!current) return err(notFound(appName, version));
    if (!preconditionHolds(pre, current)) return err(preconditionFailed(current));
    // The file goes first: if S3 is unavailable the call fails (503) and nothing is half-deleted.
    if (current.file && this.deps.files) {
      await this.deps.files.delete(fileObjectKey(tenantId, appName, current.version, current.file.name));
    }
    const outcome = await this.deps.software.delete(tenantId, appName, current.version, current.revision, current.createdAt);
    if (outcome === 'not_found') return err(notFound(appName, version));
    if (outcome === 'revision_mismatch') return pre.ifMatch === undefined ? RETRY : err(preconditionFailed(current));
    await this.deps.stats.delete(tenantId, appName, current.version);
    this.catalogues.invalidate(tenantId, appName);
    await this.publish('deleted', current, correlationId);
    // Deleting a software can open another path for endpoints that were routed through it.
    this.deps.work.schedulePushes({ kind: 'app', tenantId, appName, reason: `software ${current.version} deleted` });
    return ok(current);
  }

  /** Records the attached file (after the adapter stored it). Returns the updated software and the file it replaced. */
  async attachFile(
    tenantId: string,
    appName: string,
    version: string,
    file: SoftwareFile,
    correlationId: string,
  ): Promise<Result<{ software: Software; replaced?: SoftwareFile }, AttachFileError>> {
    if (!this.deps.registry.settings(tenantId, appName)) return err(appNotFound(appName));
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
      if (!current) return err(notFound(appName, version));
      if (!isJsonObject(current.specification)) return err(specNotObject(appName, version));
      const next: Software = { ...current, file, updatedAt: this.deps.clock.now(), revision: current.revision + 1 };
      const outcome = await this.deps.software.replace(next, current.revision);
      if (outcome === 'not_found') return err(notFound(appName, version));
      if (outcome === 'replaced') {
        await this.changed(next, 'updated', correlationId, false);
        return ok(current.file ? { software: next, replaced: current.file } : { software: next });
      }
    }
    throw new Error('attachFile: too many concurrent changes');
  }

  /** Checks, before an upload starts, that the software exists and can take a file. */
  async canAttachFile(tenantId: string, appName: string, version: string): Promise<Result<Software, AttachFileError>> {
    const r = await this.get(tenantId, appName, version);
    if (!r.ok) return r;
    if (!isJsonObject(r.value.specification)) return err(specNotObject(appName, version));
    return r;
  }

  /** Removes the file record; returns the file that was attached (the caller deletes the object). */
  async detachFile(tenantId: string, appName: string, version: string, correlationId: string): Promise<Result<SoftwareFile | undefined, GetSoftwareError>> {
    if (!this.deps.registry.settings(tenantId, appName)) return err(appNotFound(appName));
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
      if (!current) return err(notFound(appName, version));
      if (!current.file) return ok(undefined);
      const { file, ...rest } = current;
      const next: Software = { ...rest, updatedAt: this.deps.clock.now(), revision: current.revision + 1 };
      if ((await this.deps.software.replace(next, current.revision)) === 'replaced') {
        await this.changed(next, 'updated', correlationId, false);
        return ok(file);
      }
    }
    throw new Error('detachFile: too many concurrent changes');
  }

  /** Runs a read-modify-write until it is not asked to retry, at most UNCONDITIONAL_ATTEMPTS times. */
  private async retryUnconditional<T, E>(version: string, attempt: () => Promise<Result<T, E> | typeof RETRY>): Promise<Result<T, E | Failure<'software.edit_conflict'>>> {
    for (let i = 0; i < UNCONDITIONAL_ATTEMPTS; i++) {
      const r = await attempt();
      if (r !== RETRY) return r;
    }
    return err(
      failure(
        'software.edit_conflict',
        `software ${version} was changed by others ${UNCONDITIONAL_ATTEMPTS} times while this change was applied; retry, or send If-Match to apply it only to the revision you read`,
      ),
    );
  }

  private merge(current: Software, draft: SoftwareDraft): Software {
    const { failurePolicy: _fp, suspendedReason, ...base } = current;
    const keepReason = draft.rolloutStrategy === 'suspended' && suspendedReason !== undefined;
    return {
      ...base,
      ...draft,
      version: current.version,
      updatedAt: this.deps.clock.now(),
      revision: current.revision + 1,
      ...(keepReason ? { suspendedReason } : {}),
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

function appNotFound(appName: string): Failure<'application.not_found'> {
  return failure('application.not_found', `application ${JSON.stringify(appName)} not found`, 'appName');
}

function notFound(appName: string, version: string): Failure<'software.not_found'> {
  return failure('software.not_found', `software ${JSON.stringify(version)} not found in application ${JSON.stringify(appName)}`, 'version');
}

function conflict(appName: string, version: string): Failure<'software.version_conflict'> {
  return failure('software.version_conflict', `software ${version} already exists in application ${JSON.stringify(appName)} (versions are compared by SemVer precedence)`, 'version');
}

function cycleError(cycle: readonly string[]): Failure<'software.cycle'> {
  return failure('software.cycle', `upgradableFrom would close a cycle in the upgrade graph: ${describeCycle(cycle)}`, 'upgradableFrom');
}

function preconditionFailed(current: Software): Failure<'software.precondition_failed'> {
  return failure('software.precondition_failed', `software ${current.version} was changed by someone else (revision ${current.revision}); reload it and retry`);
}

function specNotObject(appName: string, version: string): Failure<'software.specification_not_object'> {
  return failure('software.specification_not_object', `software ${version} of ${JSON.stringify(appName)}: a file needs a specification that is a JSON object`, 'specification');
}
