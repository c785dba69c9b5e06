import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type { Request, Response, Router } from 'express';
import { type ErrorCode, type Failure, fileFolder, fileObjectKey, formatKaaDate, type Result, type Software, type SoftwareFile } from '@otao/core';
import { HttpFailure } from './error-mapping';
import { etagOf } from './serialize';
import type { RouteKit } from './app';

/**
 * What the file routes need of a file store (spec §5). `@otao/s3-files`' `S3FileStore` implements
 * it; the composition root passes it in (this package does not import the S3 adapter).
 */
export interface FileUploadStore {
  /**
   * Streams `body` to `key`, computing size and SHA-256 on the way, never holding the file in
   * memory. More than `maxBytes`: stops reading `body` (without destroying it), stores nothing and
   * returns `file.too_large`; a failing body returns `request.invalid`. Throws
   * `OtaoError('dependency.unavailable')` when the store cannot be reached.
   */
  upload(input: { key: string; body: Readable; contentType: string; maxBytes: number }): Promise<
    Result<{ readonly size: number; readonly sha256: string }, Failure<'file.too_large' | 'request.invalid'>>
  >;
  /** A presigned GET URL valid `ttlSeconds`. */
  presignGet(key: string, ttlSeconds: number): Promise<string>;
  /** Deletes one object; absent is not an error. */
  delete(key: string): Promise<void>;
  /** Deletes every object under the prefix; idempotent. */
  deletePrefix(prefix: string): Promise<void>;
}

export interface FileRoutesOptions {
  readonly files: FileUploadStore;
  /** OTAO_S3_MAX_FILE_BYTES */
  readonly maxFileBytes: number;
  /** OTAO_S3_URL_TTL_SECONDS: lifetime of the `downloadUrl` of GET …/file. */
  readonly urlTtlSeconds: number;
  /** Clock of `uploadedAt` (epoch ms); default Date.now. */
  readonly now?: () => number;
  /** Told when an old object could not be removed after a successful replacement (it is then orphaned). */
  readonly onCleanupFailure?: (key: string, error: unknown) => void;
}

export const DEFAULT_FILE_NAME = 'firmware.bin';
/** Room for the multipart boundaries and part headers around the file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
const CONTENT_TYPE = /^[\x20-\x7e]{1,255}$/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const FILE_PATH = /^\/applications\/[^/]+\/software\/[^/]+\/file$/;

/**
 * Checks a file name (spec §5): 1 to 255 UTF-8 bytes; no `/`, `\`, `..`, control characters or
 * lone surrogates; not `.`. Returns a message, or undefined when the name is acceptable.
 */
export function fileNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'name: must not be empty';
  if (Buffer.byteLength(name, 'utf8') > 255) return 'name: must be at most 255 bytes (UTF-8)';
  if (name.includes('/') || name.includes('\\')) return 'name: must not contain / or \\';
  if (name.includes('..') || name === '.') return 'name: must not contain ..';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'name: must not contain control characters';
  if (LONE_SURROGATE.test(name)) return 'name: must be valid Unicode';
  return undefined;
}

/** A file's metadata as the REST API shows it. */
export function fileDto(f: SoftwareFile): Record<string, unknown> {
  return { name: f.name, size: f.size, sha256: f.sha256, contentType: f.contentType, uploadedAt: formatKaaDate(f.uploadedAt) };
}

/**
 * The file routes of spec §6.2, to plug into `createHttpApp({ extraRoutes, extraPaths })` when S3
 * is enabled (when it is not, they are simply not registered: 404).
 */
