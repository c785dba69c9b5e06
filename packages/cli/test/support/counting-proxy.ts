// A reverse proxy in front of Keycloak that counts the requests to the token endpoints and keeps the
// tokens Keycloak hands out, so the tests can assert how often `otao` asked for a token and that no
// token ever reached its output. The Host header is passed on unchanged: Keycloak (hostname-strict
// off) then names the proxy in its discovery document and as the tokens' `iss`, so every token
// request of the CLI and the server goes through here.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';

export interface TokenRequest {
  readonly realm: string;
  /** `client_credentials`, `urn:ietf:params:oauth:grant-type:uma-ticket`, … */
  readonly grantType: string;
  /** `decision` for the UMA decisions a server in `uma` mode asks for; undefined otherwise. */
  readonly responseMode: string | undefined;
  /** The client of HTTP Basic authentication, when given. */
  readonly basicClient: string | undefined;
  readonly status: number;
}

export class CountingProxy {
  readonly requests: TokenRequest[] = [];
  /** Every access_token (and refresh_token) Keycloak answered through the proxy. */
  readonly issuedTokens: string[] = [];
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly targetPort: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  issuer(realm: string): string {
    return `${this.url}/realms/${realm}`;
  }

  /** The token requests of the CLI: client-credentials grants of `clientId` and RPT exchanges (not the server's UMA decisions). */
  cliRequests(realm: string, clientId = 'otao-ci'): { clientCredentials: number; rpt: number } {
    const mine = this.requests.filter((r) => r.realm === realm && r.responseMode === undefined);
    return {
      clientCredentials: mine.filter((r) => r.grantType === 'client_credentials' && r.basicClient === clientId).length,
      rpt: mine.filter((r) => r.grantType === 'urn:ietf:params:oauth:grant-type:uma-ticket').length,
    };
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.forward(req, res));
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((ok) => (this.server ? this.server.close(ok) : ok(undefined)));
  }

  private async forward(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const token = /^\/realms\/([^/]+)\/protocol\/openid-connect\/token$/.exec(req.url?.split('?')[0] ?? '');
    const up = request({ host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const out: Buffer[] = [];
      answer.on('data', (c: Buffer) => out.push(c));
      answer.on('end', () => {
        const text = Buffer.concat(out);
        if (token && req.method === 'POST') this.record(token[1] ?? '', req, body, answer.statusCode ?? 0, text);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.end(text);
      });
    });
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    up.end(body);
  }

  private record(realm: string, req: IncomingMessage, body: Buffer, status: number, answer: Buffer): void {
    const form = new URLSearchParams(body.toString('utf8'));
    const auth = req.headers.authorization;
    const basicClient = auth?.startsWith('Basic ')
      ? decodeURIComponent(Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0] ?? '')
      : (form.get('client_id') ?? undefined);
    this.requests.push({ realm, grantType: form.get('grant_type') ?? '', responseMode: form.get('response_mode') ?? undefined, basicClient, status });
    try {
      const j = JSON.parse(answer.toString('utf8')) as { access_token?: unknown; refresh_token?: unknown };
      for (const t of [j.access_token, j.refresh_token]) if (typeof t === 'string') this.issuedTokens.push(t);
    } catch {
      // not JSON: nothing issued
    }
  }
}
