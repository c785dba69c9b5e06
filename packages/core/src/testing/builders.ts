import type { RolloutStrategy } from '../domain/software';
import type { EndpointState } from '../ports';

/** A REST-style software body with sensible defaults. */
export function softwareBody(
  version: string,
  upgradableFrom: readonly string[] = [],
  overrides: Partial<{
    rolloutStrategy: RolloutStrategy;
    filters: { filterId: string; rolloutDate?: string }[];
    specification: unknown;
    metadata: unknown;
    failurePolicy: { maxFailureRate: number; minReports: number; reportTimeoutMinutes?: number };
    phases: { percent: number; soakMinutes?: number }[];
    phaseGate: { maxFailureRate: number; minReports: number };
    maintenanceWindow: { timeZone: string; start: string; end: string; days?: string[] };
  }> = {},
): Record<string, unknown> {
  return {
    version,
    upgradableFrom: [...upgradableFrom],
    rolloutStrategy: overrides.rolloutStrategy ?? 'general',
    specification: overrides.specification ?? { version },
    ...(overrides.metadata !== undefined ? { metadata: overrides.metadata } : {}),
    ...(overrides.filters !== undefined ? { filters: overrides.filters } : {}),
    ...(overrides.failurePolicy !== undefined ? { failurePolicy: overrides.failurePolicy } : {}),
    ...(overrides.phases !== undefined ? { phases: overrides.phases } : {}),
    ...(overrides.phaseGate !== undefined ? { phaseGate: overrides.phaseGate } : {}),
    ...(overrides.maintenanceWindow !== undefined ? { maintenanceWindow: overrides.maintenanceWindow } : {}),
  };
}

/** An endpoint state with defaults. */
export function endpointState(
  tenantId: string,
  appName: string,
  endpointId: string,
  overrides: Partial<Omit<EndpointState, 'tenantId' | 'appName' | 'endpointId'>> = {},
): EndpointState {
  return {
    tenantId,
    appName,
    endpointId,
    filters: [],
    membershipsKnown: true,
    consents: [],
    pushed: [],
    offered: [],
    updatedAt: 0,
    ...overrides,
  };
}
