import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import {
  type Actor,
  actorOfToken,
  ANONYMOUS_ACTOR,
  type AuditFilters,
  type Authenticator,
  type ErrorCode,
  isOtaoError,
  isValidAppName,
  type Logger,
  noopLogger,
  parseKaaDate,
  type OtaoCore,
  type PermissionChecker,
  type Precondition,
  type Principal,
  type SoftwareScope,
} from '@otao/core';
import { CONSOLE_PATH, type ConsoleOptions, consoleRouter } from './console-routes';
import { HTTP_STATUS, HttpFailure } from './error-mapping';
import { OPENAPI_TEXT } from './openapi';
import {
  applicationDto,
  auditEntryDto,
  endpointListDto,
  endpointViewDto,
  etagOf,
  preconditionOf,
  previewDto,
  rolloutDto,
  rolloutHistoryDto,
  softwareDto,
} from './serialize';
import { RequestValidator } from './validation';

/** Metrics hook: one call per answered request, with the route pattern (not the raw URL). */
export interface HttpObserver {
  request(route: string, method: string, status: number, seconds: number): void;
}

export interface Readiness {
  readonly ready: boolean;
  /** What is down, e.g. `nats: disconnected`. */
  readonly problems: readonly string[];
  /** Dependencies that are down without making the service unready, e.g. `s3: unreachable`. */
  readonly degraded?: readonly string[];
}

export interface HttpOptions {
  readonly core: OtaoCore;
  readonly authenticator: Authenticator;
  readonly permissions: PermissionChecker;
  /** Kaa's `security.ignored` ant patterns; `/**` turns authentication off everywhere. */
  readonly securityIgnored?: readonly string[];
  /** The tenant of requests on ignored paths (OTAO_DEFAULT_TENANT). */
  readonly defaultTenant?: string;
  /** JSON body limit; default: twice the specification limit plus 64 KiB (spec and metadata). */
  readonly bodyLimitBytes?: number;
  readonly logger?: Logger;
  readonly observer?: HttpObserver;
  readonly readiness?: () => Promise<Readiness>;
  readonly metrics?: { readonly contentType: string; render(): Promise<string> };
  /** Plug-in routes under /api/v1 (the S3 file routes), registered before the 404 handler. */
  readonly extraRoutes?: (api: Router, kit: RouteKit) => void;
  /** Paths (relative to /api/v1) and allowed methods of the plug-in routes, for 405 answers. */
  readonly extraPaths?: readonly [RegExp, string][];
  readonly newId?: () => string;
  /** The operator console (spec §11) served at /console/ from its build output; absent = not served (404). */
  readonly console?: ConsoleOptions;
}

/** What a plug-in router needs to behave like the built-in routes. */
export interface RouteKit {
  /** Authenticates and authorizes; returns the principal, the actor (audit log) and app name, or throws HttpFailure. */
  authorize(req: Request, scope: SoftwareScope): Promise<{ principal: Principal; actor: Actor; appName: string }>;
  /** Throws the HttpFailure of a core Failure. */
  fail(code: ErrorCode, message: string): never;
  readonly core: OtaoCore;
}

const CORRELATION_HEADER = 'Correlation-ID';
const SAFE_CORRELATION_ID = /^[\x21-\x7e]{1,128}$/;

/** Compiles Kaa `security.ignored` ant patterns (`/**`, `/api/v1/*`) into one matcher. */
export function antMatcher(patterns: readonly string[]): (path: string) => boolean {
  const res = patterns
    .map((p) => p.trim())
    .filter((p) => p.length > 0 && p !== 'none')
    .map((p) => {
      let re = '';
      for (let i = 0; i < p.length; i++) {
        const c = p[i] as string;
        if (c === '*' && p[i + 1] === '*') {
          re += '.*';
          i++;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return new RegExp(`^${re}$`);
    });
  return (path) => res.some((r) => r.test(path));
}

declare module 'express-serve-static-core' {
  interface Request {
    correlationId?: string;
  }
}

function param(req: Request, name: string): string {
  const v = (req.params as Record<string, string | undefined>)[name];
  return v ?? '';
}

function intQuery(req: Request, name: string, def: number, min: number, max: number): number {
  const raw = req.query[name];
  if (raw === undefined) return def;
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw)) throw new HttpFailure('request.invalid', `${name}: must be an integer from ${min} to ${max}`);
  const n = Number(raw);
  if (n < min || n > max) throw new HttpFailure('request.invalid', `${name}: must be an integer from ${min} to ${max}`);
  return n;
}

