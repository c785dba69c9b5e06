import { type Actor, fileSummary, OTAO_ACTOR } from '../domain/audit';
import { OtaoError } from '../domain/errors';
import { DEFAULT_FILE_NAME, fileNameProblem } from '../domain/file-name';
import { isJsonObject } from '../domain/json';
import { formatKaaDate } from '../domain/kaa-date';
import { err, failure, type Failure, ok, type Result } from '../domain/result';
import type { Software, SoftwareFile } from '../domain/software';
import { isStrictSemver } from '../domain/version';
import { type FileBody, type FileStore, storedObjectKey, uploadObjectKey } from '../ports';
import { AuditTrail } from './audit.use-case';
import type { CatalogueCache } from './catalogue-cache';
import type { CoreDeps, CoreOptions } from './core-deps';
import { CAS_LOST, retryCompareAndSet } from './compare-and-set';
import { findApplication, softwareNotFound } from './lookups';

/** What the file use case needs, and nothing more. */
export type SoftwareFilesDeps = Pick<CoreDeps, 'software' | 'registry' | 'clock' | 'ids' | 'softwareEvents' | 'audit'> & { readonly files: FileStore };

export type CheckUploadError = Failure<'application.not_found' | 'software.not_found' | 'software.specification_not_object' | 'file.invalid_name'>;
export type UploadFileError = Failure<
  | 'application.not_found'
  | 'software.not_found'
  | 'software.specification_not_object'
  | 'file.invalid_name'
  | 'file.too_large'
  | 'request.invalid'
  | 'software.concurrent_change'
>;
export type GetFileError = Failure<'application.not_found' | 'software.not_found' | 'file.not_found'>;
export type RemoveFileError = Failure<'application.not_found' | 'software.not_found' | 'file.not_found' | 'software.concurrent_change'>;

export interface UploadFileRequest {
  /** Default `firmware.bin`. */
  readonly name?: string;
  /** Default `application/octet-stream`. */
  readonly contentType?: string;
  readonly body: FileBody;
  readonly correlationId: string;
  /** Who uploads (audit log, spec §4.13); OTAO itself when absent. */
  readonly actor?: Actor;
}

export interface FileUploaded {
  /** The software after the change (its new revision is the new ETag). */
  readonly software: Software;
  readonly file: SoftwareFile;
  /** The file this one replaced, if any (its object is deleted). */
  readonly replaced?: SoftwareFile;
}

export interface FileDownload {
  readonly file: SoftwareFile;
  /** A fresh presigned link, valid for the configured link lifetime. */
  readonly downloadUrl: string;
}

/** Attempts of one compare-and-set before `software.concurrent_change`. */
const MAX_ATTEMPTS = 5;
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The options SoftwareFilesService reads. */
export type SoftwareFilesServiceOptions = Pick<CoreOptions, 'fileLinks' | 'maxFileBytes' | 'onFileCleanupFailed'>;

/**
 * The software file rules of spec §5 (upload, replace, download link, delete), over the `FileStore`
 * port. A record and its object always agree (§10): new bytes go to a new object key, the record
 * is switched with a compare-and-set, and only then is the old object deleted; a delete removes
 * the record first and the object after. An object no record points at is an orphan, never the
 * other way round. See docs/files.md.
 */
export class SoftwareFilesService {
  private readonly trail: AuditTrail;
  constructor(
    private readonly deps: SoftwareFilesDeps,
    private readonly options: SoftwareFilesServiceOptions,
    private readonly catalogues: CatalogueCache,
  ) {
    this.trail = new AuditTrail(deps);
  }

  /** The largest file accepted, in bytes. */
  get maxBytes(): number {
    return this.options.maxFileBytes;
  }

  /**
   * Checks, before any byte is read, that an upload can be taken: the name (when given), that the
   * software exists and that its specification is a JSON object. `upload` checks all of it again.
   * Throws `dependency.unavailable` while the file store is known to be unavailable.
   */
  async checkUpload(tenantId: string, appName: string, version: string, name?: string): Promise<Result<Software, CheckUploadError>> {
    if (name !== undefined) {
      const problem = fileNameProblem(name);
      if (problem !== undefined) return err(failure('file.invalid_name', problem, 'name'));
    }
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    const sw = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
    if (!sw) return err(softwareNotFound(appName, version));
    if (!isJsonObject(sw.specification)) return err(specNotObject(appName, sw.version));
    if (!this.deps.files.available()) throw unavailable();
    return ok(sw);
  }

