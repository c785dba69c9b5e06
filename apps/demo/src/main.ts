// A terminal demo of @otao/core deciding a rollout, over the in-memory fakes: no services needed.
// It tells the story of one fleet: a chain of releases, a targeted rollout with staggered dates,
// consent, a chained upgrade by push, and a bad release suspended by its failure policy.
import { formatKaaDate, type ConfigDecision } from '@otao/core';
import { createTestOtao, endpointState } from '@otao/core/testing';

const TENANT = 'demo';
const APP = 'smart-kettle';
const AVN = 'smart-kettle-v1';

const line = (s: string): void => console.log(s);
const show = (ep: string, d: ConfigDecision): string =>
  !d.ok
    ? `${ep} pulls -> refused: ${d.error.message}`
    : d.value.outcome === 'new'
      ? `${ep} pulls -> offered ${d.value.configId} ${d.value.content}`
      : `${ep} pulls -> ${d.value.outcome === 'none' ? 'no software available' : 'unchanged'}`;

async function main(): Promise<void> {
  const t = createTestOtao({ apps: [{ tenantId: TENANT, appName: APP, versions: [AVN] }], start: '2026-11-27T09:00:00Z' });
  const at = (): string => formatKaaDate(t.clock.now());
  const create = async (body: Record<string, unknown>): Promise<void> => {
    const r = await t.core.software.create(TENANT, APP, body, 'demo');
    line(
      r.ok
        ? `  + software ${r.value.version} (${r.value.rolloutStrategy}) upgradable from [${r.value.upgradableFrom.join(', ')}]`
        : `  ! refused: ${r.error.code}: ${r.error.message}`,
    );
    await t.drain();
    for (const p of t.publisher.pushes.splice(0)) line(`    push -> ${p.endpointId}: ConfigUpdated ${p.version}`);
  };

  line(`OTAO core demo: tenant "${TENANT}", application "${APP}" (${at()})`);
  line('1. A chain of releases, with a dead-end branch');
  await create({ version: '1.0.1', upgradableFrom: ['1.0.0'], rolloutStrategy: 'general', specification: { link: 'https://example.com/1.0.1.bin' } });
  await create({ version: '1.5.0-beta.1', upgradableFrom: ['1.0.0'], rolloutStrategy: 'general', specification: { channel: 'beta' } });
  await create({ version: '1.1.0', upgradableFrom: ['>=1.0.1 <1.1.0'], rolloutStrategy: 'general', specification: {} });
  await create({ version: '2.0.0', upgradableFrom: ['1.1.0'], rolloutStrategy: 'general', specification: { major: 2 } });
  await create({ version: '1.0.0', upgradableFrom: ['2.0.0'], rolloutStrategy: 'general' });

  line('2. Devices pull (6/CDTP ConfigRequest); OTAO plans the shortest path to the highest version');
  for (const ep of ['kettle-1', 'kettle-2']) {
    const d = await t.core.config.decide({ appVersionName: AVN, endpointId: ep, configId: '1.0.0', correlationId: 'demo' });
    line(`  ${show(ep, d)}`);
  }
  const view = await t.core.insight.endpoint(TENANT, APP, 'kettle-1');
  if (view.ok) line(`  kettle-1: current ${view.value.currentVersion}, next ${view.value.next}, path ${view.value.path.join(' -> ')}, goal ${view.value.goal}`);
  const again = await t.core.config.decide({ appVersionName: AVN, endpointId: 'kettle-1', configId: '1.0.0', correlationId: 'demo' });
  line(`  ${show('kettle-1', again)} (same answer, from the memo)`);

  line('3. kettle-1 applies 1.0.1 (ConfigApplied 200): the next hop is pushed at once');
  await t.core.reports.applied({ appVersionName: AVN, endpointId: 'kettle-1', configId: '1.0.1', statusCode: 200, correlationId: 'demo' });
  for (const p of t.publisher.pushes.splice(0)) line(`    push -> ${p.endpointId}: ConfigUpdated ${p.version}`);

  line('4. A targeted 2.1.0: filter "early" now, filter "everyone" in one day');
  for (let i = 1; i <= 4; i++)
    t.endpoints.put(
      endpointState(TENANT, APP, `kettle-${10 + i}`, { appVersionName: AVN, currentVersion: '2.0.0', filters: i <= 2 ? ['early', 'everyone'] : ['everyone'] }),
    );
  await t.endpoints.markFilterLoaded(TENANT, APP, 'early');
  await t.endpoints.markFilterLoaded(TENANT, APP, 'everyone');
  const tomorrow = formatKaaDate(t.clock.now() + 86_400_000);
  await create({
    version: '2.1.0',
    upgradableFrom: ['2.0.0'],
    rolloutStrategy: 'targeted',
    filters: [{ filterId: 'early' }, { filterId: 'everyone', rolloutDate: tomorrow }],
  });
  const preview = await t.core.insight.preview(TENANT, APP, '2.1.0', { offset: 0, limit: 10 });
  if (preview.ok)
    line(
      `  preview 2.1.0: now ${preview.value.counts.now}, later ${preview.value.counts.later}, no-path ${preview.value.counts['no-path']}, version-unknown ${preview.value.counts['version-unknown']}`,
    );
  t.clock.advance(86_400_000 + 1000);
  const tick = await t.core.rolloutDates.tick('demo-replica');
  await t.drain(); // the tick stored a durable push job per due filter; a replica runs it
  line(`  a day later (${at()}): the scheduler found ${tick.filters} due filter(s); their push jobs sent:`);
  for (const p of t.publisher.pushes.splice(0)) line(`    push -> ${p.endpointId}: ConfigUpdated ${p.version}`);

  line('5. 2.2.0 with a failure policy (suspend at 50% failures after 4 reports)');
  await create({ version: '2.2.0', upgradableFrom: ['2.1.0'], rolloutStrategy: 'general', failurePolicy: { maxFailureRate: 0.5, minReports: 4 } });
  line('  kettle-11..14 report 2.1.0 applied: each is pushed 2.2.0, then reports how 2.2.0 went');
  for (let i = 11; i <= 14; i++) {
    await t.core.reports.applied({ appVersionName: AVN, endpointId: `kettle-${i}`, configId: '2.1.0', statusCode: 200, correlationId: 'demo' });
  }
  for (const p of t.publisher.pushes.splice(0)) line(`    push -> ${p.endpointId}: ConfigUpdated ${p.version}`);
  for (const [i, status] of [200, 500, 500, 500].entries()) {
    await t.core.reports.applied({
      appVersionName: AVN,
      endpointId: `kettle-${11 + i}`,
      configId: '2.2.0',
      statusCode: status,
      reasonPhrase: status === 200 ? null : 'flash write failed',
      correlationId: 'demo',
    });
  }
  const stats = await t.core.insight.rollout(TENANT, APP, '2.2.0');
  if (stats.ok)
    line(
      `  2.2.0: offered ${stats.value.offered}, applied ${stats.value.applied}, failed ${stats.value.failed} -> ${stats.value.rolloutStrategy}: ${stats.value.suspendedReason ?? ''}`,
    );
  const d = await t.core.config.decide({ appVersionName: AVN, endpointId: 'kettle-99', configId: '2.1.0', correlationId: 'demo' });
  line(`  ${show('kettle-99', d)}`);
  line(`Software events published: ${t.events.events.map((e) => `${e.type} ${e.version}`).join(', ')}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
