import type { Failure, Result } from '../domain/result';
import type { Software, SoftwareFile } from '../domain/software';

/**
 * The bytes of a file being uploaded, read once, in order, chunk by chunk. A Node.js `Readable`
 * (an HTTP request, a multipart part) is one; so is an async generator of `Uint8Array`s.
 */
export type FileBody = AsyncIterable<Uint8Array>;

/** What to upload, and where. */
export interface FileUpload {
  /** The object key; the core makes it unique per upload (`uploadObjectKey`). */
  readonly key: string;
  readonly body: FileBody;
  /** Stored as the object's `Content-Type` and served with the download. */
  readonly contentType: string;
  /** More bytes than this: nothing is stored and `file.too_large` is returned. */
  readonly maxBytes: number;
}

/** What an upload stored: the size in bytes and the SHA-256 (lowercase hex) of exactly those bytes. */
export interface StoredObject {
  readonly size: number;
  readonly sha256: string;
}

export type FileUploadFailure = Failure<'file.too_large' | 'request.invalid'>;

/**
 * The software file store (S3). Keys are opaque strings chosen by the core; the store never
 * interprets them. Every method that needs the backend throws `OtaoError('dependency.unavailable')`
 * when it cannot be reached; expected outcomes are returned, never thrown.
 */
export interface FileStore {
  /**
   * Streams `body` into the object `key`, computing the size and SHA-256 on the way, never holding
   * the whole file in memory. The object exists only once the whole body was read and stored: on any
   * failure nothing is left at `key` (and an object already at `key` is untouched).
   * - more than `maxBytes`: stops reading `body` at once and returns `file.too_large`;
   * - `body` fails (its iterator throws, e.g. the client went away): returns `request.invalid`;
   * - the backend fails: throws `dependency.unavailable`.
   * On failure the store stops pulling from `body` but never ends, destroys or drains it (it does not
   * call the iterator's `return()`): the caller owns the source (an HTTP request still to be
   * answered). Not idempotent: a second upload to the same key replaces the object.
   */
  upload(input: FileUpload): Promise<Result<StoredObject, FileUploadFailure>>;
  /**
   * A presigned GET URL of the object, valid `ttlSeconds` (1 s to 7 days). May be made without a
   * round trip (S3 signs locally), so it may succeed while the backend is down, and for an object
   * that does not exist (the link then answers 404).
   */
  presignGet(objectKey: string, ttlSeconds: number): Promise<string>;
  /** Deletes one object. Idempotent: an absent object is not an error. */
  delete(objectKey: string): Promise<void>;
  /**
   * Deletes every object whose key starts with `prefix` (and unfinished uploads there, where the
   * backend has them); objects outside the prefix are untouched. Idempotent. An empty prefix is
   * refused (throws a plain `Error`): never the whole store.
   */
  deletePrefix(prefix: string): Promise<void>;
  /**
   * Whether the backend is believed reachable. Cheap and synchronous (no I/O): false after a request
   * or a health check failed with `dependency.unavailable`, until a later one succeeds; a store that
   * is believed down checks again by itself in the background when asked. The core hands out no
   * download link while it is false (the pull fails with `dependency.unavailable`: never a link known not to work).
   */
  available(): boolean;
}

/** `<tenantId>/<appName>/<version>/`: the folder of a version's files (spec §5). */
export function fileFolder(tenantId: string, appName: string, version: string): string {
  return `${tenantId}/${appName}/${version}/`;
}

/**
 * `<tenantId>/<appName>/<version>/<fileName>`: where a file was stored before keys were unique per
 * upload (records without `objectKey`).
 */
export function fileObjectKey(tenantId: string, appName: string, version: string, fileName: string): string {
  return `${fileFolder(tenantId, appName, version)}${fileName}`;
}

/**
 * The prefix of every object uploaded for one incarnation of a software (a version deleted and
 * created again is another incarnation): `<folder><createdAt in base 36>-`.
 */
export function incarnationPrefix(sw: Pick<Software, 'tenantId' | 'appName' | 'version' | 'createdAt'>): string {
  return `${fileFolder(sw.tenantId, sw.appName, sw.version)}${sw.createdAt.toString(36)}-`;
}

/**
 * The key of a new upload: `<tenantId>/<appName>/<version>/<createdAt36>-<uploadId>/<fileName>`.
 * Unique per upload, so new bytes never overwrite the object a record (and every link handed out)
 * points at; the file name stays the last segment (what a download saves the file as).
 */
export function uploadObjectKey(sw: Pick<Software, 'tenantId' | 'appName' | 'version' | 'createdAt'>, uploadId: string, fileName: string): string {
  return `${incarnationPrefix(sw)}${uploadId}/${fileName}`;
}

/** Where the bytes of a software's attached file are. */
export function storedObjectKey(sw: Pick<Software, 'tenantId' | 'appName' | 'version'>, file: SoftwareFile): string {
  return file.objectKey ?? fileObjectKey(sw.tenantId, sw.appName, sw.version, file.name);
}
