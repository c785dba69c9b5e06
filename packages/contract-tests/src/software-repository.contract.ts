import type { Software, SoftwareRepository } from '@otao/core';
import { HOSTILE_JSON, software, unique, viaJson } from './shapes';
import { type SubjectFactory, suiteTest, type SuiteOptions } from './subject';

/** The contract of SoftwareRepository (see its TSDoc in @otao/core). */
export function softwareRepositoryContract(name: string, factory: SubjectFactory<SoftwareRepository>, options?: SuiteOptions): void {
  describe(`SoftwareRepository contract: ${name}`, () => {
    let repo: SoftwareRepository;
    let tenant: string;
    const app = 'app';

    beforeEach(async () => {
      repo = await factory.create();
      tenant = unique('t');
    });
    afterEach(async () => {
      await factory.dispose?.(repo);
    });

    const it = suiteTest(options);

    it('create then get returns an equal software', async () => {
      const s = software(tenant, app, '1.0.0', { upgradableFrom: ['0.9.0', '>=0.1.0 <0.9.0'], metadata: { owner: 'ops' } });
      expect(await repo.create(s)).toBe('created');
      expect(viaJson(await repo.get(tenant, app, '1.0.0'))).toEqual(viaJson(s));
    });

    it('the catalogue revision moves with every change of the app, never back, and only for that app', async () => {
      const seen: number[] = [await repo.catalogueRevision(tenant, app)];
      const other = await repo.catalogueRevision(tenant, 'other');
      const step = async (what: () => Promise<unknown>): Promise<void> => {
        await what();
        const r = await repo.catalogueRevision(tenant, app);
        expect(seen).not.toContain(r);
        seen.push(r);
      };
      await step(() => repo.create(software(tenant, app, '1.0.0')));
      await step(() => repo.replace(software(tenant, app, '1.0.0', { revision: 2 }), 1));
      await step(() => repo.delete(tenant, app, '1.0.0'));
      await step(() => repo.create(software(tenant, app, '1.0.0'))); // re-created: a new value, not an old one
      await step(() => repo.deleteTenant(tenant));
      await step(() => repo.create(software(tenant, app, '1.0.0')));
      expect(await repo.catalogueRevision(tenant, 'other')).toBe(other);
      expect(await repo.replace(software(tenant, app, '1.0.0', { revision: 9 }), 7)).toBe('revision_mismatch');
      expect(await repo.catalogueRevision(tenant, app)).toBe(seen[seen.length - 1]); // a refused change moves nothing
    });

    it('get of an absent version is undefined, not an error', async () => {
      expect(await repo.get(tenant, app, '9.9.9')).toBeUndefined();
    });

    it('versions conflict by SemVer precedence: 1.0.0+a and 1.0.0+b are the same software', async () => {
      expect(await repo.create(software(tenant, app, '1.0.0+a'))).toBe('created');
      expect(await repo.create(software(tenant, app, '1.0.0+b'))).toBe('conflict');
      expect(await repo.create(software(tenant, app, '1.0.0'))).toBe('conflict');
      expect((await repo.get(tenant, app, '1.0.0+zzz'))?.version).toBe('1.0.0+a');
    });

    it('list is ordered by SemVer precedence ascending, prereleases before releases', async () => {
      for (const v of ['1.10.0', '1.2.0', '1.0.0', '1.0.0-rc.1', '1.0.0-alpha', '2.0.0', '1.0.0-rc.10', '1.0.0-rc.2']) {
        expect(await repo.create(software(tenant, app, v))).toBe('created');
      }
      expect((await repo.list(tenant, app)).map((s) => s.version)).toEqual([
        '1.0.0-alpha',
        '1.0.0-rc.1',
        '1.0.0-rc.2',
        '1.0.0-rc.10',
        '1.0.0',
        '1.2.0',
        '1.10.0',
        '2.0.0',
      ]);
    });

    it('list of an application without software is empty', async () => {
      expect(await repo.list(tenant, 'nothing-here')).toEqual([]);
    });

    it('tenants and applications are isolated', async () => {
      const other = unique('t');
      await repo.create(software(tenant, app, '1.0.0', { specification: { mine: true } }));
      await repo.create(software(other, app, '1.0.0', { specification: { theirs: true } }));
      await repo.create(software(tenant, 'app2', '2.0.0'));
      expect((await repo.get(tenant, app, '1.0.0'))?.specification).toEqual({ mine: true });
      expect((await repo.get(other, app, '1.0.0'))?.specification).toEqual({ theirs: true });
      expect((await repo.list(tenant, app)).map((s) => s.version)).toEqual(['1.0.0']);
      expect(await repo.get(other, 'app2', '2.0.0')).toBeUndefined();
    });

    test.each(HOSTILE_JSON.map((h) => [h.name, h.value] as const))('specification and metadata stored losslessly: %s', async (_n, value) => {
      const s = software(tenant, app, '1.0.0', { specification: value, metadata: value });
      expect(await repo.create(s)).toBe('created');
      const got = await repo.get(tenant, app, '1.0.0');
      expect(JSON.stringify(got?.specification)).toBe(JSON.stringify(value));
      expect(JSON.stringify(got?.metadata)).toBe(JSON.stringify(value));
      const listed = (await repo.list(tenant, app))[0];
      expect(JSON.stringify(listed?.specification)).toBe(JSON.stringify(value));
    });

    it('optional fields round-trip and stay absent when absent', async () => {
      const full = software(tenant, app, '1.0.0', {
        rolloutStrategy: 'targeted',
        filters: [{ filterId: 'f1', rolloutDate: 1_800_000_000_000 }, { filterId: 'f2' }],
        failurePolicy: { maxFailureRate: 0.25, minReports: 10 },
        file: { name: 'fw.bin', size: 123, sha256: 'ab'.repeat(32), contentType: 'application/octet-stream', uploadedAt: 1_700_000_000_500 },
        suspendedReason: 'why',
      });
      await repo.create(full);
      expect(viaJson(await repo.get(tenant, app, '1.0.0'))).toEqual(viaJson(full));
      const bare = software(tenant, app, '2.0.0');
      await repo.create(bare);
      const got = await repo.get(tenant, app, '2.0.0');
      expect(got).toBeDefined();
      for (const k of ['file', 'failurePolicy', 'suspendedReason'] as const) expect(got && k in got && got[k] !== undefined).toBe(false);
      expect(got?.filters).toEqual([]);
      expect(got?.filters.every((f) => !('rolloutDate' in f) || f.rolloutDate !== undefined)).toBe(true);
    });

    it('replace is a compare-and-set on the revision', async () => {
      const s = software(tenant, app, '1.0.0');
      await repo.create(s);
      const v2 = { ...s, revision: 2, rolloutStrategy: 'suspended' as const, updatedAt: s.updatedAt + 1 };
      expect(await repo.replace(v2, 1)).toBe('replaced');
      expect(await repo.replace({ ...s, revision: 2, specification: { stale: true } }, 1)).toBe('revision_mismatch');
      const got = await repo.get(tenant, app, '1.0.0');
      expect(got?.revision).toBe(2);
      expect(got?.rolloutStrategy).toBe('suspended');
      expect(await repo.replace(software(tenant, app, '3.0.0', { revision: 2 }), 1)).toBe('not_found');
    });

    it('replace can remove optional fields', async () => {
      const s = software(tenant, app, '1.0.0', { suspendedReason: 'x', failurePolicy: { maxFailureRate: 0.5, minReports: 2 } });
      await repo.create(s);
      const { suspendedReason: _r, failurePolicy: _f, ...rest } = s;
      expect(await repo.replace({ ...rest, revision: 2 }, 1)).toBe('replaced');
      const got = await repo.get(tenant, app, '1.0.0');
      expect(got?.suspendedReason).toBeUndefined();
      expect(got?.failurePolicy).toBeUndefined();
    });

    it('concurrent replaces of one revision: exactly one wins', async () => {
      await repo.create(software(tenant, app, '1.0.0'));
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, i) => repo.replace(software(tenant, app, '1.0.0', { revision: 2, specification: { writer: i } }), 1)),
      );
      expect(outcomes.filter((o) => o === 'replaced')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'revision_mismatch')).toHaveLength(7);
    });

    it('delete honours the expected revision and is reported when absent', async () => {
      await repo.create(software(tenant, app, '1.0.0', { revision: 3 }));
      expect(await repo.delete(tenant, app, '1.0.0', 2)).toBe('revision_mismatch');
      expect(await repo.get(tenant, app, '1.0.0')).toBeDefined();
      expect(await repo.delete(tenant, app, '1.0.0', 3)).toBe('deleted');
      expect(await repo.delete(tenant, app, '1.0.0')).toBe('not_found');
      await repo.create(software(tenant, app, '2.0.0'));
      expect(await repo.delete(tenant, app, '2.0.0')).toBe('deleted');
      expect(await repo.list(tenant, app)).toEqual([]);
    });

    it('replace and delete are compare-and-set on the incarnation (createdAt) too: a re-created version is another software', async () => {
      const old = software(tenant, app, '1.0.0', { createdAt: 1_700_000_000_000 });
      await repo.create(old);
      expect(await repo.delete(tenant, app, '1.0.0', 1, old.createdAt)).toBe('deleted');
      const reborn = software(tenant, app, '1.0.0', { createdAt: 1_700_000_000_001, specification: { reborn: true } });
      await repo.create(reborn);
      // Same version, same revision 1, but the earlier incarnation: neither write may touch it.
      expect(await repo.replace({ ...old, revision: 2, specification: { stale: true } }, 1)).toBe('revision_mismatch');
      expect(await repo.delete(tenant, app, '1.0.0', 1, old.createdAt)).toBe('revision_mismatch');
      expect((await repo.get(tenant, app, '1.0.0'))?.specification).toEqual({ reborn: true });
      expect(await repo.delete(tenant, app, '1.0.0', 1, reborn.createdAt)).toBe('deleted');
    });

    it('deleteTenant removes only that tenant, idempotently', async () => {
      const other = unique('t');
      await repo.create(software(tenant, app, '1.0.0'));
      await repo.create(software(tenant, 'b', '1.0.0'));
      await repo.create(software(other, app, '1.0.0'));
      await repo.deleteTenant(tenant);
      await repo.deleteTenant(tenant);
      expect(await repo.list(tenant, app)).toEqual([]);
      expect(await repo.list(tenant, 'b')).toEqual([]);
      expect(await repo.list(other, app)).toHaveLength(1);
    });

    it('listTargeted returns the targeted software of every tenant', async () => {
      const other = unique('t');
      await repo.create(software(tenant, app, '1.0.0', { rolloutStrategy: 'targeted', filters: [{ filterId: 'f' }] }));
      await repo.create(software(other, app, '2.0.0', { rolloutStrategy: 'targeted', filters: [{ filterId: 'g', rolloutDate: 5 }] }));
      await repo.create(software(tenant, app, '3.0.0', { rolloutStrategy: 'general' }));
      const mine = (await repo.listTargeted()).filter((s) => s.tenantId === tenant || s.tenantId === other);
      expect(mine.map((s) => `${s.tenantId === tenant ? 'a' : 'b'}:${s.version}`).sort()).toEqual(['a:1.0.0', 'b:2.0.0']);
      expect(mine.find((s) => s.version === '2.0.0')?.filters).toEqual([{ filterId: 'g', rolloutDate: 5 }]);
    });

    it('listWindowed returns the non-suspended software with a maintenance window, of every tenant, and follows replaces', async () => {
      const other = unique('t');
      const window = { timeZone: 'Europe/Berlin', start: '22:00', end: '04:00', days: ['sat' as const] };
      await repo.create(software(tenant, app, '1.0.0', { maintenanceWindow: window }));
      await repo.create(software(other, app, '2.0.0', { rolloutStrategy: 'targeted', filters: [{ filterId: 'f' }], maintenanceWindow: window }));
      await repo.create(software(tenant, app, '3.0.0', { rolloutStrategy: 'suspended', maintenanceWindow: window }));
      await repo.create(software(tenant, app, '4.0.0'));
      const mine = async () =>
        (await repo.listWindowed())
          .filter((s) => s.tenantId === tenant || s.tenantId === other)
          .map((s) => `${s.tenantId === tenant ? 'a' : 'b'}:${s.version}`)
          .sort();
      expect(await mine()).toEqual(['a:1.0.0', 'b:2.0.0']);
      expect((await repo.listWindowed()).find((s) => s.tenantId === tenant && s.version === '1.0.0')?.maintenanceWindow).toEqual(window);
      // suspending removes it, a window added by a replace adds it
      const v1 = (await repo.get(tenant, app, '1.0.0')) as Software;
      expect(await repo.replace({ ...v1, rolloutStrategy: 'suspended', revision: v1.revision + 1 }, v1.revision)).toBe('replaced');
      const v4 = (await repo.get(tenant, app, '4.0.0')) as Software;
      expect(await repo.replace({ ...v4, maintenanceWindow: window, revision: v4.revision + 1 }, v4.revision)).toBe('replaced');
      expect(await mine()).toEqual(['a:4.0.0', 'b:2.0.0']);
    });

    it('listPhased returns the phased software that is not suspended, of every tenant, and follows each change', async () => {
      const other = unique('t');
      const phases = [
        { percent: 10, soakMinutes: 60 },
        { percent: 100, soakMinutes: 0 },
      ];
      const phase = { index: 0, openedAt: 1_700_000_000_000, hold: false };
      await repo.create(software(tenant, app, '1.0.0', { phases, phase }));
      await repo.create(software(other, app, '2.0.0', { rolloutStrategy: 'targeted', filters: [{ filterId: 'f' }], phases, phase }));
      await repo.create(software(tenant, app, '3.0.0', { rolloutStrategy: 'suspended', phases, phase })); // suspended: not listed
      await repo.create(software(tenant, app, '4.0.0')); // not phased
      const listed = async (): Promise<string[]> =>
        (await repo.listPhased())
          .filter((s) => s.tenantId === tenant || s.tenantId === other)
          .map((s) => `${s.tenantId === tenant ? 'a' : 'b'}:${s.version}`)
          .sort();
      expect(await listed()).toEqual(['a:1.0.0', 'b:2.0.0']);
      expect((await repo.listPhased()).find((s) => s.tenantId === tenant && s.version === '1.0.0')).toEqual(
        viaJson(software(tenant, app, '1.0.0', { phases, phase })),
      );
      // suspending, resuming, adding and removing phases, deleting: listPhased follows
      expect(await repo.replace(software(tenant, app, '1.0.0', { phases, phase, rolloutStrategy: 'suspended', revision: 2 }), 1)).toBe('replaced');
      expect(await repo.replace(software(tenant, app, '3.0.0', { phases, phase, revision: 2 }), 1)).toBe('replaced');
      expect(await repo.replace(software(tenant, app, '4.0.0', { phases, phase, revision: 2 }), 1)).toBe('replaced');
      expect(await listed()).toEqual(['a:3.0.0', 'a:4.0.0', 'b:2.0.0']);
      expect(await repo.replace(software(tenant, app, '4.0.0', { revision: 3 }), 2)).toBe('replaced');
      expect(await repo.delete(other, app, '2.0.0')).toBe('deleted');
      expect(await listed()).toEqual(['a:3.0.0']);
    });
  });
}
