import { OtaoError } from '@otao/core';
import { type ApplicationEntry, parseApplication, parseApplications } from './applications';

/**
 * Tekton's REST API as OTAO reads it (kaa-protocols.md §13). Tekton's response bodies for
 * `/app-configs` are undocumented; this adapter defines them here, in one place
 * (docs/tekton-config.md):
 *
 * - `GET {url}/api/v1/app-configs?serviceInstanceName={instance}[&tenantId={t}]` answers the
 *   instance's application configurations in Kaa's shape, the same as the bulk-load body of the
 *   official 1.0→1.1 migration script: `{"kaa": {"applications": {"<app>": {"tenantId", "consentRequired",
 *   "versions": {"<appVersionName>": {}}}}}}` (optionally wrapped as `{"<instance>": {…}}`).
 * - `GET {url}/api/v1/app-configs/applications/{appName}?serviceInstanceName={instance}[&tenantId={t}]`
 *   answers one application `{"tenantId", "consentRequired", "versions": {…}}`; 404 when it is gone.
 */
export interface TektonClientOptions {
  readonly url: string;
  readonly instanceName: string;
  readonly defaultTenant: string;
  /** Bearer token for the calls (client credentials). */
  token?(): Promise<string>;
  readonly timeoutMs?: number;
}

export class TektonClient {
  constructor(private readonly options: TektonClientOptions) {}

  /** Every application of the instance, or of one tenant. */
  async fetchAll(tenantId?: string): Promise<ApplicationEntry[]> {
    const q = new URLSearchParams({ serviceInstanceName: this.options.instanceName, ...(tenantId !== undefined ? { tenantId } : {}) });
    const body = await this.get(`/api/v1/app-configs?${q.toString()}`);
    if (body === undefined) return [];
    const doc = this.unwrap(body);
    const { entries, problems } = parseApplications(doc, this.options.defaultTenant);
    if (problems.length > 0) throw new OtaoError('dependency.unavailable', `Tekton configuration invalid: ${problems.join('; ')}`);
    return tenantId === undefined ? entries : entries.filter((e) => e.tenantId === tenantId);
  }

  /** One application, or undefined when Tekton no longer has it. */
  async fetchApp(tenantId: string | undefined, appName: string): Promise<ApplicationEntry | undefined> {
    const q = new URLSearchParams({ serviceInstanceName: this.options.instanceName, ...(tenantId !== undefined ? { tenantId } : {}) });
    const body = await this.get(`/api/v1/app-configs/applications/${encodeURIComponent(appName)}?${q.toString()}`);
    if (body === undefined) return undefined;
    const r = parseApplication(appName, body, tenantId ?? this.options.defaultTenant);
    if ('problems' in r) throw new OtaoError('dependency.unavailable', `Tekton configuration invalid: ${r.problems.join('; ')}`);
    return r.entry;
  }

  private unwrap(body: unknown): unknown {
    const o = body as Record<string, unknown>;
    return o && typeof o === 'object' && this.options.instanceName in o && !('kaa' in o) ? o[this.options.instanceName] : body;
  }

  /** GET returning parsed JSON, undefined on 404; OtaoError('dependency.unavailable') otherwise. */
  private async get(path: string): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers['authorization'] = `Bearer ${await this.options.token()}`;
    let res: Response;
    try {
      res = await fetch(`${this.options.url.replace(/\/+$/, '')}${path}`, { headers, signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000) });
    } catch (e) {
      throw new OtaoError('dependency.unavailable', 'Tekton unreachable', { cause: e });
    }
    if (res.status === 404) return undefined;
    if (!res.ok) throw new OtaoError('dependency.unavailable', `Tekton answered ${res.status} for ${path.split('?')[0]}`);
    try {
      return await res.json();
    } catch (e) {
      throw new OtaoError('dependency.unavailable', 'Tekton answered invalid JSON', { cause: e });
    }
  }
}
