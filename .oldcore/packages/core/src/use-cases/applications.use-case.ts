import type { CoreDeps } from './core-deps';

/** An application as `GET /applications` shows it (spec §6.4.1). */
export interface ApplicationView {
  readonly appName: string;
  readonly consentRequired: boolean;
  /** Sorted. */
  readonly appVersionNames: readonly string[];
}

/**
 * Whether the caller may read an application (`application:software:read` on
 * `application-{appName}`); the adapter decides with its PermissionChecker. May throw
 * `OtaoError('dependency.unavailable')`.
 */
export type MayRead = (appName: string) => Promise<boolean>;

/** Permission checks of one listing in flight at once (a UMA decision is an HTTP call each). */
export const APPLICATION_CHECK_CONCURRENCY = 8;

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The applications of a tenant (spec §6.4.1, §7). */
export class ApplicationsService {
  constructor(private readonly deps: Pick<CoreDeps, 'registry'>) {}

  /**
   * The applications of `tenantId` that `mayRead` admits, sorted by `appName`, each with its
   * settings and its application version names sorted. Applications of other tenants are never
   * considered (nor asked about). Throws `OtaoError('dependency.unavailable')` while the registry
   * has not loaded, and whatever `mayRead` throws.
   */
  async list(tenantId: string, mayRead: MayRead): Promise<ApplicationView[]> {
    const apps = [...this.deps.registry.applications(tenantId)].sort((a, b) => byCodeUnits(a.appName, b.appName));
    const readable = new Array<boolean>(apps.length).fill(false);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < apps.length) {
        const i = next++;
        readable[i] = await mayRead((apps[i] as (typeof apps)[number]).appName);
      }
    };
    await Promise.all(Array.from({ length: Math.min(APPLICATION_CHECK_CONCURRENCY, apps.length) }, worker));
    return apps
      .filter((_, i) => readable[i])
      .map((a) => ({ appName: a.appName, consentRequired: a.settings.consentRequired, appVersionNames: [...a.appVersionNames].sort(byCodeUnits) }));
  }
}
