import type { Failure, Result } from '../domain/result';

/** The scopes OTAO enforces on resource `application-{appName}` (spec §8). */
export const SOFTWARE_SCOPES = ['application:software:read', 'application:software:update', 'application:software:delete'] as const;
export type SoftwareScope = (typeof SOFTWARE_SCOPES)[number];

/** An authenticated REST caller. Every query it makes is scoped by `tenantId`. */
export interface Principal {
  readonly tenantId: string;
  /** The token's `sub`, for logs. */
  readonly subject: string;
  /** The raw bearer token (for UMA decision requests); never logged. */
  readonly token: string;
  /** The verified claims. */
  readonly claims: Readonly<Record<string, unknown>>;
}

export type AuthenticationError = Failure<'auth.unauthenticated'>;

/**
 * Verifies a REST caller's `Authorization` header (spec §8): the issuer identifies the tenant; the
 * signature, `exp`, `nbf`, `iss` and `aud` (when configured) are checked. Returns
 * `auth.unauthenticated` for every bad or missing token (never says which check failed to the
 * caller beyond the message). Throws `OtaoError('dependency.unavailable')` when the tenant
 * directory or the issuer's keys cannot be reached.
 */
export interface Authenticator {
  authenticate(authorizationHeader: string | undefined): Promise<Result<Principal, AuthenticationError>>;
}

/**
 * The outcome of a permission check on `application-{appName}`:
 * `granted`; `forbidden` = some permission on the application but not this scope (`auth.forbidden`);
 * `none` = no permission at all on the application (treated as not found: no existence leaks).
 */
export type PermissionDecision = 'granted' | 'forbidden' | 'none';

/**
 * Decides whether a principal may use a scope on an application (Keycloak RPT permissions or UMA
 * decisions). Decisions may be cached briefly. Throws `OtaoError('dependency.unavailable')` when
 * the authorization server cannot be reached.
 */
export interface PermissionChecker {
  check(principal: Principal, appName: string, scope: SoftwareScope): Promise<PermissionDecision>;
}
