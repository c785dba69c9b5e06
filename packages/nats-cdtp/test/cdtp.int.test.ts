// 6/CDTP end to end on a real nats-server: OTAO (createOtaoCore over in-memory repositories with
// this package's NATS adapters) against the FakeCmx / FakeEpr stand-ins speaking Avro.
import { randomBytes } from 'node:crypto';
import { isOtaoError, type OtaoCore, OtaoError } from '@otao/core';
import { softwareBody } from '@otao/core/testing';
import { codecs, subjects } from '../src/internal';
import { CountingObserver, FakeCmx, type FakeEpr, PullTimeout, waitFor } from '../src/testing';
import { APP, AVN, buildOtao, createSoftware, names, type Otao, sharedNats, sleep, startAll, TENANT } from './helpers';

jest.setTimeout(30_000);

let server: { url: string; stop: () => Promise<void> };
beforeAll(async () => {
  server = await sharedNats();
});
afterAll(async () => {
  await server.stop();
});

let n: ReturnType<typeof names>;
let otao: Otao;
let cmx: FakeCmx;
let epr: FakeEpr;
const extra: { stop(): Promise<void> }[] = [];

beforeEach(async () => {
  n = names();
  otao = buildOtao(server.url, n);
  ({ cmx, epr } = await startAll(server.url, n, otao));
});

afterEach(async () => {
  for (const x of extra.splice(0)) await x.stop();
  await otao.nats.stop();
  await cmx.stop();
  await epr.stop();
});

const key = (endpointId: string) => ({ tenantId: TENANT, appName: APP, endpointId });

