import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { err, failure, type FileStore, type FileUpload, type FileUploadFailure, ok, OtaoError, type Result, type StoredObject } from '@otao/core';

/** Configuration of the S3 file store (OTAO_S3_*); credentials default to the standard AWS chain. */
export interface S3FilesConfig {
  readonly bucket: string;
  /** Default `us-east-1`. */
  readonly region?: string;
  /** An S3-compatible endpoint (`http://127.0.0.1:9000`); absent: AWS. */
  readonly endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible servers. */
  readonly forcePathStyle?: boolean;
  /** Explicit credentials; absent: environment, shared files, SSO, container or instance role. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** Multipart part size; default 8 MiB (S3's minimum is 5 MiB). Memory per upload is about `partSize × (queueSize + 1)`. */
  readonly partSizeBytes?: number;
  /** Parts uploaded concurrently per upload; default 2. */
  readonly queueSize?: number;
  /** Attempts per S3 request (SDK retry); default 3. */
  readonly maxAttempts?: number;
  /** TCP connect timeout; default 3000 ms. */
  readonly connectionTimeoutMs?: number;
  /** Socket idle timeout of one request; default 30 000 ms. */
  readonly requestTimeoutMs?: number;
  /** A health check (HeadBucket) gives up after this long; default 2000 ms. */
  readonly checkTimeoutMs?: number;
  /** While S3 is believed down, `available()` checks again in the background at most this often; default 1000 ms. */
  readonly recheckIntervalMs?: number;
  /** While S3 is believed up, `available()` checks in the background when nothing told for this long; default 5000 ms. */
  readonly healthyRecheckMs?: number;
}

/** What an upload stored: the object key, its size in bytes and the SHA-256 (hex) of its bytes. */
export interface StoredFile extends StoredObject {
  readonly key: string;
}

/** How the store sees S3 (for `/ready` and the metrics). */
export interface S3Health {
  readonly up: boolean;
  /** Why it is down (`unreachable: ECONNREFUSED`, `bucket "x" does not exist`…); absent when up. */
  readonly problem?: string;
  /** When it was last checked or used (epoch ms); 0 before anything happened. */
  readonly checkedAt: number;
}

const MIB = 1024 * 1024;
const MAX_PARTS = 10_000;

class FileTooLarge extends Error {
  override readonly name = 'FileTooLarge';
}

/** Counts and hashes the bytes passing through; fails as soon as more than `maxBytes` came. */
class Meter extends Transform {
  bytes = 0;
  exceeded = false;
  private readonly hash = createHash('sha256');

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      this.exceeded = true;
      cb(new FileTooLarge(`more than ${this.maxBytes} bytes`));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * The software file store on S3 (spec §5): implements the core's {@link FileStore} — streamed
 * uploads with size and SHA-256, presigned GET links, deletion — and keeps track of whether S3 is
 * reachable (`available()`, `check()`, `health`). Every S3 or network failure is translated in
 * {@link S3FileStore.translate} into `OtaoError('dependency.unavailable')`.
 */
export class S3FileStore implements FileStore {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly checkTimeoutMs: number;
  private readonly recheckIntervalMs: number;
  private readonly healthyRecheckMs: number;
  private state: S3Health = { up: true, checkedAt: 0 };
  private checking: Promise<boolean> | undefined;

  constructor(
    private readonly config: S3FilesConfig,
    clients: { readonly s3?: S3Client } = {},
  ) {
    this.bucket = config.bucket;
    this.partSize = Math.max(5 * MIB, config.partSizeBytes ?? 8 * MIB);
    this.queueSize = Math.max(1, config.queueSize ?? 2);
    this.checkTimeoutMs = config.checkTimeoutMs ?? 2000;
    this.recheckIntervalMs = config.recheckIntervalMs ?? 1000;
    this.healthyRecheckMs = config.healthyRecheckMs ?? 5000;
    this.ownsClient = clients.s3 === undefined;
    this.client = clients.s3 ?? new S3Client(s3ClientConfig(config));
  }

