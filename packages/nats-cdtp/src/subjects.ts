// NATS subjects of the Kaa protocols OTAO speaks (kaa-protocols.md §1.2, §2.2, §5, §6, §7, §10) and
// of OTAO's own software events (otao.md §4.9). Instance names are configuration, never hard-coded.

/** Refuses names that cannot be one subject token (kaa-protocols.md §1.8). */
export function assertToken(what: string, value: string): string {
  if (value === '' || /[.*>\s]/.test(value)) throw new Error(`${what} ${JSON.stringify(value)} cannot be a NATS subject token`);
  return value;
}

export const subjects = {
  /** 6/CDTP pull, provider side: `kaa.v1.service.{provider}.cdtp.request` (queue group `{provider}`). */
  cdtpRequest: (provider: string): string => `kaa.v1.service.${provider}.cdtp.request`,
  /** 6/CDTP recommended reply subject of a consumer replica. */
  cdtpResponse: (consumerReplicaId: string): string => `kaa.v1.replica.${consumerReplicaId}.cdtp.response`,
  /** 6/CDTP push: `kaa.v1.events.{provider}.endpoint.config.updated`. */
  configUpdated: (provider: string): string => `kaa.v1.events.${provider}.endpoint.config.updated`,
  /** 6/CDTP applied feedback: `kaa.v1.events.{consumer}.endpoint.config.applied`. */
  configApplied: (consumer: string): string => `kaa.v1.events.${consumer}.endpoint.config.applied`,
  /** 9/ELCE. */
  endpointUnregistered: (epr: string): string => `kaa.v1.events.${epr}.endpoint.lifecycle.unregistered`,
  endpointAppVersionUpdated: (epr: string): string => `kaa.v1.events.${epr}.endpoint.lifecycle.appversion-updated`,
  /** 18/EFE; `filterId` `*` to listen to every filter. */
  filterMatched: (epr: string, filterId = '*'): string => `kaa.v1.events.${epr}.endpoint-filter.${filterId}.ep-matched`,
  filterUnmatched: (epr: string, filterId = '*'): string => `kaa.v1.events.${epr}.endpoint-filter.${filterId}.ep-unmatched`,
  filterDeleted: (epr: string, filterId = '*'): string => `kaa.v1.events.${epr}.endpoint-filter.${filterId}.deleted`,
  /** 20/EFMP requests to the repository (EPR). */
  efmpEndpointFilters: (epr: string): string => `kaa.v1.service.${epr}.efmp.ep-filters-request`,
  efmpEndpointListByFilter: (epr: string): string => `kaa.v1.service.${epr}.efmp.ep-list-by-filter-request`,
  /** 21/TLE. */
  tenantUpdated: (tm: string): string => `kaa.v1.events.${tm}.tenant.lifecycle.updated`,
  tenantUnregistered: (tm: string): string => `kaa.v1.events.${tm}.tenant.lifecycle.unregistered`,
  /** OTAO software events (§4.9); `type` `*` to listen to all. */
  softwareLifecycle: (instance: string, type = '*'): string => `kaa.v1.events.${instance}.software.lifecycle.${type}`,
} as const;
