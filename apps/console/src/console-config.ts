// What the server tells the console at GET /console/config.json (apps/server, OTAO_CONSOLE_*).

export interface ConsoleConfig {
  /** Whether REST authentication is on (false with OTAO_SECURITY_IGNORED=/**). */
  auth: boolean;
  /** The public OpenID Connect client of the console (OTAO_CONSOLE_CLIENT_ID). */
  clientId: string;
  /** The tenant of every request while authentication is off. */
  defaultTenant?: string;
  /** Tenants and their issuers (OTAO_TENANTS). */
  tenants: { id: string; issuer: string }[];
  /** With the Tenant Manager: a tenant's issuer is this base followed by the tenant id. */
  issuerBase?: string;
  /** With authentication on: how the API decides permissions (OTAO_AUTHZ_MODE). */
  authzMode?: 'rpt' | 'uma';
  /** With `rpt`: the audience of the RPT the console obtains after sign-in (OTAO's resource server client id). */
  rptAudience?: string;
  /** Whether files (S3) are enabled. */
  files: boolean;
}

export async function loadConsoleConfig(): Promise<ConsoleConfig> {
  const res = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: 'no-store' });
  if (!res.ok) throw new Error(`The console configuration could not be read (${res.status}).`);
  return (await res.json()) as ConsoleConfig;
}
