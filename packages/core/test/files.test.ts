/// <reference types="node" />
/**
 * The software file rules of spec §5 and the invariants of §10 through `core.files` (and the
 * software and tenant deletes), over the in-memory fakes. The invariant every test checks: a file's
 * record and its object agree — the size and SHA-256 in the record describe the bytes behind every
 * link handed out — and a failed replace or delete leaves the previous state whole. Faults are
 * injected in the fakes: the record write failing (503, lost compare-and-set), S3 failing on the
 * clean-up, concurrent uploads, a delete and re-create in the middle of an upload.
 */
import { createHash } from 'node:crypto';
import { type ConfigDecision, isOtaoError, OtaoError, type Software, type SoftwareFilesService, storedObjectKey } from '@otao/core';
import { createTestOtao, softwareBody, TEST_APP, TEST_APP_VERSION, TEST_TENANT, type TestOtao } from '@otao/core/testing';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

interface Setup {
  readonly t: TestOtao;
  readonly files: SoftwareFilesService;
  /** Keys and prefixes reported through onFileCleanupFailed (left as orphans). */
  readonly orphans: string[];
}

function setup(maxFileBytes = 1024): Setup {
  const orphans: string[] = [];
  const t = createTestOtao({ withFiles: true, maxFileBytes, onFileCleanupFailed: (k) => orphans.push(k) });
  if (!t.core.files) throw new Error('core.files is missing although a FileStore was given');
  return { t, files: t.core.files, orphans };
}

/** A body of the given chunks; `pulled()` tells how many chunks were taken from it. */
function body(...chunks: (string | Buffer)[]): AsyncIterable<Uint8Array> & { pulled(): number } {
  let pulled = 0;
  return {
    pulled: () => pulled,
    async *[Symbol.asyncIterator]() {
      for (const c of chunks) {
        pulled++;
        yield typeof c === 'string' ? Buffer.from(c) : c;
      }
    },
  };
}

async function create(t: TestOtao, version: string, specification: unknown = { notes: version }, from = ['0.9.0']): Promise<Software> {
  const r = await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody(version, from, { specification }), 'create');
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

async function upload(s: Setup, version: string, content: string, name = 'fw.bin') {
  return s.files.upload(TEST_TENANT, TEST_APP, version, { name, contentType: 'application/x-fw', body: body(content), correlationId: 'up' });
}

