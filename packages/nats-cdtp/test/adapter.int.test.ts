// The adapter's own guarantees on a real nats-server: event retries while the store is down,
// 21/TLE, software events between replicas, ConfigUpdated pacing and refusal while disconnected,
// bounded concurrency of the CDTP provider, connection status.
import { isOtaoError, type OtaoCore } from '@otao/core';
import { softwareBody } from '@otao/core/testing';
import { createNatsCdtp, NatsConnection, NatsSoftwareEventPublisher, subjects } from '../src/internal';
import { CountingObserver, FakeCmx, FakeTenantManager, waitFor } from '../src/testing';
import { APP, AVN, buildOtao, createSoftware, names, type Otao, sharedNats, startAll, TENANT } from './helpers';

jest.setTimeout(30_000);

let server: { url: string; stop: () => Promise<void> };
beforeAll(async () => {
  server = await sharedNats();
});
afterAll(async () => {
  await server.stop();
});

const stops: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s.stop();
});

async function started(otao: Otao, n: ReturnType<typeof names>) {
  const all = await startAll(server.url, n, otao);
  stops.push(all.epr, all.cmx, otao.nats);
  return all;
}

const key = (endpointId: string) => ({ tenantId: TENANT, appName: APP, endpointId });

describe('event handlers while the store is down', () => {
  it('retries a ConfigApplied with backoff until the store is back; nothing is lost', async () => {
    const n = names();
    const otao = buildOtao(server.url, n, { config: { events: { eventRetryMs: 60_000, eventRetryDelayMs: 20 } } });
    const { cmx } = await started(otao, n);
    otao.endpoints.faults.unavailable = true;
    await cmx.applied({ endpointId: 'ep-r', appVersionName: AVN, configId: '1.0.0' });
    await waitFor(() => CountingObserver.get(otao.observer.retries, 'config.applied') >= 3, 5000);
    expect(CountingObserver.total(otao.observer.events)).toBe(0);
    otao.endpoints.faults.unavailable = false;
    await waitFor(() => CountingObserver.get(otao.observer.events, 'config.applied:applied') === 1, 10_000);
    expect((await otao.endpoints.get(key('ep-r')))?.currentVersion).toBe('1.0.0');
  });

  it('counts an event as failed_after_retries when the store stays down longer than the retry time', async () => {
    const n = names();
    const otao = buildOtao(server.url, n, { config: { events: { eventRetryMs: 35, eventRetryDelayMs: 10 } } }); // 10 + 20, then 40 would pass 35
    const { epr } = await started(otao, n);
    otao.endpoints.faults.unavailable = true;
    await epr.unregistered(AVN, 'ep-lost');
    await waitFor(() => CountingObserver.get(otao.observer.events, 'endpoint.unregistered:failed_after_retries') === 1, 5000);
    expect(CountingObserver.get(otao.observer.retries, 'endpoint.unregistered')).toBe(2);
  });
});

describe('21/TLE tenant lifecycle', () => {
  it("calls the injected callback on updated (every replica) and deletes the tenant's data on unregistered", async () => {
    const n = names();
    const updated: string[] = [];
    const otao = buildOtao(server.url, n, { clients: { onTenantUpdated: (t) => void updated.push(t) } });
    await started(otao, n);
    const tm = await new FakeTenantManager({ servers: server.url, instanceName: n.tm }).start();
    stops.push(tm);
    await createSoftware(otao.core, softwareBody('1.0.0'));
    await otao.endpoints.setCurrentVersion(key('ep-t'), AVN, '1.0.0', Date.now());

    await tm.updated(TENANT);
    await waitFor(() => updated.length === 1, 5000);
    expect(updated).toEqual([TENANT]);

    await tm.unregistered(TENANT);
    await waitFor(() => CountingObserver.get(otao.observer.events, 'tenant.unregistered:done') === 1, 5000);
    expect(await otao.software.list(TENANT, APP)).toEqual([]);
    expect(otao.endpoints.count(TENANT)).toBe(0);
  });
});

describe('21/TLE unregistered reaches every replica', () => {
  it('calls onTenantUnregistered on each replica (access revoked everywhere) while the data is deleted once', async () => {
    const n = names();
    const revoked: { replica: string; tenantId: string }[] = [];
    const a = buildOtao(server.url, n, { replicaId: 'otao-a', clients: { onTenantUnregistered: (t) => void revoked.push({ replica: 'a', tenantId: t }) } });
    const b = buildOtao(server.url, n, {
      replicaId: 'otao-b',
      shareWith: a,
      clients: { onTenantUnregistered: (t) => void revoked.push({ replica: 'b', tenantId: t }) },
    });
    await started(a, n);
    await b.nats.start(b.core);
    stops.push(b.nats);
    const tm = await new FakeTenantManager({ servers: server.url, instanceName: n.tm }).start();
    stops.push(tm);
    await createSoftware(a.core, softwareBody('1.0.0'));

    await tm.unregistered(TENANT);
    await waitFor(() => revoked.length === 2, 5000);
    expect(revoked.sort((x, y) => x.replica.localeCompare(y.replica))).toEqual([
      { replica: 'a', tenantId: TENANT },
      { replica: 'b', tenantId: TENANT },
    ]);
    const done = (o: Otao, kind: string): number => CountingObserver.get(o.observer.events, `${kind}:done`);
    expect(done(a, 'tenant.access-revoked') + done(b, 'tenant.access-revoked')).toBe(2);
    await waitFor(() => done(a, 'tenant.unregistered') + done(b, 'tenant.unregistered') === 1, 5000);
    expect(await a.software.list(TENANT, APP)).toEqual([]);
  });
});

