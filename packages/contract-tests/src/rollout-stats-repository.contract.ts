import type { RolloutStatsRepository } from '@otao/core';
import { unique } from './shapes';
import { type SubjectFactory, suiteTest, type SuiteOptions } from './subject';

/** The contract of RolloutStatsRepository. */
export function rolloutStatsRepositoryContract(name: string, factory: SubjectFactory<RolloutStatsRepository>, options?: SuiteOptions): void {
  describe(`RolloutStatsRepository contract: ${name}`, () => {
    let repo: RolloutStatsRepository;
    let tenant: string;
    const it = suiteTest(options);
    beforeEach(async () => {
      repo = await factory.create();
      tenant = unique('t');
    });
    afterEach(async () => {
      await factory.dispose?.(repo);
    });

    it('counts start at zero', async () => {
      expect(await repo.get(tenant, 'app', '1.0.0')).toEqual({ offered: 0, applied: 0, failed: 0 });
    });

    it('increment returns the counts after it, per counter', async () => {
      expect(await repo.increment(tenant, 'app', '1.0.0', 'offered')).toEqual({ offered: 1, applied: 0, failed: 0 });
      expect(await repo.increment(tenant, 'app', '1.0.0', 'failed')).toEqual({ offered: 1, applied: 0, failed: 1 });
      expect(await repo.increment(tenant, 'app', '1.0.0', 'applied')).toEqual({ offered: 1, applied: 1, failed: 1 });
      expect(await repo.get(tenant, 'app', '1.0.0')).toEqual({ offered: 1, applied: 1, failed: 1 });
    });

    it('versions count by precedence; tenants, apps and versions are separate', async () => {
      await repo.increment(tenant, 'app', '1.0.0+a', 'applied');
      await repo.increment(tenant, 'app', '1.0.0+b', 'applied');
      await repo.increment(tenant, 'app', '2.0.0', 'applied');
      await repo.increment(tenant, 'other', '1.0.0', 'applied');
      expect((await repo.get(tenant, 'app', '1.0.0')).applied).toBe(2);
      expect((await repo.get(tenant, 'app', '2.0.0')).applied).toBe(1);
      expect((await repo.get(unique('t'), 'app', '1.0.0')).applied).toBe(0);
    });

    it('concurrent increments are never lost', async () => {
      const n = 200;
      const results = await Promise.all(Array.from({ length: n }, (_, i) => repo.increment(tenant, 'app', '1.0.0', i % 2 === 0 ? 'applied' : 'failed')));
      expect(await repo.get(tenant, 'app', '1.0.0')).toEqual({ offered: 0, applied: n / 2, failed: n / 2 });
      // every increment saw a distinct total
      expect(new Set(results.map((r) => r.applied + r.failed)).size).toBe(n);
    });

    it('delete and deleteTenant forget counts, idempotently', async () => {
      const other = unique('t');
      await repo.increment(tenant, 'app', '1.0.0', 'offered');
      await repo.increment(tenant, 'app', '2.0.0', 'offered');
      await repo.increment(other, 'app', '1.0.0', 'offered');
      await repo.delete(tenant, 'app', '1.0.0');
      await repo.delete(tenant, 'app', '1.0.0');
      expect((await repo.get(tenant, 'app', '1.0.0')).offered).toBe(0);
      expect((await repo.get(tenant, 'app', '2.0.0')).offered).toBe(1);
      await repo.deleteTenant(tenant);
      expect((await repo.get(tenant, 'app', '2.0.0')).offered).toBe(0);
      expect((await repo.get(other, 'app', '1.0.0')).offered).toBe(1);
    });
  });
}
