import { createHash } from 'node:crypto';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import Ajv2020 from 'ajv/dist/2020';
import { storedObjectKey } from '@otao/core';
import { createTestOtao, type InMemoryFileStore, StaticAuthenticator, TablePermissionChecker, type TestOtao } from '@otao/core/testing';
import { createHttpApp, fileRoutes } from '../src';
import { OPENAPI_DOCUMENT } from '../src/openapi';

const A = 'tenant-a';
const APP = 'kettle';
const admin = { Authorization: `Bearer ${A}:admin` };
const reader = { Authorization: `Bearer ${A}:reader` };
const MIB = 1024 * 1024;
const FILE = `/api/v1/applications/${APP}/software/1.0.0/file`;
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** The core over in-memory fakes with the in-memory FileStore (streaming, stops reading past the limit, like S3FileStore). */
function setup(maxFileBytes = 4 * MIB, withFiles = true): { t: TestOtao; files: InMemoryFileStore; app: ReturnType<typeof createHttpApp> } {
  const t = createTestOtao({
    apps: [{ tenantId: A, appName: APP, versions: ['kettle-v1'] }],
    start: '2026-03-04T05:06:07Z',
    withFiles,
    maxFileBytes,
    fileLinks: { urlPath: 'link', ttlSeconds: 900 },
  });
  const permissions = new TablePermissionChecker()
    .grant(A, 'admin', APP, ['application:software:read', 'application:software:update', 'application:software:delete'])
    .grant(A, 'reader', APP, ['application:software:read']);
  const routes = withFiles ? fileRoutes() : undefined;
  const app = createHttpApp({ core: t.core, authenticator: new StaticAuthenticator(), permissions, ...(routes ?? {}) });
  return { t, files: t.files, app };
}

/** The bytes behind the file record of a version (what every link handed out serves). */
async function objectOf(t: TestOtao, version = '1.0.0'): Promise<Buffer | undefined> {
  const sw = await t.software.get(A, APP, version);
  if (!sw?.file) return undefined;
  const o = t.files.objects.get(storedObjectKey(sw, sw.file));
  return o ? Buffer.from(o.bytes) : undefined;
}

const ajv = new Ajv2020({ strict: false });
ajv.addSchema(OPENAPI_DOCUMENT as object, 'openapi.json');
const matchesSchema = (name: string, value: unknown): void => {
  const v = ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });
  if (!v(value)) throw new Error(`${name}: ${JSON.stringify(v.errors)}`);
};

async function createSoftware(t: TestOtao, version = '1.0.0', specification: unknown = { a: 1 }): Promise<void> {
  const r = await t.core.software.create(A, APP, { version, rolloutStrategy: 'general', specification }, 'test');
  if (!r.ok) throw new Error(r.error.message);
}

