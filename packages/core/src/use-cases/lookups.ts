import { err, type Failure, failure, ok, type Result } from '../domain/result';
import type { ApplicationRegistry, ApplicationSettings } from '../ports';

/** The failure every use case answers for an application the tenant's registry does not know. */
export function appNotFound(appName: string): Failure<'application.not_found'> {
  return failure('application.not_found', `application ${JSON.stringify(appName)} not found`, 'appName');
}

/** The failure every use case answers for a version the application does not have. */
export function softwareNotFound(appName: string, version: string): Failure<'software.not_found'> {
  return failure('software.not_found', `software ${JSON.stringify(version)} not found in application ${JSON.stringify(appName)}`, 'version');
}

/**
 * The application's settings from the registry, or `application.not_found`. Use it as
 * `const app = findApplication(…); if (!app.ok) return app;`. Throws what the registry throws
 * (`dependency.unavailable` until it has loaded).
 */
export function findApplication(
  registry: Pick<ApplicationRegistry, 'settings'>,
  tenantId: string,
  appName: string,
): Result<ApplicationSettings, Failure<'application.not_found'>> {
  const settings = registry.settings(tenantId, appName);
  return settings ? ok(settings) : err(appNotFound(appName));
}
