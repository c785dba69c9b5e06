import { assess, formatDuration, parseDuration, type RolloutView } from './watch';
import { sparkline } from './output';
import { useUntil } from './auth';

const r = (over: Partial<RolloutView>): RolloutView => ({
  version: '1.0.0',
  offered: 0,
  applied: 0,
  failed: 0,
  timedOut: 0,
  rolledBack: 0,
  failureRate: 0,
  rolloutStrategy: 'general',
  ...over,
});

test('a rollout is done when nobody is left to offer and every offered endpoint reported', () => {
  expect(assess(r({ offered: 2, applied: 2 }), { 'already-on-version': 2, now: 0, later: 0 }).status).toBe('done');
  // An endpoint that failed stays eligible (now) but counts as reported.
  expect(assess(r({ offered: 3, applied: 2, failed: 1 }), { now: 1 }).status).toBe('done');
  expect(assess(r({ offered: 2, applied: 1 }), { now: 1 })).toMatchObject({ status: 'running', unreported: 1, remaining: 0 });
  expect(assess(r({ offered: 1, applied: 1 }), { now: 3 })).toMatchObject({ status: 'running', remaining: 3 });
  expect(assess(r({ offered: 1, applied: 1 }), { later: 5 })).toMatchObject({ status: 'running', remaining: 5 });
  expect(assess(r({ offered: 2, applied: 1, timedOut: 1 }), {}).status).toBe('done');
  expect(assess(r({ offered: 4, failed: 2, rolloutStrategy: 'suspended' }), { now: 4 }).status).toBe('suspended');
});

test('sparkline and token lifetime', () => {
  expect(sparkline([0, 1, 2, 4])).toBe('▁▃▅█');
  expect(sparkline([])).toBe('');
  expect(sparkline([0, 0])).toBe('▁▁');
  expect(useUntil(1000, 300)).toBe(1000 + 300_000 - 30_000);
  expect(useUntil(0, 60)).toBe(60_000 - 6_000);
});

test('--timeout durations: seconds by default, ms/s/m/h; nothing else', () => {
  expect(['90', '90s', '500ms', '15m', '2h', '1.5h'].map(parseDuration)).toEqual([90_000, 90_000, 500, 900_000, 7_200_000, 5_400_000]);
  expect(['0', '0s', '', 'soon', '-5s', '1d', '5 m', '1e3'].map(parseDuration)).toEqual(Array(8).fill(undefined));
  expect([1000, 500, 900_000, 7_200_000, 90_000, 1500].map(formatDuration)).toEqual(['1s', '500ms', '15m', '2h', '90s', '1500ms']);
});