async function uploadOk(s: Setup, version: string, content: string, name = 'fw.bin') {
  const r = await upload(s, version, content, name);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

async function record(t: TestOtao, version = '1.0.0'): Promise<Software | undefined> {
  return t.software.get(TEST_TENANT, TEST_APP, version);
}

/** The invariant of §10: every record's file is an existing object with the recorded size and SHA-256. */
async function expectConsistent(t: TestOtao): Promise<void> {
  for (const sw of await t.software.list(TEST_TENANT, TEST_APP)) {
    if (!sw.file) continue;
    const obj = t.files.objects.get(storedObjectKey(sw, sw.file));
    expect({ version: sw.version, exists: obj !== undefined }).toEqual({ version: sw.version, exists: true });
    expect(obj!.sha256).toBe(sw.file.sha256);
    expect(obj!.bytes.length).toBe(sw.file.size);
  }
}

/** A pull of 1.0.0 by a new endpoint on 0.9.0: the link it gets serves bytes matching the record. */
async function pullServes(t: TestOtao, expected: string): Promise<void> {
  const d: ConfigDecision = await t.core.config.decide({
    appVersionName: TEST_APP_VERSION,
    endpointId: `ep-${Math.random()}`,
    configId: '0.9.0',
    correlationId: 'pull',
  });
  if (!d.ok || d.value.outcome !== 'new') throw new Error(`pull: ${JSON.stringify(d)}`);
  const link = (JSON.parse(d.value.content) as { link: string }).link;
  const served = t.files.download(link);
  expect(served && Buffer.from(served.bytes).toString()).toBe(expected);
  const sw = await record(t);
  expect(served!.sha256).toBe(sw!.file!.sha256);
  expect(sha(expected)).toBe(sw!.file!.sha256);
}

/**
 * Checks the invariant after every successful object deletion (the moment an old order breaks it).
 * Returns the violations seen (asserted by the caller: the use case swallows clean-up errors).
 */
function checkOnEveryDelete(t: TestOtao): string[] {
  const violations: string[] = [];
  const check = async (what: string): Promise<void> => {
    try {
      await expectConsistent(t);
    } catch {
      violations.push(`after ${what}: a record points at a deleted object`);
    }
  };
  const del = t.files.delete.bind(t.files);
  const delPrefix = t.files.deletePrefix.bind(t.files);
  jest.spyOn(t.files, 'delete').mockImplementation(async (key) => {
    await del(key);
    await check(`delete ${key}`);
  });
  jest.spyOn(t.files, 'deletePrefix').mockImplementation(async (prefix) => {
    await delPrefix(prefix);
    await check(`deletePrefix ${prefix}`);
  });
  return violations;
}

const storeDown = (): OtaoError => new OtaoError('store.unavailable', 'simulated store outage');
const s3Down = (): OtaoError => new OtaoError('dependency.unavailable', 'simulated S3 outage');

afterEach(() => jest.restoreAllMocks());

describe('upload (spec §5, §6.2)', () => {
  test('a first upload streams to a key unique to the upload and attaches size, SHA-256, type and time', async () => {
    const s = setup();
    const { t } = s;
    const created = await create(t, '1.0.0');
    t.clock.advance(5000);
    const r = await uploadOk(s, '1.0.0', 'firmware one');
    expect(r.replaced).toBeUndefined();
    expect(r.file).toMatchObject({ name: 'fw.bin', size: 12, sha256: sha('firmware one'), contentType: 'application/x-fw', uploadedAt: t.clock.now() });
    expect(r.file.objectKey).toMatch(new RegExp(`^${TEST_TENANT}/${TEST_APP}/1\\.0\\.0/${created.createdAt.toString(36)}-[A-Za-z0-9_-]+/fw\\.bin$`));
    expect(r.software.revision).toBe(created.revision + 1);
    expect((await record(t))?.file).toEqual(r.file);
    expect(t.events.events.at(-1)).toMatchObject({ type: 'updated', version: '1.0.0' });
    await expectConsistent(t);
    await pullServes(t, 'firmware one');
  });

  test('defaults: firmware.bin, application/octet-stream', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    const r = await s.files.upload(TEST_TENANT, TEST_APP, '1.0.0', { body: body('x'), correlationId: 'c' });
    expect(r.ok && r.value.file).toMatchObject({ name: 'firmware.bin', contentType: 'application/octet-stream' });
  });

  test.each([
    ['an invalid name', '1.0.0', '../evil', 'file.invalid_name'],
    ['an unknown software', '9.9.9', 'fw.bin', 'software.not_found'],
    ['an invalid version', 'v1', 'fw.bin', 'software.not_found'],
    ['a specification that is not an object', '2.0.0', 'fw.bin', 'software.specification_not_object'],
  ])('%s: refused before any byte is read', async (_what, version, name, code) => {
    const s = setup();
    await create(s.t, '1.0.0');
    await create(s.t, '2.0.0', [1, 2]);
    const b = body('abc');
    const r = await s.files.upload(TEST_TENANT, TEST_APP, version, { name, body: b, correlationId: 'c' });
    expect(r.ok ? 'ok' : r.error.code).toBe(code);
    expect(b.pulled()).toBe(0);
    expect(s.t.files.uploads).toBe(0);
  });

  test('an unknown application: application.not_found', async () => {
    const s = setup();
    const r = await s.files.upload(TEST_TENANT, 'nope', '1.0.0', { body: body('abc'), correlationId: 'c' });
    expect(r.ok ? 'ok' : r.error.code).toBe('application.not_found');
  });

  test('checkUpload answers the same questions without a body', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    expect((await s.files.checkUpload(TEST_TENANT, TEST_APP, '1.0.0', 'a/b')).ok).toBe(false);
    expect((await s.files.checkUpload(TEST_TENANT, TEST_APP, '1.0.0')).ok).toBe(true);
    expect((await s.files.checkUpload(TEST_TENANT, TEST_APP, '1.0.1')).ok).toBe(false);
  });

  test('more than maxFileBytes: file.too_large, reading stopped at the limit, nothing stored, the previous file whole', async () => {
    const s = setup(10);
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'old');
    const b = body('123456', '789012', 'never', 'read');
    const r = await s.files.upload(TEST_TENANT, TEST_APP, '1.0.0', { body: b, correlationId: 'c' });
    expect(r.ok ? 'ok' : r.error.code).toBe('file.too_large');
    expect(b.pulled()).toBe(2);
    expect(s.t.files.objects.size).toBe(1);
    await expectConsistent(s.t);
    await pullServes(s.t, 'old');
  });

  test('a body failing midway: request.invalid, nothing stored', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    const failing: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        yield Buffer.from('abc');
        throw new Error('socket hang up');
      },
    };
    const r = await s.files.upload(TEST_TENANT, TEST_APP, '1.0.0', { body: failing, correlationId: 'c' });
    expect(r.ok ? 'ok' : r.error.code).toBe('request.invalid');
    expect(s.t.files.objects.size).toBe(0);
    expect((await record(s.t))?.file).toBeUndefined();
  });

  test('S3 down (known, or failing while streaming): the upload throws dependency.unavailable and nothing changes', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'old');
    const before = await record(s.t);
    s.t.files.faults.unavailable = true;
    const b = body('new');
    await expect(s.files.upload(TEST_TENANT, TEST_APP, '1.0.0', { body: b, correlationId: 'c' })).rejects.toMatchObject({ code: 'dependency.unavailable' });
    expect(b.pulled()).toBe(0); // known down: refused before reading the body
    await expect(s.files.checkUpload(TEST_TENANT, TEST_APP, '1.0.0')).rejects.toMatchObject({ code: 'dependency.unavailable' });
    s.t.files.faults.unavailable = false;
    jest.spyOn(s.t.files, 'upload').mockRejectedValueOnce(s3Down()); // fails while streaming
    await expect(upload(s, '1.0.0', 'new')).rejects.toMatchObject({ code: 'dependency.unavailable' });
    expect(await record(s.t)).toEqual(before);
    await pullServes(s.t, 'old');
  });
});

