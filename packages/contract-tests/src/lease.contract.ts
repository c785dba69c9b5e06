import type { Lease } from '@otao/core';
import { unique } from './shapes';
import { type SubjectFactory, suiteTest, type SuiteOptions } from './subject';

/** The contract of Lease (leader election for rollout dates, and its checkpoint). */
export function leaseContract(name: string, factory: SubjectFactory<Lease>, options?: SuiteOptions): void {
  describe(`Lease contract: ${name}`, () => {
    let lease: Lease;
    let n: string;
    const it = suiteTest(options);
    beforeEach(async () => {
      lease = await factory.create();
      n = unique('lease');
    });
    afterEach(async () => {
      await factory.dispose?.(lease);
    });

    it('a free lease is acquired; others are refused until it expires', async () => {
      expect(await lease.tryAcquire(n, 'a', 1000, 10_000)).toBe(true);
      expect(await lease.tryAcquire(n, 'b', 1000, 10_500)).toBe(false);
      expect(await lease.tryAcquire(n, 'a', 1000, 10_900)).toBe(true); // renewal
      expect(await lease.tryAcquire(n, 'b', 1000, 11_500)).toBe(false); // renewed until 11 900
      expect(await lease.tryAcquire(n, 'b', 1000, 12_000)).toBe(true); // expired: taken over
      expect(await lease.tryAcquire(n, 'a', 1000, 12_100)).toBe(false);
    });

    it('release frees the lease, only for its holder', async () => {
      expect(await lease.tryAcquire(n, 'a', 60_000, 0)).toBe(true);
      await lease.release(n, 'b');
      expect(await lease.tryAcquire(n, 'b', 60_000, 1)).toBe(false);
      await lease.release(n, 'a');
      await lease.release(n, 'a');
      expect(await lease.tryAcquire(n, 'b', 60_000, 2)).toBe(true);
    });

    it('concurrent contenders: exactly one wins', async () => {
      const won = await Promise.all(Array.from({ length: 8 }, (_, i) => lease.tryAcquire(n, `r${i}`, 60_000, 1000)));
      expect(won.filter(Boolean)).toHaveLength(1);
    });

    it('leases are independent by name', async () => {
      expect(await lease.tryAcquire(n, 'a', 60_000, 0)).toBe(true);
      expect(await lease.tryAcquire(`${n}-2`, 'b', 60_000, 0)).toBe(true);
    });

    it('checkpoints are stored per name', async () => {
      expect(await lease.getCheckpoint(n)).toBeUndefined();
      await lease.setCheckpoint(n, 1_800_000_000_123);
      await lease.setCheckpoint(`${n}-x`, 5);
      expect(await lease.getCheckpoint(n)).toBe(1_800_000_000_123);
      await lease.setCheckpoint(n, 7);
      expect(await lease.getCheckpoint(n)).toBe(7);
    });
  });
}
