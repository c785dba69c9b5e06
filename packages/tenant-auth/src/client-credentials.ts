import { Issuer, type BaseClient } from 'openid-client';
import { OtaoError } from '@otao/core';
import type { TokenProvider } from './tenant-directory';

export interface ClientCredentialsOptions {
  /** Issuer of the system tenant (OTAO_OAUTH_ISSUER). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Renew this long before expiry. */
  readonly renewBeforeMs?: number;
  readonly now?: () => number;
}

/**
 * The client-credentials token OTAO uses for its own calls (Tekton, Tenant Manager, Keycloak),
 * obtained through openid-client and cached until shortly before it expires. The secret is never
 * logged or put in an error message.
 */
export class ClientCredentialsTokenProvider implements TokenProvider {
  private client: Promise<BaseClient> | undefined;
  private cached: { token: string; until: number } | undefined;
  private inflight: Promise<string> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ClientCredentialsOptions) {
    this.now = options.now ?? Date.now;
  }

  async token(): Promise<string> {
    if (this.cached && this.now() < this.cached.until) return this.cached.token;
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<string> {
    try {
      this.client ??= Issuer.discover(this.options.issuer).then(
        (issuer) =>
          new issuer.Client({ client_id: this.options.clientId, client_secret: this.options.clientSecret, token_endpoint_auth_method: 'client_secret_post' }),
      );
      const client = await this.client;
      const set = await client.grant({ grant_type: 'client_credentials' });
      if (!set.access_token) throw new Error('no access_token in the token response');
      const lifetimeMs = (set.expires_in ?? 60) * 1000;
      const renew = Math.min(this.options.renewBeforeMs ?? 30_000, lifetimeMs / 2);
      this.cached = { token: set.access_token, until: this.now() + lifetimeMs - renew };
      return set.access_token;
    } catch (e) {
      this.client = undefined;
      const msg = e instanceof Error ? e.message.replaceAll(this.options.clientSecret, '***') : 'unknown error';
      throw new OtaoError('dependency.unavailable', `client-credentials token for ${this.options.clientId}: ${msg}`);
    }
  }
}
