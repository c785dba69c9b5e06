import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { isOtaoError } from '@otao/core';
import { S3FileStore } from '../src';
import { BUCKET, generatedBody, sha256, startS3Env, type S3Env } from './s3-env';

const MIB = 1024 * 1024;
jest.setTimeout(120_000);

/** Samples the resident set size while `work` runs; returns the peak growth over the level before. */
async function rssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growthMiB: number }> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growthMiB: (peak - base) / MIB };
  } finally {
    clearInterval(timer);
  }
}

describe('S3FileStore against a real S3 server (versitygw)', () => {
  let env: S3Env;
  beforeAll(async () => {
    env = await startS3Env();
  }, 300_000);
  afterAll(async () => {
    await env.close();
  });

  test('verifyBucket passes on the bucket, names a missing bucket, and refuses wrong credentials', async () => {
    await expect(env.store.verifyBucket()).resolves.toBeUndefined();
    const missing = new S3FileStore({ ...env.config, bucket: 'no-such-bucket' });
    await expect(missing.verifyBucket()).rejects.toThrow(/S3 bucket "no-such-bucket" does not exist at http:\/\/127\.0\.0\.1:\d+/);
    const wrong = new S3FileStore({ ...env.config, credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: 'wrong-secret' } });
    await expect(wrong.verifyBucket()).rejects.toThrow(/access denied/);
    missing.stop();
    wrong.stop();
  });

  test('a small upload stores the bytes with their size, SHA-256 and content type', async () => {
    const bytes = Buffer.from('hello firmware\n');
    const r = await env.store.upload({ key: 't/app/1.0.0/fw.bin', body: Readable.from([bytes]), contentType: 'application/x-firmware', maxBytes: 1024 });
    expect(r).toEqual({ ok: true, value: { key: 't/app/1.0.0/fw.bin', size: bytes.length, sha256: sha256(bytes) } });
    expect(await env.read('t/app/1.0.0/fw.bin')).toEqual(bytes);
    const url = await env.store.presignGet('t/app/1.0.0/fw.bin', 60);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-firmware');
  });

  test('an empty file is a file of 0 bytes', async () => {
    const r = await env.store.upload({ key: 't/app/0.0.1/empty', body: Readable.from([]), contentType: 'application/octet-stream', maxBytes: 10 });
    expect(r).toEqual({ ok: true, value: { key: 't/app/0.0.1/empty', size: 0, sha256: sha256(Buffer.alloc(0)) } });
    expect((await env.read('t/app/0.0.1/empty')).length).toBe(0);
  });

  test('a large upload goes multipart, is hashed on the way, and a presigned link downloads exactly those bytes', async () => {
    const gen = generatedBody(21 * MIB + 12345);
    const r = await env.store.upload({ key: 't/app/2.0.0/big.bin', body: gen.body, contentType: 'application/octet-stream', maxBytes: 100 * MIB });
    const expected = gen.sha256();
    expect(r.ok && r.value).toEqual({ key: 't/app/2.0.0/big.bin', size: 21 * MIB + 12345, sha256: expected });
    const res = await fetch(await env.store.presignGet('t/app/2.0.0/big.bin', 300));
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(expected);
    expect(await env.pendingUploads('t/app/2.0.0/')).toBe(0);
  });

  test('a streamed 256 MiB upload is not held in memory', async () => {
    const gen = generatedBody(256 * MIB);
    const { result, growthMiB } = await rssGrowth(() =>
      env.store.upload({ key: 't/app/3.0.0/huge.bin', body: gen.body, contentType: 'application/octet-stream', maxBytes: 1024 * MIB }),
    );
    expect(result.ok && result.value.size).toBe(256 * MIB);
    console.log(`256 MiB upload: resident memory grew by at most ${growthMiB.toFixed(1)} MiB`);
    expect(growthMiB).toBeLessThan(128);
    await env.store.delete('t/app/3.0.0/huge.bin');
  });

  test('more than maxBytes: reading stops, the multipart upload is aborted, nothing is stored, memory stays bounded', async () => {
    const gen = generatedBody(300 * MIB);
    const { result, growthMiB } = await rssGrowth(() =>
      env.store.upload({ key: 't/app/4.0.0/too-big.bin', body: gen.body, contentType: 'application/octet-stream', maxBytes: 40 * MIB }),
    );
    expect(result).toEqual({ ok: false, error: { code: 'file.too_large', message: expect.stringContaining('40') as string, field: 'file' } });
    console.log(`300 MiB body over a 40 MiB limit: read ${(gen.produced() / MIB).toFixed(0)} MiB, resident memory grew by at most ${growthMiB.toFixed(1)} MiB`);
    expect(gen.produced()).toBeLessThan(80 * MIB); // cut off near the limit, not read to its end
    expect(gen.body.destroyed).toBe(false); // the caller's stream is left to the caller (the route answers 413 on it)
    expect(growthMiB).toBeLessThan(128);
    expect(await env.exists('t/app/4.0.0/too-big.bin')).toBe(false);
    expect(await env.pendingUploads()).toBe(0);
  });

  test('a refused upload leaves an existing object at the same key untouched', async () => {
    await env.store.upload({ key: 't/app/5.0.0/fw.bin', body: Readable.from([Buffer.from('v1')]), contentType: 'text/plain', maxBytes: 100 });
    const small = await env.store.upload({ key: 't/app/5.0.0/fw.bin', body: Readable.from([Buffer.alloc(101)]), contentType: 'text/plain', maxBytes: 100 });
    expect(small.ok).toBe(false);
    const big = await env.store.upload({ key: 't/app/5.0.0/fw.bin', body: generatedBody(30 * MIB).body, contentType: 'text/plain', maxBytes: 20 * MIB });
    expect(big.ok).toBe(false);
    expect((await env.read('t/app/5.0.0/fw.bin')).toString()).toBe('v1');
  });

  test('a body failing midway (client gone) is request.invalid and nothing is stored', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(6 * MIB);
      yield Buffer.alloc(6 * MIB);
      throw new Error('socket hang up');
    }
    const r = await env.store.upload({
      key: 't/app/6.0.0/cut.bin',
      body: Readable.from(failing()),
      contentType: 'application/octet-stream',
      maxBytes: 100 * MIB,
    });
    expect(r.ok ? 'ok' : r.error.code).toBe('request.invalid');
    expect(await env.exists('t/app/6.0.0/cut.bin')).toBe(false);
    expect(await env.pendingUploads()).toBe(0);
  });

  test('an expired presigned link is refused; a tampered one too', async () => {
    await env.admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 't/app/7.0.0/fw.bin', Body: 'x' }));
    const url = await env.store.presignGet('t/app/7.0.0/fw.bin', 1);
    const tampered = url.replace(/(X-Amz-Signature=)([0-9a-f])/, (_m, p: string, c: string) => `${p}${c === '0' ? '1' : '0'}`);
    expect((await fetch(tampered)).status).toBe(403);
    await new Promise((r) => setTimeout(r, 2500));
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/expired/i);
  });

  test('delete is idempotent; deletePrefix removes objects and unfinished uploads under the prefix only', async () => {
    for (const k of ['t/app/8.0.0/a', 't/app/8.0.0/b', 't/app/8.0.1/c']) await env.admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: k }));
    await env.admin.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 't/app/8.0.0/partial' }));
    expect(await env.pendingUploads('t/app/8.0.0/')).toBe(1);
    await env.store.delete('t/app/8.0.0/a');
    await env.store.delete('t/app/8.0.0/a');
    await env.store.delete('t/app/8.0.0/never-was');
    expect(await env.exists('t/app/8.0.0/a')).toBe(false);
    await env.store.deletePrefix('t/app/8.0.0/');
    expect(await env.exists('t/app/8.0.0/b')).toBe(false);
    expect(await env.exists('t/app/8.0.1/c')).toBe(true);
    expect(await env.pendingUploads('t/app/8.0.0/')).toBe(0);
    await env.store.deletePrefix('t/app/8.0.0/');
  });

  test('S3 down: dependency.unavailable from every call that needs it; recovery after a restart on the same port', async () => {
    await env.s3.process.kill();
    const upload = env.store.upload({ key: 't/app/9.0.0/fw.bin', body: Readable.from([Buffer.from('abc')]), contentType: 'text/plain', maxBytes: 100 });
    await expect(upload).rejects.toMatchObject({ name: 'OtaoError', code: 'dependency.unavailable' });
    const del = await env.store.delete('t/app/9.0.0/fw.bin').catch((e: unknown) => e);
    expect(isOtaoError(del) && del.code).toBe('dependency.unavailable');
    await expect(env.store.deletePrefix('t/app/9.0.0/')).rejects.toMatchObject({ code: 'dependency.unavailable' });
    await expect(env.store.verifyBucket()).rejects.toMatchObject({ code: 'dependency.unavailable' });
    expect(env.store.available()).toBe(false);
    expect(await env.store.check()).toBe(false);
    expect(env.store.health).toMatchObject({ up: false, problem: expect.stringMatching(/^unreachable/) as string });
    // Signing needs no round trip: a link is still made (the core hands none out while available() is false).
    const url = await env.store.presignGet('t/app/9.0.0/fw.bin', 60);
    await env.s3.process.start();
    expect(await env.store.check()).toBe(true);
    expect(env.store.available()).toBe(true);
    const r = await env.store.upload({ key: 't/app/9.0.0/fw.bin', body: Readable.from([Buffer.from('abc')]), contentType: 'text/plain', maxBytes: 100 });
    expect(r.ok).toBe(true);
    expect(await (await fetch(url)).text()).toBe('abc');
  });

  test('a store that saw S3 down checks again by itself when asked, and comes back without any request', async () => {
    const store = new S3FileStore({ ...env.config, recheckIntervalMs: 100 });
    await env.s3.process.kill();
    try {
      await expect(store.verifyBucket()).rejects.toMatchObject({ code: 'dependency.unavailable' });
      expect(store.available()).toBe(false);
    } finally {
      await env.s3.process.start();
    }
    const until = Date.now() + 10_000;
    while (!store.available() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(store.available()).toBe(true);
    expect(store.health.up).toBe(true);
    store.stop();
  });

  test('an S3 that dies unnoticed (no failed request) is seen by available() by itself, within its re-check interval', async () => {
    const store = new S3FileStore({ ...env.config, healthyRecheckMs: 100, checkTimeoutMs: 1000 });
    await store.verifyBucket();
    expect(store.available()).toBe(true);
    await env.s3.process.kill();
    try {
      const until = Date.now() + 10_000;
      while (store.available() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(store.available()).toBe(false);
    } finally {
      await env.s3.process.start();
    }
    store.stop();
  });

  test('an endpoint with credentials in its URL is never shown with them (errors, health, /ready)', async () => {
    const endpoint = env.s3.endpoint.replace('http://', 'http://AKIDEXAMPLE:wJalrXUtnFEMI@');
    const store = new S3FileStore({ ...env.config, endpoint, bucket: 'no-such-bucket' });
    const e = await store.verifyBucket().catch((x: unknown) => x as Error);
    expect(String(e)).not.toMatch(/wJalrXUtnFEMI|AKIDEXAMPLE/);
    expect(await store.check()).toBe(false);
    expect(JSON.stringify(store.health)).not.toMatch(/wJalrXUtnFEMI|AKIDEXAMPLE/);
    store.stop();
  });

  test('check() names a missing bucket and never throws; checks within maxAgeMs are not repeated', async () => {
    const missing = new S3FileStore({ ...env.config, bucket: 'no-such-bucket' });
    expect(await missing.check()).toBe(false);
    expect(missing.health.problem).toMatch(/bucket "no-such-bucket" does not exist/);
    expect(await env.store.check()).toBe(true);
    const at = env.store.health.checkedAt;
    expect(await env.store.check(60_000)).toBe(true);
    expect(env.store.health.checkedAt).toBe(at);
    missing.stop();
  });
});
