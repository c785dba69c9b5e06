import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { basename } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Ctx } from './context';
import { CliError, EXIT, usageError } from './errors';
import type { Schemas } from './client';
import { bytes } from './output';

const CHUNK = 256 * 1024;

export interface UploadResult {
  readonly file: Schemas['FileInfo'];
  /** 201: a new file; 200: it replaced the previous one. */
  readonly replaced: boolean;
  readonly localSha256: string;
}

/**
 * Streams the file to `PUT …/file` (raw body, chunked), hashing it on the way: memory stays at a
 * few chunks whatever the file's size. A progress bar on stderr when it is a terminal. Fails
 * (exit 3) when the server's SHA-256 or size differs from what was sent.
 */
export async function uploadFile(ctx: Ctx, appName: string, version: string, path: string, name: string | undefined, progress: boolean): Promise<UploadResult> {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw usageError(`${path} is not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw usageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const fileName = name ?? basename(path);
  const hash = createHash('sha256');
  let sent = 0;
  const bar =
    progress && ctx.io.stderrTty
      ? new SingleBar({
          format: `upload ${fileName} [{bar}] {percentage}% {sentH}/{sizeH} {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
        })
      : undefined;
  bar?.start(size, 0, { sentH: bytes(0), sizeH: bytes(size) });
  const source = createReadStream(path, { highWaterMark: CHUNK });
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      sent += chunk.length;
      bar?.update(sent, { sentH: bytes(sent) });
      done(null, chunk);
    },
  });
  source.on('error', (e) => counter.destroy(e));
  source.pipe(counter);
  ctx.log(`upload ${path} (${size} bytes) as ${fileName}`);
  try {
    const { data, response } = await ctx.api.call(
      ctx.api.client.PUT('/applications/{appName}/software/{version}/file', {
        params: { path: { appName, version }, query: { name: fileName } },
        // openapi-fetch builds the request (path, query, headers); the file goes through uploadFetch.
        headers: { 'content-type': 'application/octet-stream' },
        fetch: ctx.api.uploadFetch(counter),
      } as never),
    );
    const file = data as Schemas['FileInfo'];
    const localSha256 = hash.digest('hex');
    bar?.stop();
    if (file.sha256 !== localSha256 || file.size !== sent) {
      throw new CliError(
        `the server stored sha256 ${file.sha256} (${file.size} bytes) but ${localSha256} (${sent} bytes) was sent: upload again`,
        EXIT.unavailable,
        'file.checksum_mismatch',
      );
    }
    return { file, replaced: response.status === 200, localSha256 };
  } finally {
    bar?.stop();
    source.destroy();
  }
}
