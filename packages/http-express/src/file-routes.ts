import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type { Request, Response, Router } from 'express';
import { type ErrorCode, type Failure, type FileBody, formatKaaDate, type Result, type SoftwareFile, type SoftwareFilesService } from '@otao/core';
import { HttpFailure } from './error-mapping';
import { etagOf } from './serialize';
import type { RouteKit } from './app';

/** Room for the multipart boundaries and part headers around the file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
const CONTENT_TYPE = /^[\x20-\x7e]{1,255}$/;
const FILE_PATH = /^\/applications\/[^/]+\/software\/[^/]+\/file$/;

/** A file's metadata as the REST API shows it. */
export function fileDto(f: SoftwareFile): Record<string, unknown> {
  return { name: f.name, size: f.size, sha256: f.sha256, contentType: f.contentType, uploadedAt: formatKaaDate(f.uploadedAt) };
}

/**
 * The file routes of spec §6.2, to plug into `createHttpApp({ extraRoutes, extraPaths })` when S3
 * is enabled (when it is not, they are simply not registered: 404). They only parse the request —
 * raw or multipart body, file name, content type, the declared size — and map the results of the
 * core's `SoftwareFilesService` (`core.files`) to statuses; the file rules (names, limits, the
 * order of writes) are the core's.
 */
export function fileRoutes(): {
  extraRoutes: (api: Router, kit: RouteKit) => void;
  extraPaths: readonly [RegExp, string][];
} {
  const path = '/applications/:appName/software/:version/file';

  const extraRoutes = (api: Router, kit: RouteKit): void => {
    const unwrap = <T, C extends ErrorCode>(r: Result<T, Failure<C>>): T => (r.ok ? r.value : kit.fail(r.error.code, r.error.message));
    const filesOf = (): SoftwareFilesService => kit.core.files ?? kit.fail('route.not_found', 'files are disabled (OTAO_S3_ENABLED=false)');

    api.put(path, async (req, res) => {
      // The body may be left unread (4xx before the upload, 413 midway): never keep this connection.
      res.setHeader('Connection', 'close');
      const { principal, actor, appName } = await kit.authorize(req, 'application:software:update');
      const files = filesOf();
      const tenantId = principal.tenantId;
      const version = param(req, 'version');
      const multipart = req.is('multipart/form-data') === 'multipart/form-data';
      const declared = declaredLength(req);
      if (declared !== undefined && declared > files.maxBytes + (multipart ? MULTIPART_OVERHEAD_BYTES : 0)) {
        tooLarge(res, `the file is larger than the limit of ${files.maxBytes} bytes (OTAO_S3_MAX_FILE_BYTES)`);
        return;
      }
      const queryName = singleQuery(req, 'name');
      // Before any byte is read: the name, that the software exists and can take a file (409 otherwise).
      unwrap(await files.checkUpload(tenantId, appName, version, queryName));

      const incoming = multipart ? await firstFilePart(req) : rawBody(req);
      const contentType = incoming.contentType;
      if (!CONTENT_TYPE.test(contentType)) {
        incoming.discard();
        throw new HttpFailure('request.invalid', 'Content-Type: must be 1 to 255 printable ASCII characters');
      }
      const name = queryName ?? incoming.fileName;
      let uploaded;
      try {
        uploaded = await files.upload(tenantId, appName, version, {
          ...(name !== undefined ? { name } : {}),
          contentType,
          body: incoming.body,
          correlationId: req.correlationId ?? 'file-upload',
          actor,
        });
      } catch (e) {
        incoming.discard();
        throw e;
      }
      if (!uploaded.ok) {
        incoming.discard();
        if (uploaded.error.code === 'file.too_large') {
          tooLarge(res, uploaded.error.message);
          return;
        }
        const problem = incoming.problem();
        if (uploaded.error.code === 'request.invalid' && problem !== undefined) throw new HttpFailure('request.invalid', `multipart/form-data: ${problem}`);
        kit.fail(uploaded.error.code, uploaded.error.message);
      }
      const { software, file, replaced } = uploaded.value;
      res
        .status(replaced ? 200 : 201)
        .setHeader('ETag', etagOf(software))
        .json(fileDto(file));
    });

    api.get(path, async (req, res) => {
      const { principal, appName } = await kit.authorize(req, 'application:software:read');
      const { file, downloadUrl } = unwrap(await filesOf().download(principal.tenantId, appName, param(req, 'version')));
      res.json({ ...fileDto(file), downloadUrl });
    });

    api.delete(path, async (req, res) => {
      const { principal, actor, appName } = await kit.authorize(req, 'application:software:update');
      unwrap(await filesOf().remove(principal.tenantId, appName, param(req, 'version'), req.correlationId ?? 'file-delete', actor));
      res.status(204).end();
    });
  };

  return { extraRoutes, extraPaths: [[FILE_PATH, 'GET, HEAD, PUT, DELETE']] };
}

/** The body of an upload, raw or the one `file` part of a multipart form. */
interface Incoming {
  /** The file's bytes; for multipart, it fails after the file part when the rest of the form is malformed. */
  readonly body: FileBody;
  readonly fileName: string | undefined;
  readonly contentType: string;
  /** What was wrong with the multipart form (after the body was read), if anything. */
  problem(): string | undefined;
  /** Stops reading the request (the connection will be closed). */
  discard(): void;
}

function rawBody(req: Request): Incoming {
  return {
    body: req,
    fileName: undefined,
    contentType: req.get('content-type') || 'application/octet-stream',
    problem: () => undefined,
    discard: () => req.unpipe(),
  };
}

/**
 * Parses the multipart stream up to the first file part. The body it gives yields that part's bytes,
 * then waits for the rest of the form and fails when it is malformed (another file part, a broken
 * boundary), so the file store stores nothing from a malformed request.
 */
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
      const finished = async (): Promise<string | undefined> => {
        if (!done) await new Promise<void>((r) => waiters.push(r));
        return problem;
      };
      resolve({
        body: thenCheck(stream, finished),
        fileName: info.filename === undefined || info.filename === '' ? undefined : info.filename,
        contentType: info.mimeType || 'application/octet-stream',
        problem: () => problem,
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

/** The bytes of `part`, then the verdict on the rest of the form: a problem fails the body. */
async function* thenCheck(part: Readable, finished: () => Promise<string | undefined>): AsyncGenerator<Uint8Array> {
  for await (const chunk of part) yield chunk as Uint8Array;
  const problem = await finished();
  if (problem !== undefined) throw new Error(`multipart/form-data: ${problem}`);
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
