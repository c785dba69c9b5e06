import type { Sha256 } from '../ports/sha256.port';

/** One phase of a phased rollout (spec §2, §4.10): open to the endpoints whose cohort is below `percent`. */
export interface Phase {
  readonly percent: number;
  /** How long the phase stays open at least before it may advance automatically. */
  readonly soakMinutes: number;
}

/** The health gate of a phase advance (spec §4.10). */
export interface PhaseGate {
  readonly maxFailureRate: number;
  readonly minReports: number;
}

/** The open phase of a phased rollout (read-only `phase` of spec §2). */
export interface PhaseState {
  /** Index into `phases` of the open phase. */
  readonly index: number;
  /** When this phase opened (epoch ms). */
  readonly openedAt: number;
  /** A held rollout does not advance automatically. */
  readonly hold: boolean;
  /** Why it is held, as the operator said. */
  readonly holdReason?: string;
}

export const MAX_PHASES = 10;
export const DEFAULT_SOAK_MINUTES = 60;
export const MAX_SOAK_MINUTES = 43_200;

/** The text whose SHA-256 gives an endpoint's cohort (spec §4.10): `tenantId/appName/endpointId`. */
export function cohortInput(tenantId: string, appName: string, endpointId: string): string {
  return `${tenantId}/${appName}/${endpointId}`;
}

/**
 * The cohort in [0, 100) of spec §4.10 from the SHA-256 digest of {@link cohortInput}: its first 4
 * bytes as an unsigned big-endian integer, modulo 10 000, divided by 100. Two decimals exactly
 * (`2810 / 100`).
 */
export function cohortOfDigest(digest: Uint8Array): number {
  const n = ((digest[0] as number) * 2 ** 24 + ((digest[1] as number) << 16) + ((digest[2] as number) << 8) + (digest[3] as number)) % 10_000;
  return n / 100;
}

/** The stable cohort number b(E) in [0, 100) of spec §4.10 (not memoised: see {@link CohortMemo}). The same for every version of the app. */
export function cohortOf(sha256: Sha256, tenantId: string, appName: string, endpointId: string): number {
  return cohortOfDigest(sha256.digestUtf8(cohortInput(tenantId, appName, endpointId)));
}

/** The percent of the open phase (100 when not phased): eligible while `cohort < percent`. */
export function openPercent(sw: { readonly phases?: readonly Phase[]; readonly phase?: PhaseState }): number {
  const phases = sw.phases;
  if (!phases || phases.length === 0) return 100;
  const i = Math.min(Math.max(sw.phase?.index ?? 0, 0), phases.length - 1);
  return (phases[i] as Phase).percent;
}

/** Whether an endpoint of this cohort is inside the open phase. An unknown cohort is inside only when the phase is 100 %. */
export function inOpenPhase(sw: { readonly phases?: readonly Phase[]; readonly phase?: PhaseState }, cohort: number | undefined): boolean {
  const p = openPercent(sw);
  if (p >= 100) return true;
  return cohort !== undefined && cohort < p;
}

/** The index of the first phase that includes this cohort (the phase that will offer the version to the endpoint). */
export function phaseIncluding(phases: readonly Phase[], cohort: number): number {
  for (let i = 0; i < phases.length; i++) if (cohort < (phases[i] as Phase).percent) return i;
  return phases.length - 1;
}

/**
 * The phase state after a change of the software (spec §4.10):
 * - not phased: none;
 * - suspended and never opened: none (the first phase opens when it first leaves `suspended`);
 * - phased for the first time (created, or `phases` added, or first leaving suspended): phase 0 opens now;
 * - `phases` changed: the open cohort is kept — the new index is the highest whose percent is at most
 *   the previously open percent (0 when none is); `openedAt` is kept when the open percent stays;
 * - otherwise unchanged (a suspended rollout keeps its phase and resumes there).
 */