  /**
   * Uploads a file and attaches it to the software, replacing the file it had (spec §5, §6.2).
   * The bytes are streamed to a new object (never over the one the record points at), then the
   * record is switched (compare-and-set), then the old object is deleted. A failed switch deletes
   * the new object: the previous file stays whole. Throws `dependency.unavailable` (S3) or
   * `store.unavailable` when a dependency fails; the previous state is then whole as well.
   */
  async upload(tenantId: string, appName: string, version: string, req: UploadFileRequest): Promise<Result<FileUploaded, UploadFileError>> {
    const name = req.name ?? DEFAULT_FILE_NAME;
    const checked = await this.checkUpload(tenantId, appName, version, name);
    if (!checked.ok) return checked;
    const target = checked.value;
    const contentType = req.contentType ?? DEFAULT_CONTENT_TYPE;
    const objectKey = uploadObjectKey(target, safeId(this.deps.ids.newId()), name);
    const stored = await this.deps.files.upload({ key: objectKey, body: req.body, contentType, maxBytes: this.options.maxFileBytes });
    if (!stored.ok) return stored;
    const file: SoftwareFile = { name, size: stored.value.size, sha256: stored.value.sha256, contentType, uploadedAt: this.deps.clock.now(), objectKey };

    let switched;
    try {
      switched = await this.switchFile(target, file, objectKey, req.correlationId, req.actor ?? OTAO_ACTOR);
    } catch (e) {
      // Unknown whether the record points at the new object: keep it (an orphan at worst).
      if (e instanceof KeepObject) throw e.writeError;
      // The record was not changed: the new object goes, the previous file stays as it was.
      await this.cleanUp(objectKey);
      throw e;
    }
    if (!switched.ok) {
      // The record does not point at the new object: remove it, the previous file stays as it was.
      await this.cleanUp(objectKey);
      return switched;
    }
    const { software, replaced } = switched.value;
    if (replaced) await this.cleanUp(storedObjectKey(software, replaced));
    await this.changed(software, req.correlationId);
    return ok(replaced ? { software, file, replaced } : { software, file });
  }