describe('the OTA cycle over NATS', () => {
  it('reports 1.0.0 -> pulls 1.0.1 with its specification -> applied -> 1.0.2 pushed -> unregistered wipes it', async () => {
    await createSoftware(otao.core, softwareBody('1.0.1', ['1.0.0'], { specification: { link: 'https://fw/1.0.1.bin', size: 1 } }));
    await createSoftware(otao.core, softwareBody('1.0.2', ['1.0.1'], { specification: { link: 'https://fw/1.0.2.bin' } }));
    await otao.work.idle();

    // The device reports 1.0.0 through CMX's pull; OTAO offers the first hop with its specification.
    const r1 = await cmx.pull({ endpointId: 'ep1', appVersionName: AVN, configId: '1.0.0', correlationId: 'corr-pull-1' });
    expect(r1).toMatchObject({ correlationId: 'corr-pull-1', appVersionName: AVN, endpointId: 'ep1', statusCode: 200, reasonPhrase: 'OK', configId: '1.0.1' });
    expect(r1.contentType).toBe('application/json');
    expect(JSON.parse(r1.content!.toString('utf8'))).toEqual({ link: 'https://fw/1.0.1.bin', size: 1 });
    expect((await otao.endpoints.get(key('ep1')))?.currentVersion).toBe('1.0.0');

    // The device applies 1.0.1: CMX broadcasts ConfigApplied, OTAO records it and pushes 1.0.2.
    await cmx.applied({ endpointId: 'ep1', appVersionName: AVN, configId: '1.0.1' });
    const pushes = await cmx.waitForPushes(1);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]).toMatchObject({
      appVersionName: AVN,
      endpointId: 'ep1',
      configId: '1.0.2',
      contentType: 'application/json',
      originatorReplicaId: 'otao-0',
    });
    expect(JSON.parse(pushes[0]!.content.toString('utf8'))).toEqual({ link: 'https://fw/1.0.2.bin' });
    expect((await otao.endpoints.get(key('ep1')))?.currentVersion).toBe('1.0.1');
    expect(CountingObserver.get(otao.observer.events, 'config.applied:applied')).toBe(1);
    expect(otao.observer.pushes).toBe(1);

    // CMX pulls for the observing device: 1.0.2; the device applies it; then nothing is newer.
    expect(await cmx.pull({ endpointId: 'ep1', appVersionName: AVN, configId: '1.0.1' })).toMatchObject({ statusCode: 200, configId: '1.0.2' });
    await cmx.applied({ endpointId: 'ep1', appVersionName: AVN, configId: '1.0.2' });
    await waitFor(() => CountingObserver.get(otao.observer.events, 'config.applied:applied') === 2, 5000);
    expect(await cmx.pull({ endpointId: 'ep1', appVersionName: AVN, configId: '1.0.2' })).toMatchObject({
      statusCode: 200,
      configId: null,
      content: null,
      reasonPhrase: null,
    });
    expect(cmx.pushes).toHaveLength(1);

    // EPR unregisters the endpoint: OTAO forgets it; a pull without configId then has nothing to offer.
    await epr.unregistered(AVN, 'ep1');
    await waitFor(() => CountingObserver.get(otao.observer.events, 'endpoint.unregistered:done') === 1, 5000);
    expect(await otao.endpoints.get(key('ep1'))).toBeUndefined();
    const after = await cmx.pull({ endpointId: 'ep1', appVersionName: AVN, configId: null });
    expect(after).toMatchObject({ statusCode: 200, configId: null, content: null, reasonPhrase: 'no software available' });
    expect(cmx.unsolicited).toEqual([]);
  });

  it('serves consumers of the old schemas (ConfigRequest without configName, ConfigApplied without status)', async () => {
    await createSoftware(otao.core, softwareBody('2.0.0', ['1.0.0']));
    const r = await cmx.pull({ endpointId: 'old-ep', appVersionName: AVN, configId: '1.0.0', legacy: true });
    expect(r).toMatchObject({ statusCode: 200, configId: '2.0.0' });
    await cmx.applied({ endpointId: 'old-ep', appVersionName: AVN, configId: '2.0.0', legacy: true });
    await waitFor(() => CountingObserver.get(otao.observer.events, 'config.applied:applied') === 1, 5000);
    const s = await otao.endpoints.get(key('old-ep'));
    expect(s?.currentVersion).toBe('2.0.0');
    expect(s?.lastReport).toMatchObject({ configId: '2.0.0', statusCode: 200 });
  });

  it('records a failed apply (non-2xx ConfigApplied) without changing the current version', async () => {
    await createSoftware(otao.core, softwareBody('1.0.1', ['1.0.0']));
    await cmx.pull({ endpointId: 'ep-f', appVersionName: AVN, configId: '1.0.0' });
    await cmx.applied({ endpointId: 'ep-f', appVersionName: AVN, configId: '1.0.1', statusCode: 500, reasonPhrase: 'flash write failed' });
    await waitFor(() => CountingObserver.get(otao.observer.events, 'config.applied:failed') === 1, 5000);
    const s = await otao.endpoints.get(key('ep-f'));
    expect(s?.currentVersion).toBe('1.0.0');
    expect(s?.lastReport).toMatchObject({ configId: '1.0.1', statusCode: 500, reasonPhrase: 'flash write failed' });
  });

  it('answers errors with the documented status codes, on an inbox reply subject too', async () => {
    const unknownApp = await cmx.pull({ endpointId: 'e', appVersionName: 'nobody-v9', configId: '1.0.0' }, { replyVia: 'inbox' });
    expect(unknownApp).toMatchObject({
      statusCode: 404,
      reasonPhrase: 'unknown application version',
      configId: null,
      content: null,
      appVersionName: 'nobody-v9',
    });
    const named = await cmx.pull({ endpointId: 'e', appVersionName: AVN, configName: 'network' });
    expect(named).toMatchObject({ statusCode: 404, reasonPhrase: 'unknown configuration name' });
    const bad = await cmx.pull({ endpointId: 'e', appVersionName: AVN, configId: 'v1' });
    expect(bad).toMatchObject({ statusCode: 400, configId: null });
    expect(bad.reasonPhrase).toContain('is not a SemVer version');
    expect(CountingObserver.get(otao.observer.requests, 'unknown_app_version:404')).toBe(1);
    expect(CountingObserver.get(otao.observer.requests, 'unknown_config_name:404')).toBe(1);
    expect(CountingObserver.get(otao.observer.requests, 'invalid_config_id:400')).toBe(1);
  });

  it('answers 503 while the store is down, and serves again when it is back (never a silent drop)', async () => {
    await createSoftware(otao.core, softwareBody('1.0.1', ['1.0.0']));
    otao.endpoints.faults.unavailable = true;
    const down = await cmx.pull({ endpointId: 'ep-s', appVersionName: AVN, configId: '1.0.0' });
    expect(down).toMatchObject({ statusCode: 503, reasonPhrase: 'service unavailable: store.unavailable', configId: null, content: null });
    expect(CountingObserver.get(otao.observer.requests, 'unavailable:503')).toBe(1);
    otao.endpoints.faults.unavailable = false;
    expect(await cmx.pull({ endpointId: 'ep-s', appVersionName: AVN, configId: '1.0.0' })).toMatchObject({ statusCode: 200, configId: '1.0.1' });
  });
});

