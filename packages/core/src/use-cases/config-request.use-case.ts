import { err, type Failure, failure, ok, type Result } from '../domain/result';
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

/**
 * What a pull decided (spec §4.2 steps 5–8), in no protocol's terms: the transport adapter turns it
 * into its own answer (nats-cdtp: status code and reason phrase from its one table).
 * - `new`: offer `configId` with `content` (UTF-8 JSON of the specification, link injected);
 * - `unchanged`: the endpoint already runs its target;
 * - `none`: nothing to offer (no current version known, or no target).
 */
export type ConfigAnswer =
  { readonly outcome: 'new'; readonly configId: string; readonly content: string } | { readonly outcome: 'unchanged' } | { readonly outcome: 'none' };

/** Why a pull was refused before deciding (spec §4.2 steps 2–4). */
export type ConfigRequestError = Failure<'config.unknown_name' | 'application_version.not_found' | 'config.invalid_config_id'>;

/** The result of {@link ConfigRequestService.decide}; infrastructure failures are thrown, not returned. */
export type ConfigDecision = Result<ConfigAnswer, ConfigRequestError>;

const NONE: Result<ConfigAnswer, never> = ok({ outcome: 'none' });
const UNCHANGED: Result<ConfigAnswer, never> = ok({ outcome: 'unchanged' });

/** The ports a pull reads and writes. */
export type ConfigRequestServiceDeps = Pick<CoreDeps, 'registry' | 'endpoints' | 'clock' | 'filterDirectory'>;

/**
 * Spec §4.2 steps 2–8: decides a pull. Decoding and expiry (step 1), and the status codes and
 * reason phrases of the answer, belong to the transport adapter. Store and dependency failures
 * (`OtaoError`) propagate.
 */
export class ConfigRequestService {
  constructor(
    private readonly deps: ConfigRequestServiceDeps,
    private readonly options: Pick<CoreOptions, 'askFiltersOnPull'>,
    private readonly catalogues: CatalogueCache,
    private readonly content: ContentBuilder,
    private readonly safety: RolloutSafety,
  ) {}

  async decide(req: ConfigRequest): Promise<ConfigDecision> {
    if (req.configName != null && req.configName !== 'default') {
      return err(failure('config.unknown_name', `unknown configuration name ${JSON.stringify(req.configName.slice(0, 100))}`, 'configName'));
    }
    const app = this.deps.registry.resolve(req.appVersionName);
    const settings = app && this.deps.registry.settings(app.tenantId, app.appName);
    if (!app || !settings) {
      return err(failure('application_version.not_found', `unknown application version ${JSON.stringify(req.appVersionName.slice(0, 100))}`, 'appVersionName'));
    }
    const configId = req.configId != null && req.configId !== '' ? req.configId : undefined;
    if (configId !== undefined && !isStrictSemver(configId)) {
      return err(failure('config.invalid_config_id', `configId ${JSON.stringify(configId.slice(0, 100))} is not a SemVer version`, 'configId'));
    }
    return this.decideFor({ tenantId: app.tenantId, appName: app.appName, endpointId: req.endpointId }, req, configId, settings.consentRequired);
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
    if (current === undefined) return NONE;

    if (this.options.askFiltersOnPull && state?.membershipsKnown !== true && planner.catalogue.targetedFilterIds.size > 0) {
      state = await this.loadMemberships(key, req, state);
    }

    const plan = planner.plan(contextOf(key, state, consentRequired, planner.catalogue, current), now);
    const target = plan.next !== undefined ? planner.catalogue.find(plan.next) : planner.catalogue.find(current);
    if (!target) return NONE;
    if (configId !== undefined && versionKey(target.version) === versionKey(configId)) return UNCHANGED;
    const content = await this.content.contentFor(target);
    if (!(state?.offered ?? []).includes(target.version)) await this.safety.offered(key, target.version, target);
    return ok({ outcome: 'new', configId: target.version, content });
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