describe('file routes (spec §6.2) over the core and its in-memory file store', () => {
  let t: TestOtao;
  let files: InMemoryFileStore;
  let app: ReturnType<typeof createHttpApp>;
  beforeEach(async () => {
    ({ t, files, app } = setup());
    await createSoftware(t);
  });

  test('raw PUT: 201 with metadata, then GET metadata with a fresh downloadUrl; the software shows the file', async () => {
    const bytes = Buffer.from('raw firmware bytes');
    const res = await request(app).put(`${FILE}?name=fw-1.0.0.bin`).set(admin).set('Content-Type', 'application/x-firmware').send(bytes);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      name: 'fw-1.0.0.bin',
      size: bytes.length,
      sha256: sha(bytes),
      contentType: 'application/x-firmware',
      uploadedAt: '2026-03-04T05:06:07Z',
    });
    matchesSchema('FileInfo', res.body);
    expect(res.headers['etag']).toMatch(/^"r2\.[0-9a-z]+"$/);
    expect(await objectOf(t)).toEqual(bytes);
    const got = await request(app).get(FILE).set(reader).expect(200);
    expect(got.body).toEqual({
      ...res.body,
      downloadUrl: expect.stringMatching(/^https:\/\/files\.example\/tenant-a\/kettle\/1\.0\.0\/[a-z0-9]+-[\w-]+\/fw-1\.0\.0\.bin\?ttl=900&/) as string,
    });
    expect(Buffer.from(files.download(got.body.downloadUrl)!.bytes)).toEqual(bytes);
    matchesSchema('FileDownload', got.body);
    const sw = await request(app).get(`/api/v1/applications/${APP}/software/1.0.0`).set(reader).expect(200);
    expect(sw.body.file).toEqual(res.body);
  });

  test('raw PUT without a name or a content type: firmware.bin, application/octet-stream', async () => {
    const res = await request(app)
      .put(FILE)
      .set(admin)
      .set('Content-Type', '')
      .send(Buffer.from([0, 1, 2]));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'firmware.bin', size: 3 });
    expect(typeof res.body.contentType).toBe('string');
  });

  test('multipart PUT: the part "file" with its file name and type; a version with + in the path', async () => {
    await createSoftware(t, '2.0.0+build.7');
    const bytes = Buffer.alloc(300_000, 7);
    const res = await request(app)
      .put(`/api/v1/applications/${APP}/software/2.0.0%2Bbuild.7/file`)
      .set(admin)
      .attach('file', bytes, { filename: 'kettle-2.bin', contentType: 'application/x-kettle' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'kettle-2.bin', size: 300_000, sha256: sha(bytes), contentType: 'application/x-kettle' });
    expect(await objectOf(t, '2.0.0+build.7')).toEqual(bytes);
    expect(files.keys()[0]).toMatch(/^tenant-a\/kettle\/2\.0\.0\+build\.7\/.+\/kettle-2\.bin$/);
  });

  test('multipart PUT: ?name= wins over the part file name; other fields are ignored', async () => {
    const res = await request(app).put(`${FILE}?name=chosen.bin`).set(admin).field('note', 'hello').attach('file', Buffer.from('abc'), 'ignored.bin');
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('chosen.bin');
  });

  test.each([
    ['no file part', (r: request.Test) => r.field('x', 'y')],
    ['a part with another name', (r: request.Test) => r.attach('firmware', Buffer.from('abc'), 'a.bin')],
    ['two file parts', (r: request.Test) => r.attach('file', Buffer.from('abc'), 'a.bin').attach('file', Buffer.from('def'), 'b.bin')],
  ])('multipart PUT with %s: 400 and nothing stored', async (_n, build) => {
    const res = await build(request(app).put(FILE).set(admin));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('request.invalid');
    expect(files.objects.size).toBe(0);
    expect((await t.core.software.get(A, APP, '1.0.0')).ok && (await t.software.get(A, APP, '1.0.0'))?.file).toBeUndefined();
  });

  test('malformed multipart (no boundary) is 400', async () => {
    const res = await request(app).put(FILE).set(admin).set('Content-Type', 'multipart/form-data').send('garbage');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('request.invalid');
  });

  test.each([['../etc/passwd'], ['a/b.bin'], ['a\\b.bin'], ['a\u0007b'], ['x'.repeat(256)], ['']])(
    'name %j: 400 file.invalid_name, nothing read or stored',
    async (name) => {
      const res = await request(app)
        .put(`${FILE}?name=${encodeURIComponent(name)}`)
        .set(admin)
        .send(Buffer.from('abc'));
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('file.invalid_name');
      expect(files.uploads).toBe(0);
    },
  );

  test('multipart file name with a path: 400 (not silently cut to its base name)', async () => {
    // Built by hand: form-data clients cut the path off the file name themselves.
    const body = [
      '--XyZ',
      'Content-Disposition: form-data; name="file"; filename="../../evil.bin"',
      'Content-Type: application/octet-stream',
      '',
      'abc',
      '--XyZ--',
      '',
    ].join('\r\n');
    const res = await request(app).put(FILE).set(admin).set('Content-Type', 'multipart/form-data; boundary=XyZ').send(body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('file.invalid_name');
    expect(files.objects.size).toBe(0);
  });

  test('?name given twice is 400', async () => {
    expect((await request(app).put(`${FILE}?name=a&name=b`).set(admin).send('x')).status).toBe(400);
  });

  test('409 software.specification_not_object before any byte is read', async () => {
    await createSoftware(t, '3.0.0', [1, 2, 3]);
    const res = await request(app).put(`/api/v1/applications/${APP}/software/3.0.0/file`).set(admin).send(Buffer.from('abc'));
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('software.specification_not_object');
    expect(files.uploads).toBe(0);
  });

  test('404 unknown software or application; 401; 403 for a reader on PUT and DELETE; the reader may GET', async () => {
    expect((await request(app).put(`/api/v1/applications/${APP}/software/9.9.9/file`).set(admin).send('x')).body.code).toBe('software.not_found');
    expect((await request(app).put(`/api/v1/applications/nope/software/1.0.0/file`).set(admin).send('x')).status).toBe(404);
    expect((await request(app).put(FILE).send('x')).status).toBe(401);
    expect((await request(app).put(FILE).set(reader).send('x')).status).toBe(403);
    expect((await request(app).delete(FILE).set(reader)).status).toBe(403);
    const none = await request(app).get(FILE).set(reader);
    expect(none.status).toBe(404);
    expect(none.body.code).toBe('file.not_found');
    expect(files.uploads).toBe(0);
  });

  test('replacing: 200; the bytes go to a new object, the old one is removed after the switch (same name or not)', async () => {
    await request(app).put(`${FILE}?name=a.bin`).set(admin).send(Buffer.from('one')).expect(201);
    const first = files.keys();
    const same = await request(app).put(`${FILE}?name=a.bin`).set(admin).send(Buffer.from('two'));
    expect(same.status).toBe(200);
    expect(same.headers['etag']).toMatch(/^"r3\.[0-9a-z]+"$/);
    expect((await objectOf(t))?.toString()).toBe('two');
    expect(files.keys()).toHaveLength(1);
    expect(files.keys()).not.toEqual(first);
    const renamed = await request(app).put(`${FILE}?name=b.bin`).set(admin).send(Buffer.from('three'));
    expect(renamed.status).toBe(200);
    expect(files.keys()).toEqual([expect.stringMatching(/\/b\.bin$/) as string]);
    expect((await request(app).get(FILE).set(reader)).body.name).toBe('b.bin');
  });

  test('too many concurrent changes while attaching: 409 software.concurrent_change, the previous file whole', async () => {
    await request(app).put(`${FILE}?name=a.bin`).set(admin).send(Buffer.from('one')).expect(201);
    const replace = jest.spyOn(t.software, 'replace').mockResolvedValue('revision_mismatch');
    const put = await request(app).put(`${FILE}?name=a.bin`).set(admin).send(Buffer.from('two'));
    const del = await request(app).delete(FILE).set(admin);
    replace.mockRestore();
    for (const res of [put, del]) {
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('software.concurrent_change');
    }
    expect((await objectOf(t))?.toString()).toBe('one');
    expect(files.keys()).toHaveLength(1);
  });

  test('DELETE: 204, object and record gone; again: 404 file.not_found', async () => {
    await request(app).put(FILE).set(admin).send(Buffer.from('one')).expect(201);
    await request(app).delete(FILE).set(admin).expect(204);
    expect(files.objects.size).toBe(0);
    expect((await t.software.get(A, APP, '1.0.0'))?.file).toBeUndefined();
    const again = await request(app).delete(FILE).set(admin);
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('file.not_found');
    expect((await request(app).get(FILE).set(reader)).status).toBe(404);
  });

  test('a file keeps the specification an object: PUT software with an array specification is 409', async () => {
    await request(app).put(FILE).set(admin).send(Buffer.from('one')).expect(201);
    const res = await request(app)
      .put(`/api/v1/applications/${APP}/software/1.0.0`)
      .set(admin)
      .send({ rolloutStrategy: 'general', specification: [1] });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('software.specification_not_object');
  });

  test('S3 unavailable: 503 dependency.unavailable on PUT, GET and DELETE, nothing changed; recovery when it is back', async () => {
    await request(app).put(`${FILE}?name=a.bin`).set(admin).send(Buffer.from('one')).expect(201);
    files.faults.unavailable = true;
    for (const res of [
      await request(app).put(FILE).set(admin).send(Buffer.from('two')),
      await request(app).get(FILE).set(reader),
      await request(app).delete(FILE).set(admin),
    ]) {
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('dependency.unavailable');
    }
    files.faults.unavailable = false;
    expect((await objectOf(t))?.toString()).toBe('one');
    await request(app).put(FILE).set(admin).send(Buffer.from('three')).expect(200);
    await request(app).delete(FILE).set(admin).expect(204);
    expect(files.objects.size).toBe(0);
  });

  test('wrong method on the file path: 405 with Allow', async () => {
    const res = await request(app).post(FILE).set(admin).send('x');
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('GET, HEAD, PUT, DELETE');
  });
});

