import { Readable } from 'node:stream';
import { type CoreDeps, createOtaoCore, type OtaoCore } from '@otao/core';
import {
  FixedClock,
  InMemoryApplicationRegistry,
  InMemoryEndpointRepository,
  InMemoryFilterDirectory,
  InMemoryLease,
  InMemoryRolloutStatsRepository,
  InMemorySoftwareRepository,
  QueueWorkScheduler,
  RecordingConfigPublisher,
  RecordingSoftwareEventPublisher,
  SequentialIds,
  InMemoryAuditLog,
  referencePlatform,
} from '@otao/core/testing';
import { sha256, startS3Env, type S3Env } from './s3-env';

jest.setTimeout(60_000);

const T = 'tenant-a';
const APP = 'kettle';
const AVN = 'kettle-v1';

/** The core over in-memory fakes, with the real S3FileStore as `files` (what apps/server wires). */
function coreWith(env: S3Env, urlPath: string): { core: OtaoCore; publisher: RecordingConfigPublisher; drain: () => Promise<void> } {
  const work = new QueueWorkScheduler();
  const publisher = new RecordingConfigPublisher();
  const deps: CoreDeps = {
    software: new InMemorySoftwareRepository(),
    endpoints: new InMemoryEndpointRepository(),
    stats: new InMemoryRolloutStatsRepository(),
    lease: new InMemoryLease(),
    clock: new FixedClock('2026-03-01T00:00:00Z'),
    ids: new SequentialIds('c-'),
    registry: new InMemoryApplicationRegistry([{ tenantId: T, appName: APP, versions: [AVN] }]),
    configPublisher: publisher,
    softwareEvents: new RecordingSoftwareEventPublisher(),
    filterDirectory: new InMemoryFilterDirectory(),
    work,
    files: env.store,
    audit: new InMemoryAuditLog(),
    ...referencePlatform(),
  };
  const core = createOtaoCore(deps, { fileLinks: { urlPath, ttlSeconds: 600 } });
  const drain = async (): Promise<void> => {
    for (let p = work.pushes.shift(); p; p = work.pushes.shift()) await core.pushes.run(p);
  };
  return { core, publisher, drain };
}

async function attach(core: OtaoCore, version: string, bytes: Buffer): Promise<string> {
  const r = await core.files!.upload(T, APP, version, { name: 'fw.bin', body: Readable.from([bytes]), correlationId: 'test' });
  if (!r.ok) throw new Error(r.error.message);
  return r.value.file.objectKey!;
}

const at = (obj: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);

describe('download links in CDTP answers and pushes, signed by the real S3FileStore', () => {
  let env: S3Env;
  beforeAll(async () => {
    env = await startS3Env();
  }, 300_000);
  afterAll(async () => {
    await env.close();
  });

  test('ConfigRequest answer carries a working link at the nested path; other fields and an old value are handled', async () => {
    const { core } = coreWith(env, 'files.firmware.url');
    const bytes = Buffer.from('firmware 1.1.0 bytes');
    const created = await core.software.create(
      T,
      APP,
      { version: '1.1.0', upgradableFrom: ['1.0.0'], rolloutStrategy: 'general', specification: { keep: 1, files: { firmware: { url: 'stale', size: 3 } } } },
      'c',
    );
    expect(created.ok).toBe(true);
    await attach(core, '1.1.0', bytes);
    const d = await core.config.decide({ appVersionName: AVN, endpointId: 'ep-1', configId: '1.0.0', correlationId: 'c' });
    expect(d).toMatchObject({ ok: true, value: { outcome: 'new', configId: '1.1.0' } });
    const content = JSON.parse(d.ok && d.value.outcome === 'new' ? d.value.content : 'null') as Record<string, unknown>;
    expect(content['keep']).toBe(1);
    expect(at(content, 'files.firmware.size')).toBe(3);
    const url = at(content, 'files.firmware.url') as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/otao-files\/tenant-a\/kettle\/1\.1\.0\/[a-z0-9]+-c-\d+\/fw\.bin\?.*X-Amz-Expires=600/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(bytes));
    // Another endpoint within half the lifetime gets the same (reused) link.
    const d2 = await core.config.decide({ appVersionName: AVN, endpointId: 'ep-2', configId: '1.0.0', correlationId: 'c' });
    expect(at(JSON.parse(d2.ok && d2.value.outcome === 'new' ? d2.value.content : 'null') as Record<string, unknown>, 'files.firmware.url')).toBe(url);
  });

  test('a ConfigUpdated push carries a working link at the configured path (intermediate objects created)', async () => {
    const { core, publisher, drain } = coreWith(env, 'ota.download.link');
    await core.config.decide({ appVersionName: AVN, endpointId: 'ep-9', configId: '2.0.0', correlationId: 'c' });
    const bytes = Buffer.from('firmware 2.1.0 pushed');
    expect(
      (
        await core.software.create(
          T,
          APP,
          { version: '2.1.0', upgradableFrom: ['2.0.0'], rolloutStrategy: 'suspended', specification: { ota: 'was a string' } },
          'c',
        )
      ).ok,
    ).toBe(true);
    await attach(core, '2.1.0', bytes);
    await drain();
    expect(publisher.pushes).toHaveLength(0);
    const opened = await core.software.replace(
      T,
      APP,
      '2.1.0',
      { rolloutStrategy: 'general', upgradableFrom: ['2.0.0'], specification: { ota: 'was a string' } },
      {},
      'c',
    );
    expect(opened.ok).toBe(true);
    await drain();
    expect(publisher.pushes.map((p) => [p.endpointId, p.version])).toEqual([['ep-9', '2.1.0']]);
    const url = at(JSON.parse(publisher.pushes[0]!.content), 'ota.download.link') as string;
    const res = await fetch(url);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
  });

  test('deleting the software deletes its object', async () => {
    const { core } = coreWith(env, 'link');
    expect((await core.software.create(T, APP, { version: '3.0.0', rolloutStrategy: 'general' }, 'c')).ok).toBe(true);
    const key = await attach(core, '3.0.0', Buffer.from('gone soon'));
    expect(await env.exists(key)).toBe(true);
    expect((await core.software.delete(T, APP, '3.0.0', {}, 'c')).ok).toBe(true);
    expect(await env.exists(key)).toBe(false);
  });
});
