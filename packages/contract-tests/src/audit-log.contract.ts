import type { AuditLog, AuditRecord } from '@otao/core';
import { unique } from './shapes';
import { type SubjectFactory, suiteTest, type SuiteOptions } from './subject';

const T0 = 1_800_000_000_000;

/** A committed entry of `tenantId`/`app` at `T0 + at`; overrides for the rest. */
function entry(tenantId: string, at: number, overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id: unique('audit'),
    at: T0 + at,
    tenantId,
    appName: 'app',
    actor: { type: 'user', id: 'sub-alice', name: 'alice' },
    action: 'software.updated',
    version: '1.0.0',
    correlationId: unique('corr'),
    state: 'committed',
    ...overrides,
  };
}

/** The entry as a reader sees it: without state and witness. */
function seen(r: AuditRecord): unknown {
  const { state: _s, witness: _w, ...e } = r;
  return e;
}

/**
 * The contract of AuditLog (spec §4.13): append-only entries scoped by tenant; pending entries
 * invisible to readers until committed; newest-first pages with exact-match filters; retention and
 * the reconciler's queries in batches across tenants.
 */
export function auditLogContract(name: string, factory: SubjectFactory<AuditLog>, options?: SuiteOptions): void {
  describe(`AuditLog contract: ${name}`, () => {
    let log: AuditLog;
    let tenant: string;
    const it = suiteTest(options);
    const all = (tenantId: string, more: Partial<Parameters<AuditLog['page']>[0]> = {}) =>
      log.page({ tenantId, appName: 'app', offset: 0, limit: 1000, ...more });
    beforeEach(async () => {
      log = await factory.create();
      tenant = unique('t');
    });
    afterEach(async () => {
      await factory.dispose?.(log);
    });

    it('an entry round-trips whole (changes with any JSON, actor, endpoint), without its state', async () => {
      const e = entry(tenant, 1, {
        endpointId: 'ep-ü/1',
        changes: {
          'a.b': { old: { $set: 1 }, new: null },
          specification: { new: { size: 10, sha256: 'ab'.repeat(32) } },
          filters: { old: [{ filterId: 'f', rolloutDate: 5 }] },
        },
        witness: { kind: 'software', createdAt: 7 },
      });
      await log.append(e);
      expect(await all(tenant)).toEqual({ content: [seen(e)], totalElements: 1 });
    });

    it('append is idempotent on id', async () => {
      const e = entry(tenant, 1);
      await log.append(e);
      await log.append({ ...e, correlationId: 'other' });
      expect((await all(tenant)).content).toEqual([seen(e)]);
    });

    it('newest first (at, then id), paginated with offset and limit, totalElements of all pages', async () => {
      const es = [3, 1, 4, 2, 5].map((at) => entry(tenant, at * 1000));
      const tie = entry(tenant, 4000, { id: `zzz-${unique('x')}` });
      for (const e of [...es, tie]) await log.append(e);
      const p = await log.page({ tenantId: tenant, appName: 'app', offset: 1, limit: 3 });
      expect(p.totalElements).toBe(6);
      expect(p.content.map((e) => e.at - T0)).toEqual([4000, 4000, 3000]);
      expect(p.content[0]!.id).toBe(tie.id); // same time: id descending
      expect((await log.page({ tenantId: tenant, appName: 'app', offset: 6, limit: 3 })).content).toEqual([]);
    });

    it('filters: version, endpointId, action, actor (id or name), since (inclusive), until (exclusive); all must hold', async () => {
      const a = entry(tenant, 1000, { action: 'consent.granted', endpointId: 'ep-1', version: '*' });
      const b = entry(tenant, 2000, { version: '2.0.0', actor: { type: 'client', id: 'ci-bot' } });
      const c = entry(tenant, 3000, { action: 'software.created', version: '2.0.0' });
      for (const e of [a, b, c]) await log.append(e);
      const ids = async (more: object) => (await all(tenant, more)).content.map((e) => e.id);
      expect(await ids({ version: '2.0.0' })).toEqual([c.id, b.id]);
      expect(await ids({ endpointId: 'ep-1' })).toEqual([a.id]);
      expect(await ids({ action: 'software.created' })).toEqual([c.id]);
      expect(await ids({ actor: 'ci-bot' })).toEqual([b.id]);
      expect(await ids({ actor: 'alice' })).toEqual([c.id, a.id]);
      expect(await ids({ actor: 'sub-alice' })).toEqual([c.id, a.id]);
      expect(await ids({ since: T0 + 2000 })).toEqual([c.id, b.id]);
      expect(await ids({ until: T0 + 2000 })).toEqual([a.id]);
      expect(await ids({ since: T0 + 1000, until: T0 + 3000, version: '2.0.0' })).toEqual([b.id]);
      expect((await all(tenant, { version: '2.0.0', action: 'consent.granted' })).totalElements).toBe(0);
    });

    it('tenants and applications are separate', async () => {
      const other = unique('t');
      await log.append(entry(tenant, 1));
      await log.append(entry(tenant, 2, { appName: 'app2' }));
      await log.append(entry(other, 3));
      expect((await all(tenant)).totalElements).toBe(1);
      expect((await all(other)).totalElements).toBe(1);
      expect((await log.page({ tenantId: tenant, appName: 'app2', offset: 0, limit: 10 })).totalElements).toBe(1);
    });

    it('pending entries are invisible until committed; discard removes only pending ones; both idempotent', async () => {
      const p = entry(tenant, 1, { state: 'pending', witness: { kind: 'consent', granted: true } });
      const q = entry(tenant, 2, { state: 'pending' });
      const c = entry(tenant, 3);
      for (const e of [p, q, c]) await log.append(e);
      expect((await all(tenant)).content.map((e) => e.id)).toEqual([c.id]);
      await log.commit(tenant, [p.id, 'unknown-id']);
      await log.commit(tenant, [p.id]);
      await log.commit(unique('t'), [q.id]); // another tenant's commit does nothing
      expect((await all(tenant)).content.map((e) => e.id)).toEqual([c.id, p.id]);
      await log.discard(tenant, c.id); // committed: kept
      await log.discard(tenant, q.id);
      await log.discard(tenant, q.id);
      await log.commit(tenant, [q.id]); // gone: nothing to commit
      expect((await all(tenant)).content.map((e) => e.id)).toEqual([c.id, p.id]);
    });

    it('pending(): pending entries of every tenant before a time, oldest first, with their witness, in batches', async () => {
      const other = unique('t');
      // times far in the past so that other tests' entries (same storage) sort after these
      const old = (t: string, at: number) => entry(t, -1e12 + at, { state: 'pending', witness: { kind: 'software-gone', createdAt: at } });
      const e1 = old(tenant, 1);
      const e2 = old(other, 2);
      const e3 = old(tenant, 3);
      for (const e of [e3, e1, e2, entry(tenant, -1e12 + 4)]) await log.append(e);
      const mine = (rs: AuditRecord[]) => rs.filter((r) => r.tenantId === tenant || r.tenantId === other).map((r) => r.id);
      expect(mine(await log.pending(T0 - 1e12 + 3, 100))).toEqual([e1.id, e2.id]);
      const firstTwo = await log.pending(T0 - 1e12 + 10, 2);
      expect(firstTwo).toHaveLength(2);
      expect(mine(await log.pending(T0 - 1e12 + 10, 100))).toEqual([e1.id, e2.id, e3.id]);
      expect((await log.pending(T0 - 1e12 + 10, 100)).find((r) => r.id === e1.id)).toEqual(e1);
    });

    it('prune deletes entries before a time, oldest first, at most `limit` per call, any tenant and state', async () => {
      const other = unique('t');
      const base = -2e12; // before anything other tests store
      const es = [entry(tenant, base + 1), entry(other, base + 2, { state: 'pending' }), entry(tenant, base + 3), entry(tenant, base + 10)];
      for (const e of es) await log.append(e);
      let n = 0;
      for (let round = 0; round < 10; round++) {
        const k = await log.prune(T0 + base + 5, 2);
        expect(k).toBeLessThanOrEqual(2);
        n += k;
        if (k < 2) break;
      }
      expect(n).toBeGreaterThanOrEqual(3);
      expect((await all(tenant)).content.map((e) => e.at - T0)).toEqual([base + 10]);
      expect((await all(other)).totalElements).toBe(0);
      expect(await log.prune(T0 + base + 5, 2)).toBe(0);
    });

    it('deleteTenant removes every entry of the tenant but its tenant.deleted entries; idempotent', async () => {
      const other = unique('t');
      const { version: _v, ...gone } = entry(tenant, 5, { appName: '*', action: 'tenant.deleted' });
      for (const e of [entry(tenant, 1), entry(tenant, 2, { state: 'pending' }), entry(other, 3), gone]) await log.append(e);
      await log.deleteTenant(tenant);
      await log.deleteTenant(tenant);
      expect((await all(tenant)).totalElements).toBe(0);
      expect((await log.page({ tenantId: tenant, appName: '*', offset: 0, limit: 10 })).content.map((e) => e.action)).toEqual(['tenant.deleted']);
      expect((await all(other)).totalElements).toBe(1);
    });

    it('concurrent appends are all kept', async () => {
      const es = Array.from({ length: 50 }, (_, i) => entry(tenant, i));
      await Promise.all(es.map((e) => log.append(e)));
      expect((await all(tenant)).totalElements).toBe(50);
    });
  });
}
