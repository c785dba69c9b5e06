// Optimistic concurrency of SoftwareService (spec §10): If-Match preconditions name one revision of
// one incarnation of a software.
import { createTestOtao, softwareBody, TEST_APP, TEST_TENANT, type TestOtao } from '../testing';
import type { Software } from '../domain/software';
import type { SoftwareRevisionRef } from './software.use-case';

async function create(t: TestOtao, version: string, overrides: Parameters<typeof softwareBody>[2] = {}): Promise<Software> {
  const r = await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody(version, [], overrides), `create-${version}`);
  if (!r.ok) throw new Error(`create ${version}: ${r.error.code}`);
  return r.value;
}

const ref = (s: Software): SoftwareRevisionRef => ({ createdAt: s.createdAt, revision: s.revision });

describe('preconditions name an incarnation, not only a revision (§10)', () => {
  test('a deleted and re-created version is another software: revisions of the old one never match it', async () => {
    const t = createTestOtao();
    const old = await create(t, '1.0.0', { specification: { old: true } });
    expect((await t.core.software.delete(TEST_TENANT, TEST_APP, '1.0.0', { ifMatch: [ref(old)] }, 'del')).ok).toBe(true);
    t.clock.advance(1);
    const reborn = await create(t, '1.0.0', { specification: { reborn: true } });
    expect(reborn.revision).toBe(old.revision);
    expect(ref(reborn)).not.toEqual(ref(old));

    const put = await t.core.software.replace(TEST_TENANT, TEST_APP, '1.0.0', { rolloutStrategy: 'suspended' }, { ifMatch: [ref(old)] }, 'put');
    expect(!put.ok && put.error.code).toBe('software.precondition_failed');
    const del = await t.core.software.delete(TEST_TENANT, TEST_APP, '1.0.0', { ifMatch: [ref(old)] }, 'del');
    expect(!del.ok && del.error.code).toBe('software.precondition_failed');
    const got = await t.core.software.get(TEST_TENANT, TEST_APP, '1.0.0');
    expect(got.ok && got.value.specification).toEqual({ reborn: true });

    // One of several named revisions is enough; the current one works.
    const ok = await t.core.software.replace(TEST_TENANT, TEST_APP, '1.0.0', { rolloutStrategy: 'suspended' }, { ifMatch: [ref(old), ref(reborn)] }, 'put');
    expect(ok.ok && ok.value.revision).toBe(2);
  });

  test('an empty list of revisions (a header naming nothing OTAO issued) never matches', async () => {
    const t = createTestOtao();
    await create(t, '1.0.0');
    const put = await t.core.software.replace(TEST_TENANT, TEST_APP, '1.0.0', { rolloutStrategy: 'suspended' }, { ifMatch: [] }, 'put');
    expect(!put.ok && put.error.code).toBe('software.precondition_failed');
  });
});
