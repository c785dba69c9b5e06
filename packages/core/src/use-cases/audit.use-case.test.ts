import { actorOfToken, ANONYMOUS_ACTOR, type Actor, jsonSummary, OTAO_ACTOR } from '../domain/audit';
import type { Software } from '../domain/software';
import { OtaoError } from '../domain/errors';
import { createTestOtao, softwareBody, TEST_APP, TEST_APP_VERSION, TEST_TENANT, type TestOtao } from '../testing';

const ALICE: Actor = { type: 'user', id: 'sub-alice', name: 'alice' };
const page = async (t: TestOtao, filters: Record<string, unknown> = {}) => {
  const r = await t.core.audit.page(TEST_TENANT, TEST_APP, { offset: 0, limit: 100, ...filters });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const MIN = 60_000;

/** Lets the reconciler see every pending entry (older than its delay), then runs one maintenance round. */
async function reconcileLater(t: TestOtao) {
  t.clock.advance(t.core.options.auditReconcileAfterMs + 1);
  return t.core.audit.maintain('replica-1');
}

/** A software repository whose next write is stored and then fails (the answer is lost; or the process died right after). */
function loseNextAnswer(t: TestOtao, method: 'create' | 'replace' | 'delete'): void {
  const repo = t.software as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const original = repo[method]!.bind(t.software);
  repo[method] = async (...args: unknown[]) => {
    repo[method] = original;
    await original(...args);
    throw new OtaoError('store.unavailable', `${method}: answer lost`);
  };
}

describe('entries of each change (spec §4.13)', () => {
  test('software created, updated (changed fields old/new, specification summarised), deleted: actor and correlation id', async () => {
    const t = createTestOtao();
    const spec = { url: 'https://secret.example/fw', token: 'top-secret-token' };
    expect((await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('1.0.0', [], { specification: spec }), 'c-1', ALICE)).ok).toBe(true);
    t.clock.advance(1000);
    const next = softwareBody('1.0.0', [], { specification: { ...spec, extra: 1 }, rolloutStrategy: 'suspended' });
    expect((await t.core.software.replace(TEST_TENANT, TEST_APP, '1.0.0', next, {}, 'c-2', ALICE)).ok).toBe(true);
    t.clock.advance(1000);
    expect((await t.core.software.delete(TEST_TENANT, TEST_APP, '1.0.0', {}, 'c-3', ALICE)).ok).toBe(true);

    const { content, totalElements } = await page(t);
    expect(totalElements).toBe(3);
    expect(content.map((e) => [e.action, e.correlationId, e.version])).toEqual([
      ['software.deleted', 'c-3', '1.0.0'],
      ['software.updated', 'c-2', '1.0.0'],
      ['software.created', 'c-1', '1.0.0'],
    ]);
    expect(content.every((e) => e.actor.id === 'sub-alice' && e.actor.type === 'user' && e.tenantId === TEST_TENANT && e.appName === TEST_APP)).toBe(true);
    const updated = content[1]!;
    expect(updated.changes).toEqual({
      rolloutStrategy: { old: 'general', new: 'suspended' },
      specification: { old: jsonSummary(t.sha256, spec), new: jsonSummary(t.sha256, { ...spec, extra: 1 }) },
    });
    expect(jsonSummary(t.sha256, spec)).toEqual({ size: JSON.stringify(spec).length, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // never the content
    expect(JSON.stringify(t.audit.all())).not.toContain('top-secret-token');
    expect(JSON.stringify(t.audit.all())).not.toContain('secret.example');
    expect(t.audit.all().every((r) => r.state === 'committed')).toBe(true);
  });

  test('consent granted and revoked name the endpoint and the version', async () => {
    const t = createTestOtao();
    await t.core.consents.grant(TEST_TENANT, TEST_APP, 'ep-1', '*', 'c-g', ALICE);
    t.clock.advance(1);
    await t.core.consents.revoke(TEST_TENANT, TEST_APP, 'ep-1', '*', 'c-r', ALICE);
    expect((await page(t)).content.map((e) => [e.action, e.endpointId, e.version, e.correlationId])).toEqual([
      ['consent.revoked', 'ep-1', '*', 'c-r'],
      ['consent.granted', 'ep-1', '*', 'c-g'],
    ]);
    expect((await page(t, { endpointId: 'ep-2' })).totalElements).toBe(0);
  });

  test('file uploaded, replaced, deleted: name, size and hash, never the bytes or the object key', async () => {
    const t = createTestOtao({ withFiles: true });
    await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('1.0.0'), 'c-0', ALICE);
    const body = (text: string) =>
      (async function* () {
        yield new TextEncoder().encode(text);
      })();
    const files = t.core.files!;
    expect(
      (await files.upload(TEST_TENANT, TEST_APP, '1.0.0', { name: 'a.bin', body: body('firmware-bytes-one'), correlationId: 'c-1', actor: ALICE })).ok,
    ).toBe(true);
    t.clock.advance(1);
    expect(
      (await files.upload(TEST_TENANT, TEST_APP, '1.0.0', { name: 'b.bin', body: body('firmware-bytes-two'), correlationId: 'c-2', actor: ALICE })).ok,
    ).toBe(true);
    t.clock.advance(1);
    expect((await files.remove(TEST_TENANT, TEST_APP, '1.0.0', 'c-3', ALICE)).ok).toBe(true);
    const { content } = await page(t);
    expect(content.map((e) => e.action)).toEqual(['file.deleted', 'file.replaced', 'file.uploaded', 'software.created']);
    expect(content[1]!.changes).toEqual({
      file: {
        old: expect.objectContaining({ name: 'a.bin', size: 18 }),
        new: expect.objectContaining({ name: 'b.bin', size: 18, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }),
      },
    });
    const text = JSON.stringify(t.audit.all());
    expect(text).not.toContain('firmware-bytes');
    expect(text).not.toContain('objectKey');
  });

  test('auto-suspension by the failure policy: actor otao, with the counts', async () => {
    const t = createTestOtao();
    await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('1.0.0'), 'c-0', ALICE);
    await t.core.software.create(
      TEST_TENANT,
      TEST_APP,
      softwareBody('1.1.0', ['1.0.0'], { failurePolicy: { maxFailureRate: 0.5, minReports: 2 } }),
      'c-1',
      ALICE,
    );
    for (const [ep, code] of [
      ['e1', 500],
      ['e2', 500],
    ] as const) {
      await t.core.reports.applied({ appVersionName: TEST_APP_VERSION, endpointId: ep, configId: '1.1.0', statusCode: code, correlationId: `r-${ep}` });
    }
    const [suspended] = (await page(t, { action: 'software.suspended' })).content;
    expect(suspended).toMatchObject({ actor: OTAO_ACTOR, version: '1.1.0', correlationId: 'r-e2' });
    expect(suspended!.changes).toMatchObject({
      rolloutStrategy: { old: 'general', new: 'suspended' },
      counts: { new: { applied: 0, failed: 2, failureRate: 1 } },
    });
  });

  test('tenant deleted (21/TLE): actor otao, application *, the only entry of the tenant that stays', async () => {
    const t = createTestOtao();
    await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('1.0.0'), 'c-0', ALICE);
    await t.core.tenants.removed(TEST_TENANT, 'tle-1');
    expect((await page(t)).totalElements).toBe(0);
    expect(t.audit.all()).toEqual([
      expect.objectContaining({ action: 'tenant.deleted', appName: '*', actor: OTAO_ACTOR, correlationId: 'tle-1', state: 'committed' }),
    ]);
  });

  test('the REST-less default actor is otao', async () => {
    const t = createTestOtao();
    await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('1.0.0'), 'c-0');
    expect((await page(t)).content[0]!.actor).toEqual(OTAO_ACTOR);
  });
});