describe('S3 disabled', () => {
  test('the file routes do not exist (404)', async () => {
    const { t, app } = setup(4 * MIB, false);
    await createSoftware(t);
    const res = await request(app).put(FILE).set(admin).send('x');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('route.not_found');
    expect((await request(app).get(FILE).set(admin)).status).toBe(404);
  });
});

describe('413: cut off without reading or holding the body', () => {
  let server: Server;
  let port: number;
  let t: TestOtao;
  let files: InMemoryFileStore;
  beforeAll(async () => {
    const s = setup(1 * MIB);
    ({ t, files } = s);
    await createSoftware(t);
    server = s.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  /** Sends a PUT whose body is produced lazily by `write`; resolves with the answer (ignoring the write side breaking after it). */
  function put(
    headers: Record<string, string | number>,
    write: (req: ReturnType<typeof httpRequest>) => void,
  ): Promise<{ status: number; body: { code?: string }; connection?: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'PUT', path: FILE, headers: { ...admin, ...headers } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          req.destroy();
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text) as { code?: string },
            ...(res.headers.connection ? { connection: res.headers.connection } : {}),
          });
        });
      });
      req.on('error', (e) => {
        if (!req.destroyed) reject(e);
      });
      write(req);
    });
  }

  test('a declared 10 GiB body is refused at once', async () => {
    const res = await put({ 'Content-Length': 10 * 1024 * MIB, 'Content-Type': 'application/octet-stream' }, (req) => req.write(Buffer.alloc(64 * 1024)));
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('file.too_large');
    expect(res.connection).toBe('close');
    expect(files.uploads).toBe(0);
  });

  test('a streamed (chunked) body of 300 MiB is cut off past the limit; memory stays bounded and nothing is stored', async () => {
    let produced = 0;
    let peak = process.memoryUsage().rss;
    const base = peak;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const chunk = Buffer.alloc(256 * 1024, 1);
    const res = await put({ 'Transfer-Encoding': 'chunked', 'Content-Type': 'application/octet-stream' }, (req) => {
      const pump = (): void => {
        while (produced < 300 * MIB && !req.destroyed) {
          produced += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!req.destroyed) req.end();
      };
      pump();
    });
    clearInterval(sampler);
    const growthMiB = (Math.max(peak, process.memoryUsage().rss) - base) / MIB;
    console.log(`HTTP 413: client produced ${(produced / MIB).toFixed(1)} MiB of 300 MiB; resident memory grew by at most ${growthMiB.toFixed(1)} MiB`);
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('file.too_large');
    expect(produced).toBeLessThan(64 * MIB);
    expect(growthMiB).toBeLessThan(100);
    expect(files.objects.size).toBe(0);
    expect((await t.software.get(A, APP, '1.0.0'))?.file).toBeUndefined();
  });
});
