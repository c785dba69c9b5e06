import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuthConfig } from './config';
import { CliError, EXIT, describeCause } from './errors';

/** Gives the bearer token for a request, or undefined when authentication is off. Never logs it. */
export interface TokenSource {
  token(): Promise<string | undefined>;
  /** Forgets a cached token (after a 401). */
  invalidate(): void;
}

interface CachedToken {
  readonly accessToken: string;
  /** Epoch ms after which the token is not used any more (shortly before its expiry). */
  readonly useUntil: number;
}

/** A token is used until 30 s (or a tenth of its lifetime, if shorter) before it expires. */
export function useUntil(now: number, expiresInSeconds: number): number {
  const lifetime = Math.max(0, expiresInSeconds) * 1000;
  return now + lifetime - Math.min(30_000, lifetime / 10);
}

export function tokenSource(auth: AuthConfig, log: (line: string) => void, now: () => number = Date.now): TokenSource {
  switch (auth.kind) {
    case 'none':
      return { token: async () => undefined, invalidate: () => undefined };
    case 'token':
      return { token: async () => auth.token, invalidate: () => undefined };
    case 'client-credentials':
      return new ClientCredentials(auth, log, now);
  }
}

class ClientCredentials implements TokenSource {
  private cached: CachedToken | undefined;
  private pending: Promise<string> | undefined;
  private readonly cacheFile: string | undefined;

  constructor(
    private readonly auth: Extract<AuthConfig, { kind: 'client-credentials' }>,
    private readonly log: (line: string) => void,
    private readonly now: () => number,
  ) {
    // The file name depends on issuer, client, secret and RPT audience (hashed), so a changed secret is a new entry.
    const key = createHash('sha256')
      .update(`${auth.issuer}\0${auth.clientId}\0${auth.clientSecret}\0${auth.rptAudience ?? ''}`)
      .digest('hex')
      .slice(0, 32);
    this.cacheFile = auth.cacheDir === undefined ? undefined : join(auth.cacheDir, `token-${key}.json`);
  }

  async token(): Promise<string> {
    if (this.cached && this.now() < this.cached.useUntil) return this.cached.accessToken;
    const fromFile = this.readFile();
    if (fromFile) {
      this.cached = fromFile;
      this.log('auth: token from the file cache');
      return fromFile.accessToken;
    }
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  invalidate(): void {
    this.cached = undefined;
    // The file entry too: the next command (or request) fetches a new token instead of reading it back.
    if (this.cacheFile) rmSync(this.cacheFile, { force: true });
  }

  private async fetchToken(): Promise<string> {
    const discovery = `${this.auth.issuer}/.well-known/openid-configuration`;
    this.log(`auth: discovery ${discovery}`);
    const meta = await this.getJson(discovery, { method: 'GET' }, 'OpenID discovery');
    const endpoint = (meta as { token_endpoint?: unknown }).token_endpoint;
    if (typeof endpoint !== 'string') throw new CliError(`${discovery} has no token_endpoint`, EXIT.unavailable, 'auth.discovery_failed');
    this.log(`auth: client credentials grant at ${endpoint} for client ${this.auth.clientId}`);
    // The lifetime counts from before the request: the token expires no later than that.
    const requestedAt = this.now();
    const basic = Buffer.from(`${encodeURIComponent(this.auth.clientId)}:${encodeURIComponent(this.auth.clientSecret)}`).toString('base64');
    const t = (await this.getJson(endpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
    })) as { access_token?: unknown; expires_in?: unknown };
    if (typeof t.access_token !== 'string') throw new CliError('the token endpoint answered without access_token', EXIT.unavailable, 'auth.token_failed');
    const got =
      this.auth.rptAudience === undefined
        ? { access_token: t.access_token, expires_in: t.expires_in }
        : await this.exchangeForRpt(endpoint, t.access_token, this.auth.rptAudience);
    const expiresIn = typeof got.expires_in === 'number' ? got.expires_in : 60;
    this.cached = { accessToken: got.access_token, useUntil: useUntil(requestedAt, expiresIn) };
    this.writeFile(this.cached);
    return got.access_token;
  }

  /**
   * Keycloak's UMA ticket grant with the client's access token as bearer and the resource server as
   * audience: a requesting-party token whose `authorization.permissions` hold everything the client may
   * do there (what a server in `OTAO_AUTHZ_MODE=rpt` reads). A client without any permission gets 403.
   */
  private async exchangeForRpt(endpoint: string, accessToken: string, audience: string): Promise<{ access_token: string; expires_in?: unknown }> {
    this.log(`auth: RPT exchange (UMA ticket grant) at ${endpoint} for audience ${audience}`);
    const r = (await this.getJson(
      endpoint,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:uma-ticket', audience }).toString(),
      },
      'RPT request',
    )) as { access_token?: unknown; expires_in?: unknown };
    if (typeof r.access_token !== 'string')
      throw new CliError('the token endpoint answered the RPT request without access_token', EXIT.unavailable, 'auth.token_failed');
    return { access_token: r.access_token, expires_in: r.expires_in };
  }

  private async getJson(url: string, init: RequestInit, what = 'token request'): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    } catch (e) {
      throw new CliError(`cannot reach the token issuer ${url}: ${describeCause(e)}`, EXIT.unavailable, 'auth.unreachable');
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      // OAuth errors are {error, error_description}; neither holds a secret.
      const b = (body ?? {}) as { error?: unknown; error_description?: unknown };
      const reason = [b.error, b.error_description].filter((x) => typeof x === 'string').join(': ') || `HTTP ${res.status}`;
      throw new CliError(`${what} refused: ${reason}`, res.status >= 500 ? EXIT.unavailable : EXIT.apiError, 'auth.token_failed', res.status);
    }
    if (body === undefined) throw new CliError(`${url} did not answer JSON`, EXIT.unavailable, 'auth.token_failed');
    return body;
  }

  private readFile(): CachedToken | undefined {
    if (!this.cacheFile) return undefined;
    try {
      const c = JSON.parse(readFileSync(this.cacheFile, 'utf8')) as Partial<CachedToken>;
      if (typeof c.accessToken === 'string' && typeof c.useUntil === 'number' && this.now() < c.useUntil)
        return { accessToken: c.accessToken, useUntil: c.useUntil };
    } catch {
      // absent or unreadable: fetch a new token
    }
    return undefined;
  }

  private writeFile(t: CachedToken): void {
    if (!this.cacheFile || !this.auth.cacheDir) return;
    try {
      mkdirSync(this.auth.cacheDir, { recursive: true, mode: 0o700 });
      const tmp = `${this.cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(t), { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, this.cacheFile);
    } catch (e) {
      this.log(`auth: could not write the token cache: ${describeCause(e)}`);
    }
  }
}