/** The query parameters of `GET …/audit` (spec §6.4.1); any other is refused (a misspelt filter must not silently match everything). */
const AUDIT_QUERY = new Set(['version', 'endpointId', 'action', 'actor', 'since', 'until', 'limit', 'offset']);

function auditFilters(req: Request): AuditFilters {
  const text = (name: string): string | undefined => {
    const raw = req.query[name];
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string') throw new HttpFailure('request.invalid', `${name}: must be given once`);
    return raw;
  };
  for (const name of Object.keys(req.query)) {
    if (!AUDIT_QUERY.has(name)) throw new HttpFailure('request.invalid', `${name}: unknown query parameter (allowed: ${[...AUDIT_QUERY].join(', ')})`);
  }
  const date = (name: string): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const ms = parseKaaDate(raw);
    if (ms === undefined)
      throw new HttpFailure('request.invalid', `${name}: must be an ISO 8601 date-time (e.g. 2026-01-31T12:00:00Z), got ${JSON.stringify(raw.slice(0, 64))}`);
    return ms;
  };
  const version = text('version');
  const endpointId = text('endpointId');
  const action = text('action');
  const actor = text('actor');
  const since = date('since');
  const until = date('until');
  return {
    offset: intQuery(req, 'offset', 0, 0, 1_000_000_000),
    limit: intQuery(req, 'limit', 100, 1, 1000),
    ...(version !== undefined ? { version } : {}),
    ...(endpointId !== undefined ? { endpointId } : {}),
    ...(action !== undefined ? { action } : {}),
    ...(actor !== undefined ? { actor } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
  };
}

