export interface AppRef {
  readonly tenantId: string;
  readonly appName: string;
}

export interface ApplicationSettings {
  /** Spec §3: while true an endpoint is offered a version only after consent. Default false. */
  readonly consentRequired: boolean;
}

/**
 * The application registry of spec §7 (local file or Tekton). Synchronous: adapters keep the
 * registry in memory and reload it in the background, so the CDTP hot path never waits on it.
 * Until it has loaded once, every method throws `OtaoError('dependency.unavailable')` (spec §10:
 * CDTP answers 503, not "unknown application"; events are retried; jobs wait).
 */
export interface ApplicationRegistry {
  /** The (tenant, app) of an application version name, or undefined when unknown. */
  resolve(appVersionName: string): AppRef | undefined;
  /** The settings of an application, or undefined when the tenant has no such application. */
  settings(tenantId: string, appName: string): ApplicationSettings | undefined;
  /** Tenants that have an application of this name (EFE events name the application only). */
  tenantsWithApp(appName: string): readonly string[];
}
