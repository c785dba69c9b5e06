// The FileStore contract of @otao/contract-tests, against S3FileStore on a real S3 server
// (versitygw): the same suite the core's InMemoryFileStore passes.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { fileStoreContract } from '@otao/contract-tests';
import { S3FileStore } from '../src';
import { BUCKET, startS3Env, type S3Env } from './s3-env';

jest.setTimeout(120_000);

let env: S3Env;
beforeAll(async () => {
  env = await startS3Env();
}, 300_000);
afterAll(async () => {
  await env?.close();
});

fileStoreContract(
  'S3FileStore on versitygw',
  {
    create: async () => {
      const store = new S3FileStore({ ...env.config, recheckIntervalMs: 200, checkTimeoutMs: 1000 });
      return {
        store,
        download: async (url) => {
          const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
          if (res.status === 404) return undefined;
          if (res.status !== 200) throw new Error(`GET of a presigned link: ${res.status} ${await res.text()}`);
          return { bytes: new Uint8Array(await res.arrayBuffer()), contentType: res.headers.get('content-type') ?? '' };
        },
        keys: async (prefix) => {
          const keys: string[] = [];
          let token: string | undefined;
          do {
            const page = await env.admin.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
            for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
            token = page.IsTruncated ? page.NextContinuationToken : undefined;
          } while (token);
          return keys.sort();
        },
        outage: {
          begin: () => env.s3.process.kill(),
          end: () => env.s3.process.start(),
        },
      };
    },
    dispose: async (s) => {
      (s.store as S3FileStore).stop();
    },
  },
  { largeBytes: 12 * 1024 * 1024 },
);
