import { OtaoError } from '@otao/core';
import { fetchWithTimeout } from './http';

export interface TenantRecord {
  readonly id: string;
  readonly issuer: string;
}

/** Maps token issuers to tenants (spec §8). */
export interface TenantDirectory {
  /** The tenant of an issuer, or undefined when unknown (after at most one rate-limited refresh). */
  tenantOfIssuer(issuer: string): Promise<string | undefined>;
  /** Re-reads the tenant list (e.g. on 21/TLE `tenant.lifecycle.updated`). */
  refresh(): Promise<void>;
  /**
   * Drops the tenant at once (21/TLE `tenant.lifecycle.unregistered`): its issuers map to no tenant
   * any more. A refresh that was already running when this was called does not bring it back; a
   * later one does only if the source still lists the tenant. Idempotent.
   */
  forget(tenantId: string): void;
}

function normalizeIssuer(iss: string): string {
  return iss.replace(/\/+$/, '');
}

/** The static list of OTAO_TENANTS (`[{"id","issuer"}]`). */
export class StaticTenantDirectory implements TenantDirectory {
  private readonly byIssuer: Map<string, string>;
  constructor(tenants: readonly TenantRecord[]) {
    this.byIssuer = new Map(tenants.map((t) => [normalizeIssuer(t.issuer), t.id]));
  }
  async tenantOfIssuer(issuer: string): Promise<string | undefined> {
    return this.byIssuer.get(normalizeIssuer(issuer));
  }
  async refresh(): Promise<void> {}
  /** The static list is not read again: an unregistered tenant stays unknown until the process restarts. */
  forget(tenantId: string): void {
    for (const [iss, id] of [...this.byIssuer]) if (id === tenantId) this.byIssuer.delete(iss);
  }
}

/** Parses OTAO_TENANTS; returns the problems instead of throwing. */
export function parseTenantList(json: string): { tenants: TenantRecord[]; problems: string[] } {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return { tenants: [], problems: ['OTAO_TENANTS: not valid JSON'] };
  }
  if (!Array.isArray(v)) return { tenants: [], problems: ['OTAO_TENANTS: must be a JSON array of {"id","issuer"}'] };
  const tenants: TenantRecord[] = [];
  const problems: string[] = [];
  v.forEach((t: unknown, i) => {
    const o = t as { id?: unknown; issuer?: unknown } | null;
    if (!o || typeof o.id !== 'string' || o.id === '' || typeof o.issuer !== 'string' || !/^https?:\/\//.test(o.issuer)) {
      problems.push(`OTAO_TENANTS[${i}]: needs a non-empty "id" and an http(s) "issuer"`);
    } else tenants.push({ id: o.id, issuer: o.issuer });
  });
  return { tenants, problems };
}

/** Something that hands out the bearer token OTAO uses for its own calls. */
export interface TokenProvider {
  token(): Promise<string>;
}

export interface TenantManagerOptions {
  /** Base URL of the Tenant Manager (OTAO_TENANT_MANAGER_URL). */
  readonly url: string;
  /** Issuer base of the tenants' Keycloak, e.g. `http://keycloak/` — a tenant's issuer is `<base>/realms/<realm_name>` unless the record names `issuer`. */
  readonly keycloakBaseUrl: string;
  readonly tokens?: TokenProvider;
  /** Minimum time between two refreshes (unknown issuers are frequent under attack). */
  readonly minRefreshIntervalMs?: number;
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

interface TmTenant {
  id?: unknown;
  realm_name?: unknown;
  issuer?: unknown;
}

/**
 * The tenant list of the Kaa Tenant Manager (`GET /api/v1/tenants?limit=0` → `{count, results}`),
 * cached; refreshed on an unknown issuer at most once per `minRefreshIntervalMs`.
 */
export class TenantManagerDirectory implements TenantDirectory {
  private byIssuer = new Map<string, string>();
  private lastRefresh = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  private readonly now: () => number;
  /** Counts forget() calls; a load applies the forgets that happened after it started. */
  private epoch = 0;
  private readonly forgotten = new Map<string, number>();

  constructor(private readonly options: TenantManagerOptions) {
    this.now = options.now ?? Date.now;
  }

  async tenantOfIssuer(issuer: string): Promise<string | undefined> {
    const iss = normalizeIssuer(issuer);
    const hit = this.byIssuer.get(iss);
    if (hit !== undefined) return hit;
    if (this.now() - this.lastRefresh >= (this.options.minRefreshIntervalMs ?? 30_000)) await this.refresh();
    return this.byIssuer.get(iss);
  }

  async refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  forget(tenantId: string): void {
    this.forgotten.set(tenantId, ++this.epoch);
    for (const [iss, id] of [...this.byIssuer]) if (id === tenantId) this.byIssuer.delete(iss);
  }

  private async load(): Promise<void> {
    this.lastRefresh = this.now();
    const startedAt = this.epoch;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.tokens) headers['authorization'] = `Bearer ${await this.options.tokens.token()}`;
    const res = await fetchWithTimeout(`${this.options.url.replace(/\/+$/, '')}/api/v1/tenants?limit=0`, {
      headers,
      timeoutMs: this.options.timeoutMs ?? 5000,
      what: 'tenant manager',
    });
    if (!res.ok) throw new OtaoError('dependency.unavailable', `tenant manager answered ${res.status}`);
    const body = (await res.json()) as { results?: unknown };
    if (!Array.isArray(body.results)) throw new OtaoError('dependency.unavailable', 'tenant manager answered without results');
    const base = this.options.keycloakBaseUrl.replace(/\/+$/, '');
    const next = new Map<string, string>();
    for (const t of body.results as TmTenant[]) {
      if (typeof t.id !== 'string') continue;
      const issuer = typeof t.issuer === 'string' ? t.issuer : typeof t.realm_name === 'string' ? `${base}/realms/${t.realm_name}` : undefined;
      if (issuer) next.set(normalizeIssuer(issuer), t.id);
    }
    // A tenant forgotten while this list was on its way is gone, whatever the list says; forgets
    // older than this load are settled: the Tenant Manager's current answer decides.
    for (const [iss, id] of [...next]) if ((this.forgotten.get(id) ?? 0) > startedAt) next.delete(iss);
    for (const [id, at] of [...this.forgotten]) if (at <= startedAt) this.forgotten.delete(id);
    this.byIssuer = next;
  }
}
