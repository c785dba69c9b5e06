import { type RolloutStatsRepository, ZERO_COUNTS } from '@otao/core';
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
      expect(await repo.get(tenant, 'app', '1.0.0')).toEqual(ZERO_COUNTS);
    });

    it('increment returns the counts after it, per counter', async () => {
      expect(await repo.increment(tenant, 'app', '1.0.0', 'offered')).toEqual({ ...ZERO_COUNTS, offered: 1 });
      expect(await repo.increment(tenant, 'app', '1.0.0', 'failed')).toEqual({ ...ZERO_COUNTS, offered: 1, failed: 1 });
      expect(await repo.increment(tenant, 'app', '1.0.0', 'applied')).toEqual({ ...ZERO_COUNTS, offered: 1, applied: 1, failed: 1 });
      expect(await repo.increment(tenant, 'app', '1.0.0', 'timedOut', 3)).toEqual({ offered: 1, applied: 1, failed: 1, timedOut: 3, rolledBack: 0 });
      expect(await repo.increment(tenant, 'app', '1.0.0', 'rolledBack')).toEqual({ offered: 1, applied: 1, failed: 1, timedOut: 3, rolledBack: 1 });
      expect(await repo.get(tenant, 'app', '1.0.0')).toEqual({ offered: 1, applied: 1, failed: 1, timedOut: 3, rolledBack: 1 });
      expect(await repo.move(tenant, 'app', '1.0.0', 'timedOut', 'applied')).toEqual({ offered: 1, applied: 2, failed: 1, timedOut: 2, rolledBack: 1 });
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
      expect(await repo.get(tenant, 'app', '1.0.0')).toEqual({ ...ZERO_COUNTS, applied: n / 2, failed: n / 2 });
      // every increment saw a distinct total
      expect(new Set(results.map((r) => r.applied + r.failed)).size).toBe(n);
    });

    it('concurrent moves and increments are never lost', async () => {
      await repo.increment(tenant, 'app', '1.0.0', 'failed', 50);
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          i % 2 === 0 ? repo.move(tenant, 'app', '1.0.0', 'failed', 'applied') : repo.increment(tenant, 'app', '1.0.0', 'offered'),
        ),
      );
      expect(await repo.get(tenant, 'app', '1.0.0')).toEqual({ ...ZERO_COUNTS, offered: 25, applied: 25, failed: 25 });
    });

    it('history: every change lands in its minute and hour bucket; queried by range, oldest first', async () => {
      const h0 = Date.UTC(2026, 0, 1, 10);
      await repo.increment(tenant, 'app', '1.0.0', 'offered', 5, h0 + 10_000);
      await repo.increment(tenant, 'app', '1.0.0', 'offered', 2, h0 + 50_000);
      await repo.increment(tenant, 'app', '1.0.0', 'timedOut', 1, h0 + 61_000);
      await repo.move(tenant, 'app', '1.0.0', 'timedOut', 'failed', h0 + 3_600_000 + 1);
      await repo.increment(tenant, 'app', '2.0.0', 'offered', 9, h0); // another version
      await repo.increment(unique('t'), 'app', '1.0.0', 'offered', 9, h0); // another tenant
      const minute = await repo.history(tenant, 'app', '1.0.0+b', { bucket: 'minute', since: h0, until: h0 + 2 * 3_600_000 });
      expect(minute).toEqual([
        { ...ZERO_COUNTS, start: h0, offered: 7 },
        { ...ZERO_COUNTS, start: h0 + 60_000, timedOut: 1 },
        { ...ZERO_COUNTS, start: h0 + 3_600_000, timedOut: -1, failed: 1 },
      ]);
      expect(await repo.history(tenant, 'app', '1.0.0', { bucket: 'minute', since: h0 + 60_000, until: h0 + 3_600_000 })).toEqual([
        { ...ZERO_COUNTS, start: h0 + 60_000, timedOut: 1 },
      ]);
      expect(await repo.history(tenant, 'app', '1.0.0', { bucket: 'hour', since: 0, until: h0 + 86_400_000 })).toEqual([
        { ...ZERO_COUNTS, start: h0, offered: 7, timedOut: 1 },
        { ...ZERO_COUNTS, start: h0 + 3_600_000, timedOut: -1, failed: 1 },
      ]);
      // retention: minute buckets 48 h, hour buckets 90 days
      await repo.prune(h0 + 48 * 3_600_000 + 90_000);
      expect(await repo.history(tenant, 'app', '1.0.0', { bucket: 'minute', since: 0, until: h0 + 86_400_000 })).toEqual([
        { ...ZERO_COUNTS, start: h0 + 3_600_000, timedOut: -1, failed: 1 },
      ]);
      expect(await repo.history(tenant, 'app', '1.0.0', { bucket: 'hour', since: 0, until: h0 + 86_400_000 })).toHaveLength(2);
      await repo.prune(h0 + 92 * 86_400_000);
      expect(await repo.history(tenant, 'app', '1.0.0', { bucket: 'hour', since: 0, until: h0 + 86_400_000 })).toEqual([]);
      await repo.increment(tenant, 'app', '1.0.0', 'applied', 1, h0);
      await repo.delete(tenant, 'app', '1.0.0');
      expect(await repo.history(tenant, 'app', '1.0.0', { bucket: 'hour', since: 0, until: h0 + 86_400_000 })).toEqual([]);
    });

    it('active: the software offered since a time, with counts, most recent first', async () => {
      const t0 = 4_000_000_000_000; // far ahead of other tests' times
      await repo.increment(tenant, 'app', '1.0.0', 'offered', 1, t0 + 1000);
      await repo.increment(tenant, 'app', '1.0.0', 'applied', 1, t0 + 5000); // not an offer: lastOfferedAt stays
      await repo.increment(tenant, 'app', '2.0.0+x', 'offered', 2, t0 + 2000);
      await repo.increment(tenant, 'app', '3.0.0', 'applied', 1, t0 + 3000); // never offered
      await repo.increment(tenant, 'app', '0.1.0', 'offered', 1, t0 - 1000);
      const active = (await repo.active(t0, 100)).filter((a) => a.tenantId === tenant);
      expect(active).toEqual([
        { tenantId: tenant, appName: 'app', version: '2.0.0', counts: { ...ZERO_COUNTS, offered: 2 }, lastOfferedAt: t0 + 2000 },
        { tenantId: tenant, appName: 'app', version: '1.0.0', counts: { ...ZERO_COUNTS, offered: 1, applied: 1 }, lastOfferedAt: t0 + 1000 },
      ]);
      expect(await repo.active(t0, 1)).toHaveLength(1);
      await repo.deleteTenant(tenant);
      expect((await repo.active(t0, 100)).filter((a) => a.tenantId === tenant)).toEqual([]);
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