describe('a change that is stored is audited, even across a crash', () => {
  test('the entry cannot be written: the change is not made', async () => {
    const t = createTestOtao();
    t.audit.failNext('append');
    await expect(t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('1.0.0'), 'c-1', ALICE)).rejects.toThrow(OtaoError);
    expect(await t.software.get(TEST_TENANT, TEST_APP, '1.0.0')).toBeUndefined();
    t.audit.failNext('append');
    await expect(t.core.consents.grant(TEST_TENANT, TEST_APP, 'ep-1', '*', 'c-2', ALICE)).rejects.toThrow(OtaoError);
    expect(await t.endpoints.get({ tenantId: TEST_TENANT, appName: TEST_APP, endpointId: 'ep-1' })).toBeUndefined();
  });

  test('stored, then the process dies before the commit: readers do not see it yet; the reconciler commits it', async () => {
    const t = createTestOtao();
    loseNextAnswer(t, 'create');
    await expect(t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('1.0.0'), 'c-1', ALICE)).rejects.toThrow(OtaoError);
    expect(await t.software.get(TEST_TENANT, TEST_APP, '1.0.0')).toBeDefined();
    expect(t.audit.all()).toEqual([expect.objectContaining({ state: 'pending', action: 'software.created' })]);
    expect((await page(t)).totalElements).toBe(0);
    // too young for the reconciler: its writer may still be running
    expect(await t.core.audit.maintain('replica-1')).toMatchObject({ ran: true, committed: 0, discarded: 0 });
    expect(await reconcileLater(t)).toMatchObject({ committed: 1, discarded: 0 });
    expect((await page(t)).content).toEqual([expect.objectContaining({ action: 'software.created', actor: ALICE, correlationId: 'c-1' })]);
  });

  test('the commit fails after the change: the caller succeeds, the entry is committed later', async () => {
    const t = createTestOtao();
    t.audit.failNext('commit');
    expect((await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('1.0.0'), 'c-1', ALICE)).ok).toBe(true);
    expect((await page(t)).totalElements).toBe(0);
    await reconcileLater(t);
    expect((await page(t)).totalElements).toBe(1);
  });

  test('not stored (the store failed before the write): the reconciler discards the entry', async () => {
    const t = createTestOtao();
    await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('1.0.0'), 'c-0', ALICE);
    const repo = t.software as unknown as { replace: (...a: unknown[]) => Promise<unknown> };
    const original = repo.replace.bind(t.software);
    repo.replace = async () => {
      repo.replace = original;
      throw new OtaoError('store.unavailable', 'replace: store down');
    };
    await expect(
      t.core.software.replace(TEST_TENANT, TEST_APP, '1.0.0', softwareBody('1.0.0', [], { rolloutStrategy: 'suspended' }), {}, 'c-1', ALICE),
    ).rejects.toThrow(OtaoError);
    expect(t.audit.all().filter((r) => r.state === 'pending')).toHaveLength(1);
    expect(await reconcileLater(t)).toMatchObject({ committed: 0, discarded: 1 });
    expect((await page(t)).content.map((e) => e.action)).toEqual(['software.created']);
    expect(t.audit.all().every((r) => r.state === 'committed')).toBe(true);
  });

  test('stored, died before the commit, then changed again before the reconciler ran: the later write commits the earlier one', async () => {
    const t = createTestOtao();
    await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('1.0.0'), 'c-0', ALICE);
    loseNextAnswer(t, 'replace');
    await expect(
      t.core.software.replace(TEST_TENANT, TEST_APP, '1.0.0', softwareBody('1.0.0', [], { rolloutStrategy: 'suspended' }), {}, 'c-1', ALICE),
    ).rejects.toThrow(OtaoError);
    await t.core.software.replace(TEST_TENANT, TEST_APP, '1.0.0', softwareBody('1.0.0', [], { rolloutStrategy: 'general' }), {}, 'c-2', ALICE);
    expect((await page(t)).content.map((e) => e.correlationId)).toEqual(['c-2', 'c-1', 'c-0']);
    // and a delete after a lost answer: the incarnation is gone, so it was applied
    loseNextAnswer(t, 'delete');
    await expect(t.core.software.delete(TEST_TENANT, TEST_APP, '1.0.0', {}, 'c-3', ALICE)).rejects.toThrow(OtaoError);
    await reconcileLater(t);
    expect((await page(t)).content.map((e) => e.correlationId)).toEqual(['c-3', 'c-2', 'c-1', 'c-0']);
  });

  test('a consent stored before a crash is committed; one never stored is discarded', async () => {
    const t = createTestOtao();
    t.audit.failNext('commit');
    await t.core.consents.grant(TEST_TENANT, TEST_APP, 'ep-1', '1.0.0', 'c-1', ALICE);
    t.endpoints.faults.unavailable = true;
    await expect(t.core.consents.grant(TEST_TENANT, TEST_APP, 'ep-2', '1.0.0', 'c-2', ALICE)).rejects.toThrow(OtaoError);
    t.endpoints.faults.unavailable = false;
    expect(await reconcileLater(t)).toMatchObject({ committed: 1, discarded: 1 });
    expect((await page(t)).content.map((e) => e.endpointId)).toEqual(['ep-1']);
  });

  test('a tenant deletion interrupted midway is finished by the reconciler, then committed', async () => {
    const t = createTestOtao();
    await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('1.0.0'), 'c-0', ALICE);
    t.stats.faults.unavailable = true;
    await expect(t.core.tenants.removed(TEST_TENANT, 'tle-1')).rejects.toThrow(OtaoError);
    t.stats.faults.unavailable = false;
    expect(t.audit.all().find((r) => r.action === 'tenant.deleted')?.state).toBe('pending');
    expect(await reconcileLater(t)).toMatchObject({ committed: 1 });
    expect(t.audit.all()).toEqual([expect.objectContaining({ action: 'tenant.deleted', state: 'committed' })]);
    expect(await t.software.list(TEST_TENANT, TEST_APP)).toEqual([]);
  });
});

