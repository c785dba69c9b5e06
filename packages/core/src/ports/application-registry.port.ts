export interface AppRef {
  readonly tenantId: string;
  readonly appName: string;
}

export interface ApplicationSettings {
  /** Spec §3: while true an endpoint is offered a version only after consent. Default false. */
  readonly consentRequired: boolean;
}

/** One application of a tenant, as the registry knows it. */
export interface RegisteredApplication {
  readonly appName: string;
  readonly settings: ApplicationSettings;
  /** Its application version names (spec §7), each once, in no particular order. */
  readonly appVersionNames: readonly string[];
}

/**
 * The application registry of spec §7 (local file or Tekton). Synchronous: adapters keep the
 * registry in memory and reload it in the background, so the CDTP hot path never waits on it.
 * Until it has loaded once, every method throws `OtaoError('dependency.unavailable')` (spec §10:
 * a pull fails as unavailable, not "unknown application version"; events are retried; jobs wait).
 */
export interface ApplicationRegistry {
  /** The (tenant, app) of an application version name, or undefined when unknown. */
  resolve(appVersionName: string): AppRef | undefined;
  /** The settings of an application, or undefined when the tenant has no such application. */
  settings(tenantId: string, appName: string): ApplicationSettings | undefined;
  /** Tenants that have an application of this name (EFE events name the application only). */
  tenantsWithApp(appName: string): readonly string[];
  /**
   * Every application of the tenant, each once, in no particular order; empty when the tenant has
   * none (an unknown tenant is not an error). Never an application of another tenant: the same
   * application name in two tenants is two unrelated entries, each returned only for its tenant.
   * Agrees with `settings` and `resolve`: an entry here has `settings(tenantId, appName)` and each
   * of its version names resolves to it.
   */
  applications(tenantId: string): readonly RegisteredApplication[];
}