  /**
   * Checks at start-up that the bucket exists and is reachable with these credentials. Throws an
   * `Error` naming the bucket when it is missing or access is denied (a configuration problem), and
   * `OtaoError('dependency.unavailable')` when S3 cannot be reached.
   */
  async verifyBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      this.markUp();
    } catch (e) {
      const problem = this.bucketProblem(e);
      if (problem !== undefined) {
        this.markDown(problem);
        throw new Error(`S3 ${problem}`, { cause: e });
      }
      throw this.translate(e, `checking bucket ${this.bucket}`);
    }
  }

  /** How S3 was last seen: by a request or a check. */
  get health(): S3Health {
    return this.state;
  }

  /**
   * Whether S3 is believed reachable; never waits. A check (HeadBucket) is started in the background
   * when the last news is older than `recheckIntervalMs` (S3 believed down: the store recovers by
   * itself once S3 is back) or `healthyRecheckMs` (believed up: an S3 that died unnoticed is seen
   * within seconds under traffic).
   */
  available(): boolean {
    const age = Date.now() - this.state.checkedAt;
    if (age >= (this.state.up ? this.healthyRecheckMs : this.recheckIntervalMs)) void this.check();
    return this.state.up;
  }

  /**
   * Checks S3 (HeadBucket, at most `checkTimeoutMs`) unless a request or a check told within the last
   * `maxAgeMs`; concurrent callers share one check. Resolves with whether S3 is up; never throws.
   */
  async check(maxAgeMs = 0): Promise<boolean> {
    if (this.state.checkedAt > 0 && Date.now() - this.state.checkedAt < maxAgeMs) return this.state.up;
    this.checking ??= this.headBucket().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  /** A presigned GET URL valid `ttlSeconds` (1 s to 7 days). Signed locally: no request to S3. */
  async presignGet(objectKey: string, ttlSeconds: number): Promise<string> {
    try {
      return await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }), { expiresIn: ttlSeconds });
    } catch (e) {
      throw this.translate(e, 'presigning a download link');
    }
  }

  /** Deletes one object; absent is not an error. */
  async delete(objectKey: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      this.markUp();
    } catch (e) {
      if (httpStatusOf(e) === 404) return;
      throw this.translate(e, 'deleting a file');
    }
  }

  /** Deletes every object under the prefix (and aborts unfinished multipart uploads there, where the server supports it). */
  async deletePrefix(prefix: string): Promise<void> {
    if (prefix.length === 0) throw new Error('deletePrefix: refusing to delete a whole bucket');
    try {
      let token: string | undefined;
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
        if (keys.length > 0) {
          const out = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }));
          const failed = (out.Errors ?? []).filter((x) => x.Code !== 'NoSuchKey');
          if (failed.length > 0) throw new Error(`could not delete ${failed.length} object(s) under ${prefix}: ${failed[0]?.Code ?? '?'}`);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      await this.abortUploads(prefix);
      this.markUp();
    } catch (e) {
      throw this.translate(e, 'deleting files');
    }
  }

  /**
   * Streams `body` to `key` (multipart beyond one part), computing size and SHA-256 on the way.
   * More than `maxBytes`: stops reading, aborts the multipart upload (nothing is stored) and returns
   * `file.too_large`. A failing body (client gone): `request.invalid`. S3 unreachable or failing:
   * throws `OtaoError('dependency.unavailable')`. An existing object at `key` is replaced only when
   * the upload succeeds. `body` is pulled chunk by chunk, with back-pressure; on failure the store
   * stops pulling but never ends or destroys it (it never calls the iterator's `return()`).
   */
  async upload(input: FileUpload): Promise<Result<StoredFile, FileUploadFailure>> {
    const meter = new Meter(input.maxBytes);
    meter.on('error', () => undefined); // surfaced through the upload's promise
    const pump = { stopped: false, bodyError: undefined as unknown };
    void pumpInto(input.body, meter, pump);
    const partSize = Math.max(this.partSize, Math.ceil(input.maxBytes / MAX_PARTS));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: input.key, Body: meter, ContentType: input.contentType },
      partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
      this.markUp();
      return ok({ key: input.key, size: meter.bytes, sha256: meter.digest() });
    } catch (e) {
      if (meter.exceeded && e instanceof FileTooLarge) {
        return err(failure('file.too_large', `the file is larger than the limit of ${input.maxBytes} bytes (OTAO_S3_MAX_FILE_BYTES)`, 'file'));
      }
      if (pump.bodyError !== undefined && (e === pump.bodyError || !isS3Failure(e))) {
        return err(failure('request.invalid', 'the upload was interrupted before the file was complete', 'file'));
      }
      throw this.translate(e, 'uploading a file');
    } finally {
      pump.stopped = true;
      if (!meter.destroyed) meter.destroy();
    }
  }

  /** Closes the connections of a client this store created. */
  stop(): void {
    if (this.ownsClient) this.client.destroy();
  }

  private async abortUploads(prefix: string): Promise<void> {
    let uploads;
    try {
      uploads = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix }));
    } catch (e) {
      const status = httpStatusOf(e);
      if (status === 501 || status === 405 || nameOf(e) === 'NotImplemented') return; // not supported by this server
      throw e;
    }
    for (const u of uploads.Uploads ?? []) {
      if (u.Key === undefined || u.UploadId === undefined) continue;
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }));
    }
  }

  private async headBucket(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: AbortSignal.timeout(this.checkTimeoutMs) });
      this.markUp();
      return true;
    } catch (e) {
      this.markDown(this.bucketProblem(e) ?? `unreachable (${describe(e)})`);
      return false;
    }
  }

  /** A configuration problem a HeadBucket answer shows (missing bucket, access denied), else undefined. */
  private bucketProblem(e: unknown): string | undefined {
    const status = httpStatusOf(e);
    const where = this.config.endpoint !== undefined ? withoutCredentials(this.config.endpoint) : `AWS region ${this.config.region ?? 'us-east-1'}`;
    if (status === 404 || nameOf(e) === 'NotFound' || nameOf(e) === 'NoSuchBucket') {
      return `bucket ${JSON.stringify(this.bucket)} does not exist at ${where} (OTAO_S3_BUCKET); create it or fix the configuration`;
    }
    if (status === 403 || status === 401)
      return `bucket ${JSON.stringify(this.bucket)} at ${where}: access denied; check the credentials and the bucket policy`;
    return undefined;
  }

  private markUp(): void {
    this.state = { up: true, checkedAt: Date.now() };
  }

  private markDown(problem: string): void {
    this.state = { up: false, problem, checkedAt: Date.now() };
  }

  /** The one place where S3 and network errors become OTAO errors; S3 is then believed down until a request or check succeeds. */
  translate(e: unknown, doing: string): OtaoError {
    if (e instanceof OtaoError) return e;
    const detail = describe(e);
    this.markDown(`unavailable while ${doing} (${detail})`);
    return new OtaoError('dependency.unavailable', `S3 unavailable while ${doing} (${detail})`, { cause: e });
  }
}

