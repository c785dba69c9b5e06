// Shapes of spec §6.3/§6.4.1 routes and §2 fields that the OpenAPI document does not describe yet
// (other work adds them). The console codes against the spec's shapes, renders them when the route
// answers, and hides them when it answers 404 `route.not_found`.

/** §2 `phases` entry. */
export interface Phase {
  percent: number;
  soakMinutes?: number;
}

/** §2 `phaseGate`. */
export interface PhaseGate {
  maxFailureRate: number;
  minReports: number;
}

/** §2 `maintenanceWindow`. */
export interface MaintenanceWindow {
  timeZone: string;
  start: string;
  end: string;
  days?: string[];
}

/** §6.3 rollout `phase`. */
export interface RolloutPhase {
  index: number;
  percent: number;
  openedAt?: string;
  hold: boolean;
  waitingFor?: 'soak' | 'reports' | 'gate' | 'hold' | 'done';
  nextCheckAt?: string;
}

/** §6.3 rollout `window`. */
export interface RolloutWindow {
  open: boolean;
  nextOpenAt?: string;
}

/** §6.3 `GET …/rollout/history` bucket. */
export interface HistoryBucket {
  at?: string;
  start?: string;
  offered: number;
  applied: number;
  failed: number;
  timedOut?: number;
  rolledBack?: number;
}

/** §4.13 audit entry. */
export interface AuditEntry {
  id: string;
  at: string;
  tenantId?: string;
  appName: string;
  actor: { type: 'user' | 'client' | 'otao'; id: string; name?: string };
  action: string;
  version?: string;
  endpointId?: string;
  changes?: unknown;
  correlationId?: string;
}

export interface Page<T> {
  content: T[];
  totalElements: number;
}