describe('software events (§4.9)', () => {
  it('publishes JSON on software.lifecycle.{type} and another replica drops its cached catalogue', async () => {
    const n = names();
    // Two replicas of one instance over one store; catalogues trusted for an hour unless invalidated.
    const a = buildOtao(server.url, n, { replicaId: 'otao-a', catalogueMaxAgeMs: 3_600_000 });
    const b = buildOtao(server.url, n, { replicaId: 'otao-b', catalogueMaxAgeMs: 3_600_000, shareWith: a });
    const { cmx } = await started(a, n);
    await b.nats.start(b.core);
    stops.push(b.nats);

    const seen: { subject: string; body: unknown }[] = [];
    const spy = new NatsConnection({ servers: server.url });
    await spy.start();
    stops.push(spy);
    spy.clientForSubscriptions().subscribe(subjects.softwareLifecycle(n.otao), {
      callback: (_e, m) => seen.push({ subject: m.subject, body: JSON.parse(m.string()) }),
    });
    await spy.client().flush();

    // Both replicas cache the empty catalogue.
    await a.core.catalogues.planner(TENANT, APP);
    await b.core.catalogues.planner(TENANT, APP);
    await createSoftware(a.core, softwareBody('1.0.1', ['1.0.0']));
    await waitFor(() => CountingObserver.get(b.observer.events, 'software.lifecycle:done') >= 1, 5000);
    await waitFor(() => seen.length === 1, 5000);
    expect(seen[0]!.subject).toBe(`kaa.v1.events.${n.otao}.software.lifecycle.created`);
    expect(seen[0]!.body).toEqual({
      tenantId: TENANT,
      appName: APP,
      version: '1.0.1',
      rolloutStrategy: 'general',
      at: expect.any(String),
      correlationId: 'test',
    });

    // Requests are load-balanced over both replicas; all of them must see the new software.
    for (let i = 0; i < 12; i++) {
      expect(await cmx.pull({ endpointId: `ep-${i}`, appVersionName: AVN, configId: '1.0.0' })).toMatchObject({ configId: '1.0.1' });
    }
    expect(CountingObserver.total(a.observer.requests)).toBeGreaterThan(0);
    expect(CountingObserver.total(b.observer.requests)).toBeGreaterThan(0);
  });

  it('never throws when NATS is closed (best effort, logged)', async () => {
    const warnings: string[] = [];
    const conn = new NatsConnection({ servers: server.url });
    const pub = new NatsSoftwareEventPublisher(
      conn,
      { instanceName: 'otao' },
      {
        logger: { debug: () => undefined, info: () => undefined, warn: (_fields, m) => void warnings.push(m ?? ''), error: () => undefined },
      },
    );
    await expect(
      pub.publish({ type: 'created', tenantId: 't', appName: 'a', version: '1.0.0', rolloutStrategy: 'general', at: 'x', correlationId: 'c' }),
    ).resolves.toBeUndefined();
    expect(warnings).toEqual(['software event not published']);
  });
});

describe('NatsConfigPublisher', () => {
  it('publishes a general rollout as one ConfigUpdated per endpoint, each with originatorReplicaId', async () => {
    const n = names();
    const otao = buildOtao(server.url, n);
    const { cmx } = await started(otao, n);
    for (let i = 0; i < 30; i++) await otao.endpoints.setCurrentVersion(key(`ep-${String(i).padStart(2, '0')}`), AVN, '1.0.0', Date.now());
    await createSoftware(otao.core, softwareBody('1.0.1', ['1.0.0']));
    await otao.work.idle();
    expect(otao.work.errors).toEqual([]);
    const pushes = await cmx.waitForPushes(30);
    expect(pushes.map((p) => p.endpointId)).toEqual(Array.from({ length: 30 }, (_, i) => `ep-${String(i).padStart(2, '0')}`));
    expect(new Set(pushes.map((p) => p.originatorReplicaId))).toEqual(new Set(['otao-0']));
    expect(new Set(pushes.map((p) => p.configId))).toEqual(new Set(['1.0.1']));
    expect(otao.observer.pushes).toBe(30);
  });

  it('throws OtaoError(dependency.unavailable) while NATS is not connected, so the core un-marks the push', async () => {
    const n = names();
    const otao = buildOtao(server.url, n);
    await otao.endpoints.setCurrentVersion(key('ep-u'), AVN, '1.0.0', Date.now());
    // Not started: the connection is closed.
    const e = await otao.nats.configPublisher
      .publish({
        tenantId: TENANT,
        appName: APP,
        appVersionName: AVN,
        endpointId: 'ep-u',
        version: '1.0.1',
        content: '{}',
        contentType: 'application/json',
        correlationId: 'c',
      })
      .catch((x: unknown) => x);
    expect(isOtaoError(e) && e.code).toBe('dependency.unavailable');
    await createSoftware(otao.core, softwareBody('1.0.1', ['1.0.0']));
    await otao.work.idle();
    expect(otao.work.errors.map((x) => isOtaoError(x) && x.code)).toEqual(['dependency.unavailable']);
    expect((await otao.endpoints.get(key('ep-u')))?.pushed).toEqual([]);
    expect(otao.observer.pushFailures).toBe(2);

    // Once connected, a retried run pushes it.
    const { cmx } = await started(otao, n);
    expect(await otao.core.pushes.run({ kind: 'app', tenantId: TENANT, appName: APP, reason: 'retry' })).toMatchObject({ pushed: 1 });
    expect((await cmx.waitForPushes(1))[0]).toMatchObject({ endpointId: 'ep-u', configId: '1.0.1' });
  });
});

