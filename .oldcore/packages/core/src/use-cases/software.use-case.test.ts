// Optimistic concurrency of SoftwareService (spec §10): If-Match preconditions name one revision of
// one incarnation of a software.
import { createTestOtao, softwareBody, TEST_APP, TEST_TENANT, type TestOtao } from '../testing';
import type { Software } from '../domain/software';
import { type SoftwareRevisionRef, UNCONDITIONAL_ATTEMPTS } from './software.use-case';

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

describe('unconditional writes (no If-Match) and concurrent writers (§10)', () => {
  test('two concurrent PUTs without If-Match both succeed, applied one after the other', async () => {
    const t = createTestOtao();
    await create(t, '1.0.0');
    const [a, b] = await Promise.all([
      t.core.software.replace(TEST_TENANT, TEST_APP, '1.0.0', { rolloutStrategy: 'general', specification: { writer: 'a' } }, {}, 'a'),
      t.core.software.replace(TEST_TENANT, TEST_APP, '1.0.0', { rolloutStrategy: 'general', specification: { writer: 'b' } }, {}, 'b'),
    ]);
    expect(a.ok && b.ok).toBe(true);
    const revisions = [a, b].map((r) => (r.ok ? r.value.revision : 0)).sort();
    expect(revisions).toEqual([2, 3]);
    const last = [a, b].find((r) => r.ok && r.value.revision === 3);
    const got = await t.core.software.get(TEST_TENANT, TEST_APP, '1.0.0');
    expect(got.ok && got.value).toEqual(last?.ok && last.value);
  });

  test('a PUT landing between the read and the write of a DELETE without If-Match: the DELETE still deletes, no 412', async () => {
    const t = createTestOtao();
    await create(t, '1.0.0');
    const del = t.software.delete.bind(t.software);
    let put: Awaited<ReturnType<typeof t.core.software.replace>> | undefined;
    t.software.delete = async (...args) => {
      put ??= await t.core.software.replace(TEST_TENANT, TEST_APP, '1.0.0', { rolloutStrategy: 'suspended' }, {}, 'put');
      return del(...args);
    };
    const r = await t.core.software.delete(TEST_TENANT, TEST_APP, '1.0.0', {}, 'del');
    expect(put?.ok && put.value.revision).toBe(2);
    expect(r.ok && r.value.revision).toBe(2); // what was deleted: the software as the PUT left it
    expect((await t.core.software.get(TEST_TENANT, TEST_APP, '1.0.0')).ok).toBe(false);
  });

  test('with If-Match, a concurrent write makes the loser 412 (its tag is stale), never a silent overwrite', async () => {
    const t = createTestOtao();
    const s = await create(t, '1.0.0');
    const [a, b] = await Promise.all([
      t.core.software.replace(TEST_TENANT, TEST_APP, '1.0.0', { rolloutStrategy: 'general', specification: { writer: 'a' } }, { ifMatch: [ref(s)] }, 'a'),
      t.core.software.replace(TEST_TENANT, TEST_APP, '1.0.0', { rolloutStrategy: 'general', specification: { writer: 'b' } }, { ifMatch: [ref(s)] }, 'b'),
    ]);
    expect([a, b].filter((r) => r.ok)).toHaveLength(1);
    expect([a, b].map((r) => (r.ok ? 'ok' : r.error.code)).sort()).toEqual(['ok', 'software.precondition_failed']);
  });

  test('a writer that loses every attempt to others gets software.edit_conflict, after UNCONDITIONAL_ATTEMPTS reads', async () => {
    const t = createTestOtao();
    await create(t, '1.0.0');
    // Another writer changes the software between every read and compare-and-set of this one.
    const replace = t.software.replace.bind(t.software);
    let interleaved = 0;
    t.software.replace = async (sw, expected) => {
      if (sw.specification !== null && (sw.specification as { writer?: string }).writer === 'loser') {
        const cur = await t.software.get(TEST_TENANT, TEST_APP, '1.0.0');
        if (cur) await replace({ ...cur, revision: cur.revision + 1 }, cur.revision);
        interleaved++;
      }
      return replace(sw, expected);
    };
    const r = await t.core.software.replace(TEST_TENANT, TEST_APP, '1.0.0', { rolloutStrategy: 'general', specification: { writer: 'loser' } }, {}, 'x');
    expect(!r.ok && r.error.code).toBe('software.edit_conflict');
    expect(!r.ok && r.error.message).toMatch(/If-Match/);
    expect(interleaved).toBe(UNCONDITIONAL_ATTEMPTS);
  });
});
