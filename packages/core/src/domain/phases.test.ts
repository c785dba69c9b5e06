import { PlainSha256 } from '../testing/sha256';
import { CohortMemo } from './cohort-memo';
import {
  cohortOf,
  gateWait,
  inOpenPhase,
  nextPhaseState,
  openPercent,
  phaseGateOf,
  phaseIncluding,
  phaseStateAfterChange,
  phaseWaitBeforeGate,
  soakEndsAt,
} from './phases';

const SHA = new PlainSha256();

describe('cohort b(E) (spec §4.10)', () => {
  test.each([
    ['default', 'smart-kettle', 'kettle-0001', 28.1],
    ['tenant-a', 'app', 'ep-1', 99.41],
    ['tenant-a', 'app', 'ep-2', 95.69],
    ['t', 'a', 'ü-endpoint', 24.15],
  ])('%s/%s/%s -> %d (the spec vectors)', (t, a, e, expected) => {
    expect(cohortOf(SHA, t, a, e)).toBe(expected);
    const memo = new CohortMemo(SHA);
    expect(memo.of(t, a, e)).toBe(expected);
    expect(memo.of(t, a, e)).toBe(expected); // memoised: the same
  });

  test('is spread over [0, 100): about 10 % of 20 000 endpoints are below 10', () => {
    let below = 0;
    for (let i = 0; i < 20_000; i++) {
      const c = cohortOf(SHA, 't', 'app', `ep-${i}`);
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThan(100);
      if (c < 10) below++;
    }
    expect(below).toBeGreaterThan(1800);
    expect(below).toBeLessThan(2200);
  });
});

describe('open phase', () => {
  const phases = [
    { percent: 1, soakMinutes: 60 },
    { percent: 10, soakMinutes: 60 },
    { percent: 50, soakMinutes: 60 },
    { percent: 100, soakMinutes: 0 },
  ];
  test('the open percent and who is inside', () => {
    expect(openPercent({})).toBe(100);
    expect(openPercent({ phases, phase: { index: 1, openedAt: 0, hold: false } })).toBe(10);
    const sw = { phases, phase: { index: 1, openedAt: 0, hold: false } };
    expect(inOpenPhase(sw, 9.99)).toBe(true);
    expect(inOpenPhase(sw, 10)).toBe(false);
    expect(inOpenPhase(sw, undefined)).toBe(false);
    expect(inOpenPhase({ phases, phase: { index: 3, openedAt: 0, hold: false } }, undefined)).toBe(true);
    expect(phaseIncluding(phases, 0.5)).toBe(0);
    expect(phaseIncluding(phases, 28.1)).toBe(2);
    expect(phaseIncluding(phases, 99.41)).toBe(3);
  });

  test('phase state after a change', () => {
    const now = 1_000;
    // created (or first phased) and not suspended: phase 0 opens now
    expect(phaseStateAfterChange(undefined, { phases, rolloutStrategy: 'general' }, now)).toEqual({ index: 0, openedAt: now, hold: false });
    // created suspended: nothing opens yet
    expect(phaseStateAfterChange(undefined, { phases, rolloutStrategy: 'suspended' }, now)).toBeUndefined();
    // first leaving suspended
    expect(phaseStateAfterChange({ phases }, { phases, rolloutStrategy: 'targeted' }, now)).toEqual({ index: 0, openedAt: now, hold: false });
    // phases removed
    expect(phaseStateAfterChange({ phases, phase: { index: 2, openedAt: 5, hold: false } }, { rolloutStrategy: 'general' }, now)).toBeUndefined();
    // suspended later keeps its phase
    const open2 = { phases, phase: { index: 2, openedAt: 5, hold: true, holdReason: 'look' } };
    expect(phaseStateAfterChange(open2, { phases, rolloutStrategy: 'suspended' }, now)).toEqual({ index: 2, openedAt: 5, hold: true, holdReason: 'look' });
    // phases changed: the open cohort is kept (highest percent at most 50)
    const next = [
      { percent: 5, soakMinutes: 1 },
      { percent: 25, soakMinutes: 1 },
      { percent: 50, soakMinutes: 1 },
      { percent: 75, soakMinutes: 1 },
      { percent: 100, soakMinutes: 1 },
    ];
    expect(phaseStateAfterChange(open2, { phases: next, rolloutStrategy: 'general' }, now)).toEqual({ index: 2, openedAt: 5, hold: true, holdReason: 'look' });
    // no new percent equals 50: the highest below it, opened now
    const coarse = [
      { percent: 20, soakMinutes: 1 },
      { percent: 100, soakMinutes: 1 },
    ];
    expect(phaseStateAfterChange(open2, { phases: coarse, rolloutStrategy: 'general' }, now)).toEqual({
      index: 0,
      openedAt: now,
      hold: true,
      holdReason: 'look',
    });
    // no new percent is at most the open one: the first phase, the narrowest there is
    expect(phaseStateAfterChange({ phases, phase: { index: 0, openedAt: 5, hold: false } }, { phases: coarse, rolloutStrategy: 'general' }, now)).toEqual({
      index: 0,
      openedAt: now,
      hold: false,
    });
  });
});

describe('automatic advance conditions (§4.10)', () => {
  const phases = [
    { percent: 10, soakMinutes: 30 },
    { percent: 100, soakMinutes: 0 },
  ];
  const open = { rolloutStrategy: 'general', phases, phase: { index: 0, openedAt: 1_000_000, hold: false } };

  test('done, hold (or suspended), soak, in this order; then only the gate is left', () => {
    expect(phaseWaitBeforeGate({ ...open, phase: { ...open.phase, index: 1 } }, 0)).toBe('done');
    expect(phaseWaitBeforeGate({ ...open, phase: { ...open.phase, hold: true } }, 0)).toBe('hold');
    expect(phaseWaitBeforeGate({ ...open, rolloutStrategy: 'suspended' }, 1e12)).toBe('hold');
    expect(phaseWaitBeforeGate({ rolloutStrategy: 'suspended', phases }, 1e12)).toBe('hold'); // never opened
    expect(phaseWaitBeforeGate(open, 1_000_000 + 30 * 60_000 - 1)).toBe('soak');
    expect(phaseWaitBeforeGate(open, 1_000_000 + 30 * 60_000)).toBeUndefined();
    expect(soakEndsAt(open)).toBe(1_000_000 + 30 * 60_000);
  });

  test('the gate: phaseGate, else the failure policy; minReports reached and the rate strictly below the maximum', () => {
    expect(phaseGateOf(open)).toBeUndefined();
    expect(phaseGateOf({ ...open, failurePolicy: { maxFailureRate: 0.3, minReports: 5 } })).toEqual({ maxFailureRate: 0.3, minReports: 5 });
    expect(phaseGateOf({ ...open, failurePolicy: { maxFailureRate: 0.3, minReports: 5 }, phaseGate: { maxFailureRate: 0.1, minReports: 50 } })).toEqual({
      maxFailureRate: 0.1,
      minReports: 50,
    });
    const gate = { maxFailureRate: 0.1, minReports: 10 };
    expect(gateWait(gate, { reports: 9, failureRate: 0 })).toBe('reports');
    expect(gateWait(gate, { reports: 10, failureRate: 0.1 })).toBe('gate');
    expect(gateWait(gate, { reports: 10, failureRate: 0.09 })).toBeUndefined();
  });

  test('the next phase opens at now, not held', () => {
    expect(nextPhaseState({ index: 0, openedAt: 5, hold: true, holdReason: 'x' }, 99)).toEqual({ index: 1, openedAt: 99, hold: false });
  });
});
