import { createHash } from 'node:crypto';
import { OtaoError, type PermissionChecker, type PermissionDecision, type Principal, type SoftwareScope } from '@otao/core';
import { fetchWithTimeout } from './http';

export function resourceOf(appName: string): string {
  return `application-${appName}`;
}

interface RptPermission {
  rsname?: unknown;
  scopes?: unknown;
}

/**
 * Keycloak requesting-party tokens (spec §8): the verified `authorization.permissions` claim
 * lists `{rsname, scopes}`. A listed resource without the scope is `forbidden` (403); a resource
 * not listed at all is `none` (404).
 */
export class RptPermissionChecker implements PermissionChecker {
  async check(principal: Principal, appName: string, scope: SoftwareScope): Promise<PermissionDecision> {
    const authz = principal.claims['authorization'] as { permissions?: unknown } | undefined;
    const perms = Array.isArray(authz?.permissions) ? (authz.permissions as RptPermission[]) : [];
    const resource = resourceOf(appName);
    let any = false;
    for (const p of perms) {
      if (p.rsname !== resource) continue;
      any = true;
      if (Array.isArray(p.scopes) && p.scopes.includes(scope)) return 'granted';
    }
    return any ? 'forbidden' : 'none';
  }
}

export interface UmaOptions {
  /** The resource server's client id in each tenant realm (the `audience` of decision requests). */
  readonly audience: string;
  /** The token endpoint of an issuer (from OpenID discovery). */
  tokenEndpoint(issuer: string): Promise<string>;
  /** How long a decision is reused for the same token, application and scope. */
  readonly cacheTtlMs?: number;
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/**
 * Keycloak UMA decisions (spec §8): `grant_type=urn:ietf:params:oauth:grant-type:uma-ticket`,
 * `response_mode=decision`, with the caller's token. Denied: a second decision on the resource
 * without scope tells `forbidden` (some permission) from `none`. Decisions are cached briefly per
 * (token, app, scope).
 */
export class UmaPermissionChecker implements PermissionChecker {
  private readonly cache = new Map<string, { decision: PermissionDecision; until: number }>();
  private readonly now: () => number;

  constructor(private readonly options: UmaOptions) {
    this.now = options.now ?? Date.now;
  }

  async check(principal: Principal, appName: string, scope: SoftwareScope): Promise<PermissionDecision> {
    const key = `${createHash('sha256').update(principal.token).digest('base64url')}\u0000${appName}\u0000${scope}`;
    const hit = this.cache.get(key);
    const now = this.now();
    if (hit && hit.until > now) return hit.decision;
    const iss = principal.claims['iss'];
    if (typeof iss !== 'string') return 'none';
    const endpoint = await this.options.tokenEndpoint(iss);
    const resource = resourceOf(appName);
    let decision: PermissionDecision;
    if (await this.decide(endpoint, principal.token, `${resource}#${scope}`)) decision = 'granted';
    else decision = (await this.decide(endpoint, principal.token, resource)) ? 'forbidden' : 'none';
    if (this.cache.size > 10_000) this.cache.clear();
    const exp = typeof principal.claims['exp'] === 'number' ? principal.claims['exp'] * 1000 : now;
    this.cache.set(key, { decision, until: Math.min(now + (this.options.cacheTtlMs ?? 10_000), exp) });
    return decision;
  }

  private async decide(endpoint: string, token: string, permission: string): Promise<boolean> {
    const body = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:uma-ticket',
      audience: this.options.audience,
      permission,
      response_mode: 'decision',
    });
    const res = await fetchWithTimeout(endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      timeoutMs: this.options.timeoutMs ?? 5000,
      what: 'authorization server',
    });
    if (res.status === 200) {
      const j = (await res.json().catch(() => ({}))) as { result?: unknown };
      return j.result === true;
    }
    // 403 access_denied; 400 invalid_resource / invalid_scope: not permitted. 401: token refused.
    if (res.status === 400 || res.status === 401 || res.status === 403) return false;
    throw new OtaoError('dependency.unavailable', `authorization server answered ${res.status}`);
  }
}

/** A PermissionChecker that grants everything (OTAO_SECURITY_IGNORED, local use only). */
export class AllowAllPermissionChecker implements PermissionChecker {
  async check(): Promise<PermissionDecision> {
    return 'granted';
  }
}