export function phaseStateAfterChange(
  before: { readonly phases?: readonly Phase[]; readonly phase?: PhaseState } | undefined,
  after: { readonly phases?: readonly Phase[]; readonly rolloutStrategy: string },
  now: number,
): PhaseState | undefined {
  const phases = after.phases;
  if (!phases || phases.length === 0) return undefined;
  const prev = before?.phase;
  if (!prev || !before?.phases || before.phases.length === 0) {
    return after.rolloutStrategy === 'suspended' ? undefined : { index: 0, openedAt: now, hold: false };
  }
  const oldPercent = openPercent(before);
  let index = 0;
  for (let i = 0; i < phases.length; i++) if ((phases[i] as Phase).percent <= oldPercent) index = i;
  const newPercent = (phases[index] as Phase).percent;
  const { holdReason } = prev;
  return {
    index,
    openedAt: newPercent === oldPercent ? prev.openedAt : now,
    hold: prev.hold,
    ...(holdReason !== undefined ? { holdReason } : {}),
  };
}

/** What the automatic advance of a phase waits for (spec §6.3 `waitingFor`). */
export type PhaseWait = 'soak' | 'reports' | 'gate' | 'hold' | 'done';

/** The counts the gate of a phase advance reads (spec §4.8): reports of the version and their failure rate. */
export interface GateReading {
  readonly reports: number;
  readonly failureRate: number;
}

/** The rollout fields the phase rules read. */
export interface PhasedRollout {
  readonly rolloutStrategy: string;
  readonly phases?: readonly Phase[];
  readonly phase?: PhaseState;
  readonly phaseGate?: PhaseGate;
  readonly failurePolicy?: { readonly maxFailureRate: number; readonly minReports: number };
}

/** The gate of a phase advance: `phaseGate`, else the `failurePolicy`'s thresholds, else none (soak alone). */
export function phaseGateOf(sw: PhasedRollout): PhaseGate | undefined {
  if (sw.phaseGate) return sw.phaseGate;
  const p = sw.failurePolicy;
  return p ? { maxFailureRate: p.maxFailureRate, minReports: p.minReports } : undefined;
}

/** When the open phase's soak ends (epoch ms), or undefined when not phased / no phase open. */
export function soakEndsAt(sw: PhasedRollout): number | undefined {
  const phases = sw.phases;
  const state = sw.phase;
  if (!phases || phases.length === 0 || !state) return undefined;
  const p = phases[Math.min(Math.max(state.index, 0), phases.length - 1)] as Phase;
  return state.openedAt + p.soakMinutes * 60_000;
}

/**
 * Spec §4.10, the conditions of an automatic advance that need no counts, in this order: the last
 * phase is `done`; a held (or suspended: a suspension holds the phase) rollout waits for `hold`; a
 * phase open for less than its `soakMinutes` waits for `soak`. Undefined when only the gate is left
 * to check (or nothing, when there is no gate).
 */
export function phaseWaitBeforeGate(sw: PhasedRollout, now: number): PhaseWait | undefined {
  const phases = sw.phases;
  const state = sw.phase;
  if (!phases || phases.length === 0) return 'done';
  if (state && state.index >= phases.length - 1) return 'done';
  if (!state || state.hold || sw.rolloutStrategy === 'suspended') return 'hold';
  return now < (soakEndsAt(sw) as number) ? 'soak' : undefined;
}

/** The gate of spec §4.10: at least `minReports` reports, and a failure rate below `maxFailureRate`. Undefined when it passes. */
export function gateWait(gate: PhaseGate, reading: GateReading): 'reports' | 'gate' | undefined {
  if (reading.reports < gate.minReports) return 'reports';
  return reading.failureRate < gate.maxFailureRate ? undefined : 'gate';
}

/** The phase state once the next phase opened at `now` (automatically or by an operator): not held. */
export function nextPhaseState(state: PhaseState, now: number): PhaseState {
  return { index: state.index + 1, openedAt: now, hold: false };
}
