// The REST API (http-express) with its metrics, the file routes when S3 is on, and the operator
// console (spec §11) when it is enabled and built. The app is built at start (lifecycle.ts), which
// owns the readiness it reports.
import { dirname, join } from 'node:path';
import { type ConsoleOptions, createHttpApp, fileRoutes, isConsoleBuilt, type Readiness } from '@otao/http-express';
import { ContainerModule } from 'inversify';
import type { Logger } from 'pino';
import type { OtaoConfig } from '../../config';
import { keycloakBase } from '../../security';
import { provide, resolve } from '../tokens';
import { filesEnabled } from './files';

/** Builds the Express app, given how to answer `/ready`. */
export type HttpAppFactory = (readiness: () => Promise<Readiness>) => ReturnType<typeof createHttpApp>;

/** The directory of the console's build output (`@otao/console`'s dist), or undefined when the package is absent. */
function consoleDir(): string | undefined {
  try {
    return join(dirname(require.resolve('@otao/console/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

/**
 * The operator console (spec §11) when OTAO_CONSOLE_ENABLED: the build output of `@otao/console`
 * and what the single-page application needs to know to sign in (never a secret).
 */
export function consoleOptions(c: OtaoConfig, log: Logger): ConsoleOptions | undefined {
  if (!c.console.enabled) return undefined;
  const dir = consoleDir();
  if (!dir || !isConsoleBuilt(dir)) {
    log.warn({ dir }, 'the console is enabled but not built (npx turbo run build --filter=@otao/console): /console/ answers 404');
    return undefined;
  }
  const { off, tenants, tenantManagerUrl, oauth, defaultTenant, authzMode } = c.security;
  // With RPT decisions the console exchanges the person's access token for a requesting-party token
  // of OTAO's resource server at the tenant's issuer (spec §8): the client id it is registered as.
  const rptAudience = oauth.clientId ?? oauth.audience;
  const issuerBase = !off && tenantManagerUrl && oauth.issuer ? `${keycloakBase(oauth.issuer)}/realms/` : undefined;
  const origins = [...(tenants ?? []).map((t) => t.issuer), ...(issuerBase ? [issuerBase] : [])].flatMap((u) => {
    try {
      return [new URL(u).origin];
    } catch {
      return [];
    }
  });
  return {
    dir,
    issuerOrigins: off ? [] : origins,
    config: {
      auth: !off,
      clientId: c.console.clientId,
      ...(off ? { defaultTenant } : {}),
      tenants: off ? [] : (tenants ?? []).map((t) => ({ id: t.id, issuer: t.issuer })),
      ...(issuerBase ? { issuerBase } : {}),
      ...(off ? {} : { authzMode, ...(authzMode === 'rpt' && rptAudience ? { rptAudience } : {}) }),
      files: filesEnabled(c),
    },
  };
}

export const httpModule = new ContainerModule(({ bind }) => {
  provide(bind, 'http', (ctx) => {
    const c = resolve(ctx, 'config');
    const log = resolve(ctx, 'log');
    const m = resolve(ctx, 'metrics');
    const core = resolve(ctx, 'core');
    const security = resolve(ctx, 'security');
    return (readiness) => {
      const routes = core.files ? fileRoutes() : undefined;
      const console = consoleOptions(c, log);
      return createHttpApp({
        core,
        authenticator: security.authenticator,
        permissions: security.permissions,
        securityIgnored: c.security.ignored,
        defaultTenant: c.security.defaultTenant,
        bodyLimitBytes: c.specMaxBytes * 2 + 65_536,
        logger: log.child({ component: 'http' }),
        observer: {
          request: (route, method, status, seconds) => {
            m.httpRequests.inc({ route, method, status: String(status) });
            m.httpLatency.observe({ route, method }, seconds);
          },
        },
        readiness,
        metrics: { contentType: m.registry.contentType, render: () => m.registry.metrics() },
        ...(routes ? { extraRoutes: routes.extraRoutes, extraPaths: routes.extraPaths } : {}),
        ...(console ? { console } : {}),
      });
    };
  });
});
