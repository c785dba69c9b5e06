import type { JobQueue } from '@otao/core';
import { unique } from './shapes';
import { type SubjectFactory, suiteTest, type SuiteOptions } from './subject';

/** The contract of JobQueue (durable background work shared by replicas). */
export function jobQueueContract(name: string, factory: SubjectFactory<JobQueue>, options?: SuiteOptions): void {
  describe(`JobQueue contract: ${name}`, () => {
    let q: JobQueue;
    let k: string;
    const it = suiteTest(options);
    // Each test uses far-future times of its own so suites sharing one store do not see each other's jobs claimable.
    let t0: number;
    beforeEach(async () => {
      q = await factory.create();
      k = unique('key');
      t0 = 4_000_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1_000_000;
      // drain anything claimable at our times (jobs of earlier tests in a shared store)
      for (let j = await q.claim('drain', t0 + 900_000, 1); j; j = await q.claim('drain', t0 + 900_000, 1)) await q.complete(j.id);
    });
    afterEach(async () => {
      await factory.dispose?.(q);
    });

    it('enqueue, claim, complete', async () => {
      const id = await q.enqueue('pushes', k, '{"a":1}', t0);
      const job = await q.claim('r1', t0 + 1, 10_000);
      expect(job).toEqual({ id, kind: 'pushes', key: k, payload: '{"a":1}', attempts: 1 });
      expect(await q.claim('r2', t0 + 2, 10_000)).toBeUndefined();
      await q.complete(id);
      await q.complete(id);
      expect(await q.claim('r2', t0 + 3, 10_000)).toBeUndefined();
    });

    it('jobs are claimed oldest first', async () => {
      const a = await q.enqueue('pushes', `${k}-a`, 'a', t0);
      const b = await q.enqueue('pushes', `${k}-b`, 'b', t0 + 1);
      expect((await q.claim('r', t0 + 5, 1000))?.id).toBe(a);
      expect((await q.claim('r', t0 + 5, 1000))?.id).toBe(b);
    });

    it('a waiting job with the same key absorbs a new one; a running one does not', async () => {
      const a = await q.enqueue('pushes', k, 'first', t0);
      expect(await q.enqueue('pushes', k, 'second', t0 + 1)).toBe(a);
      const job = await q.claim('r1', t0 + 2, 10_000);
      expect(job?.id).toBe(a);
      const b = await q.enqueue('pushes', k, 'third', t0 + 3);
      expect(b).not.toBe(a);
      expect((await q.claim('r2', t0 + 4, 10_000))?.payload).toBe('third');
    });

    it('an expired claim is taken over; the old holder cannot renew it', async () => {
      const id = await q.enqueue('pushes', k, 'p', t0);
      expect((await q.claim('dead', t0, 1000))?.id).toBe(id);
      expect(await q.renew(id, 'dead', t0 + 500, 1000)).toBe(true); // until t0+1500
      expect(await q.claim('r2', t0 + 1400, 1000)).toBeUndefined();
      const again = await q.claim('r2', t0 + 1600, 1000);
      expect(again).toMatchObject({ id, attempts: 2 });
      expect(await q.renew(id, 'dead', t0 + 1700, 1000)).toBe(false);
      expect(await q.renew(id, 'r2', t0 + 1700, 1000)).toBe(true);
    });

    it('release makes a failed job claimable again from retryAt', async () => {
      const id = await q.enqueue('pushes', k, 'p', t0);
      await q.claim('r1', t0, 60_000);
      await q.release(id, 'r1', t0 + 5000);
      expect(await q.claim('r2', t0 + 4000, 1000)).toBeUndefined();
      expect((await q.claim('r2', t0 + 5000, 1000))?.id).toBe(id);
      expect(await q.size()).toBeGreaterThanOrEqual(1);
    });
  });
}