  /**
   * The attached file and a fresh download link. Throws `dependency.unavailable` while the file
   * store is known to be unavailable (no link that cannot work is handed out).
   */
  async download(tenantId: string, appName: string, version: string): Promise<Result<FileDownload, GetFileError>> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    const sw = isStrictSemver(version) ? await this.deps.software.get(tenantId, appName, version) : undefined;
    if (!sw) return err(softwareNotFound(appName, version));
    if (!sw.file) return err(noFile(appName, sw.version));
    if (!this.deps.files.available()) throw unavailable();
    const downloadUrl = await this.deps.files.presignGet(storedObjectKey(sw, sw.file), this.options.fileLinks?.ttlSeconds ?? 3600);
    return ok({ file: sw.file, downloadUrl });
  }

  /**
   * Detaches the file (compare-and-set on the record), then deletes its object. Returns the file
   * that was attached. Throws `dependency.unavailable`, changing nothing, while the file store is
   * known to be unavailable. If the object cannot be deleted after the record changed, it is left
   * as an orphan (reported through `onFileCleanupFailed`): no record points at it, nothing links to it.
   */
  async remove(
    tenantId: string,
    appName: string,
    version: string,
    correlationId: string,
    actor: Actor = OTAO_ACTOR,
  ): Promise<Result<SoftwareFile, RemoveFileError>> {
    const known = findApplication(this.deps.registry, tenantId, appName);
    if (!known.ok) return known;
    if (!isStrictSemver(version)) return err(softwareNotFound(appName, version));
    return retryCompareAndSet(
      MAX_ATTEMPTS,
      async () => {
        const current = await this.deps.software.get(tenantId, appName, version);
        if (!current) return err(softwareNotFound(appName, version));
        if (!current.file) return err(noFile(appName, current.version));
        if (!this.deps.files.available()) throw unavailable();
        const { file, ...rest } = current;
        const next: Software = { ...rest, updatedAt: this.deps.clock.now(), revision: current.revision + 1 };
        const intent = {
          tenantId,
          appName,
          action: 'file.deleted',
          actor,
          correlationId,
          version: current.version,
          changes: { file: { old: fileSummary(file) } },
        } as const;
        const { outcome, stored } = await this.trail.replaceSoftware(this.deps.software, current, next, intent);
        if (outcome === 'not_found') return err(softwareNotFound(appName, version));
        if (outcome === 'replaced') {
          await this.cleanUp(storedObjectKey(current, file));
          await this.changed(stored, correlationId);
          return ok(file);
        }
        return CAS_LOST;
      },
      () => err(concurrentChange(appName, version, 'its file was being deleted')),
    );
  }

  /**
   * Points the record of `target`'s incarnation at `file` (compare-and-set, retried on concurrent
   * changes). When the store fails during the write, the outcome is read back: a write that was
   * applied counts as done; one that was not rethrows (the caller deletes the new object). When
   * even that read fails, `KeepObject` is thrown: the new object is kept (an orphan at worst,
   * never a record without its object).
   */
  private async switchFile(
    target: Software,
    file: SoftwareFile,
    objectKey: string,
    correlationId: string,
    actor: Actor,
  ): Promise<Result<{ software: Software; replaced?: SoftwareFile }, UploadFileError>> {
    const { tenantId, appName, version } = target;
    return retryCompareAndSet(
      MAX_ATTEMPTS,
      async () => {
        const current = await this.deps.software.get(tenantId, appName, version);
        // Another incarnation (deleted and created again meanwhile) is another software.
        if (!current || current.createdAt !== target.createdAt) return err(softwareNotFound(appName, version));
        if (!isJsonObject(current.specification)) return err(specNotObject(appName, version));
        const next: Software = { ...current, file, updatedAt: this.deps.clock.now(), revision: current.revision + 1 };
        const intent = {
          tenantId,
          appName,
          action: current.file ? 'file.replaced' : 'file.uploaded',
          actor,
          correlationId,
          version: current.version,
          changes: { file: { ...(current.file ? { old: fileSummary(current.file) } : {}), new: fileSummary(file) } },
        } as const;
        const { outcome, stored } = await this.trail.software(
          current,
          next,
          intent,
          async (s) => {
            try {
              return await this.deps.software.replace(s, current.revision);
            } catch (e) {
              if (await this.pointsAt(target, objectKey, e)) return 'replaced' as const;
              throw e;
            }
          },
          (o) => o === 'replaced',
        );
        if (outcome === 'not_found') return err(softwareNotFound(appName, version));
        if (outcome === 'replaced') return ok(current.file ? { software: stored, replaced: current.file } : { software: stored });
        return CAS_LOST;
      },
      () => err(concurrentChange(appName, version, 'its file was being uploaded')),
    );
  }

  /**
   * After a failed write: whether the record now points at `objectKey` (the write was applied).
   * Throws `KeepObject` when even this cannot be known.
   */
  private async pointsAt(target: Software, objectKey: string, writeError: unknown): Promise<boolean> {
    let now: Software | undefined;
    try {
      now = await this.deps.software.get(target.tenantId, target.appName, target.version);
    } catch (e) {
      this.options.onFileCleanupFailed?.(objectKey, e);
      throw new KeepObject(writeError);
    }
    return now?.file?.objectKey === objectKey;
  }

  /** Deletes an object no record points at; a failure leaves an orphan, reported, never thrown. */
  private async cleanUp(objectKey: string): Promise<void> {
    try {
      await this.deps.files.delete(objectKey);
    } catch (e) {
      this.options.onFileCleanupFailed?.(objectKey, e);
    }
  }

  private async changed(sw: Software, correlationId: string): Promise<void> {
    this.catalogues.invalidate(sw.tenantId, sw.appName);
    await this.deps.softwareEvents.publish({
      type: 'updated',
      tenantId: sw.tenantId,
      appName: sw.appName,
      version: sw.version,
      rolloutStrategy: sw.rolloutStrategy,
      at: formatKaaDate(this.deps.clock.now()),
      correlationId,
    });
  }
}

/** Thrown through `upload` when the outcome of a record write is unknown: the new object must be kept. */
class KeepObject extends Error {
  constructor(readonly writeError: unknown) {
    super('outcome of the record write unknown');
  }
}

/** Upload ids become a key segment: only `[A-Za-z0-9_-]`. */
function safeId(id: string): string {
  const s = id.replace(/[^A-Za-z0-9_-]/g, '_');
  return s.length > 0 ? s.slice(0, 64) : 'upload';
}

function unavailable(): OtaoError {
  return new OtaoError('dependency.unavailable', 'the file store (S3) is unavailable; try again when it is back');
}

function noFile(appName: string, version: string): Failure<'file.not_found'> {
  return failure('file.not_found', `software ${version} of ${JSON.stringify(appName)} has no file`);
}

function specNotObject(appName: string, version: string): Failure<'software.specification_not_object'> {
  return failure(
    'software.specification_not_object',
    `software ${version} of ${JSON.stringify(appName)}: a file needs a specification that is a JSON object`,
    'specification',
  );
}

function concurrentChange(appName: string, version: string, doing: string): Failure<'software.concurrent_change'> {
  return failure(
    'software.concurrent_change',
    `software ${version} of ${JSON.stringify(appName)} was changed by others ${MAX_ATTEMPTS} times while ${doing}; nothing was changed: retry`,
  );
}
