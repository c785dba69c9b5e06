import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, ServiceProcess, tempDir } from './process';

/**
 * The S3 server of the tests: Versity S3 Gateway (versitygw) with its POSIX backend. Chosen over
 * s3rver because it is strict where OTAO's behaviour depends on it: it verifies SigV4 signatures
 * (headers and presigned URLs, including their expiry), and implements AbortMultipartUpload and
 * ListMultipartUploads, so a test can prove that a refused upload leaves nothing behind.
 * Built once per machine from the Go module proxy (`go install`, about 1.5 minutes) into
 * `${OTAO_CACHE_DIR:-~/.cache/otao}/bin`, like nats-server and FerretDB.
 */
export const VERSITYGW_VERSION = 'v1.8.0';

export interface S3Server {
  /** `http://127.0.0.1:<port>`: use path-style addressing. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The backend's root: one directory per bucket. */
  readonly dataDir: string;
  readonly process: ServiceProcess;
  /** Creates a bucket (idempotent); works while the server is stopped too. */
  createBucket(name: string): void;
  stop(): Promise<void>;
}

export interface S3Options {
  readonly port?: number;
  /** Existing data to serve (e.g. after a restart in another process). */
  readonly dataDir?: string;
  /** Buckets created before the server starts. */
  readonly buckets?: readonly string[];
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
}

const run = promisify(execFile);

function cacheBinDir(): string {
  const cache = process.env['OTAO_CACHE_DIR'] ?? join(process.env['HOME'] ?? tmpdir(), '.cache', 'otao');
  const bin = join(cache, 'bin');
  mkdirSync(bin, { recursive: true });
  return bin;
}

/** The versitygw binary; builds it (go install) the first time. Concurrent callers each build and the last rename wins. */
export async function versitygwBinary(): Promise<string> {
  const target = join(cacheBinDir(), `versitygw-${VERSITYGW_VERSION}`);
  if (existsSync(target)) return target;
  const gobin = mkdtempSync(join(tmpdir(), 'otao-versitygw-build-'));
  try {
    await run('go', ['install', `github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}`], {
      env: { ...process.env, GOBIN: gobin },
      maxBuffer: 16 * 1024 * 1024,
    });
    renameSync(join(gobin, 'versitygw'), target);
  } catch (e) {
    throw new Error(`could not build versitygw ${VERSITYGW_VERSION} with go install (Go is needed): ${(e as Error).message}`, { cause: e });
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
  return target;
}

/**
 * Starts an S3 server on a free 127.0.0.1 port (or the given one) with its data in a temporary
 * folder. `process` can stop, kill and restart it on the same port; the data survive.
 */
export async function startS3(options: S3Options = {}): Promise<S3Server> {
  const binary = await versitygwBinary();
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? tempDir('s3');
  const root = join(dataDir, 'buckets');
  mkdirSync(root, { recursive: true });
  const accessKeyId = options.accessKeyId ?? 'otao-test-access';
  const secretAccessKey = options.secretAccessKey ?? 'otao-test-secret-0123456789';
  const createBucket = (name: string): void => {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) throw new Error(`invalid bucket name ${JSON.stringify(name)}`);
    mkdirSync(join(root, name), { recursive: true });
  };
  for (const b of options.buckets ?? []) createBucket(b);
  const args = ['--port', `127.0.0.1:${port}`, '--access', accessKeyId, '--secret', secretAccessKey, '--region', 'us-east-1', '--quiet', 'posix', root];
  const proc = new ServiceProcess('versitygw', binary, args, port, join(dataDir, 'versitygw.log'));
  await proc.start();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    region: 'us-east-1',
    accessKeyId,
    secretAccessKey,
    dataDir,
    process: proc,
    createBucket,
    stop: () => proc.stop(),
  };
}
