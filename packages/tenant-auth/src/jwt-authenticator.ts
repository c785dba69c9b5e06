import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { type AuthenticationError, type Authenticator, err, failure, isOtaoError, ok, OtaoError, type Principal, type Result } from '@otao/core';
import { IssuerDiscovery } from './discovery';
import type { TenantDirectory } from './tenant-directory';

export interface JwtAuthenticatorOptions {
  readonly directory: TenantDirectory;
  /** Required `aud` (OTAO_OAUTH_AUDIENCE); not checked when absent. */
  readonly audience?: string;
  /** Allowed clock skew for exp/nbf, seconds. */
  readonly clockToleranceSeconds?: number;
  /** How long fetched JWKS are trusted before a refetch (keys rotate); unknown `kid`s refetch sooner. */
  readonly jwksCacheMaxAgeMs?: number;
  /** Minimum time between two JWKS refetches of one issuer (unknown-kid floods). */
  readonly jwksCooldownMs?: number;
  readonly timeoutMs?: number;
  /** Shared OpenID discovery (the UMA checker uses the same). */
  readonly discovery?: IssuerDiscovery;
  /** How long a verified token is remembered (never past its `exp`); 0 disables the cache. */
  readonly verifiedCacheMs?: number;
  readonly now?: () => number;
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const MAX_TOKEN_LENGTH = 16_384;

function unauthenticated(message: string): Result<Principal, AuthenticationError> {
  return err(failure('auth.unauthenticated', message));
}

/**
 * Verifies bearer JWTs per tenant issuer (spec §8): the unverified `iss` picks the tenant (unknown
 * issuer: one rate-limited directory refresh, then 401); the issuer's keys come from OpenID
 * discovery + JWKS (cached, refetched on an unknown `kid`); signature, `exp`, `nbf`, `iss` and
 * `aud` (when configured) are verified. `alg: none` and symmetric algorithms are refused.
 */
export class JwtAuthenticator implements Authenticator {
  private readonly keySets = new Map<string, Promise<JWTVerifyGetKey>>();
  private readonly discovery: IssuerDiscovery;
  /** Verified tokens: the same token arrives on every request of a session; RSA verification is not repeated. */
  private readonly verified = new Map<string, { principal: Principal; until: number }>();
  private readonly now: () => number;
  /** Counts forgetTenant() calls; a verification applies the ones that happened while it ran. */
  private epoch = 0;
  private readonly forgotten = new Map<string, number>();

  constructor(private readonly options: JwtAuthenticatorOptions) {
    this.discovery = options.discovery ?? new IssuerDiscovery(options.timeoutMs);
    this.now = options.now ?? Date.now;
  }

  async authenticate(header: string | undefined): Promise<Result<Principal, AuthenticationError>> {
    const hit = header === undefined ? undefined : this.verified.get(header);
    if (hit !== undefined) {
      if (this.now() < hit.until) return ok(hit.principal);
      this.verified.delete(header as string);
    }
    const startedAt = this.epoch;
    const r = await this.verify(header);
    if (r.ok && (this.forgotten.get(r.value.tenantId) ?? 0) > startedAt) return unauthenticated('the tenant of this token was unregistered');
    const cacheMs = this.options.verifiedCacheMs ?? 60_000;
    if (r.ok && cacheMs > 0) {
      const exp = r.value.claims['exp'];
      const until = Math.min(this.now() + cacheMs, typeof exp === 'number' ? exp * 1000 : 0);
      if (this.verified.size >= 10_000) this.verified.clear();
      if (until > this.now()) this.verified.set(header as string, { principal: r.value, until });
    }
    return r;
  }

  /**
   * 21/TLE `tenant.lifecycle.unregistered`: the tenant's tokens stop authenticating at once. Drops
   * them from the verified-token cache and from the tenant directory (a verification running now
   * is refused too). Idempotent.
   */
  forgetTenant(tenantId: string): void {
    this.forgotten.set(tenantId, ++this.epoch);
    if (this.forgotten.size > 10_000) for (const id of [...this.forgotten.keys()].slice(0, 5_000)) this.forgotten.delete(id);
    for (const [header, v] of [...this.verified]) if (v.principal.tenantId === tenantId) this.verified.delete(header);
    this.options.directory.forget(tenantId);
  }

  private async verify(header: string | undefined): Promise<Result<Principal, AuthenticationError>> {
    if (header === undefined) return unauthenticated('missing Authorization header: a bearer token is required');
    const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/.exec(header.trim());
    if (!m || (m[1] as string).length > MAX_TOKEN_LENGTH) return unauthenticated('Authorization must be "Bearer <JWT>"');
    const token = m[1] as string;
    let iss: string;
    try {
      const h = decodeProtectedHeader(token);
      if (typeof h.alg !== 'string' || !ALGORITHMS.includes(h.alg)) return unauthenticated(`token algorithm ${JSON.stringify(h.alg)} is not accepted`);
      const claims = decodeJwt(token);
      if (typeof claims.iss !== 'string' || claims.iss === '') return unauthenticated('token has no issuer');
      iss = claims.iss;
    } catch {
      return unauthenticated('malformed token');
    }
    const tenantId = await this.options.directory.tenantOfIssuer(iss);
    if (tenantId === undefined) return unauthenticated('token issuer is not a known tenant');
    try {
      const keys = await this.keysOf(iss);
      const { payload } = await jwtVerify(token, keys, {
        issuer: iss,
        algorithms: ALGORITHMS,
        clockTolerance: this.options.clockToleranceSeconds ?? 30,
        requiredClaims: ['exp'],
        ...(this.options.audience !== undefined ? { audience: this.options.audience } : {}),
      });
      return ok({ tenantId, subject: typeof payload.sub === 'string' ? payload.sub : '', token, claims: payload });
    } catch (e) {
      if (isOtaoError(e)) throw e;
      if (e instanceof joseErrors.JWKSTimeout || (e instanceof joseErrors.JOSEError && e.code === 'ERR_JWKS_INVALID')) {
        this.keySets.delete(iss);
        throw new OtaoError('dependency.unavailable', 'issuer keys unavailable', { cause: e });
      }
      if (e instanceof joseErrors.JWTExpired) return unauthenticated('token expired');
      if (e instanceof joseErrors.JWTClaimValidationFailed) return unauthenticated(`token claim "${e.claim}" rejected: ${e.reason}`);
      if (e instanceof joseErrors.JWKSNoMatchingKey) return unauthenticated('token signed with an unknown key');
      if (e instanceof joseErrors.JOSEError) return unauthenticated('token signature or format invalid');
      // fetch failures of the JWKS surface as plain errors
      this.keySets.delete(iss);
      throw new OtaoError('dependency.unavailable', 'issuer keys unavailable', { cause: e });
    }
  }

  /** OpenID discovery of the issuer, once; then jose's remote JWK set (cache + refetch on unknown kid). */
  private keysOf(issuer: string): Promise<JWTVerifyGetKey> {
    let p = this.keySets.get(issuer);
    if (!p) {
      p = this.discover(issuer);
      this.keySets.set(issuer, p);
      p.catch(() => this.keySets.delete(issuer));
    }
    return p;
  }

  private async discover(issuer: string): Promise<JWTVerifyGetKey> {
    const meta = await this.discovery.metadata(issuer);
    return createRemoteJWKSet(new URL(meta.jwks_uri), {
      timeoutDuration: this.options.timeoutMs ?? 5000,
      cooldownDuration: this.options.jwksCooldownMs ?? 30_000,
      cacheMaxAge: this.options.jwksCacheMaxAgeMs ?? 600_000,
    });
  }
}
