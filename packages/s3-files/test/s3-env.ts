import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3, type S3Server } from '@otao/test-services';
import { S3FileStore, type S3FilesConfig } from '../src';

export const BUCKET = 'otao-files';

export interface S3Env {
  readonly s3: S3Server;
  readonly config: S3FilesConfig;
  readonly store: S3FileStore;
  /** A client of its own, for looking at the bucket behind the store's back. */
  readonly admin: S3Client;
  exists(key: string): Promise<boolean>;
  read(key: string): Promise<Buffer>;
  pendingUploads(prefix?: string): Promise<number>;
  close(): Promise<void>;
}

export async function startS3Env(): Promise<S3Env> {
  const s3 = await startS3({ buckets: [BUCKET] });
  const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  const config: S3FilesConfig = {
    bucket: BUCKET,
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials,
    maxAttempts: 2,
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 10_000,
  };
  const store = new S3FileStore(config);
  const admin = new S3Client({ region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
  return {
    s3,
    config,
    store,
    admin,
    exists: async (key) => {
      try {
        await admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
        return true;
      } catch (e) {
        if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
        throw e;
      }
    },
    read: async (key) => {
      const out = await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    },
    pendingUploads: async (prefix) => {
      const out = await admin.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, ...(prefix ? { Prefix: prefix } : {}) }));
      return (out.Uploads ?? []).length;
    },
    close: async () => {
      store.stop();
      admin.destroy();
      await s3.process.kill();
    },
  };
}

/**
 * A deterministic generated body of `total` bytes, produced lazily in `chunk`-sized pieces (never
 * held whole). `produced` tells how much was actually read.
 */
export function generatedBody(total: number, chunk = 1024 * 1024): { body: Readable; produced: () => number; sha256: () => string } {
  let produced = 0;
  const hash = createHash('sha256');
  const body = new Readable({
    read() {
      if (produced >= total) {
        this.push(null);
        return;
      }
      const n = Math.min(chunk, total - produced);
      const buf = Buffer.alloc(n);
      for (let i = 0; i < n; i += 4096) buf.writeUInt32BE((produced + i) >>> 0, i);
      produced += n;
      hash.update(buf);
      this.push(buf);
    },
  });
  return { body, produced: () => produced, sha256: () => hash.digest('hex') };
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
