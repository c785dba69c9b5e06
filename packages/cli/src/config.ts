import { homedir } from 'node:os';
import { join } from 'node:path';
import { usageError } from './errors';

/** Where the token comes from: a fixed bearer token, client credentials, or none (authentication off). */
export type AuthConfig =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  | {
      readonly kind: 'client-credentials';
      readonly issuer: string;
      readonly clientId: string;
      readonly clientSecret: string;
      /** Directory of the optional file cache (`OTAO_TOKEN_CACHE=file`), else undefined. */
      readonly cacheDir: string | undefined;
      /**
       * `OTAO_RPT_AUDIENCE`: the client id of OTAO's resource server in the realm. When set, the
       * client-credentials token is exchanged for a requesting-party token (UMA ticket grant) with
       * `authorization.permissions`, which a server in `OTAO_AUTHZ_MODE=rpt` needs.
       */
      readonly rptAudience: string | undefined;
    };

export interface CliConfig {
  /** The server's base URL, without `/api/v1`. */
  readonly url: string;
  readonly auth: AuthConfig;
  readonly verbose: boolean;
  readonly json: boolean;
  /** Per-request timeout (ms) for everything but file uploads. */
  readonly timeoutMs: number;
}

export interface GlobalOptions {
  readonly url?: string | undefined;
  readonly json?: boolean | undefined;
  readonly verbose?: boolean | undefined;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** The only reader of the environment: parsed once per command, validated, frozen. */
export function loadConfig(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CliConfig {
  const raw = opts.url ?? env['OTAO_URL'] ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`--url / OTAO_URL: not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--url / OTAO_URL: http or https only, got ${url.protocol}`);
  const base = url
    .toString()
    .replace(/\/+$/, '')
    .replace(/\/api\/v1$/, '');
  return Object.freeze({
    url: base,
    auth: authConfig(env),
    verbose: opts.verbose === true,
    json: opts.json === true,
    timeoutMs: 30_000,
  });
}

function authConfig(env: NodeJS.ProcessEnv): AuthConfig {
  const token = env['OTAO_TOKEN'];
  if (token !== undefined && token !== '') return { kind: 'token', token };
  const clientId = env['OTAO_CLIENT_ID'];
  const clientSecret = env['OTAO_CLIENT_SECRET'];
  const issuer = env['OTAO_ISSUER'];
  if (clientId || clientSecret || issuer) {
    const missing = [
      ['OTAO_CLIENT_ID', clientId],
      ['OTAO_CLIENT_SECRET', clientSecret],
      ['OTAO_ISSUER', issuer],
    ]
      .filter(([, v]) => !v)
      .map(([k]) => k);
    if (missing.length) throw usageError(`client credentials need ${missing.join(' and ')} as well`);
    const cache = (env['OTAO_TOKEN_CACHE'] ?? 'memory').toLowerCase();
    if (cache !== 'memory' && cache !== 'file') throw usageError(`OTAO_TOKEN_CACHE must be memory or file, got ${cache}`);
    const cacheHome = env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache');
    const rptAudience = env['OTAO_RPT_AUDIENCE'] || undefined;
    return {
      kind: 'client-credentials',
      issuer: issuer!.replace(/\/+$/, ''),
      clientId: clientId!,
      clientSecret: clientSecret!,
      cacheDir: cache === 'file' ? join(cacheHome, 'otao') : undefined,
      rptAudience,
    };
  }
  return { kind: 'none' };
}
