// Sign-in (spec §11): with authentication on, the person picks a tenant (or `?tenant=`) and signs in
// at that tenant's issuer with authorization code + PKCE (public client). oidc-client-ts is loaded
// only when sign-in is needed, so the default (auth off) start does not carry it.
import type { User, UserManager } from 'oidc-client-ts';
import { setTokenSource } from './api/client';
import type { ConsoleConfig } from './console-config';
import { rptTokenSource } from './rpt';

const TENANT_KEY = 'otao.console.tenant';
const RETURN_KEY = 'otao.console.return';

export type AuthState =
  | { kind: 'off'; tenant: string | undefined }
  | { kind: 'pick-tenant'; tenants: string[]; free: boolean }
  | { kind: 'signed-out'; tenant: string; signIn: () => Promise<void> }
  | { kind: 'signed-in'; tenant: string; user: string; signOut: () => Promise<void> };

export function issuerOf(config: ConsoleConfig, tenant: string): string | undefined {
  const t = config.tenants.find((x) => x.id === tenant);
  if (t) return t.issuer;
  return config.issuerBase ? config.issuerBase + tenant : undefined;
}

export function chooseTenant(tenant: string): void {
  sessionStorage.setItem(TENANT_KEY, tenant);
  const u = new URL(location.href);
  u.searchParams.delete('tenant');
  location.assign(u.toString());
}

export function forgetTenant(): void {
  sessionStorage.removeItem(TENANT_KEY);
}

/** Finds out who is using the console, completing a sign-in redirect when this load is its callback. */
export async function initAuth(config: ConsoleConfig): Promise<AuthState> {
  if (!config.auth) return { kind: 'off', tenant: config.defaultTenant };
  const fromQuery = new URLSearchParams(location.search).get('tenant');
  if (fromQuery) sessionStorage.setItem(TENANT_KEY, fromQuery);
  let tenant = sessionStorage.getItem(TENANT_KEY) ?? undefined;
  if (!tenant && config.tenants.length === 1) tenant = config.tenants[0]!.id;
  const issuer = tenant ? issuerOf(config, tenant) : undefined;
  if (!tenant || !issuer) return { kind: 'pick-tenant', tenants: config.tenants.map((t) => t.id), free: config.issuerBase !== undefined };

  const { UserManager, WebStorageStateStore } = await import('oidc-client-ts');
  const base = new URL(import.meta.env.BASE_URL, location.origin).toString();
  const manager: UserManager = new UserManager({
    authority: issuer,
    client_id: config.clientId,
    redirect_uri: `${base}callback`,
    post_logout_redirect_uri: base,
    response_type: 'code',
    scope: 'openid profile',
    // renewal is ours (below): on the expiring event and whenever a call finds the token expired
    automaticSilentRenew: false,
    userStore: new WebStorageStateStore({ store: sessionStorage }),
  });
  let user: User | null;
  if (location.pathname === `${import.meta.env.BASE_URL}callback`) {
    user = await manager.signinRedirectCallback();
    const back = sessionStorage.getItem(RETURN_KEY) ?? import.meta.env.BASE_URL;
    sessionStorage.removeItem(RETURN_KEY);
    history.replaceState(null, '', back);
  } else {
    user = await manager.getUser();
  }
  const signIn = async (): Promise<void> => {
    const back = new URL(location.href);
    back.searchParams.delete('tenant');
    sessionStorage.setItem(RETURN_KEY, back.pathname + back.search);
    await manager.signinRedirect();
  };
  if (!user || user.expired) return { kind: 'signed-out', tenant, signIn };
  // Silent renewal with the refresh token (no redirect): 60 s before the access token expires
  // (oidc-client-ts' expiring event), and at once when a call finds it expired — after the computer
  // slept, the timer fires late while the pages already call again. Both share one renewal. A failed
  // renewal (the session ended at the issuer) leaves the old token: the API's 401 then offers to sign in again.
  let renewing: Promise<User | null> | undefined;
  const renew = (): Promise<User | null> =>
    (renewing ??= manager
      .signinSilent()
      .catch(() => null)
      .finally(() => {
        renewing = undefined;
      }));
  manager.events.addAccessTokenExpiring(() => void renew());
  const accessToken = async (): Promise<string | undefined> => {
    let current = await manager.getUser();
    if (current?.expired) current = (await renew()) ?? current;
    return current?.access_token;
  };
  if (config.authzMode === 'rpt') {
    const audience = config.rptAudience;
    if (!audience)
      throw new Error('OTAO decides permissions from RPTs here but names no resource server to ask one for (set OTAO_OAUTH_CLIENT_ID on the server).');
    setTokenSource(rptTokenSource({ audience, accessToken, tokenEndpoint: () => manager.metadataService.getTokenEndpoint(false) }));
  } else setTokenSource(accessToken);
  const profile = user.profile;
  return {
    kind: 'signed-in',
    tenant,
    user: profile.preferred_username ?? profile.name ?? profile.sub,
    // Ends the session at the issuer (its end-session endpoint, which redirects back to the console:
    // the tenant picker). From the click on, no API call carries the old token.
    signOut: async () => {
      forgetTenant();
      setTokenSource(async () => undefined);
      try {
        await manager.signoutRedirect();
      } catch {
        // the issuer cannot be reached: at least forget the session here
        await manager.removeUser();
        location.assign(base);
      }
    },
  };
}
