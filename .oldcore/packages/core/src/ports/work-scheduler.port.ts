/** What a push computation covers (spec §4.3 triggers). */
export type PushScope =
  | { readonly kind: 'app'; readonly tenantId: string; readonly appName: string; readonly reason: string }
  | { readonly kind: 'filter'; readonly tenantId: string; readonly appName: string; readonly filterId: string; readonly reason: string };

/**
 * Background work a use case asks for without waiting: push computations over many endpoints and
 * EFMP filter bootstraps, which must not block a REST call. Implementations run the matching use
 * cases (`PushService.run`, `FilterService.bootstrap`), retry failures with backoff, and log.
 * `schedule*` never throws.
 */
export interface WorkScheduler {
  schedulePushes(scope: PushScope): void;
  /**
   * Stores a push computation durably and resolves once it is stored (it then survives this
   * replica). For callers that must not move on before the work is safe — the time-based triggers,
   * which advance a checkpoint afterwards. Throws `OtaoError('store.unavailable')` when it cannot be stored.
   */
  enqueuePushes(scope: PushScope): Promise<void>;
  scheduleFilterBootstrap(tenantId: string, appName: string, filterIds: readonly string[]): void;
}