describe('replace: new bytes never overwrite the object a record points at (§5, §10)', () => {
  test('same name: a new object, the record switched, then the old object deleted; every delete leaves the invariant', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    const first = await uploadOk(s, '1.0.0', 'one');
    const violations = checkOnEveryDelete(s.t);
    const second = await uploadOk(s, '1.0.0', 'two');
    expect(violations).toEqual([]);
    expect(second.replaced).toEqual(first.file);
    expect(second.file.objectKey).not.toBe(first.file.objectKey);
    expect(s.t.files.keys()).toEqual([second.file.objectKey]);
    await pullServes(s.t, 'two');
  });

  test('another name: the old object is deleted (spec §5)', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'one', 'a.bin');
    const r = await uploadOk(s, '1.0.0', 'two', 'b.bin');
    expect(r.replaced?.name).toBe('a.bin');
    expect(s.t.files.keys()).toEqual([r.file.objectKey]);
    expect(r.file.objectKey).toMatch(/\/b\.bin$/);
  });

  test('the record write fails (503) after the upload: the old file is still fully served and the new object is gone', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    const first = await uploadOk(s, '1.0.0', 'old bytes');
    jest.spyOn(s.t.software, 'replace').mockRejectedValueOnce(storeDown());
    await expect(upload(s, '1.0.0', 'new bytes')).rejects.toMatchObject({ code: 'store.unavailable' });
    expect((await record(s.t))?.file).toEqual(first.file);
    expect(s.t.files.keys()).toEqual([first.file.objectKey]);
    await expectConsistent(s.t);
    await pullServes(s.t, 'old bytes');
  });

  test('the record write loses its compare-and-set every time (412): software.concurrent_change, the old file whole', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    const first = await uploadOk(s, '1.0.0', 'old bytes');
    const replace = jest.spyOn(s.t.software, 'replace').mockResolvedValue('revision_mismatch');
    const r = await upload(s, '1.0.0', 'new bytes');
    expect(r.ok ? 'ok' : r.error).toMatchObject({ code: 'software.concurrent_change', message: expect.stringMatching(/changed by others 5 times/) as string });
    expect(replace).toHaveBeenCalledTimes(5);
    replace.mockRestore();
    expect((await record(s.t))?.file).toEqual(first.file);
    expect(s.t.files.keys()).toEqual([first.file.objectKey]);
    await pullServes(s.t, 'old bytes');
  });

  test('a compare-and-set lost once is retried on the fresh record', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    jest.spyOn(s.t.software, 'replace').mockResolvedValueOnce('revision_mismatch');
    expect((await upload(s, '1.0.0', 'x')).ok).toBe(true);
    await expectConsistent(s.t);
  });

  test('the record write throws but was applied: read back, the upload succeeds and the old object goes', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'old');
    const real = s.t.software.replace.bind(s.t.software);
    jest.spyOn(s.t.software, 'replace').mockImplementationOnce(async (sw, rev) => {
      await real(sw, rev);
      throw storeDown(); // e.g. the acknowledgement timed out
    });
    const r = await uploadOk(s, '1.0.0', 'new');
    expect(s.t.files.keys()).toEqual([r.file.objectKey]);
    await pullServes(s.t, 'new');
  });

  test('the record write throws and its outcome cannot be read: the new object is kept (an orphan at worst), the error thrown', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    const first = await uploadOk(s, '1.0.0', 'old');
    jest.spyOn(s.t.software, 'replace').mockRejectedValueOnce(storeDown());
    const get = s.t.software.get.bind(s.t.software);
    let calls = 0;
    jest.spyOn(s.t.software, 'get').mockImplementation(async (...a) => {
      if (++calls === 3) throw storeDown(); // 1: check, 2: switch, 3: read-back
      return get(...a);
    });
    await expect(upload(s, '1.0.0', 'new')).rejects.toMatchObject({ code: 'store.unavailable' });
    expect(s.t.files.keys()).toHaveLength(2);
    expect(s.orphans).toHaveLength(1);
    expect((await record(s.t))?.file).toEqual(first.file);
    await expectConsistent(s.t);
  });

  test('S3 fails to delete the old object after the switch: the upload succeeds, the old object is reported as an orphan', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    const first = await uploadOk(s, '1.0.0', 'old');
    jest.spyOn(s.t.files, 'delete').mockRejectedValueOnce(s3Down());
    const r = await uploadOk(s, '1.0.0', 'new');
    expect(s.orphans).toEqual([first.file.objectKey]);
    expect((await record(s.t))?.file).toEqual(r.file);
    await pullServes(s.t, 'new');
  });

  test('two uploads at once: both succeed one after the other, one object is left and it is the recorded one', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'zero');
    const [a, b] = await Promise.all([upload(s, '1.0.0', 'aaa'), upload(s, '1.0.0', 'bbb')]);
    expect(a.ok && b.ok).toBe(true);
    const sw = await record(s.t);
    expect(s.t.files.keys()).toEqual([sw!.file!.objectKey]);
    await expectConsistent(s.t);
  });

  test('the software is deleted and created again during the upload: the upload does not attach to the new one', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    const slow = body('new bytes');
    const it = slow[Symbol.asyncIterator].bind(slow);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gated: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        await gate;
        yield* { [Symbol.asyncIterator]: it };
      },
    };
    const pending = s.files.upload(TEST_TENANT, TEST_APP, '1.0.0', { body: gated, correlationId: 'c' });
    await new Promise((r) => setImmediate(r));
    expect((await s.t.core.software.delete(TEST_TENANT, TEST_APP, '1.0.0', {}, 'c')).ok).toBe(true);
    s.t.clock.advance(1000);
    await create(s.t, '1.0.0');
    release();
    const r = await pending;
    expect(r.ok ? 'ok' : r.error.code).toBe('software.not_found');
    expect((await record(s.t))?.file).toBeUndefined();
    expect(s.t.files.objects.size).toBe(0);
  });
});