describe('a core that fails unexpectedly', () => {
  it('answers 500 "internal error" when decide throws something else than OtaoError, and 503 for an escaped OtaoError', async () => {
    const n2 = names();
    const broken = buildOtao(server.url, n2);
    let mode: 'bug' | 'otao' = 'bug';
    const core = {
      ...broken.core,
      config: {
        decide: async () => {
          if (mode === 'bug') throw new TypeError('undefined is not a function');
          throw new OtaoError('dependency.unavailable', 'S3 down');
        },
      },
    } as unknown as OtaoCore;
    await broken.nats.start(core);
    extra.push(broken.nats);
    const c = await new FakeCmx({ servers: server.url, instanceName: n2.cmx, providerInstanceName: n2.otao }).start();
    extra.push(c);
    expect(await c.pull({ endpointId: 'e', appVersionName: AVN, correlationId: 'x1' })).toMatchObject({
      correlationId: 'x1',
      endpointId: 'e',
      statusCode: 500,
      reasonPhrase: 'internal error',
      configId: null,
      content: null,
    });
    mode = 'otao';
    expect(await c.pull({ endpointId: 'e', appVersionName: AVN })).toMatchObject({
      statusCode: 503,
      reasonPhrase: 'service unavailable: dependency.unavailable',
    });
    expect(CountingObserver.get(broken.observer.requests, 'internal_error:500')).toBe(1);
    expect(CountingObserver.get(broken.observer.requests, 'unavailable:503')).toBe(1);
  });
});

