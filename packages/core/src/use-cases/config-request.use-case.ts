import { isOtaoError } from '../domain/errors';
import { versionKey } from '../domain/upgrade-graph';
import { compareVersions, isStrictSemver } from '../domain/version';
import type { EndpointKey, PullState } from '../ports';
import type { CatalogueCache } from './catalogue-cache';
import type { ContentBuilder } from './content-builder';
import type { CoreDeps, CoreOptions } from './core-deps';
import { contextOf } from './push.use-case';
import { rollbackWindowMs, type RolloutSafety } from './rollout-safety';

/** A decoded 6/CDTP ConfigRequest, as far as the decision needs it. */
export interface ConfigRequest {
  readonly appVersionName: string;
  readonly endpointId: string;
  readonly configId?: string | null;
  readonly configName?: string | null;
  readonly correlationId: string;
}

/** The answer to send: the fields of a CDTP ConfigResponse that OTAO decides. */
export interface ConfigDecision {
  readonly statusCode: number;
  readonly reasonPhrase: string | null;
  readonly configId: string | null;
  /** UTF-8 JSON text of the specification (link injected), or null. */
  readonly content: string | null;
  readonly contentType: 'application/json';
  /** For metrics and logs: what kind of answer this is. */
  readonly outcome: 'new' | 'unchanged' | 'none' | 'unknown_config_name' | 'unknown_app_version' | 'invalid_config_id' | 'unavailable';
}

const JSON_TYPE = 'application/json' as const;

function answer(
  outcome: ConfigDecision['outcome'],
  statusCode: number,
  reasonPhrase: string | null,
  configId: string | null = null,
  content: string | null = null,
): ConfigDecision {
  return { outcome, statusCode, reasonPhrase, configId, content, contentType: JSON_TYPE };
}

/** Spec §4.2 steps 2–8: answers a pull. Decoding and expiry (step 1) belong to the transport adapter. */
export class ConfigRequestService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly options: CoreOptions,
    private readonly catalogues: CatalogueCache,
    private readonly content: ContentBuilder,
    private readonly safety: RolloutSafety,
  ) {}

  async decide(req: ConfigRequest): Promise<ConfigDecision> {
    if (req.configName != null && req.configName !== 'default') {
      return answer('unknown_config_name', 404, 'unknown configuration name');
    }
    const app = this.deps.registry.resolve(req.appVersionName);
    const settings = app && this.deps.registry.settings(app.tenantId, app.appName);
    if (!app || !settings) return answer('unknown_app_version', 404, 'unknown application version');
    const configId = req.configId != null && req.configId !== '' ? req.configId : undefined;
    if (configId !== undefined && !isStrictSemver(configId)) {
      return answer('invalid_config_id', 400, `configId ${JSON.stringify(configId.slice(0, 100))} is not a SemVer version`);
    }
    try {
      return await this.decideFor({ tenantId: app.tenantId, appName: app.appName, endpointId: req.endpointId }, req, configId, settings.consentRequired);
    } catch (e) {
      if (isOtaoError(e)) return answer('unavailable', 503, `service unavailable: ${e.code}`);
      throw e;
    }
  }

  private async decideFor(key: EndpointKey, req: ConfigRequest, configId: string | undefined, consentRequired: boolean): Promise<ConfigDecision> {
    const now = this.deps.clock.now();
    const [planner, stored] = await Promise.all([this.catalogues.planner(key.tenantId, key.appName), this.deps.endpoints.getForPull(key)]);
    let state = stored;
    if (configId !== undefined && (state?.currentVersion === undefined || state.currentVersion !== configId || state.appVersionName !== req.appVersionName)) {
      // §4.8: a lower version than the one last reported applied, within its rollback window, is a
      // rollback. Decided on the state already read (no round trip unless it is one), and counted
      // before the current version moves, so a retry after a failure finds it again.
      const last = state?.lastApplied;
      if (last !== undefined && state?.currentVersion !== configId && compareVersions(configId, last.version) < 0) {
        const from = planner.catalogue.find(last.version);
        if (from && now - last.at <= rollbackWindowMs(from)) await this.safety.rolledBack(key, from.version, req.correlationId);
      }
      await this.deps.endpoints.setCurrentVersion(key, req.appVersionName, configId, now);
    }
    const current = configId ?? state?.currentVersion;
    if (current === undefined) return answer('none', 200, 'no software available');

    if (this.options.askFiltersOnPull && state?.membershipsKnown !== true && planner.catalogue.targetedFilterIds.size > 0) {
      state = await this.loadMemberships(key, req, state);
    }

    const plan = planner.plan(contextOf(key, state, consentRequired, planner.catalogue, current), now);
    const target = plan.next !== undefined ? planner.catalogue.find(plan.next) : planner.catalogue.find(current);
    if (!target) return answer('none', 200, 'no software available');
    if (configId !== undefined && versionKey(target.version) === versionKey(configId)) return answer('unchanged', 200, null);
    const content = await this.content.contentFor(target);
    if (!(state?.offered ?? []).includes(target.version)) await this.safety.offered(key, target.version, target);
    return answer('new', 200, 'OK', target.version, content);
  }

  /** §4.6: an endpoint with no membership record while the app has targeted software; on failure: no filters. */
  private async loadMemberships(key: EndpointKey, req: ConfigRequest, state: PullState | undefined): Promise<PullState | undefined> {
    let filters: readonly string[];
    try {
      filters = await this.deps.filterDirectory.filtersOfEndpoint(key.endpointId, req.correlationId);
    } catch {
      return state;
    }
    await this.deps.endpoints.setMemberships(key, req.appVersionName, filters, this.deps.clock.now());
    return (await this.deps.endpoints.getForPull(key)) ?? state;
  }
}