describe('download link (GET …/file)', () => {
  test('a fresh link to the recorded object; 404 file.not_found without a file; 503 while S3 is known down', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    const none = await s.files.download(TEST_TENANT, TEST_APP, '1.0.0');
    expect(none.ok ? 'ok' : none.error.code).toBe('file.not_found');
    await uploadOk(s, '1.0.0', 'bytes');
    const r = await s.files.download(TEST_TENANT, TEST_APP, '1.0.0');
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.downloadUrl).toContain('ttl=3600');
    expect(Buffer.from(s.t.files.download(r.value.downloadUrl)!.bytes).toString()).toBe('bytes');
    s.t.files.faults.unavailable = true;
    await expect(s.files.download(TEST_TENANT, TEST_APP, '1.0.0')).rejects.toMatchObject({ code: 'dependency.unavailable' });
  });

  test('a record from before per-upload keys (no objectKey) is found at <folder>/<name>', async () => {
    const s = setup();
    const sw = await create(s.t, '1.0.0');
    await s.t.files.upload({ key: `${TEST_TENANT}/${TEST_APP}/1.0.0/legacy.bin`, body: body('legacy'), contentType: 'x/y', maxBytes: 100 });
    const file = { name: 'legacy.bin', size: 6, sha256: sha('legacy'), contentType: 'x/y', uploadedAt: 0 };
    expect(await s.t.software.replace({ ...sw, file, revision: sw.revision + 1 }, sw.revision)).toBe('replaced');
    await pullServes(s.t, 'legacy');
    // Replacing it deletes the legacy object too.
    const r = await uploadOk(s, '1.0.0', 'new');
    expect(s.t.files.keys()).toEqual([r.file.objectKey]);
  });
});

