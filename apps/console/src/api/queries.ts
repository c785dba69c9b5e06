// TanStack Query keys and fetchers shared by the pages.
import { useQuery } from '@tanstack/react-query';
import { parse } from 'semver';
import { api, ok, seg, type Software } from './client';
import { softwareListKey, softwareListQuery } from './software-list';

export const keys = {
  apps: ['applications'] as const,
  software: softwareListKey,
  version: (app: string, v: string) => ['software', app, v] as const,
  rollout: (app: string, v: string) => ['rollout', app, v] as const,
  endpoint: (app: string, id: string) => ['endpoint', app, id] as const,
};

export function useApplications() {
  return useQuery({ queryKey: keys.apps, queryFn: async () => ok(await api.GET('/applications')) });
}

/** SemVer precedence order (versions that are not SemVer after, by text); each version parsed once. */
function bySemver(list: readonly Software[]): Software[] {
  const parsed = new Map(list.map((s) => [s.version, parse(s.version)]));
  return [...list].sort((a, b) => {
    const pa = parsed.get(a.version);
    const pb = parsed.get(b.version);
    if (pa && pb) return pa.compare(pb);
    if (pa || pb) return pa ? -1 : 1;
    return a.version.localeCompare(b.version);
  });
}

/** The software of an application, in SemVer precedence order (sorted once per answer: `select` is memoised). */
export function useSoftwareList(app: string) {
  return useQuery({ ...softwareListQuery(app), select: bySemver });
}

/** One software with its ETag (for If-Match on PUT, spec §10). */
export function useSoftware(app: string, version: string) {
  return useQuery({
    queryKey: keys.version(app, version),
    queryFn: async () => {
      const r = await api.GET('/applications/{appName}/software/{version}', { params: { path: { appName: app, version } } });
      return { software: ok(r), etag: r.response.headers.get('ETag') ?? undefined };
    },
  });
}

/** The mutable fields of a software, as a PUT body: read-only fields dropped, everything else kept (fields newer than this console too). */
export function replaceBody(sw: Software): Record<string, unknown> {
  const { createdAt: _c, updatedAt: _u, file: _f, suspendedReason: _s, version: _v, ...rest } = sw as Software & Record<string, unknown>;
  delete rest['phase'];
  return rest;
}

export const softwarePath = (app: string, version: string): string => `/applications/${seg(app)}/software/${seg(version)}`;
