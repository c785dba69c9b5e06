// Routes of spec §6.3 and §6.4.1 that the served OpenAPI document does not describe yet (rollout
// history, advance, hold). Written by hand in openapi-typescript's shape from the spec, so
// the client calls them typed like the others; a server without them answers 404
// `route.not_found`, which the commands report like any 404 (exit 2). Once the document describes
// a route, `npm run generate:api` puts it in generated/api.ts and it is removed from here.
import type { components } from './generated/api';

type Rollout = components['schemas']['Rollout'];
type ErrorBody = components['schemas']['Error'];

interface JsonResponse<T> {
  headers: { [name: string]: unknown };
  content: { 'application/json': T };
}
interface ErrorResponses {
  400: JsonResponse<ErrorBody>;
  401: JsonResponse<ErrorBody>;
  403: JsonResponse<ErrorBody>;
  404: JsonResponse<ErrorBody>;
  409: JsonResponse<ErrorBody>;
  503: JsonResponse<ErrorBody>;
}
interface AppVersion {
  appName: string;
  version: string;
}

/** One bucket of `GET …/rollout/history` (spec §6.3); the time key is read from `at` or `start`. */
export interface HistoryBucket {
  at?: string;
  start?: string;
  offered?: number;
  applied?: number;
  failed?: number;
  timedOut?: number;
  rolledBack?: number;
}
export type RolloutHistory = HistoryBucket[] | { bucket?: string; content?: HistoryBucket[]; buckets?: HistoryBucket[] };

export interface PendingPaths {
  '/applications/{appName}/software/{version}/rollout/history': {
    parameters: { query?: never; header?: never; path: AppVersion; cookie?: never };
    get: {
      parameters: { query?: { bucket?: 'minute' | 'hour'; since?: string; until?: string }; header?: never; path: AppVersion; cookie?: never };
      requestBody?: never;
      responses: { 200: JsonResponse<RolloutHistory> } & ErrorResponses;
    };
  };
  '/applications/{appName}/software/{version}/rollout/advance': {
    parameters: { query?: never; header?: never; path: AppVersion; cookie?: never };
    post: {
      parameters: { query?: never; header?: never; path: AppVersion; cookie?: never };
      requestBody?: never;
      responses: { 200: JsonResponse<Rollout> } & ErrorResponses;
    };
  };
  '/applications/{appName}/software/{version}/rollout/hold': {
    parameters: { query?: never; header?: never; path: AppVersion; cookie?: never };
    put: {
      parameters: { query?: never; header?: never; path: AppVersion; cookie?: never };
      requestBody: { content: { 'application/json': { hold: boolean; reason?: string } } };
      responses: { 200: JsonResponse<Rollout> } & ErrorResponses;
    };
  };
}
