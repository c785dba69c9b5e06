// Requesting-party tokens for OTAO_AUTHZ_MODE=rpt (spec §8, docs/security.md): there the API reads
// the caller's permissions from the token's `authorization.permissions` claim, which the person's
// access token from the sign-in does not carry. The console exchanges it at the tenant's token
// endpoint (Keycloak: grant_type=urn:ietf:params:oauth:grant-type:uma-ticket, audience = OTAO's
// resource server) for an RPT, calls the API with that, and gets a new one when it is about to
// expire or when the access token was renewed.

export const UMA_TICKET_GRANT = 'urn:ietf:params:oauth:grant-type:uma-ticket';

/** Renew this long before the RPT's expiry, so that no call carries a token expiring on its way. */
const EARLY_MS = 30_000;
/** A refusal (no permission at all) is asked again after this long: permissions may be granted meanwhile. */
const REFUSED_MS = 30_000;

export interface RptOptions {
  /** The tenant's token endpoint (from its OpenID discovery document). */
  tokenEndpoint: () => Promise<string>;
  /** The resource server's client id (config.json `rptAudience`). */
  audience: string;
  /** The signed-in person's current access token. */
  accessToken: () => Promise<string | undefined>;
  now?: () => number;
  fetch?: typeof fetch;
}

/** The RPT could not be obtained (the issuer is down, refused the grant for another reason than permissions). */
export class RptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RptError';
  }
}

/** The `exp` of a JWT in ms, or undefined. */
function expiryOf(jwt: string): number | undefined {
  try {
    const payload = JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A token source for the API client: the RPT for the current access token, cached until shortly
 * before it expires; concurrent callers share one request. When the issuer refuses because the
 * person has no permission at all (Keycloak: 403 access_denied), the access token itself is used:
 * the API then answers as it does for anyone without permissions (no applications; 404 for one).
 */
export function rptTokenSource(o: RptOptions): () => Promise<string | undefined> {
  const now = o.now ?? Date.now;
  const doFetch = o.fetch ?? ((input, init) => fetch(input, init));
  let cached: { for: string; token: string; until: number } | undefined;
  let inflight: { for: string; promise: Promise<string> } | undefined;

  const obtain = async (accessToken: string): Promise<string> => {
    const res = await doFetch(await o.tokenEndpoint(), {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: UMA_TICKET_GRANT, audience: o.audience }).toString(),
    });
    const body = (await res.json().catch(() => undefined)) as
      { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | undefined;
    if (res.ok && typeof body?.access_token === 'string') {
      const token = body.access_token;
      const exp = expiryOf(token) ?? (typeof body.expires_in === 'number' ? now() + body.expires_in * 1000 : now() + 60_000);
      cached = { for: accessToken, token, until: exp - EARLY_MS };
      return token;
    }
    if (res.status === 403 && body?.error === 'access_denied') {
      cached = { for: accessToken, token: accessToken, until: now() + REFUSED_MS };
      return accessToken;
    }
    const why = typeof body?.error_description === 'string' ? body.error_description : typeof body?.error === 'string' ? body.error : `HTTP ${res.status}`;
    throw new RptError(`Your permissions for OTAO could not be obtained from the sign-in service (${why}).`);
  };

  return async () => {
    const accessToken = await o.accessToken();
    if (!accessToken) return undefined;
    if (cached && cached.for === accessToken && now() < cached.until) return cached.token;
    if (!inflight || inflight.for !== accessToken) {
      const promise = obtain(accessToken).finally(() => {
        if (inflight?.promise === promise) inflight = undefined;
      });
      inflight = { for: accessToken, promise };
    }
    return inflight.promise;
  };
}