describe('CdtpProvider concurrency', () => {
  it('decides requests concurrently, never more than maxConcurrentRequests at once, and answers all', async () => {
    const n = names();
    const base = buildOtao(server.url, n, { config: { maxConcurrentRequests: 4 } });
    let inFlight = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const core = {
      ...base.core,
      config: {
        decide: async (req: { endpointId: string }) => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await new Promise<void>((resolve) => gates.push(resolve));
          inFlight--;
          return { ok: true, value: { outcome: 'new', configId: '9.9.9', content: `{"ep":"${req.endpointId}"}` } };
        },
      },
    } as unknown as OtaoCore;
    await base.nats.start(core);
    stops.push(base.nats);
    const cmx = await new FakeCmx({ servers: server.url, instanceName: n.cmx, providerInstanceName: n.otao }).start();
    stops.push(cmx);

    const pulls = Array.from({ length: 10 }, (_, i) => cmx.pull({ endpointId: `ep-${i}`, appVersionName: AVN }, { waitMs: 10_000 }));
    await waitFor(() => gates.length === 4, 5000);
    expect(inFlight).toBe(4); // 4 run together, 6 wait
    // Release them one by one: each release lets one waiting request in, never a fifth.
    for (let released = 0; released < 10; released++) {
      await waitFor(() => gates.length > 0, 5000);
      gates.shift()!();
    }
    const answers = await Promise.all(pulls);
    expect(peak).toBe(4);
    expect(answers.map((a) => JSON.parse(a.content!.toString()).ep)).toEqual(Array.from({ length: 10 }, (_, i) => `ep-${i}`));
  });
});

describe('serving requests once the replica can answer', () => {
  it('with serveRequests: false the replica is not in the queue group until serveRequests(); events are taken at once', async () => {
    const n = names();
    const otao = buildOtao(server.url, n);
    await otao.nats.start(otao.core, { serveRequests: false });
    stops.push(otao.nats);
    const cmx = await new FakeCmx({ servers: server.url, instanceName: n.cmx, providerInstanceName: n.otao }).start();
    stops.push(cmx);
    await createSoftware(otao.core, softwareBody('1.0.0', []));
    // nobody serves the subject yet: no answer
    await expect(cmx.pull({ endpointId: 'ep-s', appVersionName: AVN }, { waitMs: 1000 })).rejects.toThrow(/503|no responders|no answer/i);
    // the listeners are subscribed already
    await cmx.applied({ endpointId: 'ep-s', appVersionName: AVN, configId: '1.0.0' });
    await waitFor(() => CountingObserver.get(otao.observer.events, 'config.applied:applied') === 1, 5000);
    await otao.nats.serveRequests();
    await otao.nats.serveRequests(); // idempotent
    const answer = await cmx.pull({ endpointId: 'ep-s', appVersionName: AVN }, { waitMs: 5000 });
    expect(answer.statusCode).toBe(200);
  });
});

describe('connection status', () => {
  it('is closed before start, connected after, closed after stop', async () => {
    const n = names();
    const nats = createNatsCdtp({
      connection: { servers: server.url },
      instanceName: n.otao,
      replicaId: 'r',
      softwareConsumerInstanceName: n.cmx,
      eprInstanceName: n.epr,
      tenantManagerInstanceName: n.tm,
    });
    const otao = buildOtao(server.url, n);
    expect(nats.status()).toBe('closed');
    await nats.start(otao.core);
    expect(nats.status()).toBe('connected');
    await nats.stop();
    expect(nats.status()).toBe('closed');
  });

  it('refuses instance names that cannot be subject tokens', () => {
    expect(() =>
      createNatsCdtp({
        connection: { servers: server.url },
        instanceName: 'otao.prod',
        replicaId: 'r',
        softwareConsumerInstanceName: 'cmx',
        eprInstanceName: 'epr',
        tenantManagerInstanceName: 'tm',
      }),
    ).toThrow(/subject token/);
  });
});
