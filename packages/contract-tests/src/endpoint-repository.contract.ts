import type { EndpointKey, EndpointRepository, EndpointState } from '@otao/core';
import { unique } from './shapes';
import { type SubjectFactory, suiteTest, type SuiteOptions } from './subject';

async function collect(it: AsyncIterable<readonly EndpointState[]>): Promise<EndpointState[][]> {
  const out: EndpointState[][] = [];
  for await (const b of it) out.push([...b]);
  return out;
}

/** The contract of EndpointRepository (see its TSDoc in @otao/core). */
/**
 * The cohort rule (spec §4.10) the factory builds its repositories with (`cohortOf` of the core with a
 * SHA-256): `shapes` split by cohort boundaries must agree with it.
 */
export type CohortRule = (tenantId: string, appName: string, endpointId: string) => number;

export function endpointRepositoryContract(
  name: string,
  factory: SubjectFactory<EndpointRepository> & { readonly cohortOf: CohortRule },
  options?: SuiteOptions,
): void {
  describe(`EndpointRepository contract: ${name}`, () => {
    let repo: EndpointRepository;
    let tenant: string;
    const app = 'app';
    const avn = 'app-v1';
    const key = (endpointId: string, appName = app, tenantId = tenant): EndpointKey => ({ tenantId, appName, endpointId });
    const it = suiteTest(options);

    beforeEach(async () => {
      repo = await factory.create();
      tenant = unique('t');
    });
    afterEach(async () => {
      await factory.dispose?.(repo);
    });

    it('an unknown endpoint is undefined', async () => {
      expect(await repo.get(key('nobody'))).toBeUndefined();
    });

    it('setCurrentVersion upserts a complete state', async () => {
      await repo.setCurrentVersion(key('e1'), avn, '1.0.0', 1000);
      const s = await repo.get(key('e1'));
      expect(s).toMatchObject({ tenantId: tenant, appName: app, endpointId: 'e1', appVersionName: avn, currentVersion: '1.0.0', updatedAt: 1000 });
      expect(s?.filters).toEqual([]);
      expect(s?.consents).toEqual([]);
      expect(s?.pushed).toEqual([]);
      expect(s?.offered).toEqual([]);
      expect(s?.membershipsKnown).toBe(false);
      expect(s?.lastReport).toBeUndefined();
      await repo.setCurrentVersion(key('e1'), 'app-v2', '1.1.0', 2000);
      expect(await repo.get(key('e1'))).toMatchObject({ appVersionName: 'app-v2', currentVersion: '1.1.0', updatedAt: 2000 });
    });

    it('getForPull gives the fields a pull decides with, as get has them', async () => {
      expect(await repo.getForPull(key('nobody'))).toBeUndefined();
      await repo.setCurrentVersion(key('e1'), avn, '1.0.0', 1);
      await repo.addMembership(key('e1'), avn, 'f1', 2);
      await repo.grantConsent(key('e1'), '2.0.0', 3);
      await repo.markOffered(key('e1'), '2.0.0');
      await repo.recordReport(key('e1'), avn, { configId: '1.0.0', statusCode: 200, at: 4 }, true);
      const full = await repo.get(key('e1'));
      const pull = await repo.getForPull(key('e1'));
      for (const field of ['appVersionName', 'currentVersion', 'filters', 'membershipsKnown', 'consents', 'offered', 'lastApplied'] as const)
        expect([field, pull?.[field]]).toEqual([field, full?.[field]]);
      expect(pull?.lastApplied).toEqual({ version: '1.0.0', at: 4 });
      await repo.addMembership(key('bare'), undefined, 'f1', 5);
      expect(await repo.getForPull(key('bare'))).toMatchObject({ filters: ['f1'], membershipsKnown: true, consents: [], offered: [] });
      expect((await repo.getForPull(key('bare')))?.currentVersion).toBeUndefined();
    });

    it('setAppVersionName keeps the rest', async () => {
      await repo.setCurrentVersion(key('e1'), avn, '1.0.0', 1);
      await repo.grantConsent(key('e1'), '*', 2);
      await repo.setAppVersionName(key('e1'), 'app-v9', 3);
      expect(await repo.get(key('e1'))).toMatchObject({ appVersionName: 'app-v9', currentVersion: '1.0.0', consents: ['*'] });
      await repo.setAppVersionName(key('fresh'), avn, 4);
      expect((await repo.get(key('fresh')))?.currentVersion).toBeUndefined();
    });

    it('recordReport stores the report and moves the version only when applied', async () => {
      await repo.setCurrentVersion(key('e1'), avn, '1.0.0', 1);
      await repo.recordReport(key('e1'), avn, { configId: '1.1.0', statusCode: 500, reasonPhrase: 'flash failed', at: 2 }, false);
      let s = await repo.get(key('e1'));
      expect(s?.currentVersion).toBe('1.0.0');
      expect(s?.lastReport).toEqual({ configId: '1.1.0', statusCode: 500, reasonPhrase: 'flash failed', at: 2 });
      await repo.recordReport(key('e1'), avn, { configId: '1.1.0', statusCode: 200, at: 3 }, true);
      s = await repo.get(key('e1'));
      expect(s?.currentVersion).toBe('1.1.0');
      expect(s?.lastReport).toEqual({ configId: '1.1.0', statusCode: 200, at: 3 });
      expect(s?.lastApplied).toEqual({ version: '1.1.0', at: 3 });
      await repo.recordReport(key('e1'), avn, { configId: '1.0.0', statusCode: 500, at: 4 }, false);
      expect((await repo.get(key('e1')))?.lastApplied).toEqual({ version: '1.1.0', at: 3 }); // a failure leaves it
    });

    it('memberships: add, remove, set, idempotent, memberships known', async () => {
      await repo.addMembership(key('e1'), avn, 'f1', 1);
      await repo.addMembership(key('e1'), avn, 'f1', 2);
      await repo.addMembership(key('e1'), undefined, 'f2', 3);
      let s = await repo.get(key('e1'));
      expect([...(s?.filters ?? [])].sort()).toEqual(['f1', 'f2']);
      expect(s?.membershipsKnown).toBe(true);
      expect(s?.appVersionName).toBe(avn);
      expect(s?.currentVersion).toBeUndefined();
      await repo.removeMembership(key('e1'), 'f1', 4);
      await repo.removeMembership(key('e1'), 'f1', 5);
      expect((await repo.get(key('e1')))?.filters).toEqual(['f2']);
      await repo.removeMembership(key('ghost'), 'f1', 6);
      expect(await repo.get(key('ghost'))).toBeUndefined();
      await repo.setMemberships(key('e2'), avn, ['a', 'b', 'a'], 7);
      s = await repo.get(key('e2'));
      expect([...(s?.filters ?? [])].sort()).toEqual(['a', 'b']);
      expect(s?.membershipsKnown).toBe(true);
      await repo.setMemberships(key('e2'), avn, [], 8);
      expect((await repo.get(key('e2')))?.filters).toEqual([]);
    });

    it('replaceFilterMembers makes exactly the given endpoints members', async () => {
      await repo.addMembership(key('old'), avn, 'f', 1);
      await repo.addMembership(key('old'), avn, 'g', 1);
      await repo.addMembership(key('stay'), avn, 'f', 1);
      await repo.setCurrentVersion(key('known'), avn, '1.0.0', 1);
      await repo.addMembership(key('other-app'), avn, 'f', 1);
      await repo.addMembership(key('x', 'app2'), avn, 'f', 1);
      await repo.replaceFilterMembers(
        tenant,
        app,
        'f',
        [
          { endpointId: 'stay', appVersionName: avn },
          { endpointId: 'known', appVersionName: avn },
          { endpointId: 'new', appVersionName: 'app-v2' },
        ],
        2,
      );
      expect((await repo.get(key('old')))?.filters).toEqual(['g']);
      expect((await repo.get(key('stay')))?.filters).toEqual(['f']);
      expect((await repo.get(key('known')))?.filters).toEqual(['f']);
      expect((await repo.get(key('known')))?.currentVersion).toBe('1.0.0');
      expect(await repo.get(key('new'))).toMatchObject({ filters: ['f'], appVersionName: 'app-v2' });
      expect((await repo.get(key('other-app')))?.filters).toEqual([]);
      expect((await repo.get(key('x', 'app2')))?.filters).toEqual(['f']);
    });

    it('removeFilter clears it from every endpoint of the app and forgets it was loaded', async () => {
      await repo.addMembership(key('e1'), avn, 'f', 1);
      await repo.addMembership(key('e2'), avn, 'f', 1);
      await repo.addMembership(key('e2'), avn, 'g', 1);
      await repo.addMembership(key('e3', 'app2'), avn, 'f', 1);
      await repo.markFilterLoaded(tenant, app, 'f');
      await repo.markFilterLoaded(tenant, app, 'g');
      await repo.removeFilter(tenant, app, 'f');
      expect((await repo.get(key('e1')))?.filters).toEqual([]);
      expect((await repo.get(key('e2')))?.filters).toEqual(['g']);
      expect((await repo.get(key('e3', 'app2')))?.filters).toEqual(['f']);
      expect([...(await repo.loadedFilters(tenant, app))]).toEqual(['g']);
    });

    it('loaded filters are per (tenant, app) and idempotent', async () => {
      expect((await repo.loadedFilters(tenant, app)).size).toBe(0);
      await repo.markFilterLoaded(tenant, app, 'f');
      await repo.markFilterLoaded(tenant, app, 'f');
      await repo.markFilterLoaded(tenant, 'app2', 'h');
      expect([...(await repo.loadedFilters(tenant, app))]).toEqual(['f']);
      expect([...(await repo.loadedFilters(unique('t'), app))]).toEqual([]);
    });

    it('consents: grant upserts, both idempotent', async () => {
      await repo.grantConsent(key('e1'), '1.1.0', 1);
      await repo.grantConsent(key('e1'), '1.1.0', 2);
      await repo.grantConsent(key('e1'), '*', 3);
      expect([...((await repo.get(key('e1')))?.consents ?? [])].sort()).toEqual(['*', '1.1.0']);
      await repo.revokeConsent(key('e1'), '1.1.0', 4);
      await repo.revokeConsent(key('e1'), '1.1.0', 5);
      expect((await repo.get(key('e1')))?.consents).toEqual(['*']);
      await repo.revokeConsent(key('ghost'), '*', 6);
      expect(await repo.get(key('ghost'))).toBeUndefined();
    });

    it('claimPushes: one owner at a time, the owner may claim again; release frees it; confirm records the push and the offer', async () => {
      for (const id of ['e1', 'e2', 'e3']) await repo.setCurrentVersion(key(id), avn, '1.0.0', 1);
      const claim = (ids: string[], version: string, owner: string, now: number): Promise<string[]> =>
        repo.claimPushes(tenant, app, ids, version, owner, now, 1000).then((r) => [...r].sort());
      expect(await claim(['e1', 'e2', 'ghost'], '1.1.0', 'A', 1000)).toEqual(['e1', 'e2']); // an unknown endpoint is not claimed
      expect(await repo.get(key('ghost'))).toBeUndefined();
      expect(await claim(['e1', 'e2', 'e3'], '1.1.0', 'B', 1500)).toEqual(['e3']);
      expect(await claim(['e1'], '1.1.0', 'A', 1500)).toEqual(['e1']); // a re-run of the same owner
      expect(await claim(['e1'], '1.2.0', 'B', 1500)).toEqual(['e1']); // another version
      expect((await repo.get(key('e1')))?.pushed).toEqual([]); // claimed is not pushed
      await repo.releasePushes(tenant, app, ['e1'], '1.1.0', 'B'); // not B's claim: nothing changes
      expect(await claim(['e1'], '1.1.0', 'B', 1600)).toEqual([]);
      await repo.releasePushes(tenant, app, ['e1', 'e2'], '1.1.0', 'A');
      await repo.releasePushes(tenant, app, ['e1', 'e2'], '1.1.0', 'A');
      expect(await claim(['e1', 'e2'], '1.1.0', 'B', 1600)).toEqual(['e1', 'e2']);
      await repo.markOffered(key('e2'), '1.1.0'); // e2 pulled the version meanwhile
      expect(await repo.confirmPushes(tenant, app, ['e1', 'e2', 'e3'], '1.1.0')).toBe(2); // e1 and e3 newly offered
      expect(await repo.confirmPushes(tenant, app, ['e1', 'e2', 'e3'], '1.1.0')).toBe(0);
      for (const id of ['e1', 'e2', 'e3']) expect(await repo.get(key(id))).toMatchObject({ pushed: ['1.1.0'], offered: ['1.1.0'], currentVersion: '1.0.0' });
      expect(await claim(['e1', 'e2', 'e3'], '1.1.0', 'B', 1700)).toEqual([]); // pushed: nobody claims it again
      expect(await claim(['e1'], '1.1.0', 'C', 9_999_999)).toEqual([]);
      expect(await repo.markOffered(key('e3'), '1.1.0')).toBe(false);
    });

    it('claimPushes: an endpoint offered the version (on a pull) since the push was computed is not claimed, by nobody', async () => {
      for (const id of ['e1', 'e2']) await repo.setCurrentVersion(key(id), avn, '1.0.0', 1);
      // the push computation read e1 and e2 on 1.0.0; then e1 pulled and was offered 2.0.0
      expect(await repo.markOffered(key('e1'), '2.0.0')).toBe(true);
      const claim = (owner: string, now: number): Promise<string[]> => repo.claimPushes(tenant, app, ['e1', 'e2'], '2.0.0', owner, now, 1000);
      expect(await claim('A', 1000)).toEqual(['e2']);
      expect(await claim('A', 1500)).toEqual(['e2']); // a re-run of the same owner: still not e1
      expect(await claim('B', 9000)).toEqual(['e2']); // A's claim expired: e1 still goes to nobody
      expect(await repo.get(key('e1'))).toMatchObject({ pushed: [], offered: ['2.0.0'], currentVersion: '1.0.0' });
      expect(await repo.claimPushes(tenant, app, ['e1'], '2.1.0', 'A', 6000, 1000)).toEqual(['e1']); // another version
    });

    it('an expired claim goes to another owner', async () => {
      await repo.setCurrentVersion(key('e1'), avn, '1.0.0', 1);
      const claim = (owner: string, now: number): Promise<string[]> => repo.claimPushes(tenant, app, ['e1'], '2.0.0', owner, now, 100);
      expect(await claim('dead', 0)).toEqual(['e1']);
      expect(await claim('B', 99)).toEqual([]);
      expect(await claim('B', 100)).toEqual(['e1']);
      expect(await claim('dead', 150)).toEqual([]);
    });

    it('concurrent claims of the same endpoints by different owners: each endpoint goes to exactly one', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => `c${i}`);
      for (const id of ids) await repo.setCurrentVersion(key(id), avn, '1.0.0', 1);
      const won = await Promise.all(
        Array.from({ length: 8 }, (_, o) => repo.claimPushes(tenant, app, o % 2 === 0 ? ids : [...ids].reverse(), '2.0.0', `owner-${o}`, 1000, 60_000)),
      );
      expect(won.flat().sort()).toEqual([...ids].sort());
    });

    it('markOffered is a compare-and-set', async () => {
      await repo.setCurrentVersion(key('e1'), avn, '1.0.0', 1);
      const results = await Promise.all(Array.from({ length: 6 }, () => repo.markOffered(key('e1'), '1.1.0')));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await repo.get(key('e1')))?.offered).toEqual(['1.1.0']);
    });

    it('markReportCounted is a compare-and-set per endpoint and version on its latest state, answering the previous state', async () => {
      await repo.setCurrentVersion(key('e1'), avn, '1.0.0', 1);
      const first = await Promise.all(Array.from({ length: 6 }, () => repo.markReportCounted(key('e1'), '1.1.0', true)));
      expect(first.filter(Boolean)).toEqual([{}]); // one caller, a first count
      expect(await repo.markReportCounted(key('e1'), '1.1.0', true)).toBe(false);
      expect(await repo.markReportCounted(key('e1'), '1.1.0', false)).toEqual({ previous: 'applied' }); // the state changed: its count moves
      expect(await repo.markReportCounted(key('e1'), '1.1.0', true)).toEqual({ previous: 'failed' }); // and back
      expect(await repo.markReportCounted(key('e1'), '1.2.0', true)).toEqual({}); // another version: its own state
      expect(await repo.markReportCounted(key('e1'), '1.1.0', true)).toBe(false); // still applied for 1.1.0
      expect(await repo.markReportCounted(key('e1'), '1.1.0+build', false)).toEqual({ previous: 'applied' }); // by precedence
      expect(await repo.markReportCounted(key('e2'), '1.1.0', true)).toEqual({}); // per endpoint, created when absent
      expect(await repo.markReportCounted(key('e2'), '1.1.0', true)).toBe(false);
      expect((await repo.get(key('e1')))?.currentVersion).toBe('1.0.0'); // nothing else changes
      await repo.delete(tenant, 'e2');
      expect(await repo.markReportCounted(key('e2'), '1.1.0', true)).toEqual({}); // forgotten with the endpoint
    });

    it('markReportCounted answers a retry of the same report (its token) as the first time, never another', async () => {
      expect(await repo.markReportCounted(key('e1'), '2.0.0', true, 'corr-1')).toEqual({});
      // the first mark was stored but its answer lost: the retry of the same report may count it
      expect(await repo.markReportCounted(key('e1'), '2.0.0', true, 'corr-1')).toEqual({});
      expect(await repo.markReportCounted(key('e1'), '2.0.0', true, 'corr-2')).toBe(false); // the device repeating itself
      expect(await repo.markReportCounted(key('e1'), '2.0.0', true)).toBe(false);
      const racing = await Promise.all(['a', 'b', 'c', 'd'].map((t) => repo.markReportCounted(key('e1'), '2.0.0', false, t)));
      expect(racing.filter(Boolean)).toEqual([{ previous: 'applied' }]);
      const winner = ['a', 'b', 'c', 'd'][racing.findIndex(Boolean)] as string;
      expect(await repo.markReportCounted(key('e1'), '2.0.0', false, winner)).toEqual({ previous: 'applied' });
    });

    it('markRolledBack is a compare-and-set once per endpoint and version', async () => {
      const results = await Promise.all(Array.from({ length: 6 }, () => repo.markRolledBack(key('e1'), '1.1.0')));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await repo.markRolledBack(key('e1'), '1.1.0+b')).toBe(false);
      expect(await repo.markRolledBack(key('e1'), '1.2.0')).toBe(true);
      expect(await repo.markRolledBack(key('e2'), '1.1.0')).toBe(true);
      await repo.delete(tenant, 'e2');
      expect(await repo.markRolledBack(key('e2'), '1.1.0')).toBe(true);
    });

    it('pending offers: made with an offer time, found oldest first by version and age, resolved by a report or a timeout mark', async () => {
      for (const e of ['e1', 'e2', 'e3', 'e4', 'e5']) await repo.setCurrentVersion(key(e), avn, '1.0.0', 1);
      expect(await repo.markOffered(key('e1'), '1.1.0', 100)).toBe(true);
      expect(await repo.markOffered(key('e1'), '1.1.0', 50)).toBe(false); // the first offer's time stays
      expect(await repo.markOffered(key('e2'), '1.1.0')).toBe(true); // without a time: not pending
      expect(await repo.confirmPushes(tenant, app, ['e3', 'e4', 'e5', 'e1'], '1.1.0', 200)).toBe(3);
      await repo.markOffered(key('e1'), '1.2.0', 10); // another version
      await repo.markOffered(key('e1', 'other'), '1.1.0', 10); // another app
      expect(await repo.findTimedOut(tenant, app, '1.1.0', 199, 10)).toEqual([{ endpointId: 'e1', offeredAt: 100 }]);
      const due = await repo.findTimedOut(tenant, app, '1.1.0+x', 1000, 10);
      expect(due.map((o) => o.offeredAt)).toEqual([100, 200, 200, 200]);
      expect(due.map((o) => o.endpointId).sort()).toEqual(['e1', 'e3', 'e4', 'e5']);
      expect(await repo.findTimedOut(tenant, app, '1.1.0', 1000, 2)).toHaveLength(2);
      // in (offeredAt, endpointId) order, paged by keyset: strictly after the last one read, ties included
      expect(due).toEqual([
        { endpointId: 'e1', offeredAt: 100 },
        { endpointId: 'e3', offeredAt: 200 },
        { endpointId: 'e4', offeredAt: 200 },
        { endpointId: 'e5', offeredAt: 200 },
      ]);
      expect(await repo.findTimedOut(tenant, app, '1.1.0', 1000, 2, { endpointId: 'e1', offeredAt: 100 })).toEqual([
        { endpointId: 'e3', offeredAt: 200 },
        { endpointId: 'e4', offeredAt: 200 },
      ]);
      expect(await repo.findTimedOut(tenant, app, '1.1.0', 1000, 10, { endpointId: 'e3', offeredAt: 200 })).toEqual([
        { endpointId: 'e4', offeredAt: 200 },
        { endpointId: 'e5', offeredAt: 200 },
      ]);
      expect(await repo.findTimedOut(tenant, app, '1.1.0', 1000, 10, { endpointId: 'e5', offeredAt: 200 })).toEqual([]);
      expect(await repo.findTimedOut(tenant, app, '1.1.0', 150, 10, { endpointId: 'e0', offeredAt: 100 })).toEqual([{ endpointId: 'e1', offeredAt: 100 }]);
      // e3 reported (another version) after its offer; e4 is on the version; e5 already has a counted state
      await repo.recordReport(key('e3'), avn, { configId: '0.9.0', statusCode: 500, at: 300 }, false);
      await repo.setCurrentVersion(key('e4'), avn, '1.1.0', 300);
      await repo.markReportCounted(key('e5'), '1.1.0', false);
      expect((await repo.findTimedOut(tenant, app, '1.1.0', 1000, 10)).map((o) => o.endpointId).sort()).toEqual(['e1', 'e4', 'e5']);
      const marked = await Promise.all([
        repo.markTimedOut(tenant, app, '1.1.0', ['e1', 'e3', 'e4', 'e5', 'nobody']),
        repo.markTimedOut(tenant, app, '1.1.0', ['e1']),
      ]);
      expect(marked[0] + marked[1]).toBe(1); // e1 only, once
      expect(await repo.findTimedOut(tenant, app, '1.1.0', 1000, 10)).toEqual([]); // all resolved
      expect(await repo.markTimedOut(tenant, app, '1.1.0', ['e1'])).toBe(0);
      // a report after the timeout moves the endpoint out of timedOut
      expect(await repo.markReportCounted(key('e1'), '1.1.0', true)).toEqual({ previous: 'timedOut' });
      // a report resolves every version's offers made before it, not later ones
      expect(await repo.findTimedOut(tenant, app, '1.2.0', 1000, 10)).toEqual([{ endpointId: 'e1', offeredAt: 10 }]);
      await repo.recordReport(key('e1'), avn, { configId: '1.1.0', statusCode: 200, at: 9 }, true);
      expect(await repo.findTimedOut(tenant, app, '1.2.0', 1000, 10)).toHaveLength(1);
      await repo.recordReport(key('e1'), avn, { configId: '1.1.0', statusCode: 200, at: 10 }, true);
      expect(await repo.findTimedOut(tenant, app, '1.2.0', 1000, 10)).toEqual([]);
      expect(await repo.findTimedOut(tenant, 'other', '1.1.0', 1000, 10)).toHaveLength(1);
      // deleting the endpoint or the tenant forgets its pending offers
      await repo.delete(tenant, 'e1');
      expect(await repo.findTimedOut(tenant, 'other', '1.1.0', 1000, 10)).toEqual([]);
      await repo.markOffered(key('e9'), '3.0.0', 5);
      await repo.deleteTenant(tenant);
      expect(await repo.findTimedOut(tenant, app, '3.0.0', 1000, 10)).toEqual([]);
    });

    it('delete forgets the endpoint in every app of the tenant, only there, idempotently', async () => {
      const other = unique('t');
      await repo.setCurrentVersion(key('e1'), avn, '1.0.0', 1);
      await repo.addMembership(key('e1', 'app2'), avn, 'f', 1);
      await repo.setCurrentVersion(key('e1', app, other), avn, '1.0.0', 1);
      await repo.setCurrentVersion(key('e2'), avn, '1.0.0', 1);
      await repo.delete(tenant, 'e1');
      await repo.delete(tenant, 'e1');
      expect(await repo.get(key('e1'))).toBeUndefined();
      expect(await repo.get(key('e1', 'app2'))).toBeUndefined();
      expect(await repo.get(key('e1', app, other))).toBeDefined();
      expect(await repo.get(key('e2'))).toBeDefined();
    });

    it('deleteTenant removes only that tenant', async () => {
      const other = unique('t');
      await repo.setCurrentVersion(key('e1'), avn, '1.0.0', 1);
      await repo.markFilterLoaded(tenant, app, 'f');
      await repo.setCurrentVersion(key('e1', app, other), avn, '1.0.0', 1);
      await repo.deleteTenant(tenant);
      await repo.deleteTenant(tenant);
      expect(await repo.get(key('e1'))).toBeUndefined();
      expect((await repo.loadedFilters(tenant, app)).size).toBe(0);
      expect(await repo.get(key('e1', app, other))).toBeDefined();
    });

    it('list pages by endpointId and filters by version precedence', async () => {
      for (let i = 0; i < 25; i++) await repo.setCurrentVersion(key(`e${String(i).padStart(2, '0')}`), avn, i % 2 === 0 ? '1.0.0' : '2.0.0+b', i);
      await repo.addMembership(key('zz-no-version'), avn, 'f', 1);
      const p1 = await repo.list(tenant, app, { offset: 0, limit: 10 });
      expect(p1.totalElements).toBe(26);
      expect(p1.content.map((s) => s.endpointId)).toEqual(Array.from({ length: 10 }, (_, i) => `e${String(i).padStart(2, '0')}`));
      const p3 = await repo.list(tenant, app, { offset: 20, limit: 10 });
      expect(p3.content.map((s) => s.endpointId)).toEqual(['e20', 'e21', 'e22', 'e23', 'e24', 'zz-no-version']);
      const v2 = await repo.list(tenant, app, { version: '2.0.0', offset: 0, limit: 100 });
      expect(v2.totalElements).toBe(12);
      expect(v2.content.every((s) => s.currentVersion === '2.0.0+b')).toBe(true);
      expect((await repo.list(unique('t'), app, { offset: 0, limit: 10 })).totalElements).toBe(0);
    });

    it('page gives the entries of list without the count, from the start or from the end', async () => {
      for (let i = 0; i < 25; i++) await repo.setCurrentVersion(key(`e${String(i).padStart(2, '0')}`), avn, i % 2 === 0 ? '1.0.0' : '2.0.0+b', i);
      await repo.addMembership(key('zz-no-version'), avn, 'f', 1);
      const ids = (ps: readonly EndpointState[]): string[] => ps.map((s) => s.endpointId);
      for (const [offset, limit] of [
        [0, 10],
        [7, 5],
        [20, 10],
        [26, 5],
        [30, 1],
      ] as const) {
        expect(ids(await repo.page(tenant, app, { offset, limit }))).toEqual(ids((await repo.list(tenant, app, { offset, limit })).content));
      }
      // from the end: offset 0 is the last entries, still in ascending order
      expect(ids(await repo.page(tenant, app, { offset: 0, limit: 3, fromEnd: true }))).toEqual(['e23', 'e24', 'zz-no-version']);
      expect(ids(await repo.page(tenant, app, { offset: 3, limit: 2, fromEnd: true }))).toEqual(['e21', 'e22']);
      expect(ids(await repo.page(tenant, app, { offset: 24, limit: 5, fromEnd: true }))).toEqual(['e00', 'e01']);
      expect(await repo.page(tenant, app, { offset: 26, limit: 5, fromEnd: true })).toEqual([]);
      expect(ids(await repo.page(tenant, app, { version: '2.0.0', offset: 0, limit: 2, fromEnd: true }))).toEqual(['e21', 'e23']);
      expect(ids(await repo.page(tenant, app, { version: '2.0.0', offset: 1, limit: 2 }))).toEqual(['e03', 'e05']);
      expect(await repo.page(unique('t'), app, { offset: 0, limit: 10, fromEnd: true })).toEqual([]);
    });

    it('storeCounts keeps the latest count of an application; deleteTenant removes it', async () => {
      expect(await repo.storedCounts(tenant, app)).toBeUndefined();
      const shapes = [
        { currentVersion: '1.0.0', filters: ['beta'], consents: ['2.0.0'], count: 7 },
        { filters: [], consents: [], count: 2 },
      ];
      await repo.storeCounts(tenant, app, { shapes, total: 9, countedAt: 5000 });
      expect(await repo.storedCounts(tenant, app)).toEqual({ shapes, total: 9, countedAt: 5000 });
      // an older count (a slower replica finishing later) does not replace a newer one
      await repo.storeCounts(tenant, app, { shapes: [], total: 0, countedAt: 4000 });
      expect((await repo.storedCounts(tenant, app))?.total).toBe(9);
      await repo.storeCounts(tenant, app, { shapes: [shapes[1]!], total: 2, countedAt: 6000 });
      expect(await repo.storedCounts(tenant, app)).toEqual({ shapes: [shapes[1]], total: 2, countedAt: 6000 });
      expect(await repo.storedCounts(tenant, 'other-app')).toBeUndefined();
      await repo.deleteTenant(tenant);
      expect(await repo.storedCounts(tenant, app)).toBeUndefined();
    });

    it('shapes groups the app’s endpoints by version, filters and consents, with counts', async () => {
      for (let i = 0; i < 6; i++) await repo.setCurrentVersion(key(`v1-${i}`), avn, '1.0.0', 1);
      for (let i = 0; i < 2; i++) await repo.addMembership(key(`v1-${i}`), avn, 'beta', 2);
      await repo.grantConsent(key('v1-5'), '2.0.0', 3);
      for (let i = 0; i < 3; i++) await repo.setCurrentVersion(key(`v2-${i}`), avn, '2.0.0+b', 1);
      await repo.addMembership(key('unknown'), avn, 'beta', 1);
      await repo.setCurrentVersion(key('elsewhere', unique('app')), avn, '1.0.0', 1);
      const shapes = await repo.shapes(tenant, app);
      const seen = shapes.map((s) => `${s.currentVersion ?? '-'}|${[...s.filters].sort().join(',')}|${[...s.consents].sort().join(',')}=${s.count}`).sort();
      expect(seen).toEqual(['-|beta|=1', '1.0.0||2.0.0=1', '1.0.0||=3', '1.0.0|beta|=2', '2.0.0+b||=3'].sort());
      expect(await repo.shapes(unique('t'), app)).toEqual([]);
    });

    it('shapes split by cohort boundaries: each endpoint, whichever write created it, in the bucket of its cohort', async () => {
      const boundaries = [10, 33.33, 50, 87.5];
      const bucketOf = (endpointId: string): number => {
        const c = factory.cohortOf(tenant, app, endpointId);
        return boundaries.filter((b) => c >= b).length;
      };
      // endpoints created by each kind of write
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) {
        const id = `c-${i}`;
        ids.push(id);
        const k = key(id);
        switch (i % 8) {
          case 0:
            await repo.setCurrentVersion(k, avn, '1.0.0', 1);
            break;
          case 1:
            await repo.addMembership(k, avn, 'beta', 1);
            break;
          case 2:
            await repo.grantConsent(k, '2.0.0', 1);
            break;
          case 3:
            await repo.setAppVersionName(k, avn, 1);
            break;
          case 4:
            await repo.markOffered(k, '2.0.0', 1);
            break;
          case 5:
            await repo.setMemberships(k, avn, ['beta'], 1);
            break;
          case 6:
            await repo.recordReport(k, avn, { configId: '1.0.0', statusCode: 200, at: 1 }, true);
            break;
          default:
            break;
        }
      }
      await repo.replaceFilterMembers(
        tenant,
        app,
        'gamma',
        ids.filter((_, i) => i % 8 === 7).map((endpointId) => ({ endpointId, appVersionName: avn })),
        2,
      );
      const split = await repo.shapes(tenant, app, boundaries);
      const unsplit = await repo.shapes(tenant, app);
      expect(unsplit.every((s) => s.cohortBucket === undefined)).toBe(true);
      const total = (xs: readonly { count: number }[]) => xs.reduce((n, s) => n + s.count, 0);
      expect(total(split)).toBe(40);
      expect(total(unsplit)).toBe(40);
      // per bucket, as many endpoints as the rule puts there
      const want = new Map<number, number>();
      for (const id of ids) want.set(bucketOf(id), (want.get(bucketOf(id)) ?? 0) + 1);
      const got = new Map<number, number>();
      for (const s of split) got.set(s.cohortBucket as number, (got.get(s.cohortBucket as number) ?? 0) + s.count);
      expect(got).toEqual(want);
      expect(want.size).toBeGreaterThan(2); // the ids spread over several buckets
      // and each (shape, bucket) is the unsplit shape cut by bucket: the versions agree per bucket
      const onVersion = (xs: readonly { currentVersion?: string; count: number }[]) => total(xs.filter((s) => s.currentVersion === '1.0.0'));
      expect(onVersion(split)).toBe(onVersion(unsplit));
      expect(onVersion(split)).toBeGreaterThan(0);
    });

    it('storeCounts keeps the cohort boundaries and buckets of a split count', async () => {
      const shapes = [
        { currentVersion: '1.0.0', filters: [], consents: [], count: 4, cohortBucket: 0 },
        { currentVersion: '1.0.0', filters: [], consents: [], count: 3, cohortBucket: 2 },
      ];
      await repo.storeCounts(tenant, app, { shapes, total: 7, countedAt: 5000, cohortBoundaries: [12.5, 40] });
      expect(await repo.storedCounts(tenant, app)).toEqual({ shapes, total: 7, countedAt: 5000, cohortBoundaries: [12.5, 40] });
    });

    it('stream yields every endpoint once, in batches, ordered by endpointId, optionally by filter', async () => {
      const ids = Array.from({ length: 53 }, (_, i) => `ep-${String(i).padStart(3, '0')}`);
      for (const [i, id] of [...ids].reverse().entries()) {
        await repo.setCurrentVersion(key(id), avn, '1.0.0', i);
        if (i % 3 === 0) await repo.addMembership(key(id), avn, 'f3', i);
      }
      await repo.setCurrentVersion(key('elsewhere', 'app2'), avn, '1.0.0', 1);
      const batches = await collect(repo.stream(tenant, app, { batchSize: 10 }));
      expect(batches.every((b) => b.length > 0 && b.length <= 10)).toBe(true);
      expect(batches.flat().map((s) => s.endpointId)).toEqual(ids);
      const members = (await collect(repo.stream(tenant, app, { batchSize: 7, filterId: 'f3' }))).flat();
      expect(members.length).toBe(18);
      expect(members.every((s) => s.filters.includes('f3'))).toBe(true);
      expect(members.map((s) => s.endpointId)).toEqual([...members.map((s) => s.endpointId)].sort());
      expect(await collect(repo.stream(unique('t'), app, { batchSize: 10 }))).toEqual([]);
    });

    it('two clients hammering one endpoint lose no update: the end state is the serial one, 100 runs in a row', async () => {
      // Spec §10: a revoked consent stays revoked, both of two filter matches are kept, the last
      // applied report wins. Each client runs its own sequence (each call awaited), both at once,
      // on different fields of the same record; a store that rewrites whole records loses some.
      const other = (await factory.twin?.(repo)) ?? repo;
      const runs = 100;
      const failures: string[] = [];
      for (let run = 0; run < runs; run++) {
        const k = key(`hammer-${run}`);
        await repo.setCurrentVersion(k, avn, '1.0.0', 0);
        const consents = async (): Promise<void> => {
          for (let i = 0; i < 4; i++) {
            await repo.grantConsent(k, `2.${i}.0`, 1);
            await repo.grantConsent(k, '*', 1);
            await repo.revokeConsent(k, '*', 1);
          }
          await repo.revokeConsent(k, '2.1.0', 1);
        };
        const memberships = async (): Promise<void> => {
          for (let i = 0; i < 4; i++) {
            await other.addMembership(k, avn, `f${i}`, 1);
            await other.addMembership(k, avn, 'flip', 1);
            await other.removeMembership(k, 'flip', 1);
          }
          await other.removeMembership(k, 'f2', 1);
        };
        const reports = async (): Promise<void> => {
          for (let i = 1; i <= 6; i++) await other.recordReport(k, avn, { configId: `1.${i}.0`, statusCode: 200, at: i }, true);
          await repo.recordReport(k, avn, { configId: '1.7.0', statusCode: 500, at: 7 }, false);
        };
        const offers = async (): Promise<void> => {
          for (let i = 0; i < 4; i++) await repo.markOffered(k, `3.${i}.0`);
        };
        await Promise.all([consents(), memberships(), reports(), offers()]);
        const s = await repo.get(k);
        const got = {
          consents: [...(s?.consents ?? [])].sort(),
          filters: [...(s?.filters ?? [])].sort(),
          currentVersion: s?.currentVersion,
          lastReport: s?.lastReport?.configId,
          offered: [...(s?.offered ?? [])].sort(),
        };
        const want = {
          consents: ['2.0.0', '2.2.0', '2.3.0'],
          filters: ['f0', 'f1', 'f3'],
          currentVersion: '1.6.0',
          lastReport: '1.7.0',
          offered: ['3.0.0', '3.1.0', '3.2.0', '3.3.0'],
        };
        if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`run ${run}: ${JSON.stringify(got)}`);
      }
      expect(failures).toEqual([]);
    });

    it('endpoint ids with unusual characters are kept as they are', async () => {
      for (const id of ['a.b', '$x', 'ü-ß', 'with space', 'x'.repeat(300)]) {
        await repo.setCurrentVersion(key(id), avn, '1.0.0', 1);
        expect((await repo.get(key(id)))?.endpointId).toBe(id);
      }
    });
  });
}