describe('pulls while S3 is known to be unavailable (§10)', () => {
  test('dependency.unavailable (503 on CDTP) rather than a spec without its link, even when a link is cached; software without a file is still served; recovery', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'bytes');
    await create(s.t, '3.0.0', { notes: 'no file' }, ['2.9.0']);
    await pullServes(s.t, 'bytes'); // the content with its link is now cached
    s.t.files.faults.unavailable = true;
    await expect(s.t.core.config.decide({ appVersionName: TEST_APP_VERSION, endpointId: 'ep-x', configId: '0.9.0', correlationId: 'c' })).rejects.toMatchObject(
      {
        name: 'OtaoError',
        code: 'dependency.unavailable',
      },
    );
    const plain = await s.t.core.config.decide({ appVersionName: TEST_APP_VERSION, endpointId: 'ep-y', configId: '2.9.0', correlationId: 'c' });
    expect(plain).toMatchObject({ ok: true, value: { outcome: 'new', configId: '3.0.0' } });
    s.t.files.faults.unavailable = false;
    await pullServes(s.t, 'bytes');
  });

  test('a push of software with a file fails (and is retried by its job) rather than going out without its link', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'bytes');
    await s.t.drain();
    await s.t.core.config.decide({ appVersionName: TEST_APP_VERSION, endpointId: 'ep-p', configId: '0.5.0', correlationId: 'c' });
    s.t.files.faults.unavailable = true;
    const r = await s.t.core.software.replace(
      TEST_TENANT,
      TEST_APP,
      '1.0.0',
      softwareBody('1.0.0', ['0.9.0', '0.5.0'], { specification: { notes: '1.0.0' } }),
      {},
      'c',
    );
    expect(r.ok).toBe(true);
    await expect(s.t.drain()).rejects.toMatchObject({ code: 'dependency.unavailable' });
    expect(s.t.publisher.pushes).toEqual([]);
  });
});

