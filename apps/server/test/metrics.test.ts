import { ZERO_COUNTS } from '@otao/core';
import { OtaoMetrics, ROLLOUT_SERIES_LIMIT, type RolloutSample } from '../src/metrics';

test('rollout gauges come from a cached snapshot (one source call per refresh period), capped, the rest counted', async () => {
  const m = new OtaoMetrics();
  let calls = 0;
  const samples: RolloutSample[] = Array.from({ length: ROLLOUT_SERIES_LIMIT + 5 }, (_, i) => ({
    tenantId: 't',
    appName: 'kettle',
    version: `1.${i}.0`,
    counts: { ...ZERO_COUNTS, offered: 10, applied: 7, failed: 1, timedOut: 2, rolledBack: 1 },
    phasePercent: 25,
  }));
  m.setRolloutSource(async () => {
    calls++;
    return samples;
  }, 60_000);
  await new Promise((r) => setImmediate(r));
  const text = await m.registry.metrics();
  for (const s of await Promise.all([m.registry.metrics(), m.registry.metrics()])) expect(s.length).toBeGreaterThan(0);
  expect(calls).toBe(1);
  expect(text).toContain('otao_rollout_timed_out{tenant="t",app="kettle",version="1.0.0"} 2');
  expect(text).toContain('otao_rollout_rolled_back{tenant="t",app="kettle",version="1.0.0"} 1');
  expect(text).toContain('otao_rollout_phase_percent{tenant="t",app="kettle",version="1.0.0"} 25');
  expect(text.match(/^otao_rollout_offered\{/gm)).toHaveLength(ROLLOUT_SERIES_LIMIT);
  expect(text).toContain('otao_rollout_series_dropped 5');
});
