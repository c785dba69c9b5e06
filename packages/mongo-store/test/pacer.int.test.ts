import { unique } from '@otao/contract-tests';
import { MongoPushPacer, type MongoStore } from '../src';
import { databaseName, dropDatabase, startStore, startTestServer, type TestServer } from './harness';

// OTAO_PUSH_RATE_PER_SECOND holds for the whole service (spec §4.3): replicas with their own
// connections draw from one budget in the store. Time is a shared fake clock that moves only when a
// taker waits (no timing assertion): what is checked is how many pushes were granted per window.
jest.setTimeout(60_000);

let server: TestServer;
const db = databaseName(__filename);
let stores: MongoStore[] = [];

beforeAll(async () => {
  server = await startTestServer();
  stores = await Promise.all([1, 2, 3].map(() => startStore(server.uri, db)));
}, 120_000);

afterAll(async () => {
  await Promise.all(stores.map((s) => s.stop()));
  if (server) await dropDatabase(server.uri, db);
  await server?.stop();
});

test('three replicas pushing at once share one rate: never more than its budget per window, all together', async () => {
  // Time passes only when every replica waits: then the clock moves to the next window.
  let now = 1_000_000_000_000;
  let active = 3;
  let asleep: (() => void)[] = [];
  const advanceIfAllWait = (): void => {
    if (active === 0 || asleep.length < active) return;
    now = (Math.floor(now / 100) + 1) * 100;
    const wake = asleep;
    asleep = [];
    wake.forEach((w) => w());
  };
  const sleep = (): Promise<void> =>
    new Promise((r) => {
      asleep.push(r);
      advanceIfAllWait();
    });
  const name = unique('pushes');
  // 200 pushes/s: windows of 100 ms allowing 20 each
  const pacers = stores.map((s) => new MongoPushPacer(s.db, 200, { name, now: () => now, sleep }));
  const perWindow = new Map<number, number>();
  await Promise.all(
    pacers.map(async (p) => {
      for (let i = 0; i < 10; i++) {
        const g = await p.take(15);
        expect(g).toBeGreaterThanOrEqual(1);
        const w = Math.floor(now / 100);
        perWindow.set(w, (perWindow.get(w) ?? 0) + g);
      }
      active--;
      advanceIfAllWait();
    }),
  );
  const grants = [...perWindow.values()];
  expect(grants.length).toBeGreaterThan(1); // the budget ran out and replicas waited
  expect(Math.max(...grants)).toBeLessThanOrEqual(20); // one rate for the three: per-replica buckets give 3× in a window
});

test('one taker alone gets the whole budget of each window, then waits for the next', async () => {
  let now = 2_000_000_000_050; // in the middle of a window
  const waits: number[] = [];
  const p = new MongoPushPacer(stores[0]!.db, 200, { name: unique('pushes'), now: () => now, sleep: async (ms) => void (waits.push(ms), (now += ms)) });
  expect(await p.take(15)).toBe(15);
  expect(await p.take(15)).toBe(5); // 20 per window
  expect(waits).toEqual([]);
  expect(await p.take(15)).toBe(15); // after waiting for the next window
  expect(waits).toEqual([50]);
  expect(await p.take(100)).toBe(5); // never more than one window's budget at once
});

test('a slow rate uses one-second windows', async () => {
  let now = 3_000_000_000_000;
  const waits: number[] = [];
  const p = new MongoPushPacer(stores[1]!.db, 2, { name: unique('pushes'), now: () => now, sleep: async (ms) => void (waits.push(ms), (now += ms)) });
  expect(await p.take(5)).toBe(2);
  expect(await p.take(5)).toBe(2);
  expect(waits).toEqual([1000]);
});
