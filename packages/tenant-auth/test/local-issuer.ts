import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyLike } from 'jose';

/**
 * A minimal OpenID issuer for negative token tests (expired, nbf, tampered, unknown kid, key
 * rotation), which a real provider will not sign on demand: discovery + JWKS over real HTTP.
 */
export class LocalIssuer {
  private server: Server | undefined;
  private keys: { kid: string; privateKey: KeyLike; jwk: JWK }[] = [];
  jwksRequests = 0;
  url = '';

  static async start(): Promise<LocalIssuer> {
    const i = new LocalIssuer();
    await i.rotate('k1');
    i.server = createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ issuer: i.url, jwks_uri: `${i.url}/jwks`, token_endpoint: `${i.url}/token` }));
      } else if (req.url === '/jwks') {
        i.jwksRequests++;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: i.keys.map((k) => k.jwk) }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => i.server!.listen(0, '127.0.0.1', () => r()));
    i.url = `http://127.0.0.1:${(i.server.address() as AddressInfo).port}`;
    return i;
  }

  /** Adds a key (and publishes it in the JWKS). */
  async rotate(kid: string): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    this.keys.push({ kid, privateKey, jwk });
  }

  /** A key that is not published. */
  async unpublishedKey(): Promise<KeyLike> {
    return (await generateKeyPair('RS256')).privateKey;
  }

  async sign(claims: JWTPayload, opts: { kid?: string; key?: KeyLike; expSeconds?: number; nbf?: number; iss?: string } = {}): Promise<string> {
    const k = this.keys.find((x) => x.kid === (opts.kid ?? 'k1'))!;
    const now = Math.floor(Date.now() / 1000);
    let jwt = new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? 'k1' })
      .setIssuer(opts.iss ?? this.url)
      .setIssuedAt(now)
      .setExpirationTime(now + (opts.expSeconds ?? 300))
      .setSubject('user-1');
    if (opts.nbf !== undefined) jwt = jwt.setNotBefore(opts.nbf);
    return jwt.sign(opts.key ?? k.privateKey);
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

export function b64url(o: object): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}
