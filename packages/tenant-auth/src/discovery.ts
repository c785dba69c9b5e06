import { OtaoError } from '@otao/core';
import { fetchWithTimeout } from './http';

export interface IssuerMetadata {
  readonly issuer: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
}

/** OpenID discovery with a per-issuer cache (failures are not cached). */
export class IssuerDiscovery {
  private readonly cache = new Map<string, Promise<IssuerMetadata>>();
  constructor(private readonly timeoutMs = 5000) {}

  metadata(issuer: string): Promise<IssuerMetadata> {
    let p = this.cache.get(issuer);
    if (!p) {
      p = this.load(issuer);
      this.cache.set(issuer, p);
      p.catch(() => this.cache.delete(issuer));
    }
    return p;
  }

  async tokenEndpoint(issuer: string): Promise<string> {
    return (await this.metadata(issuer)).token_endpoint;
  }

  private async load(issuer: string): Promise<IssuerMetadata> {
    const res = await fetchWithTimeout(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, {
      timeoutMs: this.timeoutMs,
      what: 'OpenID discovery',
    });
    if (!res.ok) throw new OtaoError('dependency.unavailable', `OpenID discovery answered ${res.status}`);
    const m = (await res.json()) as Partial<IssuerMetadata>;
    if (typeof m.token_endpoint !== 'string' || typeof m.jwks_uri !== 'string')
      throw new OtaoError('dependency.unavailable', 'OpenID discovery without token_endpoint or jwks_uri');
    return { issuer: m.issuer ?? issuer, token_endpoint: m.token_endpoint, jwks_uri: m.jwks_uri };
  }
}
