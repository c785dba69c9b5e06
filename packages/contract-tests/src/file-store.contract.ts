import { type FileStore, isOtaoError } from '@otao/core';
import { unique } from './shapes';
import { type SubjectFactory, suiteTest, type SuiteOptions } from './subject';

/** A FileStore under test, with what the suite needs to look behind its back. */
export interface FileStoreSubject {
  readonly store: FileStore;
  /** Follows a link made by `presignGet`: the object's bytes and content type, or undefined when the link finds nothing (404). */
  download(url: string): Promise<{ readonly bytes: Uint8Array; readonly contentType: string } | undefined>;
  /** The keys stored under `prefix`, sorted, read without the store. */
  keys(prefix: string): Promise<string[]>;
  /**
   * Makes the backend unreachable, and reachable again (e.g. stops and restarts the S3 server). A
   * subject without it skips the outage test visibly.
   */
  readonly outage?: { begin(): Promise<void>; end(): Promise<void> };
}

export interface FileStoreSuiteOptions extends SuiteOptions {
  /** Size of the large upload (an S3 store goes multipart beyond its part size); default 12 MiB. */
  readonly largeBytes?: number;
  /** How long the store may take to see by itself that the backend is back; default 15 000 ms. */
  readonly recoveryMs?: number;
}

/** The suites are compiled without Node or DOM types; the timer is the runtime's. */
const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => (globalThis as unknown as { setTimeout(f: () => void, ms: number): unknown }).setTimeout(resolve, ms));
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array): string => String.fromCharCode(...b);

/** A body of the given chunks, counting pulls and noting whether `return()` was called. */
function chunks(parts: readonly Uint8Array[]): AsyncIterable<Uint8Array> & { readonly pulled: number; readonly returned: boolean } {
  const state = { pulled: 0, returned: false };
  return {
    get pulled() {
      return state.pulled;
    },
    get returned() {
      return state.returned;
    },
    [Symbol.asyncIterator]: () => {
      let i = 0;
      return {
        next: async () => {
          state.pulled++;
          const v = parts[i++];
          return v === undefined ? { done: true as const, value: undefined } : { done: false as const, value: v };
        },
        return: async () => {
          state.returned = true;
          return { done: true as const, value: undefined };
        },
      };
    },
  };
}

/** An endless body of `size`-byte chunks. */
function endless(size: number): AsyncIterable<Uint8Array> & { readonly pulled: number; readonly returned: boolean } {
  const state = { pulled: 0, returned: false };
  const chunk = new Uint8Array(size).fill(7);
  return {
    get pulled() {
      return state.pulled;
    },
    get returned() {
      return state.returned;
    },
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        state.pulled++;
        return { done: false as const, value: chunk };
      },
      return: async () => {
        state.returned = true;
        return { done: true as const, value: undefined };
      },
    }),
  };
}

/** Deterministic bytes: byte i is (i * 31 + i >> 8) mod 256. */
function pattern(size: number, from = 0): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = ((from + i) * 31 + ((from + i) >> 8)) & 0xff;
  return b;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// FIPS 180-2 test vectors.
const SHA_EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SHA_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const SHA_448 = '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1';
const SHA_MILLION_A = 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0';

/**
 * The contract of FileStore (software files, spec §5): streamed uploads that store exactly the bytes
 * they hash, limits that stop reading at once and store nothing, links that download the object,
 * idempotent deletes, a prefix delete that stays inside its prefix, and `dependency.unavailable`
 * with `available()` false while the backend is down, true again by itself once it is back.
 */
