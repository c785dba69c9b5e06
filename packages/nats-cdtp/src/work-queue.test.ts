import { WorkQueue } from './work-queue';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('runs at most maxConcurrent tasks at once and all of them eventually', async () => {
    const q = new WorkQueue(3, 100);
    let running = 0;
    let peak = 0;
    let done = 0;
    const gates = Array.from({ length: 10 }, () => deferred());
    for (const g of gates) {
      q.offer(async () => {
        running++;
        peak = Math.max(peak, running);
        await g.promise;
        running--;
        done++;
      });
    }
    expect(q.active).toBe(3);
    expect(q.queued).toBe(7);
    for (const g of gates) g.resolve();
    await q.idle();
    expect(done).toBe(10);
    expect(peak).toBe(3);
  });

  it('refuses tasks beyond maxQueued', () => {
    const q = new WorkQueue(1, 2);
    const never = new Promise<void>(() => undefined);
    expect(q.offer(() => never)).toBe(true); // runs
    expect(q.offer(() => never)).toBe(true); // waits
    expect(q.offer(() => never)).toBe(true); // waits
    expect(q.offer(() => never)).toBe(false);
  });

  it('keeps tasks of one key in order while other keys proceed', async () => {
    const q = new WorkQueue(4, 100);
    const order: string[] = [];
    const a1 = deferred();
    q.offer(async () => {
      await a1.promise;
      order.push('a1');
    }, 'a');
    q.offer(async () => {
      order.push('a2');
    }, 'a');
    q.offer(async () => {
      order.push('b1');
    }, 'b');
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['b1']); // a2 waits behind a1 although slots are free
    a1.resolve();
    await q.idle();
    expect(order).toEqual(['b1', 'a1', 'a2']);
  });

  it('a failing task is reported and does not block its key', async () => {
    const errors: unknown[] = [];
    const q = new WorkQueue(1, 10, (e) => errors.push(e));
    const ran: string[] = [];
    q.offer(async () => {
      throw new Error('boom');
    }, 'k');
    q.offer(() => {
      throw new Error('sync boom');
    }, 'k');
    q.offer(async () => {
      ran.push('third');
    }, 'k');
    await q.idle();
    expect(ran).toEqual(['third']);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom', 'sync boom']);
  });

  it('idle resolves at once when empty', async () => {
    await expect(new WorkQueue(1, 1).idle()).resolves.toBeUndefined();
  });
});