describe('delete the file (DELETE …/file): the record first, then the object', () => {
  test('204-like: detached, object deleted after the record changed; again: file.not_found', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    const up = await uploadOk(s, '1.0.0', 'bytes');
    const violations = checkOnEveryDelete(s.t);
    const r = await s.files.remove(TEST_TENANT, TEST_APP, '1.0.0', 'c');
    expect(violations).toEqual([]);
    expect(r.ok && r.value).toEqual(up.file);
    expect(s.t.files.objects.size).toBe(0);
    expect((await record(s.t))?.file).toBeUndefined();
    const again = await s.files.remove(TEST_TENANT, TEST_APP, '1.0.0', 'c');
    expect(again.ok ? 'ok' : again.error.code).toBe('file.not_found');
  });

  test('the record write fails (503): the file stays attached and whole', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'bytes');
    jest.spyOn(s.t.software, 'replace').mockRejectedValueOnce(storeDown());
    await expect(s.files.remove(TEST_TENANT, TEST_APP, '1.0.0', 'c')).rejects.toMatchObject({ code: 'store.unavailable' });
    await expectConsistent(s.t);
    await pullServes(s.t, 'bytes');
  });

  test('too many concurrent changes: software.concurrent_change (a 409), not a thrown Error', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'bytes');
    jest.spyOn(s.t.software, 'replace').mockResolvedValue('revision_mismatch');
    const r = await s.files.remove(TEST_TENANT, TEST_APP, '1.0.0', 'c');
    expect(r.ok ? 'ok' : r.error.code).toBe('software.concurrent_change');
    jest.restoreAllMocks();
    await pullServes(s.t, 'bytes');
  });

  test('S3 known to be down: 503 and nothing changes', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'bytes');
    const before = await record(s.t);
    s.t.files.faults.unavailable = true;
    await expect(s.files.remove(TEST_TENANT, TEST_APP, '1.0.0', 'c')).rejects.toMatchObject({ code: 'dependency.unavailable' });
    s.t.files.faults.unavailable = false;
    expect(await record(s.t)).toEqual(before);
    await pullServes(s.t, 'bytes');
  });

  test('S3 fails to delete the object after the record changed: detached anyway, the object reported as an orphan', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    const up = await uploadOk(s, '1.0.0', 'bytes');
    jest.spyOn(s.t.files, 'delete').mockRejectedValueOnce(s3Down());
    const r = await s.files.remove(TEST_TENANT, TEST_APP, '1.0.0', 'c');
    expect(r.ok).toBe(true);
    expect(s.orphans).toEqual([up.file.objectKey]);
    expect((await record(s.t))?.file).toBeUndefined();
  });
});