describe('overload', () => {
  it('answers requests beyond the waiting limit with 503 "service unavailable: overloaded" at once, and counts them', async () => {
    const n2 = names();
    const busy = buildOtao(server.url, n2, { config: { maxConcurrentRequests: 1, maxQueuedRequests: 2 } });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let decided = 0;
    const core = {
      ...busy.core,
      config: {
        decide: async () => {
          await gate;
          decided++;
          return { ok: true, value: { outcome: 'none' } };
        },
      },
    } as unknown as OtaoCore;
    await busy.nats.start(core);
    extra.push(busy.nats);
    const c = await new FakeCmx({ servers: server.url, instanceName: n2.cmx, providerInstanceName: n2.otao }).start();
    extra.push(c);
    // One request runs (blocked), two wait, the other three find the queue full.
    const pulls = Array.from({ length: 6 }, (_, i) => c.pull({ endpointId: `ep-${i}`, appVersionName: AVN, correlationId: `c${i}` }, { waitMs: 10_000 }));
    const refused = await Promise.all(pulls.slice(3)); // answered while the gate is still closed
    expect(decided).toBe(0);
    for (const [i, r] of refused.entries()) {
      expect(r).toMatchObject({
        correlationId: `c${i + 3}`,
        endpointId: `ep-${i + 3}`,
        statusCode: 503,
        reasonPhrase: 'service unavailable: overloaded',
        configId: null,
        content: null,
      });
    }
    release();
    expect((await Promise.all(pulls.slice(0, 3))).map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(CountingObserver.get(busy.observer.requests, 'overloaded:503')).toBe(3);
    expect(CountingObserver.get(busy.observer.requests, 'none:200')).toBe(3);
    expect(CountingObserver.get(busy.observer.drops, 'cdtp.request:overloaded')).toBe(0);
  });
});

describe('targeted rollout driven by 18/EFE', () => {
  it('pushes to an endpoint when it matches the filter, and only then offers it on pull', async () => {
    await createSoftware(otao.core, softwareBody('1.1.0', ['1.0.0'], { rolloutStrategy: 'targeted', filters: [{ filterId: 'beta' }] }));
    // Two endpoints report 1.0.0; EPR knows no filter for them yet (asked over 20/EFMP at pull time).
    for (const ep of ['ep-a', 'ep-b']) {
      expect(await cmx.pull({ endpointId: ep, appVersionName: AVN, configId: '1.0.0' })).toMatchObject({
        statusCode: 200,
        configId: null,
        reasonPhrase: 'no software available',
      });
    }
    expect(epr.requests['ep-filters']).toBe(2);
    expect(cmx.pushes).toHaveLength(0);

    // EPR: ep-a now matches `beta` -> OTAO records the membership and pushes 1.1.0 to ep-a only.
    await epr.matched('beta', APP, AVN, 'ep-a');
    const pushes = await cmx.waitForPushes(1);
    expect(pushes.map((p) => [p.endpointId, p.configId])).toEqual([['ep-a', '1.1.0']]);
    expect((await otao.endpoints.get(key('ep-a')))?.filters).toEqual(['beta']);
    expect(await cmx.pull({ endpointId: 'ep-a', appVersionName: AVN, configId: '1.0.0' })).toMatchObject({ configId: '1.1.0' });
    expect(await cmx.pull({ endpointId: 'ep-b', appVersionName: AVN, configId: '1.0.0' })).toMatchObject({ configId: null });

    // ep-a no longer matches -> nothing offered any more; the filter deleted -> removed everywhere.
    await epr.unmatched('beta', APP, AVN, 'ep-a');
    await waitFor(() => CountingObserver.get(otao.observer.events, 'filter.ep-unmatched:done') === 1, 5000);
    expect(await cmx.pull({ endpointId: 'ep-a', appVersionName: AVN, configId: '1.0.0' })).toMatchObject({ configId: null });
    await epr.matched('beta', APP, AVN, 'ep-b');
    await cmx.waitForPushes(2);
    await epr.filterDeleted('beta', APP);
    await waitFor(() => CountingObserver.get(otao.observer.events, 'filter.deleted:done') === 1, 5000);
    expect((await otao.endpoints.get(key('ep-b')))?.filters).toEqual([]);
    expect(cmx.pushes.map((p) => p.endpointId)).toEqual(['ep-a', 'ep-b']);
  });

  it('keeps the events of one endpoint in order (matched, unmatched, matched)', async () => {
    await createSoftware(otao.core, softwareBody('1.1.0', ['1.0.0'], { rolloutStrategy: 'targeted', filters: [{ filterId: 'f' }] }));
    await otao.endpoints.setCurrentVersion(key('ep-o'), AVN, '1.0.0', Date.now());
    for (let i = 0; i < 5; i++) {
      await epr.matched('f', APP, AVN, 'ep-o');
      await epr.unmatched('f', APP, AVN, 'ep-o');
    }
    await epr.matched('f', APP, AVN, 'ep-o');
    await waitFor(() => CountingObserver.get(otao.observer.events, 'filter.ep-matched:done') === 6, 5000);
    await waitFor(() => CountingObserver.get(otao.observer.events, 'filter.ep-unmatched:done') === 5, 5000);
    expect((await otao.endpoints.get(key('ep-o')))?.filters).toEqual(['f']);
  });

  it('tracks 9/ELCE app version updates', async () => {
    otao.registry.define({ tenantId: TENANT, appName: APP, versions: [AVN, 'kettle-v2'] });
    await otao.endpoints.setCurrentVersion(key('ep-v'), AVN, '1.0.0', Date.now());
    await epr.appVersionUpdated('ep-v', 'kettle-v2', AVN);
    await waitFor(() => CountingObserver.get(otao.observer.events, 'endpoint.appversion-updated:done') === 1, 5000);
    expect((await otao.endpoints.get(key('ep-v')))?.appVersionName).toBe('kettle-v2');
  });
});

describe('20/EFMP over NatsFilterDirectory', () => {
  it("bootstraps a filter's members from EPR when targeted software names it, and pushes to those eligible", async () => {
    epr.setMembers('wave1', AVN, ['m1', 'm2', 'm3']);
    epr.setMembers('wave1', 'other-app-v1', ['x1']);
    for (const ep of ['m1', 'm2']) await otao.endpoints.setCurrentVersion(key(ep), AVN, '2.0.0', Date.now());
    // Creating targeted software schedules the bootstrap (core), which asks EPR over NATS (adapter).
    await createSoftware(otao.core, softwareBody('3.0.0', ['2.0.0'], { rolloutStrategy: 'targeted', filters: [{ filterId: 'wave1' }] }));
    await otao.work.idle();
    expect(otao.work.errors).toEqual([]);
    expect(epr.requests['ep-list-by-filter']).toBe(1);
    for (const ep of ['m1', 'm2', 'm3']) expect((await otao.endpoints.get(key(ep)))?.filters).toEqual(['wave1']);
    expect(await otao.endpoints.get(key('x1'))).toBeUndefined();
    expect(await otao.endpoints.loadedFilters(TENANT, APP)).toEqual(new Set(['wave1']));
    const pushes = await cmx.waitForPushes(2);
    expect(pushes.map((p) => [p.endpointId, p.configId]).sort()).toEqual([
      ['m1', '3.0.0'],
      ['m2', '3.0.0'],
    ]);

    // Called directly, as the start-up bootstrap does: the members are replaced by EPR's answer.
    epr.setMembers('wave1', AVN, ['m1']);
    expect(await otao.core.endpointEvents.bootstrapFilters(TENANT, APP, ['wave1'], 'boot-1')).toEqual({ loaded: ['wave1'], failed: [] });
    expect((await otao.endpoints.get(key('m2')))?.filters).toEqual([]);
  });

  it('reports a filter as failed when EPR answers an error status, and retries only 5xx', async () => {
    epr.behaviour = { kind: 'status', statusCode: 500, reasonPhrase: 'db down' };
    const summary = await otao.core.endpointEvents.bootstrapFilters(TENANT, APP, ['wave1'], 'boot-2');
    expect(summary).toEqual({ loaded: [], failed: ['wave1'] });
    expect(epr.requests['ep-list-by-filter']).toBe(3); // first attempt + 2 retries
    expect(CountingObserver.get(otao.observer.efmp, 'ep-list-by-filter:error_status')).toBe(3);

    epr.behaviour = { kind: 'status', statusCode: 404, reasonPhrase: 'no such filter' };
    const e = await otao.nats.filterDirectory.endpointsByFilter('nope', 'c').catch((x: unknown) => x);
    expect(isOtaoError(e) && e.code).toBe('dependency.unavailable');
    expect(epr.requests['ep-list-by-filter']).toBe(4); // a 4xx is not retried
  });

  it('times out on a slow or silent EPR with OtaoError(dependency.unavailable)', async () => {
    const fast = buildOtao(server.url, n, { config: { efmp: { filtersTimeoutMs: 100, filtersRetries: 1, retryDelayMs: 10 } } });
    // (same EPR instance name; this replica is only used as a FilterDirectory client)
    await fast.nats.connection.start();
    extra.push(fast.nats);
    epr.behaviour = { kind: 'slow', delayMs: 400 };
    const e1 = await fast.nats.filterDirectory.filtersOfEndpoint('ep1', 'c1').catch((x: unknown) => x);
    expect(isOtaoError(e1) && e1.code).toBe('dependency.unavailable');
    expect(CountingObserver.get(fast.observer.efmp, 'ep-filters:timeout')).toBe(2);
    epr.behaviour = { kind: 'silent' };
    await expect(fast.nats.filterDirectory.filtersOfEndpoint('ep1', 'c2')).rejects.toMatchObject({ code: 'dependency.unavailable' });
    epr.behaviour = { kind: 'answer' };
    epr.setMembers('f9', AVN, ['ep1']);
    await sleep(450); // let the slow answers of the first call arrive late (they must be ignored)
    expect(await fast.nats.filterDirectory.filtersOfEndpoint('ep1', 'c3')).toEqual(['f9']);
  });

  it('fails fast with no responder (EPR absent) after its retries', async () => {
    await epr.stop();
    const e = await otao.nats.filterDirectory.endpointsByFilter('f', 'c').catch((x: unknown) => x);
    expect(isOtaoError(e) && e.code).toBe('dependency.unavailable');
    expect(CountingObserver.get(otao.observer.efmp, 'ep-list-by-filter:no_responders')).toBe(3);
  });
});

describe('drops', () => {
  it('drops an expired request without answering and counts it', async () => {
    await createSoftware(otao.core, softwareBody('1.0.1', ['1.0.0']));
    const expired = cmx.pull({ endpointId: 'ep-x', appVersionName: AVN, configId: '1.0.0', timestamp: Date.now() - 10_000, timeout: 3000 }, { waitMs: 1000 });
    // A later, valid request is answered; messages of one subscription are processed in order,
    // so by then the expired one has been looked at.
    expect(await cmx.pull({ endpointId: 'ep-y', appVersionName: AVN, configId: '1.0.0', timeout: 0 })).toMatchObject({ configId: '1.0.1' });
    await expect(expired).rejects.toBeInstanceOf(PullTimeout);
    expect(CountingObserver.get(otao.observer.drops, 'cdtp.request:expired')).toBe(1);
    // Nothing was decided for it: the endpoint is unknown.
    expect(await otao.endpoints.get(key('ep-x'))).toBeUndefined();
    expect(cmx.unsolicited).toEqual([]);
  });

  it('drops garbage (random bytes, truncated Avro, wrong schema, no reply subject) and counts it, without affecting requests in flight', async () => {
    await createSoftware(otao.core, softwareBody('1.0.1', ['1.0.0']));
    const valid = cmx.encodeRequest({ endpointId: 'ep-g', appVersionName: AVN, configId: '1.0.0' }).bytes;
    const garbage = [
      randomBytes(64),
      Buffer.alloc(32, 0xff),
      valid.subarray(0, valid.length - 5), // truncated
      codecs.endpointUnregistered.encode({ correlationId: 'w', timestamp: 1, timeout: 0, appVersionName: AVN, endpointId: 'e', originatorReplicaId: 'epr-0' }),
      Buffer.alloc(0),
    ];
    // Interleave 40 valid pulls with the garbage, all in flight together.
    const pulls: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      pulls.push(cmx.pull({ endpointId: `ep-g${i}`, appVersionName: AVN, configId: '1.0.0' }));
      if (i % 8 === 0) cmx.sendRaw(garbage[i / 8]!);
    }
    cmx.sendRaw(valid, false); // a decodable request without reply subject
    const answers = (await Promise.all(pulls)) as { endpointId: string; configId: string }[];
    expect(answers.map((a) => a.configId)).toEqual(Array(40).fill('1.0.1'));
    expect(answers.map((a) => a.endpointId)).toEqual(Array.from({ length: 40 }, (_, i) => `ep-g${i}`));
    await waitFor(() => CountingObserver.get(otao.observer.drops, 'cdtp.request:no_reply_subject') === 1, 5000);
    // The random 64 bytes are overwhelmingly likely garbage, but tolerate the lucky decode.
    const undecodable = CountingObserver.get(otao.observer.drops, 'cdtp.request:undecodable');
    expect(undecodable).toBeGreaterThanOrEqual(garbage.length - 1);
    expect(undecodable + CountingObserver.total(otao.observer.requests)).toBe(45);
    expect(cmx.unsolicited.filter((r) => r.statusCode === 200)).toEqual([]);
  });

  it('drops garbage events and keeps handling the next ones', async () => {
    await epr.publishRaw(subjects.endpointUnregistered(n.epr), randomBytes(3));
    await epr.publishRaw(subjects.filterMatched(n.epr, 'f'), Buffer.from('{"endpointId":"x"}'));
    cmx.connection.client().publish(subjects.softwareLifecycle(n.otao, 'created'), 'not json');
    await cmx.connection.client().flush();
    await otao.endpoints.setCurrentVersion(key('ep-z'), AVN, '1.0.0', Date.now());
    await epr.unregistered(AVN, 'ep-z');
    await waitFor(() => CountingObserver.get(otao.observer.events, 'endpoint.unregistered:done') === 1, 5000);
    expect(await otao.endpoints.get(key('ep-z'))).toBeUndefined();
    expect(CountingObserver.get(otao.observer.drops, 'endpoint.unregistered:undecodable')).toBe(1);
    expect(CountingObserver.get(otao.observer.drops, 'filter.ep-matched:undecodable')).toBe(1);
    await waitFor(() => CountingObserver.get(otao.observer.drops, 'software.lifecycle:undecodable') === 1, 5000);
  });
});
