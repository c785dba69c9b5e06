import { createPublicKey, type JsonWebKey, verify } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { type Keycloak, KeycloakTokenError, OTAO_SCOPES, startKeycloak } from '../src';

// A real Keycloak (see docs/keycloak-testing.md): first start on a machine installs it (~1-2 min),
// later starts take 10-30 s on a 2-core machine.
jest.setTimeout(60_000);

type Claims = Record<string, unknown>;
interface Permission {
  rsname: string;
  scopes?: string[];
}

function part(token: string, i: 0 | 1): Claims {
  const seg = token.split('.')[i];
  if (seg === undefined) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(seg, 'base64url').toString('utf8')) as Claims;
}
const payload = (t: string): Claims => part(t, 1);
const header = (t: string): Claims => part(t, 0);

function permissions(rpt: string): Record<string, string[]> {
  const authz = payload(rpt)['authorization'] as { permissions?: Permission[] } | undefined;
  const out: Record<string, string[]> = {};
  for (const p of authz?.permissions ?? []) out[p.rsname] = [...(p.scopes ?? [])].sort();
  return out;
}

const ALL = [...OTAO_SCOPES].sort();
const READ = 'application:software:read';

function processesMentioning(text: string): number[] {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

describe('startKeycloak (real Keycloak, two tenant realms)', () => {
  let kc: Keycloak;
  let stopped = false;

  beforeAll(async () => {
    kc = await startKeycloak();
  }, 600_000);

  afterAll(async () => {
    if (kc !== undefined && !stopped) await kc.stop();
  }, 60_000);

  it('has one issuer per realm, matching OpenID discovery', async () => {
    expect(kc.issuer('tenant-a')).not.toBe(kc.issuer('tenant-b'));
    for (const realm of kc.realms) {
      const res = await fetch(`${kc.issuer(realm)}/.well-known/openid-configuration`);
      const doc = (await res.json()) as Claims;
      expect(doc['issuer']).toBe(kc.issuer(realm));
      expect(doc['token_endpoint']).toBe(kc.tokenEndpoint(realm));
      expect(doc['jwks_uri']).toBe(kc.jwksUri(realm));
    }
  });

  it('gives every user in both realms an access token from its realm, audience otao', async () => {
    for (const realm of kc.realms) {
      for (const u of kc.users) {
        const p = payload(await kc.passwordToken(realm, u.username));
        expect(p['iss']).toBe(kc.issuer(realm));
        expect(p['preferred_username']).toBe(u.username);
        expect(p['azp']).toBe('otao-cli');
        expect(p['aud']).toEqual(expect.arrayContaining(['otao']));
      }
    }
    const a = payload(await kc.passwordToken('tenant-a', 'admin'));
    const b = payload(await kc.passwordToken('tenant-b', 'admin'));
    expect(a['iss']).not.toBe(b['iss']);
    expect(a['sub']).not.toBe(b['sub']);
  });

  it('rejects a wrong password', async () => {
    const r = await kc.tokenRequest('tenant-a', { grant_type: 'password', client_id: 'otao-cli', username: 'admin', password: 'wrong' });
    // invalid_grant: 400 from Keycloak 26.7 (RFC 6749 §5.2), 401 from 26.5 and earlier.
    expect([400, 401]).toContain(r.status);
    expect(r.body['error']).toBe('invalid_grant');
  });

  it('signs tokens with a key from the realm JWKS (RS256), different keys per realm', async () => {
    const kids: string[] = [];
    for (const realm of kc.realms) {
      const token = await kc.passwordToken(realm, 'reader');
      const h = header(token);
      expect(h['alg']).toBe('RS256');
      const jwks = (await (await fetch(kc.jwksUri(realm))).json()) as { keys: (JsonWebKey & { kid: string })[] };
      const jwk = jwks.keys.find((k) => k.kid === h['kid']);
      expect(jwk).toBeDefined();
      const [h64, p64, s64] = token.split('.') as [string, string, string];
      const ok = verify('RSA-SHA256', Buffer.from(`${h64}.${p64}`), createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }), Buffer.from(s64, 'base64url'));
      expect(ok).toBe(true);
      kids.push(String(h['kid']));
    }
    expect(kids[0]).not.toBe(kids[1]);
  });

  it('issues RPTs whose authorization.permissions follow each user’s grants', async () => {
    for (const realm of kc.realms) {
      expect(permissions(await kc.rptToken(realm, 'admin'))).toEqual({ 'application-kettle': ALL, 'application-toaster': ALL });
      expect(permissions(await kc.rptToken(realm, 'reader'))).toEqual({ 'application-kettle': [READ] });
      expect(permissions(await kc.rptToken(realm, 'toaster-admin'))).toEqual({ 'application-toaster': ALL });
      const rpt = payload(await kc.rptToken(realm, 'admin'));
      expect(rpt['iss']).toBe(kc.issuer(realm));
      expect(rpt['aud']).toEqual(expect.arrayContaining(['otao']));
    }
  });

  it('answers 403 access_denied to an RPT request of a user without any permission', async () => {
    for (const realm of kc.realms) {
      const err = await kc.rptToken(realm, 'nobody').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KeycloakTokenError);
      expect((err as KeycloakTokenError).status).toBe(403);
      expect((err as KeycloakTokenError).body).toEqual({ error: 'access_denied', error_description: 'not_authorized' });
    }
  });

  it('answers UMA decisions per user, application and scope', async () => {
    const expected: Record<string, Record<string, readonly string[]>> = {
      admin: { kettle: ALL, toaster: ALL },
      reader: { kettle: [READ], toaster: [] },
      nobody: { kettle: [], toaster: [] },
      'toaster-admin': { kettle: [], toaster: ALL },
    };
    for (const realm of kc.realms) {
      for (const [user, apps] of Object.entries(expected)) {
        const token = await kc.passwordToken(realm, user);
        for (const [app, granted] of Object.entries(apps)) {
          for (const scope of OTAO_SCOPES) {
            const got = await kc.umaDecision(realm, token, `application-${app}`, scope);
            expect({ realm, user, app, scope, got }).toEqual({ realm, user, app, scope, got: granted.includes(scope) });
          }
        }
      }
    }
  });

  it('refuses a token of one tenant at the other tenant’s token endpoint', async () => {
    const tokenA = await kc.passwordToken('tenant-a', 'admin');
    const r = await kc.tokenRequest(
      'tenant-b',
      { grant_type: 'urn:ietf:params:oauth:grant-type:uma-ticket', audience: 'otao', response_mode: 'decision', permission: `application-kettle#${READ}` },
      tokenA,
    );
    expect([400, 401]).toContain(r.status); // 400 from Keycloak 26.7, 401 from 26.5
    expect(r.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid bearer token' });
  });

  it('gives the otao client a client-credentials token', async () => {
    for (const realm of kc.realms) {
      const p = payload(await kc.clientCredentialsToken(realm));
      expect(p['iss']).toBe(kc.issuer(realm));
      expect(p['azp']).toBe(kc.clientId);
      expect(p['preferred_username']).toBe('service-account-otao');
    }
    const bad = await kc.tokenRequest('tenant-a', { grant_type: 'client_credentials', client_id: 'otao', client_secret: 'wrong' });
    expect(bad.status).toBe(401);
  });

  it('gives the service client otao-ci (own secret per realm) a client-credentials token and, exchanged, an RPT for kettle only', async () => {
    expect(kc.serviceClients.map((c) => c.clientId)).toEqual(['otao-ci']);
    expect(kc.serviceClientSecret('tenant-a', 'otao-ci')).not.toBe(kc.serviceClientSecret('tenant-b', 'otao-ci'));
    for (const realm of kc.realms) {
      const at = await kc.clientCredentialsToken(realm, 'otao-ci');
      const p = payload(at);
      expect(p).toMatchObject({ iss: kc.issuer(realm), azp: 'otao-ci', preferred_username: 'service-account-otao-ci', aud: expect.arrayContaining(['otao']) });
      expect(p['authorization']).toBeUndefined();
      const r = await kc.tokenRequest(realm, { grant_type: 'urn:ietf:params:oauth:grant-type:uma-ticket', audience: kc.clientId }, at);
      expect(r.status).toBe(200);
      expect(permissions(r.body['access_token'] as string)).toEqual({ 'application-kettle': [...OTAO_SCOPES].sort() });
    }
    const wrong = await kc.tokenRequest('tenant-a', {
      grant_type: 'client_credentials',
      client_id: 'otao-ci',
      client_secret: kc.serviceClientSecret('tenant-b', 'otao-ci'),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body['error']).toBe('unauthorized_client');
  });

  it('documents Keycloak’s default aud: "account" only, without the audience mapper', async () => {
    const admin = await kc.adminToken();
    const created = await fetch(`${kc.url}/admin/realms/tenant-a/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'plain-cli', publicClient: true, directAccessGrantsEnabled: true, standardFlowEnabled: false }),
    });
    expect(created.status).toBe(201);
    const r = await kc.tokenRequest('tenant-a', { grant_type: 'password', client_id: 'plain-cli', username: 'reader', password: 'reader-pass' });
    expect(r.status).toBe(200);
    expect(payload(String(r.body['access_token']))['aud']).toBe('account');
  });

  it('stop() leaves no Java process and frees the ports', async () => {
    const { dataDir, port, managementPort } = kc;
    expect(processesMentioning(dataDir).length).toBeGreaterThan(0);
    await kc.stop();
    stopped = true;
    expect(kc.process.running).toBe(false);
    expect(processesMentioning(dataDir)).toEqual([]);
    expect(await portOpen(port)).toBe(false);
    expect(await portOpen(managementPort)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });
});