describe('delete the software: the record first, then its objects (§5, §10)', () => {
  test('every object of the version incarnation is deleted after the record; the invariant holds at each step', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await create(s.t, '1.0.1');
    await uploadOk(s, '1.0.0', 'bytes');
    const other = await uploadOk(s, '1.0.1', 'other');
    const violations = checkOnEveryDelete(s.t);
    expect((await s.t.core.software.delete(TEST_TENANT, TEST_APP, '1.0.0', {}, 'c')).ok).toBe(true);
    expect(violations).toEqual([]);
    expect(s.t.files.keys()).toEqual([other.file.objectKey]);
  });

  test('the record delete fails (503): the software and its file are still there, whole and served', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'bytes');
    jest.spyOn(s.t.software, 'delete').mockRejectedValueOnce(storeDown());
    const e = await s.t.core.software.delete(TEST_TENANT, TEST_APP, '1.0.0', {}, 'c').catch((x: unknown) => x);
    expect(isOtaoError(e) && e.code).toBe('store.unavailable');
    await expectConsistent(s.t);
    await pullServes(s.t, 'bytes');
  });

  test('the record delete loses its compare-and-set (412 with If-Match): the file is untouched', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'bytes');
    const current = await s.t.software.get(TEST_TENANT, TEST_APP, '1.0.0');
    jest.spyOn(s.t.software, 'delete').mockResolvedValueOnce('revision_mismatch');
    const r = await s.t.core.software.delete(
      TEST_TENANT,
      TEST_APP,
      '1.0.0',
      { ifMatch: [{ createdAt: current!.createdAt, revision: current!.revision }] },
      'c',
    );
    expect(r.ok ? 'ok' : r.error.code).toBe('software.precondition_failed');
    await pullServes(s.t, 'bytes');
  });

  test('the record delete loses its compare-and-set without If-Match: read again and deleted, files after the record', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'bytes');
    jest.spyOn(s.t.software, 'delete').mockResolvedValueOnce('revision_mismatch');
    const r = await s.t.core.software.delete(TEST_TENANT, TEST_APP, '1.0.0', {}, 'c');
    expect(r.ok).toBe(true);
    expect(await s.t.software.get(TEST_TENANT, TEST_APP, '1.0.0')).toBeUndefined();
  });

  test('S3 known to be down: a software with a file is not deleted (503); one without a file is', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await create(s.t, '2.0.0');
    await uploadOk(s, '1.0.0', 'bytes');
    s.t.files.faults.unavailable = true;
    await expect(s.t.core.software.delete(TEST_TENANT, TEST_APP, '1.0.0', {}, 'c')).rejects.toMatchObject({ code: 'dependency.unavailable' });
    expect((await s.t.core.software.delete(TEST_TENANT, TEST_APP, '2.0.0', {}, 'c')).ok).toBe(true);
    s.t.files.faults.unavailable = false;
    await expectConsistent(s.t);
    await pullServes(s.t, 'bytes');
  });

  test('S3 fails during the clean-up: the software is deleted, its objects reported as orphans', async () => {
    const s = setup();
    const sw = await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'bytes');
    jest.spyOn(s.t.files, 'deletePrefix').mockRejectedValueOnce(s3Down());
    expect((await s.t.core.software.delete(TEST_TENANT, TEST_APP, '1.0.0', {}, 'c')).ok).toBe(true);
    expect(await record(s.t)).toBeUndefined();
    expect(s.orphans).toEqual([`${TEST_TENANT}/${TEST_APP}/1.0.0/${sw.createdAt.toString(36)}-`]);
  });

  test("a version created again is another incarnation: a late clean-up of the old one never touches the new one's file", async () => {
    const s = setup();
    const old = await create(s.t, '1.0.0');
    // An orphan of the old incarnation (an interrupted change left it).
    await s.t.files.upload({
      key: `${TEST_TENANT}/${TEST_APP}/1.0.0/${old.createdAt.toString(36)}-x/orphan.bin`,
      body: body('o'),
      contentType: 'x/y',
      maxBytes: 10,
    });
    const realDeletePrefix = s.t.files.deletePrefix.bind(s.t.files);
    let fresh: Awaited<ReturnType<typeof uploadOk>> | undefined;
    jest.spyOn(s.t.files, 'deletePrefix').mockImplementationOnce(async (prefix) => {
      // Between the record delete and its clean-up: the version is created again and gets a file.
      s.t.clock.advance(1000);
      await create(s.t, '1.0.0');
      fresh = await uploadOk(s, '1.0.0', 'fresh');
      await realDeletePrefix(prefix);
    });
    expect((await s.t.core.software.delete(TEST_TENANT, TEST_APP, '1.0.0', {}, 'c')).ok).toBe(true);
    expect(s.t.files.keys()).toEqual([fresh!.file.objectKey]);
    await expectConsistent(s.t);
    await pullServes(s.t, 'fresh');
  });
});

describe('tenant removed (21/TLE)', () => {
  test('records first, then the objects; S3 down: the records are gone and the call throws (the event is retried)', async () => {
    const s = setup();
    await create(s.t, '1.0.0');
    await uploadOk(s, '1.0.0', 'bytes');
    s.t.files.faults.unavailable = true;
    await expect(s.t.core.tenants.removed(TEST_TENANT)).rejects.toMatchObject({ code: 'dependency.unavailable' });
    expect(await record(s.t)).toBeUndefined();
    s.t.files.faults.unavailable = false;
    await s.t.core.tenants.removed(TEST_TENANT);
    expect(s.t.files.objects.size).toBe(0);
  });
});
