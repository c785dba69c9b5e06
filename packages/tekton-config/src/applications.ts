import { isValidAppName } from '@otao/core';

/** One application of the registry. */
export interface ApplicationEntry {
  readonly tenantId: string;
  readonly appName: string;
  readonly consentRequired: boolean;
  readonly appVersionNames: readonly string[];
}

const APP_VERSION = /^[a-z0-9_-]{1,256}$/;
const TENANT = /^[A-Za-z0-9_.-]{1,256}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses applications (spec §7) in Kaa's shape `kaa.applications.<appName>.{tenantId,
 * consentRequired, versions.<appVersionName>: {}}` (a missing `tenantId` means `defaultTenant`)
 * and in OTAO's per-tenant shape `kaa.tenants.<tenantId>.applications.<appName>.{consentRequired,
 * versions.<appVersionName>: {}}`, both possibly in one document, so that two tenants can each have
 * an application of the same name. An application version name maps to exactly one (tenant,
 * application), and a (tenant, application) is defined once: either used twice is a problem naming
 * both places. Returns every problem found instead of throwing.
 */
export function parseApplications(doc: unknown, defaultTenant: string): { entries: ApplicationEntry[]; problems: string[] } {
  const problems: string[] = [];
  const found: { entry: ApplicationEntry; at: string }[] = [];
  const kaa = isObject(doc) && isObject(doc['kaa']) ? doc['kaa'] : undefined;
  const apps = kaa?.['applications'];
  const tenants = kaa?.['tenants'];
  const absent = (v: unknown): boolean => v === undefined || v === null;
  if (absent(apps) && absent(tenants)) return { entries: [], problems: ['kaa.applications (or kaa.tenants.<tenantId>.applications): missing'] };
  if (!absent(apps)) {
    if (!isObject(apps)) problems.push('kaa.applications: must be a map of application name to settings');
    else {
      for (const [appName, raw] of Object.entries(apps)) {
        const r = parseApplication(appName, raw, defaultTenant);
        if ('problems' in r) problems.push(...r.problems);
        else found.push({ entry: r.entry, at: `kaa.applications.${appName}` });
      }
    }
  }
  if (!absent(tenants)) {
    if (!isObject(tenants)) problems.push('kaa.tenants: must be a map of tenant id to {applications}');
    else {
      for (const [tenantId, rawTenant] of Object.entries(tenants)) {
        const tat = `kaa.tenants.${tenantId}`;
        if (!TENANT.test(tenantId)) {
          problems.push(`${tat}: must be a tenant id (A-Z, a-z, 0-9, ".", "-", "_")`);
          continue;
        }
        const t = absent(rawTenant) ? {} : rawTenant;
        if (!isObject(t)) {
          problems.push(`${tat}: must be a map with "applications"`);
          continue;
        }
        for (const k of Object.keys(t)) if (k !== 'applications') problems.push(`${tat}.${k}: unknown key (only "applications")`);
        const tApps = absent(t['applications']) ? {} : t['applications'];
        if (!isObject(tApps)) {
          problems.push(`${tat}.applications: must be a map of application name to settings`);
          continue;
        }
        for (const [appName, raw] of Object.entries(tApps)) {
          const at = `${tat}.applications.${appName}`;
          const r = parseApplication(appName, raw, tenantId, { at, tenantId });
          if ('problems' in r) problems.push(...r.problems);
          else found.push({ entry: r.entry, at });
        }
      }
    }
  }
  const placed = new Map<string, string>();
  const versions = new Map<string, string>();
  for (const { entry: e, at } of found) {
    const key = `${e.tenantId}\u0000${e.appName}`;
    const otherApp = placed.get(key);
    if (otherApp !== undefined) problems.push(`application "${e.appName}" of tenant "${e.tenantId}" is defined twice: at ${otherApp} and at ${at}`);
    else placed.set(key, at);
    for (const v of e.appVersionNames) {
      const here = `${at}.versions.${v}`;
      const other = versions.get(v);
      if (other !== undefined)
        problems.push(`application version "${v}" is used twice: at ${other} and at ${here} (an application version name belongs to one application)`);
      else versions.set(v, here);
    }
  }
  return { entries: found.map((f) => f.entry), problems };
}

/**
 * Parses one application's settings: `{tenantId, consentRequired, versions}` in Kaa's shape, or,
 * with `within` (the per-tenant shape), `{consentRequired, versions}` of `within.tenantId` (a
 * `tenantId` there must name that tenant).
 */
export function parseApplication(
  appName: string,
  raw: unknown,
  defaultTenant: string,
  within?: { readonly at: string; readonly tenantId: string },
): { entry: ApplicationEntry } | { problems: string[] } {
  const at = within?.at ?? `kaa.applications.${appName}`;
  const problems: string[] = [];
  if (!isValidAppName(appName)) problems.push(`${at}: application name must match ^[a-z0-9_-]+$`);
  const o = raw === null || raw === undefined ? {} : raw;
  if (!isObject(o)) return { problems: [...problems, `${at}: must be a map`] };
  let tenantId: unknown = o['tenantId'] ?? defaultTenant;
  if (within) {
    if (o['tenantId'] !== undefined && o['tenantId'] !== within.tenantId)
      problems.push(`${at}.tenantId: must be absent or "${within.tenantId}" (the tenant of kaa.tenants.${within.tenantId})`);
    tenantId = within.tenantId;
  }
  if (typeof tenantId !== 'string' || !TENANT.test(tenantId)) problems.push(`${at}.tenantId: must be a tenant id`);
  const consent = o['consentRequired'] ?? false;
  if (typeof consent !== 'boolean') problems.push(`${at}.consentRequired: must be true or false`);
  const versions = o['versions'] ?? {};
  if (!isObject(versions)) problems.push(`${at}.versions: must be a map of application version names`);
  const names = isObject(versions) ? Object.keys(versions) : [];
  for (const v of names) if (!APP_VERSION.test(v)) problems.push(`${at}.versions.${v}: application version names use a-z, 0-9, "-" and "_"`);
  if (problems.length > 0) return { problems };
  return { entry: { tenantId: tenantId as string, appName, consentRequired: consent as boolean, appVersionNames: names } };
}
