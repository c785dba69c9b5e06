import { type Authenticator, err, failure, type PermissionChecker } from '@otao/core';
import {
  AllowAllPermissionChecker,
  ClientCredentialsTokenProvider,
  IssuerDiscovery,
  JwtAuthenticator,
  RptPermissionChecker,
  StaticTenantDirectory,
  type TenantDirectory,
  TenantManagerDirectory,
  type TokenProvider,
  UmaPermissionChecker,
} from '@otao/tenant-auth';
import type { OtaoConfig } from './config';

export interface Security {
  readonly authenticator: Authenticator;
  readonly permissions: PermissionChecker;
  readonly directory?: TenantDirectory;
  /** The client-credentials token OTAO uses for its own calls, when a client is configured. */
  readonly tokens?: TokenProvider;
  /** 21/TLE unregistered (on every replica): the tenant's tokens stop authenticating at once. */
  forgetTenant(tenantId: string): void;
}

/** `https://kc/realms/kaa` -> `https://kc` (tenant issuers are `<base>/realms/<realm>`). */
export function keycloakBase(issuer: string): string {
  const i = issuer.indexOf('/realms/');
  return i >= 0 ? issuer.slice(0, i) : issuer.replace(/\/+$/, '');
}

/** Builds the authentication and authorization of spec §8 from the configuration. */
export function createSecurity(cfg: OtaoConfig): Security {
  const { oauth } = cfg.security;
  const tokens =
    oauth.clientId && oauth.clientSecret && oauth.issuer
      ? new ClientCredentialsTokenProvider({ issuer: oauth.issuer, clientId: oauth.clientId, clientSecret: oauth.clientSecret })
      : undefined;
  if (cfg.security.off) {
    // Every path is ignored: http-express never calls these.
    const refuse: Authenticator = { authenticate: async () => err(failure('auth.unauthenticated', 'authentication is off')) };
    return { authenticator: refuse, permissions: new AllowAllPermissionChecker(), ...(tokens ? { tokens } : {}), forgetTenant: () => undefined };
  }
  const directory: TenantDirectory = cfg.security.tenants
    ? new StaticTenantDirectory(cfg.security.tenants)
    : new TenantManagerDirectory({
        url: cfg.security.tenantManagerUrl as string,
        keycloakBaseUrl: keycloakBase(oauth.issuer as string),
        ...(tokens ? { tokens } : {}),
      });
  const discovery = new IssuerDiscovery();
  const authenticator = new JwtAuthenticator({ directory, discovery, ...(oauth.audience ? { audience: oauth.audience } : {}) });
  const permissions =
    cfg.security.authzMode === 'uma'
      ? new UmaPermissionChecker({ audience: oauth.clientId as string, tokenEndpoint: (iss) => discovery.tokenEndpoint(iss) })
      : new RptPermissionChecker();
  return { authenticator, permissions, directory, ...(tokens ? { tokens } : {}), forgetTenant: (tenantId) => authenticator.forgetTenant(tenantId) };
}
