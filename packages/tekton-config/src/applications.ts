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
 * Parses applications in Kaa's shape `kaa.applications.<appName>.{tenantId, consentRequired,
 * versions.<appVersionName>: {}}` (spec §7). A missing `tenantId` means `defaultTenant`. Returns
 * every problem found instead of throwing.
 */
export function parseApplications(doc: unknown, defaultTenant: string): { entries: ApplicationEntry[]; problems: string[] } {
  const problems: string[] = [];
  const entries: ApplicationEntry[] = [];
  const apps = isObject(doc) && isObject(doc['kaa']) ? doc['kaa']['applications'] : undefined;
  if (apps === undefined || apps === null) return { entries, problems: ['kaa.applications: missing'] };
  if (!isObject(apps)) return { entries, problems: ['kaa.applications: must be a map of application name to settings'] };
  for (const [appName, raw] of Object.entries(apps)) {
    const r = parseApplication(appName, raw, defaultTenant);
    if ('problems' in r) problems.push(...r.problems);
    else entries.push(r.entry);
  }
  const seen = new Map<string, string>();
  for (const e of entries) {
    for (const v of e.appVersionNames) {
      const other = seen.get(v);
      if (other !== undefined) problems.push(`kaa.applications: application version "${v}" belongs to both ${other} and ${e.tenantId}/${e.appName}`);
      seen.set(v, `${e.tenantId}/${e.appName}`);
    }
  }
  return { entries, problems };
}

/** Parses one application's settings (`{tenantId, consentRequired, versions}`). */
export function parseApplication(appName: string, raw: unknown, defaultTenant: string): { entry: ApplicationEntry } | { problems: string[] } {
  const at = `kaa.applications.${appName}`;
  const problems: string[] = [];
  if (!isValidAppName(appName)) problems.push(`${at}: application name must match ^[a-z0-9_-]+$`);
  const o = raw === null || raw === undefined ? {} : raw;
  if (!isObject(o)) return { problems: [...problems, `${at}: must be a map`] };
  const tenantId = o['tenantId'] ?? defaultTenant;
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