export function fileStoreContract(name: string, factory: SubjectFactory<FileStoreSubject>, options?: FileStoreSuiteOptions): void {
  describe(`FileStore contract: ${name}`, () => {
    let s: FileStoreSubject;
    let p: string;
    const it = suiteTest(options);
    const upload = (key: string, parts: readonly Uint8Array[] | AsyncIterable<Uint8Array>, maxBytes = 1 << 20, contentType = 'application/octet-stream') =>
      s.store.upload({ key, body: Symbol.asyncIterator in parts ? parts : chunks(parts), contentType, maxBytes });
    const fetchLink = async (key: string) => s.download(await s.store.presignGet(key, 600));

    beforeEach(async () => {
      s = await factory.create();
      p = unique('files');
    });
    afterEach(async () => {
      await factory.dispose?.(s);
    });

    it('an upload stores exactly its bytes and returns their size and SHA-256; the link serves them with the content type', async () => {
      const r = await upload(`${p}/1.0.0/u1/fw.bin`, [ascii('ab'), ascii('c')], 1024, 'application/x-firmware');
      expect(r).toEqual({ ok: true, value: expect.objectContaining({ size: 3, sha256: SHA_ABC }) as unknown });
      const got = await fetchLink(`${p}/1.0.0/u1/fw.bin`);
      expect(got && text(got.bytes)).toBe('abc');
      expect(got?.contentType).toBe('application/x-firmware');
    });

    it('the hash is SHA-256 of the whole stream, whatever the chunking', async () => {
      const msg = ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq');
      const split = [msg.subarray(0, 1), msg.subarray(1, 55), msg.subarray(55)];
      const r1 = await upload(`${p}/a`, split);
      expect(r1.ok && r1.value.sha256).toBe(SHA_448);
      const million = Array.from({ length: 1000 }, () => new Uint8Array(1000).fill(0x61));
      const r2 = await upload(`${p}/b`, million, 2_000_000);
      expect(r2.ok && r2.value).toMatchObject({ size: 1_000_000, sha256: SHA_MILLION_A });
    });

    it('an empty body is an object of 0 bytes', async () => {
      const r = await upload(`${p}/empty`, []);
      expect(r.ok && r.value).toMatchObject({ size: 0, sha256: SHA_EMPTY });
      const got = await fetchLink(`${p}/empty`);
      expect(got?.bytes.length).toBe(0);
    });

    it('a large body is streamed and stored whole', async () => {
      const total = options?.largeBytes ?? 12 * 1024 * 1024;
      const step = 256 * 1024;
      const parts: Uint8Array[] = [];
      for (let at = 0; at < total; at += step) parts.push(pattern(Math.min(step, total - at), at));
      const r = await upload(`${p}/large.bin`, parts, total);
      const one = await upload(`${p}/large-one-chunk.bin`, [pattern(total)], total);
      expect(r.ok && r.value.size).toBe(total);
      expect(r.ok && one.ok && r.value.sha256 === one.value.sha256).toBe(true);
      const got = await fetchLink(`${p}/large.bin`);
      expect(got !== undefined && sameBytes(got.bytes, pattern(total))).toBe(true);
    });

    it('exactly maxBytes is stored; one byte more is file.too_large and stores nothing', async () => {
      const ok = await upload(`${p}/exact`, [ascii('12345'), ascii('67890')], 10);
      expect(ok.ok && ok.value.size).toBe(10);
      const over = await upload(`${p}/over`, [ascii('12345'), ascii('678901')], 10);
      expect(over.ok ? 'ok' : over.error.code).toBe('file.too_large');
      expect(await s.keys(`${p}/`)).toEqual([`${p}/exact`]);
    });

    it('past maxBytes the store stops pulling at once, and leaves the body to its owner (no return())', async () => {
      const body = endless(1024);
      const r = await s.store.upload({ key: `${p}/endless`, body, contentType: 'application/octet-stream', maxBytes: 10 * 1024 });
      expect(r.ok ? 'ok' : r.error.code).toBe('file.too_large');
      expect(body.pulled).toBeLessThanOrEqual(12);
      const pulled = body.pulled;
      await sleep(50);
      expect(body.pulled).toBe(pulled);
      expect(body.returned).toBe(false);
      expect(await s.keys(`${p}/`)).toEqual([]);
    });

    it('a body failing midway is request.invalid and stores nothing', async () => {
      const failing: AsyncIterable<Uint8Array> = {
        [Symbol.asyncIterator]: () => {
          let n = 0;
          return {
            next: async () => {
              if (n++ < 2) return { done: false as const, value: pattern(64 * 1024) };
              throw new Error('socket hang up');
            },
          };
        },
      };
      const r = await upload(`${p}/cut`, failing);
      expect(r.ok ? 'ok' : r.error.code).toBe('request.invalid');
      expect(await s.keys(`${p}/`)).toEqual([]);
    });

    it('a refused upload leaves the object already at its key untouched; a successful one replaces it', async () => {
      await upload(`${p}/k`, [ascii('v1')], 100);
      expect((await upload(`${p}/k`, [new Uint8Array(101)], 100)).ok).toBe(false);
      expect(text((await fetchLink(`${p}/k`))!.bytes)).toBe('v1');
      expect((await upload(`${p}/k`, [ascii('v2')], 100)).ok).toBe(true);
      expect(text((await fetchLink(`${p}/k`))!.bytes)).toBe('v2');
    });

    it('a link to a key without an object finds nothing', async () => {
      expect(await fetchLink(`${p}/never-was`)).toBeUndefined();
    });

    it('delete removes one object, is idempotent, and leaves the others', async () => {
      await upload(`${p}/a`, [ascii('a')]);
      await upload(`${p}/b`, [ascii('b')]);
      await s.store.delete(`${p}/a`);
      await s.store.delete(`${p}/a`);
      await s.store.delete(`${p}/never-was`);
      expect(await s.keys(`${p}/`)).toEqual([`${p}/b`]);
      expect(await fetchLink(`${p}/a`)).toBeUndefined();
    });

    it('deletePrefix removes everything under the prefix and nothing outside it; idempotent; an empty prefix is refused', async () => {
      for (const k of ['1.0.0/a', '1.0.0/x1-u/b', '1.0.01/c', '1.0.0-rc/d', '1.0.0.bin']) await upload(`${p}/${k}`, [ascii(k)]);
      await s.store.deletePrefix(`${p}/1.0.0/`);
      expect(await s.keys(`${p}/`)).toEqual([`${p}/1.0.0-rc/d`, `${p}/1.0.0.bin`, `${p}/1.0.01/c`]);
      await s.store.deletePrefix(`${p}/1.0.0/`);
      await s.store.deletePrefix(`${p}/nothing-here/`);
      const refused = await s.store.deletePrefix('').then(
        () => 'deleted',
        (e: unknown) => (isOtaoError(e) ? `OtaoError ${e.code}` : 'Error'),
      );
      expect(refused).toBe('Error');
      expect(await s.keys(`${p}/`)).toHaveLength(3);
    });

    it('available() is true while the backend answers', async () => {
      await upload(`${p}/a`, [ascii('a')]);
      expect(s.store.available()).toBe(true);
    });

    it('backend down: uploads and deletes throw dependency.unavailable and available() turns false; back: true again by itself', async () => {
      if (!s.outage) throw new Error('this subject has no outage control: skip this test with a reason');
      await upload(`${p}/kept`, [ascii('kept')]);
      await s.outage.begin();
      try {
        const e1 = await upload(`${p}/new`, [ascii('new')]).catch((e: unknown) => e);
        expect(isOtaoError(e1) && e1.code).toBe('dependency.unavailable');
        const e2 = await s.store.delete(`${p}/kept`).catch((e: unknown) => e);
        expect(isOtaoError(e2) && e2.code).toBe('dependency.unavailable');
        const e3 = await s.store.deletePrefix(`${p}/`).catch((e: unknown) => e);
        expect(isOtaoError(e3) && e3.code).toBe('dependency.unavailable');
        expect(s.store.available()).toBe(false);
      } finally {
        await s.outage.end();
      }
      const until = Date.now() + (options?.recoveryMs ?? 15_000);
      while (!s.store.available() && Date.now() < until) await sleep(100);
      expect(s.store.available()).toBe(true);
      expect(text((await fetchLink(`${p}/kept`))!.bytes)).toBe('kept');
      expect((await upload(`${p}/new`, [ascii('new')])).ok).toBe(true);
    });
  });
}
