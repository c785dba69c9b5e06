// TanStack Query keys and fetchers shared by the pages.
import { useQuery } from '@tanstack/react-query';
import { compare, valid } from 'semver';
import { api, ok, seg, type Software } from './client';

export const keys = {
  apps: ['applications'] as const,
  software: (app: string) => ['software', app] as const,
  version: (app: string, v: string) => ['software', app, v] as const,
  rollout: (app: string, v: string) => ['rollout', app, v] as const,
  endpoint: (app: string, id: string) => ['endpoint', app, id] as const,
};

export function useApplications() {
  return useQuery({ queryKey: keys.apps, queryFn: async () => ok(await api.GET('/applications')) });
}

/** The software of an application, in SemVer precedence order (the API's order, kept on purpose). */
export function useSoftwareList(app: string) {
  return useQuery({
    queryKey: keys.software(app),
    queryFn: async () => {
      const list = ok(await api.GET('/applications/{appName}/software', { params: { path: { appName: app } } }));
      return [...list].sort((a, b) => (valid(a.version) && valid(b.version) ? compare(a.version, b.version) : a.version.localeCompare(b.version)));
    },
  });
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
