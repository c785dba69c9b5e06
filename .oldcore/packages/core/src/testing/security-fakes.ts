import { err, failure, ok, type Result } from '../domain/result';
import type { AuthenticationError, Authenticator, PermissionChecker, PermissionDecision, Principal, SoftwareScope } from '../ports';

/**
 * An Authenticator for tests: `Bearer <tenantId>:<subject>` authenticates as that tenant and
 * subject; anything else is refused. Real token verification lives in tenant-auth.
 */
export class StaticAuthenticator implements Authenticator {
  async authenticate(header: string | undefined): Promise<Result<Principal, AuthenticationError>> {
    const m = header === undefined ? null : /^Bearer ([a-z0-9_-]+):([a-z0-9_-]+)$/i.exec(header);
    if (!m) return err(failure('auth.unauthenticated', 'missing or invalid bearer token'));
    return ok({ tenantId: m[1] as string, subject: m[2] as string, token: header as string, claims: {} });
  }
}

/** A PermissionChecker for tests: grants by (tenant, subject, app) -> scopes. */
export class TablePermissionChecker implements PermissionChecker {
  private readonly grants = new Map<string, Set<SoftwareScope>>();

  grant(tenantId: string, subject: string, appName: string, scopes: readonly SoftwareScope[]): this {
    this.grants.set(`${tenantId}\u0000${subject}\u0000${appName}`, new Set(scopes));
    return this;
  }

  async check(principal: Principal, appName: string, scope: SoftwareScope): Promise<PermissionDecision> {
    const s = this.grants.get(`${principal.tenantId}\u0000${principal.subject}\u0000${appName}`);
    if (!s || s.size === 0) return 'none';
    return s.has(scope) ? 'granted' : 'forbidden';
  }
}
