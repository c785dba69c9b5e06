import { TickLoops } from '../src/background-ticks';

// The periodic tasks of a replica (rollout dates, audit maintenance, phases, report timeouts) share
// one loop: it waits for the registry's first load, reschedules after every run — after a failure
// too, logged — and stops cleanly.
describe('TickLoops', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const flush = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };

  test('waits for the registry, then runs at the delays its results ask for, after failures too', async () => {
    const registry = { loaded: false };
    const warnings: string[] = [];
    const loops = new TickLoops(registry, { warn: (_o: object, msg: string) => void warnings.push(msg) } as never);
    const runs: number[] = [];
    const reports: number[] = [];
    let fail = false;
    loops.start({
      name: 'test tick',
      firstDelayMs: 100,
      run: async () => {
        runs.push(Date.now());
        if (fail) throw new Error('store down');
        return runs.length;
      },
      next: (n) => n * 1000,
      retryMs: 250,
      report: (n) => void reports.push(n),
    });
    const t0 = Date.now();
    await jest.advanceTimersByTimeAsync(100);
    expect(runs).toEqual([]); // the registry has not loaded: checked again every second
    registry.loaded = true;
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs.map((t) => t - t0)).toEqual([1100]);
    await jest.advanceTimersByTimeAsync(1000); // next after result 1: 1 s
    expect(runs.map((t) => t - t0)).toEqual([1100, 2100]);
    fail = true;
    await jest.advanceTimersByTimeAsync(2000); // next after result 2: 2 s; it fails
    expect(warnings).toEqual(['test tick failed; retrying']);
    await jest.advanceTimersByTimeAsync(250); // retried after retryMs
    expect(runs.map((t) => t - t0)).toEqual([1100, 2100, 4100, 4350]);
    expect(reports).toEqual([1, 2]);
    loops.stop();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(runs).toHaveLength(4);
  });

  test('stop lets the run under way finish (settled) and starts none after it', async () => {
    const loops = new TickLoops({ loaded: true }, { warn: () => undefined } as never);
    let release!: () => void;
    let runs = 0;
    loops.start({
      name: 'slow',
      firstDelayMs: 0,
      run: () => {
        runs++;
        return new Promise<void>((r) => (release = r));
      },
      next: () => 0,
      retryMs: 0,
    });
    await jest.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    loops.stop();
    let settled = false;
    const done = loops.settled().then(() => (settled = true));
    await flush();
    expect(settled).toBe(false);
    release();
    await done;
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(1);
  });
});