/** Builds the express application of the REST API (spec §6) over the core's use cases. */
export function createHttpApp(options: HttpOptions): express.Express {
  const { core, authenticator, permissions } = options;
  const log = options.logger ?? noopLogger;
  const newId = options.newId ?? randomUUID;
  const ignored = antMatcher(options.securityIgnored ?? []);
  const defaultTenant = options.defaultTenant ?? 'default';
  const bodyLimit = options.bodyLimitBytes ?? core.options.specMaxBytes * 2 + 65_536;
  const validator = new RequestValidator();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  // Correlation id, access log and metrics.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.get(CORRELATION_HEADER);
    const id = incoming !== undefined && SAFE_CORRELATION_ID.test(incoming) ? incoming : newId();
    req.correlationId = id;
    res.setHeader(CORRELATION_HEADER, id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (req.route as { path?: string } | undefined)?.path;
      const routeName = route ? `${req.baseUrl}${route}` : 'unmatched';
      options.observer?.request(routeName, req.method, res.statusCode, seconds);
      const entry = { correlationId: id, method: req.method, route: routeName, status: res.statusCode, ms: Math.round(seconds * 1000) };
      // A 503 of /ready is an answer, not a failure: probes see it while a dependency is down.
      if (res.statusCode >= 500 && routeName !== '/ready') log.error(entry, 'http request failed');
      else log.info(entry, 'http request');
    });
    next();
  });

  app.get('/health', (_req, res) => {
    res.json({ status: 'UP' });
  });
  app.get('/ready', async (_req, res) => {
    const r = options.readiness ? await options.readiness() : { ready: true, problems: [] };
    res.status(r.ready ? 200 : 503).json({ status: r.ready ? 'UP' : 'DOWN', problems: r.problems, ...(r.degraded?.length ? { degraded: r.degraded } : {}) });
  });
  if (options.metrics) {
    const m = options.metrics;
    app.get('/metrics', async (_req, res) => {
      res.setHeader('Content-Type', m.contentType);
      res.send(await m.render());
    });
  }

  const api = express.Router();
  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  api.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(OPENAPI_TEXT);
  });

  const jsonBody = express.json({ limit: bodyLimit, strict: false, type: () => true });
  const requireJson = (req: Request, _res: Response, next: NextFunction): void => {
    if (!req.is('application/json')) {
      next(new HttpFailure('request.unsupported_media_type', `the body must be application/json, got ${JSON.stringify(req.get('content-type') ?? 'none')}`));
      return;
    }
    jsonBody(req, _res, next);
  };

  // The caller: on ignored paths the default tenant with every scope (`anonymous`), else the token's.
  // The actor (audit log, spec §4.13) is taken from the verified token: the core never sees a token.
  const authenticate = async (req: Request): Promise<{ principal: Principal; actor: Actor; anonymous: boolean }> => {
    if (ignored(req.originalUrl.split('?')[0] ?? ''))
      return { principal: { tenantId: defaultTenant, subject: 'anonymous', token: '', claims: {} }, actor: ANONYMOUS_ACTOR, anonymous: true };
    const auth = await authenticator.authenticate(req.get('authorization'));
    if (!auth.ok) throw new HttpFailure(auth.error.code, auth.error.message);
    return { principal: auth.value, actor: actorOfToken(auth.value.subject, auth.value.claims), anonymous: false };
  };
  const authorize = async (req: Request, scope: SoftwareScope): Promise<{ principal: Principal; actor: Actor; appName: string }> => {
    const appName = param(req, 'appName');
    const { principal, actor, anonymous } = await authenticate(req);
    if (!isValidAppName(appName)) throw new HttpFailure('request.invalid', 'appName: must match ^[a-z0-9_-]+$');
    if (anonymous) return { principal, actor, appName };
    const decision = await permissions.check(principal, appName, scope);
    if (decision === 'none') throw new HttpFailure('application.not_found', `application ${JSON.stringify(appName)} not found`);
    if (decision === 'forbidden') throw new HttpFailure('auth.forbidden', `scope ${scope} is required on application-${appName}`);
    return { principal, actor, appName };
  };
  // Routes with a body check the caller before the body is read, parsed or validated: an anonymous
  // or unpermitted request gets 401/404/403, never 415/400/413 (docs/security.md, order of checks).
  type Authorized = { principal: Principal; actor: Actor; appName: string };
  const authorizeFirst =
    (scope: SoftwareScope) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      (res.locals as { authorized?: Authorized }).authorized = await authorize(req, scope);
      next();
    };
  const authorized = (res: Response): Authorized => {
    const a = (res.locals as { authorized?: Authorized }).authorized;
    if (!a) throw new Error('route without authorizeFirst');
    return a;
  };
  const fail = (code: ErrorCode, message: string): never => {
    throw new HttpFailure(code, message);
  };
  const unwrap = <T>(r: { ok: true; value: T } | { ok: false; error: { code: ErrorCode; message: string } }): T => {
    if (!r.ok) throw new HttpFailure(r.error.code, r.error.message);
    return r.value;
  };
  const validateBody = (schema: string, body: unknown): void => {
    const problem = validator.check(schema, body);
    if (problem) throw new HttpFailure('request.invalid', problem.message);
  };
  const ifMatch = (req: Request): Precondition => preconditionOf(req.get('if-match'));

  // Spec §6.4.1: the caller's tenant's applications on which it has the read scope (any token).
  api.get('/applications', async (req, res) => {
    const { principal, anonymous } = await authenticate(req);
    const mayRead = anonymous
      ? async () => true
      : async (appName: string) => (await permissions.check(principal, appName, 'application:software:read')) === 'granted';
    res.json((await core.applications.list(principal.tenantId, mayRead)).map(applicationDto));
  });

  const base = '/applications/:appName';
  api.get(`${base}/software`, async (req, res) => {
    const { principal, appName } = await authorize(req, 'application:software:read');
    res.json(unwrap(await core.software.list(principal.tenantId, appName)).map(softwareDto));
  });
  api.post(`${base}/software`, authorizeFirst('application:software:update'), requireJson, async (req, res) => {
    const { principal, actor, appName } = authorized(res);
    validateBody('SoftwareCreate', req.body);
    const sw = unwrap(await core.software.create(principal.tenantId, appName, req.body, req.correlationId ?? newId(), actor));
    res
      .status(201)
      .setHeader('Location', `${req.baseUrl}/applications/${appName}/software/${encodeURIComponent(sw.version)}`)
      .setHeader('ETag', etagOf(sw))
      .json(softwareDto(sw));
  });
  api.get(`${base}/software/:version`, async (req, res) => {
    const { principal, appName } = await authorize(req, 'application:software:read');
    const sw = unwrap(await core.software.get(principal.tenantId, appName, param(req, 'version')));
    res.setHeader('ETag', etagOf(sw)).json(softwareDto(sw));
  });
  api.put(`${base}/software/:version`, authorizeFirst('application:software:update'), requireJson, async (req, res) => {
    const { principal, actor, appName } = authorized(res);
    validateBody('SoftwareReplace', req.body);
    const sw = unwrap(
      await core.software.replace(principal.tenantId, appName, param(req, 'version'), req.body, ifMatch(req), req.correlationId ?? newId(), actor),
    );
    res.setHeader('ETag', etagOf(sw)).json(softwareDto(sw));
  });
  api.delete(`${base}/software/:version`, async (req, res) => {
    const { principal, actor, appName } = await authorize(req, 'application:software:delete');
    unwrap(await core.software.delete(principal.tenantId, appName, param(req, 'version'), ifMatch(req), req.correlationId ?? newId(), actor));
    res.status(204).end();
  });
  api.get(`${base}/software/:version/preview`, async (req, res) => {
    const { principal, appName } = await authorize(req, 'application:software:read');
    const limit = intQuery(req, 'limit', 100, 1, 1000);
    const offset = intQuery(req, 'offset', 0, 0, 1_000_000_000);
    res.json(previewDto(unwrap(await core.insight.preview(principal.tenantId, appName, param(req, 'version'), { offset, limit }))));
  });
  api.get(`${base}/software/:version/rollout`, async (req, res) => {
    const { principal, appName } = await authorize(req, 'application:software:read');
    res.json(rolloutDto(unwrap(await core.insight.rollout(principal.tenantId, appName, param(req, 'version')))));
  });
  api.post(`${base}/software/:version/rollout/advance`, async (req, res) => {
    const { principal, actor, appName } = await authorize(req, 'application:software:update');
    res.json(rolloutDto(unwrap(await core.phases.advance(principal.tenantId, appName, param(req, 'version'), req.correlationId ?? newId(), actor))));
  });
  api.put(`${base}/software/:version/rollout/hold`, authorizeFirst('application:software:update'), requireJson, async (req, res) => {
    const { principal, actor, appName } = authorized(res);
    validateBody('RolloutHold', req.body);
    const body = req.body as { hold: boolean; reason?: string };
    const command = { hold: body.hold, ...(body.reason !== undefined ? { reason: body.reason } : {}) };
    res.json(rolloutDto(unwrap(await core.phases.hold(principal.tenantId, appName, param(req, 'version'), command, req.correlationId ?? newId(), actor))));
  });
  api.get(`${base}/software/:version/rollout/history`, async (req, res) => {
    const { principal, appName } = await authorize(req, 'application:software:read');
    const query: Record<string, string> = {};
    for (const name of ['bucket', 'since', 'until'] as const) {
      const v = req.query[name];
      if (v === undefined) continue;
      if (typeof v !== 'string') throw new HttpFailure('request.invalid', `${name}: must be given once`);
      query[name] = v;
    }
    res.json(rolloutHistoryDto(unwrap(await core.insight.history(principal.tenantId, appName, param(req, 'version'), query))));
  });
  api.get(`${base}/endpoints`, async (req, res) => {
    const { principal, appName } = await authorize(req, 'application:software:read');
    const limit = intQuery(req, 'limit', 100, 1, 1000);
    const offset = intQuery(req, 'offset', 0, 0, 1_000_000_000);
    const version = req.query['version'];
    if (version !== undefined && typeof version !== 'string') throw new HttpFailure('request.invalid', 'version: must be a single SemVer version');
    const page = unwrap(await core.insight.endpoints(principal.tenantId, appName, { offset, limit, ...(version !== undefined ? { version } : {}) }));
    res.json(endpointListDto(page));
  });
  api.get(`${base}/endpoints/:endpointId/software`, async (req, res) => {
    const { principal, appName } = await authorize(req, 'application:software:read');
    res.json(endpointViewDto(unwrap(await core.insight.endpoint(principal.tenantId, appName, param(req, 'endpointId')))));
  });
  api.put(`${base}/endpoints/:endpointId/consents/:version`, async (req, res) => {
    const { principal, actor, appName } = await authorize(req, 'application:software:update');
    unwrap(await core.consents.grant(principal.tenantId, appName, param(req, 'endpointId'), param(req, 'version'), req.correlationId ?? newId(), actor));
    res.status(204).end();
  });
  api.delete(`${base}/endpoints/:endpointId/consents/:version`, async (req, res) => {
    const { principal, actor, appName } = await authorize(req, 'application:software:update');
    unwrap(await core.consents.revoke(principal.tenantId, appName, param(req, 'endpointId'), param(req, 'version'), req.correlationId ?? newId(), actor));
    res.status(204).end();
  });
  // Spec §6.4.1 / §4.13: the application's audit entries, newest first.
  api.get(`${base}/audit`, async (req, res) => {
    const { principal, appName } = await authorize(req, 'application:software:read');
    const page = unwrap(await core.audit.page(principal.tenantId, appName, auditFilters(req)));
    res.json({ content: page.content.map(auditEntryDto), totalElements: page.totalElements });
  });

  options.extraRoutes?.(api, { authorize, fail, core });

  // Known path, unknown method -> 405; anything else -> 404.
  const knownPaths: readonly [RegExp, string][] = [
    [/^\/applications$/, 'GET, HEAD'],
    [/^\/applications\/[^/]+\/software$/, 'GET, HEAD, POST'],
    [/^\/applications\/[^/]+\/software\/[^/]+$/, 'GET, HEAD, PUT, DELETE'],
    [/^\/applications\/[^/]+\/software\/[^/]+\/(preview|rollout|rollout\/history)$/, 'GET, HEAD'],
    [/^\/applications\/[^/]+\/software\/[^/]+\/rollout\/advance$/, 'POST'],
    [/^\/applications\/[^/]+\/software\/[^/]+\/rollout\/hold$/, 'PUT'],
    [/^\/applications\/[^/]+\/endpoints$/, 'GET, HEAD'],
    [/^\/applications\/[^/]+\/audit$/, 'GET, HEAD'],
    [/^\/applications\/[^/]+\/endpoints\/[^/]+\/software$/, 'GET, HEAD'],
    [/^\/applications\/[^/]+\/endpoints\/[^/]+\/consents\/[^/]+$/, 'PUT, DELETE'],
    [/^\/openapi\.json$/, 'GET, HEAD'],
    ...(options.extraPaths ?? []),
  ];
  api.use((req, res, next) => {
    const known = knownPaths.find(([p]) => p.test(req.path));
    if (known) {
      res.setHeader('Allow', known[1]);
      next(new HttpFailure('method.not_allowed', `${req.method} is not allowed on ${req.path} (allowed: ${known[1]})`));
    } else next(new HttpFailure('route.not_found', `no route ${req.method} ${req.path}`));
  });
  app.use('/api/v1', api);
  if (options.console) app.use(CONSOLE_PATH, consoleRouter(options.console));
  app.use((req, _res, next) => {
    next(new HttpFailure('route.not_found', `no route ${req.method} ${req.path}`));
  });

  // The one error renderer: {message, code}; never a stack trace, never a secret.
  app.use((e: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, code, message } = toError(e);
    if (status >= 500)
      log.error({ correlationId: req.correlationId, code, err: e instanceof Error ? { name: e.name, message: e.message } : String(e) }, 'request failed');
    if (res.headersSent) return;
    res.status(status).json({ message, code });
  });
  return app;
}

/** Maps anything thrown in a handler to status, code and message. */
function toError(e: unknown): { status: number; code: string; message: string } {
  if (e instanceof HttpFailure) return { status: e.status, code: e.code, message: e.message };
  if (isOtaoError(e)) return { status: HTTP_STATUS[e.code], code: e.code, message: `service unavailable (${e.code}); retry later` };
  const err = e as { type?: string; status?: number; statusCode?: number; expose?: boolean };
  if (err.type === 'entity.too.large') return { status: 413, code: 'request.too_large', message: 'request body too large' };
  if (err.type === 'entity.parse.failed') return { status: 400, code: 'request.invalid_json', message: 'request body is not valid JSON' };
  if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported')
    return { status: 415, code: 'request.unsupported_media_type', message: 'unsupported body encoding or charset' };
  const st = err.status ?? err.statusCode;
  if (typeof st === 'number' && st >= 400 && st < 500) return { status: st, code: 'request.invalid', message: 'invalid request' };
  return { status: 500, code: 'internal', message: 'internal error' };
}
