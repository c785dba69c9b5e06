// The software list query, small enough for the first chunk (no semver): the router starts it while
// the page's chunk loads (App.tsx, route loaders), so the data and the code arrive in parallel.
import { queryOptions } from '@tanstack/react-query';
import { mark } from '../perf';
import { api, ok } from './client';

export const softwareListKey = (app: string) => ['software', app] as const;

/** `GET /applications/{app}/software`, in the API's order (the pages sort it, see queries.ts). */
export const softwareListQuery = (app: string) =>
  queryOptions({
    queryKey: softwareListKey(app),
    queryFn: async () => {
      mark('software-fetch');
      const list = ok(await api.GET('/applications/{appName}/software', { params: { path: { appName: app } } }));
      mark('software-data');
      return list;
    },
  });
