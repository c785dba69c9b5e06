// Serves the operator console (spec §11, apps/console's build output) at /console/: the files as
// they are (hashed assets cached for a year, index.html never), `GET /console/config.json` telling
// the single-page application how to sign in, and the SPA fallback (any other page path answers
// index.html so that a reload or a shared link of /console/apps/x works). Express specifics only;
// what the configuration says is decided by the composition root.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { HttpFailure } from './error-mapping';

export interface ConsoleOptions {
  /** The directory of the built console (with index.html and assets/). */
  readonly dir: string;
  /** The JSON answered at GET /console/config.json. */
  readonly config: unknown;
  /** Origins the console may talk to besides itself: the tenants' OpenID issuers. */
  readonly issuerOrigins?: readonly string[];
}

/** The mount path of the console. */
export const CONSOLE_PATH = '/console';

/** True when `dir` holds a built console. */
export function isConsoleBuilt(dir: string): boolean {
  return existsSync(join(dir, 'index.html'));
}

/** The Content-Security-Policy of the console's pages: itself, plus the issuers for sign-in. */
export function consoleCsp(issuerOrigins: readonly string[] = []): string {
  const issuers = [...new Set(issuerOrigins)].join(' ');
  const plus = issuers ? ` ${issuers}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src 'self'${plus}`,
    `frame-src 'self'${plus}`,
    `form-action 'self'${plus}`,
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
  ].join('; ');
}

/** The console's router, to mount at CONSOLE_PATH. */
export function consoleRouter(options: ConsoleOptions): Router {
  const index = join(options.dir, 'index.html');
  const csp = consoleCsp(options.issuerOrigins);
  const router = express.Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    // /console -> /console/ (the page's relative links and the router's base need the slash)
    if (req.originalUrl === CONSOLE_PATH || req.originalUrl.startsWith(`${CONSOLE_PATH}?`)) {
      res.redirect(308, `${CONSOLE_PATH}/${req.originalUrl.slice(CONSOLE_PATH.length)}`);
      return;
    }
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  router.get('/config.json', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(options.config);
  });
  router.use('/assets', express.static(join(options.dir, 'assets'), { immutable: true, maxAge: '365d', index: false, redirect: false }));
  router.use(express.static(options.dir, { index: false, redirect: false, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
  router.use((req: Request, res: Response, next: NextFunction) => {
    // Any other page path is the SPA's (versions have dots: /console/apps/x/software/1.0.0): answer
    // its index.html. A missing asset is 404, never a page in its place.
    if ((req.method === 'GET' || req.method === 'HEAD') && !req.path.startsWith('/assets/')) {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
      return;
    }
    next(new HttpFailure('route.not_found', `no route ${req.method} ${CONSOLE_PATH}${req.path}`));
  });
  return router;
}