export function fileRoutes(options: FileRoutesOptions): {
  extraRoutes: (api: Router, kit: RouteKit) => void;
  extraPaths: readonly [RegExp, string][];
} {
  const { files, maxFileBytes, urlTtlSeconds } = options;
  const now = options.now ?? Date.now;
  const path = '/applications/:appName/software/:version/file';

  const extraRoutes = (api: Router, kit: RouteKit): void => {
    const unwrap = <T, C extends ErrorCode>(r: Result<T, Failure<C>>): T => (r.ok ? r.value : kit.fail(r.error.code, r.error.message));

    api.put(path, async (req, res) => {
      // The body may be left unread (4xx before the upload, 413 midway): never keep this connection.
      res.setHeader('Connection', 'close');
      const { principal, appName } = await kit.authorize(req, 'application:software:update');
      const tenantId = principal.tenantId;
      const multipart = req.is('multipart/form-data') === 'multipart/form-data';
      const declared = declaredLength(req);
      if (declared !== undefined && declared > maxFileBytes + (multipart ? MULTIPART_OVERHEAD_BYTES : 0)) {
        tooLarge(res, `the file is larger than the limit of ${maxFileBytes} bytes (OTAO_S3_MAX_FILE_BYTES)`);
        return;
      }
      const queryName = singleQuery(req, 'name');
      if (queryName !== undefined) checkName(queryName);
      // Before any byte is read: the software exists and can take a file (409 otherwise).
      const sw = unwrap(await kit.core.software.canAttachFile(tenantId, appName, param(req, 'version')));

      const incoming = multipart ? await firstFilePart(req) : rawBody(req);
      const name = queryName ?? incoming.fileName ?? DEFAULT_FILE_NAME;
      if (queryName === undefined) checkName(name, incoming);
      const contentType = incoming.contentType;
      if (!CONTENT_TYPE.test(contentType)) {
        incoming.discard();
        throw new HttpFailure('request.invalid', 'Content-Type: must be 1 to 255 printable ASCII characters');
      }
      const key = fileObjectKey(tenantId, appName, sw.version, name);
      let stored;
      try {
        stored = await files.upload({ key, body: incoming.body, contentType, maxBytes: maxFileBytes });
      } catch (e) {
        incoming.discard();
        throw e;
      }
      if (!stored.ok) {
        if (stored.error.code === 'file.too_large') {
          tooLarge(res, stored.error.message);
          return;
        }
        incoming.discard();
        throw new HttpFailure(stored.error.code, stored.error.message);
      }
      const problem = await incoming.finished();
      if (problem !== undefined) {
        await files.delete(key);
        throw new HttpFailure('request.invalid', problem);
      }

      const file: SoftwareFile = { name, size: stored.value.size, sha256: stored.value.sha256, contentType, uploadedAt: now() };
      const attached = await kit.core.software.attachFile(tenantId, appName, sw.version, file, req.correlationId ?? 'file-upload');
      if (!attached.ok) {
        // The software went away or changed meanwhile: do not leave the object behind.
        await files.delete(key);
        unwrap(attached);
        return;
      }
      const replaced = attached.value.replaced;
      if (replaced && replaced.name !== name) {
        const oldKey = fileObjectKey(tenantId, appName, sw.version, replaced.name);
        try {
          await files.delete(oldKey);
        } catch (e) {
          options.onCleanupFailure?.(oldKey, e);
        }
      }
      res
        .status(replaced ? 200 : 201)
        .setHeader('ETag', etagOf(attached.value.software))
        .json(fileDto(file));
    });

    api.get(path, async (req, res) => {
      const { principal, appName } = await kit.authorize(req, 'application:software:read');
      const sw = unwrap(await kit.core.software.get(principal.tenantId, appName, param(req, 'version')));
      const file = attachedFile(sw, appName);
      const downloadUrl = await files.presignGet(fileObjectKey(sw.tenantId, sw.appName, sw.version, file.name), urlTtlSeconds);
      res.json({ ...fileDto(file), downloadUrl });
    });

    api.delete(path, async (req, res) => {
      const { principal, appName } = await kit.authorize(req, 'application:software:update');
      const tenantId = principal.tenantId;
      const sw = unwrap(await kit.core.software.get(tenantId, appName, param(req, 'version')));
      const detached = unwrap(await kit.core.software.detachFile(tenantId, appName, sw.version, req.correlationId ?? 'file-delete'));
      if (detached) {
        await files.delete(fileObjectKey(tenantId, appName, sw.version, detached.name));
      } else {
        // Nothing attached (any more): clear what an earlier, interrupted delete may have left, then 404.
        await files.deletePrefix(fileFolder(tenantId, appName, sw.version));
        throw new HttpFailure('file.not_found', `software ${sw.version} of ${JSON.stringify(appName)} has no file`);
      }
      res.status(204).end();
    });
  };

  return { extraRoutes, extraPaths: [[FILE_PATH, 'GET, HEAD, PUT, DELETE']] };
}

