/**
 * 20/EFMP questions to EPR. Both throw `OtaoError('dependency.unavailable')` on timeout or a non-2xx
 * answer; callers decide whether to retry.
 */
export interface FilterDirectory {
  /** Members of a filter: application version name -> endpoint ids. */
  endpointsByFilter(filterId: string, correlationId: string): Promise<ReadonlyMap<string, readonly string[]>>;
  /** Filter ids an endpoint matches. */
  filtersOfEndpoint(endpointId: string, correlationId: string): Promise<readonly string[]>;
}
