import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import createClient, { type Client } from 'openapi-fetch';
import type { TokenSource } from './auth';
import type { CliConfig } from './config';
import { CliError, apiError, unreachable } from './errors';
import type { components, paths } from './generated/api';

export type Paths = paths;
export type Schemas = components['schemas'];
export type ApiClient = Client<Paths>;

/** What an openapi-fetch call resolves to, whatever the operation. */
interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The REST client: openapi-fetch over the generated types, the bearer token added to every request,
 * a line per request and answer on stderr with --verbose (method, path, status, time, correlation
 * id: never a header, a token or a body).
 */
export class Api {
  readonly client: ApiClient;

  constructor(
    readonly config: CliConfig,
    private readonly tokens: TokenSource,
    private readonly log: (line: string) => void,
  ) {
    this.client = createClient<Paths>({
      baseUrl: `${config.url}/api/v1`,
      fetch: (req) => this.send(req),
    });
  }

  /**
   * A fetch for one request whose body is `source`, sent over node:http with the socket's
   * backpressure (undici's fetch reads a request stream ahead without bound: a 200 MiB upload held
   * ~270 MiB), for openapi-fetch's per-request `fetch` option.
   */
  uploadFetch(source: NodeJS.ReadableStream): (req: Request) => Promise<Response> {
    return (req) => this.send(req, (r) => sendStream(r, source));
  }

  private async send(req: Request, transport: (req: Request) => Promise<Response> = (r) => fetch(r)): Promise<Response> {
    const token = await this.tokens.token();
    if (token !== undefined) req.headers.set('authorization', `Bearer ${token}`);
    const path = new URL(req.url).pathname + new URL(req.url).search;
    this.log(`> ${req.method} ${path}`);
    const started = performance.now();
    let res: Response;
    try {
      res = await transport(req);
    } catch (e) {
      throw unreachable(this.config.url, e);
    }
    const ms = Math.round(performance.now() - started);
    this.log(`< ${res.status} ${req.method} ${path} ${ms} ms correlation-id=${res.headers.get('correlation-id') ?? '-'}`);
    if (res.status === 401) this.tokens.invalidate();
    return res;
  }

  /** The per-request options every call but an upload gets: a timeout. */
  get init(): { signal: AbortSignal } {
    return { signal: AbortSignal.timeout(this.config.timeoutMs) };
  }

  /** The data of a 2xx answer, or throws the API's error as a CliError (4xx exit 2, 5xx exit 3). */
  async call<T>(pending: Promise<FetchResult<T>>): Promise<{ data: T; response: Response }> {
    let r: FetchResult<T>;
    try {
      r = await pending;
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw unreachable(this.config.url, e);
    }
    if (!r.response.ok) throw this.withHint(apiError(r.response.status, r.error, r.response.statusText));
    return { data: r.data as T, response: r.response };
  }

  /**
   * A client-credentials token without `OTAO_RPT_AUDIENCE` carries no `authorization.permissions`:
   * a server in `OTAO_AUTHZ_MODE=rpt` answers every application 404 (or 403). Says so on that line.
   */
  private withHint(e: CliError): CliError {
    const { auth } = this.config;
    const denied = (e.status === 404 && e.code === 'application.not_found') || (e.status === 403 && e.code === 'auth.forbidden');
    if (!denied || auth.kind !== 'client-credentials' || auth.rptAudience !== undefined) return e;
    return new CliError(
      `${e.message} (if the server runs OTAO_AUTHZ_MODE=rpt, set OTAO_RPT_AUDIENCE to its client id to send an RPT)`,
      e.exitCode,
      e.code,
      e.status,
    );
  }
}

/** Sends `req` (method, URL, headers) with `source` as its chunked body; resolves with the whole answer. */
function sendStream(req: Request, source: NodeJS.ReadableStream): Promise<Response> {
  return new Promise((ok, fail) => {
    const url = new URL(req.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    const out = send(url, { method: req.method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 502;
        ok(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: h }));
      });
    });
    out.on('error', fail);
    // An early answer (413, 404) ends the request: the rest of the file is not sent.
    pipeline(source, out).catch(() => undefined);
  });
}