/** The body of an upload, raw or the one `file` part of a multipart form. */
interface Incoming {
  readonly body: Readable;
  readonly fileName: string | undefined;
  readonly contentType: string;
  /** After the upload: resolves once the rest of the request is read; a message when it was malformed. */
  finished(): Promise<string | undefined>;
  /** Stops reading the request (the connection will be closed). */
  discard(): void;
}

function rawBody(req: Request): Incoming {
  return {
    body: req,
    fileName: undefined,
    contentType: req.get('content-type') || 'application/octet-stream',
    finished: async () => undefined,
    discard: () => req.unpipe(),
  };
}

/** Parses the multipart stream up to the first file part; the rest is read by `finished()`. */
async function firstFilePart(req: Request): Promise<Incoming> {
  return new Promise<Incoming>((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, preservePath: true, limits: { files: 1, fields: 20, fieldSize: 64 * 1024, parts: 21, headerPairs: 100 } });
    } catch (e) {
      reject(new HttpFailure('request.invalid', `multipart/form-data: ${(e as Error).message}`));
      return;
    }
    let settled = false;
    let problem: string | undefined;
    let done = false;
    const waiters: (() => void)[] = [];
    const finish = (): void => {
      done = true;
      for (const w of waiters.splice(0)) w();
    };
    const fail = (message: string): void => {
      if (!settled) {
        settled = true;
        req.unpipe(bb);
        reject(new HttpFailure('request.invalid', `multipart/form-data: ${message}`));
      } else {
        problem ??= message;
        finish();
      }
    };
    bb.on('file', (field, stream, info) => {
      if (settled) {
        stream.resume();
        problem ??= 'exactly one part named "file" is expected';
        return;
      }
      if (field !== 'file') {
        stream.resume();
        fail(`the file part must be named "file", not ${JSON.stringify(field)}`);
        return;
      }
      settled = true;
      resolve({
        body: stream,
        fileName: info.filename === undefined || info.filename === '' ? undefined : info.filename,
        contentType: info.mimeType || 'application/octet-stream',
        finished: async () => {
          if (!done) await new Promise<void>((r) => waiters.push(r));
          return problem;
        },
        discard: () => {
          req.unpipe(bb);
          stream.resume();
        },
      });
    });
    bb.on('filesLimit', () => {
      problem ??= 'exactly one part named "file" is expected';
    });
    bb.on('error', (e) => fail((e as Error).message));
    bb.on('close', () => {
      if (!settled) fail('no part named "file"');
      else finish();
    });
    req.pipe(bb);
  });
}

function checkName(name: string, incoming?: Incoming): void {
  const problem = fileNameProblem(name);
  if (problem === undefined) return;
  incoming?.discard();
  throw new HttpFailure('file.invalid_name', problem);
}

function attachedFile(sw: Software, appName: string): SoftwareFile {
  if (!sw.file) throw new HttpFailure('file.not_found', `software ${sw.version} of ${JSON.stringify(appName)} has no file`);
  return sw.file;
}

/** 413 without reading the rest of the body: the connection is closed after the answer. */
function tooLarge(res: Response, message: string): void {
  res.setHeader('Connection', 'close');
  res.status(413).json({ message, code: 'file.too_large' });
}

function declaredLength(req: Request): number | undefined {
  const raw = req.get('content-length');
  if (raw === undefined || !/^\d{1,20}$/.test(raw)) return undefined;
  return Number(raw);
}

function singleQuery(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new HttpFailure('file.invalid_name', `${name}: must be given once`);
  return v;
}

function param(req: Request, name: string): string {
  return (req.params as Record<string, string | undefined>)[name] ?? '';
}