describe('reading, retention and the actor', () => {
  test('filters, pagination, newest first, validation', async () => {
    const t = createTestOtao();
    for (let i = 0; i < 5; i++) {
      await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody(`1.${i}.0`), `c-${i}`, i % 2 === 0 ? ALICE : { type: 'client', id: 'ci-bot' });
      t.clock.advance(MIN);
    }
    const start = Date.parse('2026-01-01T00:00:00Z');
    expect((await page(t, { offset: 1, limit: 2 })).content.map((e) => e.version)).toEqual(['1.3.0', '1.2.0']);
    expect((await page(t, { actor: 'ci-bot' })).content.map((e) => e.version)).toEqual(['1.3.0', '1.1.0']);
    expect((await page(t, { actor: 'alice' })).totalElements).toBe(3);
    expect((await page(t, { version: '1.2.0' })).totalElements).toBe(1);
    expect((await page(t, { since: start + MIN, until: start + 3 * MIN })).content.map((e) => e.version)).toEqual(['1.2.0', '1.1.0']);
    expect((await page(t, { action: 'software.deleted' })).totalElements).toBe(0);
    for (const bad of [{ action: 'software.exploded' }, { limit: 0 }, { limit: 1001 }, { offset: -1 }, { since: 2, until: 1 }, { actor: '' }]) {
      const r = await t.core.audit.page(TEST_TENANT, TEST_APP, { offset: 0, limit: 100, ...bad });
      expect(r).toMatchObject({ ok: false, error: { code: 'request.invalid' } });
    }
    expect(await t.core.audit.page(TEST_TENANT, 'teapot', { offset: 0, limit: 10 })).toMatchObject({ ok: false, error: { code: 'application.not_found' } });
  });

  test('retention: entries older than the retention are pruned in batches, under the lease', async () => {
    const t = createTestOtao({ auditRetentionMs: 10 * MIN, auditBatchSize: 2 });
    for (let i = 0; i < 5; i++) await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody(`1.${i}.0`), `c-${i}`, ALICE);
    t.clock.advance(5 * MIN);
    await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('2.0.0'), 'c-new', ALICE);
    t.clock.advance(6 * MIN);
    expect(await t.core.audit.maintain('replica-2')).toMatchObject({ ran: true });
    expect(await t.core.audit.maintain('replica-1')).toEqual({ ran: false, committed: 0, discarded: 0, pruned: 0 }); // another holds the lease
    expect((await page(t)).content.map((e) => e.correlationId)).toEqual(['c-new']);
  });

  test('the actor of a token: user, client credentials, service account; anonymous with authentication off', () => {
    expect(actorOfToken('u-1', { sub: 'u-1', preferred_username: 'alice', azp: 'otao-console' })).toEqual({ type: 'user', id: 'u-1', name: 'alice' });
    expect(actorOfToken('s-1', { sub: 's-1', azp: 'ci', client_id: 'ci', preferred_username: 'service-account-ci' })).toEqual({
      type: 'client',
      id: 'ci',
      name: 'service-account-ci',
    });
    expect(actorOfToken('s-1', { sub: 's-1', azp: 'ci', preferred_username: 'service-account-ci' })).toEqual({
      type: 'client',
      id: 'ci',
      name: 'service-account-ci',
    });
    expect(actorOfToken('', { azp: 'machine' })).toEqual({ type: 'client', id: 'machine' });
    expect(actorOfToken('bob', {})).toEqual({ type: 'user', id: 'bob' });
    expect(ANONYMOUS_ACTOR.type).toBe('user');
  });

  test('the stored software carries the id of the change that wrote it', async () => {
    const t = createTestOtao();
    const r = await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('1.0.0'), 'c-1', ALICE);
    const stored = (await t.software.get(TEST_TENANT, TEST_APP, '1.0.0')) as Software;
    expect(r.ok && r.value.changeId).toBe(stored.changeId);
    expect(t.audit.all()[0]!.id).toBe(stored.changeId);
  });
});
