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
    failurePolicy: { maxFailureRate: number; minReports: number };
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
