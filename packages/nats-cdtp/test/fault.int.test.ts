// NATS fault: the server is killed (SIGKILL) and restarted on the same port while FakeCmx streams
// requests. The adapter must reconnect by itself and answer again within 5 s of the server's
// return, without crashing the process. This test starts its own nats-server (never NATS_URL).
import { softwareBody } from '@otao/core/testing';
import { freePort, type NatsServer, startNats } from '@otao/test-services';
import { FakeCmx, waitFor } from '../src/testing';
import { AVN, buildOtao, createSoftware, names, sleep, startAll } from './helpers';

jest.setTimeout(60_000);

let srv: NatsServer;
beforeAll(async () => {
  srv = await startNats();
});
afterAll(async () => {
  await srv.stop();
});

it('reconnects after the server is killed and restarted, and answers again within 5 s of its return', async () => {
  const n = names();
  const otao = buildOtao(srv.url, n, { config: { connection: { servers: srv.url, reconnectInitialDelayMs: 100, reconnectMaxDelayMs: 1000 } } });
  const { cmx, epr } = await startAll(srv.url, n, otao);
  const crashes: unknown[] = [];
  const onCrash = (e: unknown): void => void crashes.push(e);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  try {
    await createSoftware(otao.core, softwareBody('1.0.1', ['1.0.0']));

    // A stream of requests, one every 20 ms, each waiting at most 500 ms; outcomes by time.
    const log: { at: number; ok: boolean }[] = [];
    let streaming = true;
    let i = 0;
    const stream = (async () => {
      const inFlight = new Set<Promise<void>>();
      while (streaming) {
        const at = Date.now();
        const p: Promise<void> = cmx
          .pull({ endpointId: `ep-${i++}`, appVersionName: AVN, configId: '1.0.0' }, { waitMs: 500 })
          .then((r) => void log.push({ at, ok: r.statusCode === 200 && r.configId === '1.0.1' }))
          .catch(() => void log.push({ at, ok: false }))
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        await sleep(20);
      }
      await Promise.allSettled([...inFlight]);
    })();

    await waitFor(() => log.filter((l) => l.ok).length >= 10, 5000);
    expect(otao.nats.status()).toBe('connected');

    await srv.process.kill();
    await waitFor(() => otao.nats.status() === 'reconnecting', 5000);
    const downAt = Date.now();
    await sleep(1500);
    // While the server is gone, nothing is answered and the process is alive.
    expect(log.filter((l) => l.at > downAt + 100 && l.ok)).toEqual([]);

    await srv.process.start();
    const backAt = Date.now();
    await waitFor(
      () => log.some((l) => l.at >= backAt && l.ok),
      5000,
      () => 'no answer within 5 s of the server coming back',
    );
    const firstOk = log.filter((l) => l.at >= backAt && l.ok).sort((a, b) => a.at - b.at)[0]!;
    expect(firstOk.at - backAt).toBeLessThan(5000);
    expect(otao.nats.status()).toBe('connected');
    expect(otao.observer.statuses).toEqual(expect.arrayContaining(['connected', 'reconnecting']));

    // Keeps answering steadily afterwards.
    const mark = Date.now();
    await waitFor(() => log.filter((l) => l.at >= mark && l.ok).length >= 10, 5000);
    streaming = false;
    await stream;

    // Pushes work again too (the publisher refuses only while disconnected).
    await otao.endpoints.setCurrentVersion({ tenantId: 'tenant-a', appName: 'kettle', endpointId: 'late' }, AVN, '1.0.0', Date.now());
    const run = await otao.core.pushes.run({ kind: 'app', tenantId: 'tenant-a', appName: 'kettle', reason: 'after fault' });
    expect(run.pushed).toBeGreaterThanOrEqual(1);
    await waitFor(() => cmx.pushes.some((p) => p.endpointId === 'late'), 5000);
    expect(crashes).toEqual([]);
  } finally {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await otao.nats.stop();
    await cmx.stop();
    await epr.stop();
  }
});

it('waits for a NATS server that is not there yet (status reconnecting), then serves once it starts', async () => {
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const n = names();
  const otao = buildOtao(url, n, { config: { connection: { servers: url, reconnectInitialDelayMs: 100, reconnectMaxDelayMs: 500 } } });
  const starting = otao.nats.start(otao.core);
  let started = false;
  void starting.then(() => (started = true));
  await sleep(700);
  expect(started).toBe(false);
  expect(otao.nats.status()).toBe('reconnecting');
  // Publishing meanwhile is refused (the core retries later), never buffered without bound.
  await expect(
    otao.nats.configPublisher.publish({
      tenantId: 't',
      appName: 'a',
      appVersionName: AVN,
      endpointId: 'e',
      version: '1.0.0',
      content: '{}',
      contentType: 'application/json',
      correlationId: 'c',
    }),
  ).rejects.toMatchObject({ code: 'dependency.unavailable' });

  const late = await startNats({ port });
  try {
    await starting;
    expect(otao.nats.status()).toBe('connected');
    const cmx = await new FakeCmx({ servers: url, instanceName: n.cmx, providerInstanceName: n.otao }).start();
    await createSoftware(otao.core, softwareBody('1.0.1', ['1.0.0']));
    expect(await cmx.pull({ endpointId: 'e1', appVersionName: AVN, configId: '1.0.0' })).toMatchObject({ statusCode: 200, configId: '1.0.1' });
    await cmx.stop();
    await otao.nats.stop();
  } finally {
    await late.stop();
  }
});