/**
 * Pulls `body` into `meter` chunk by chunk, waiting for `drain` (back-pressure), until the body ends
 * (then ends the meter) or fails (then destroys the meter with its error). Stops pulling as soon as
 * the meter is closed or the upload is over; never calls the iterator's `return()`: the caller owns
 * the body (an HTTP request still to be answered).
 */
async function pumpInto(body: AsyncIterable<Uint8Array>, meter: Meter, state: { stopped: boolean; bodyError: unknown }): Promise<void> {
  const over = (): boolean => state.stopped || meter.destroyed || meter.writableEnded;
  const it = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (over()) return;
      const next = await it.next();
      if (over()) return;
      if (next.done) {
        meter.end();
        return;
      }
      if (!meter.write(next.value)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            meter.off('drain', done);
            meter.off('close', done);
            resolve();
          };
          meter.on('drain', done);
          meter.on('close', done);
        });
      }
    }
  } catch (e) {
    state.bodyError = e;
    if (!meter.destroyed) meter.destroy(e instanceof Error ? e : new Error(String(e)));
  }
}

/** An endpoint as it may be shown (messages, `/ready`): user and password of the URL removed. */
export function withoutCredentials(endpoint: string): string {
  return endpoint.replace(/\/\/[^/@\s]*@/, '//***@');
}

function describe(e: unknown): string {
  const status = httpStatusOf(e);
  return status !== undefined ? `S3 answered ${status} ${nameOf(e) ?? ''}`.trim() : `${nameOf(e) ?? 'error'}${codeOf(e) ? ` ${codeOf(e)}` : ''}`;
}

function s3ClientConfig(c: S3FilesConfig): S3ClientConfig {
  return {
    region: c.region ?? 'us-east-1',
    ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}),
    forcePathStyle: c.forcePathStyle ?? false,
    ...(c.credentials ? { credentials: { ...c.credentials } } : {}),
    maxAttempts: c.maxAttempts ?? 3,
    // Checksums only where S3 requires them: we hash the whole file ourselves, and many
    // S3-compatible servers do not understand the SDK's streaming checksum trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: c.connectionTimeoutMs ?? 3000, requestTimeout: c.requestTimeoutMs ?? 30_000 },
  };
}

function httpStatusOf(e: unknown): number | undefined {
  const s = (e as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

function nameOf(e: unknown): string | undefined {
  const n = (e as { name?: unknown } | undefined)?.name;
  return typeof n === 'string' ? n : undefined;
}

function codeOf(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | undefined)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** An error that came from S3 or the network (as opposed to the body being read). */
function isS3Failure(e: unknown): boolean {
  return (
    httpStatusOf(e) !== undefined ||
    (e as { $fault?: unknown } | undefined)?.$fault !== undefined ||
    /^E[A-Z]+$/.test(codeOf(e) ?? '') ||
    nameOf(e) === 'TimeoutError'
  );
}
