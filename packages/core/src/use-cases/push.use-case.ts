import type { EndpointContext } from '../domain/eligibility';
import type { Plan } from '../domain/planner';
import type { Software } from '../domain/software';
import { versionKey } from '../domain/upgrade-graph';
import type { EndpointKey, EndpointState, PullState, PushScope } from '../ports';
import type { CatalogueCache } from './catalogue-cache';
import type { ContentBuilder } from './content-builder';
import type { CoreDeps, CoreOptions } from './core-deps';
import type { RolloutSafety } from './rollout-safety';

/** One ConfigUpdated a change causes: `version` is next(E), not yet pushed to E. */
export interface PushCandidate {
  readonly key: EndpointKey;
  readonly appVersionName: string;
  readonly software: Software;
}

export interface PushRunSummary {
  /** Endpoints examined. */
  readonly examined: number;
  /** ConfigUpdated events published by this run. */
  readonly pushed: number;
  /** Candidates another run (or replica) had already pushed. */
  readonly alreadyPushed: number;
}

/** The planner's view of one endpoint. */
export function contextOf(state: Pick<PullState, 'currentVersion' | 'filters' | 'consents'> | undefined, consentRequired: boolean, current?: string): EndpointContext {
  return {
    current: current ?? state?.currentVersion,
    memberships: state?.filters ?? [],
    consents: state?.consents ?? [],
    consentRequired,
  };
}

/** Whether a plan calls for a push to this endpoint: a next hop it is not on and was not pushed. */
export function pushTarget(state: EndpointState, plan: Plan): string | undefined {
  const next = plan.next;
  if (next === undefined || state.appVersionName === undefined) return undefined;
  if (state.currentVersion !== undefined && versionKey(state.currentVersion) === versionKey(next)) return undefined;
  if (state.pushed.some((v) => versionKey(v) === versionKey(next))) return undefined;
  return next;
}

/**
 * Spec §4.3: computes the pushes a change causes, streaming the affected endpoints in batches so a
 * million endpoints never sit in memory at once, and publishes one ConfigUpdated per endpoint
 * whose next(E) is a version it was not pushed. Each push is claimed (a compare-and-set across
 * replicas: sent once in normal operation), published, and recorded as pushed only once the broker
 * accepted it; a failed publish releases the claim. A run that dies between the two leaves a claim
 * that its owner takes again when it re-runs (a durable job: `owner` = the job) or that expires
 * (`pushClaimMs`), so a push is never lost: at least once across a crash.
 */
export class PushService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly options: CoreOptions,
    private readonly catalogues: CatalogueCache,
    private readonly content: ContentBuilder,
    private readonly safety: RolloutSafety,
  ) {}

  /** The push candidates of a scope, batch by batch (nothing is published or recorded). */
  async *candidates(scope: PushScope): AsyncGenerator<PushCandidate[], void, undefined> {
    const { tenantId, appName } = scope;
    const settings = this.deps.registry.settings(tenantId, appName);
    if (!settings) return;
    const planner = await this.catalogues.planner(tenantId, appName);
    const stream = this.deps.endpoints.stream(tenantId, appName, {
      batchSize: this.options.pushBatchSize,
      ...(scope.kind === 'filter' ? { filterId: scope.filterId } : {}),
    });
    for await (const batch of stream) {
      const now = this.deps.clock.now();
      const out: PushCandidate[] = [];
      for (const state of batch) {
        if (state.currentVersion === undefined) continue;
        const plan = planner.plan(contextOf(state, settings.consentRequired), now);
        const target = pushTarget(state, plan);
        if (target === undefined) continue;
        const software = planner.catalogue.find(target);
        if (!software) continue;
        out.push({ key: { tenantId, appName, endpointId: state.endpointId }, appVersionName: state.appVersionName as string, software });
      }
      yield out;
    }
  }

  /**
   * Computes and publishes the pushes of a scope. `owner` names the run for push claims: give a
   * durable job's id so that its re-run after a crash re-sends what it had claimed. Throws on store
   * or broker failure (the caller retries).
   */
  async run(scope: PushScope, owner: string = this.deps.ids.newId()): Promise<PushRunSummary> {
    let examined = 0;
    let pushed = 0;
    let alreadyPushed = 0;
    const correlationId = this.deps.ids.newId();
    const window = Math.max(1, this.options.pushConcurrency);
    for await (const batch of this.candidates(scope)) {
      examined += batch.length;
      // By target version, a window at a time: one claim, one publish burst (paced, confirmed by
      // the broker), one confirmation and one count per window.
      for (const group of groupByVersion(batch)) {
        for (let i = 0; i < group.length; i += window) {
          const sent = await this.pushAll(group.slice(i, i + window), correlationId, owner);
          pushed += sent;
          alreadyPushed += Math.min(window, group.length - i) - sent;
        }
      }
    }
    return { examined, pushed, alreadyPushed };
  }

  /** Re-plans one endpoint and pushes its next hop if that is new to it (EP-level triggers). */
  async evaluateEndpoint(key: EndpointKey, correlationId: string): Promise<boolean> {
    const settings = this.deps.registry.settings(key.tenantId, key.appName);
    if (!settings) return false;
    const state = await this.deps.endpoints.get(key);
    if (!state || state.currentVersion === undefined) return false;
    const planner = await this.catalogues.planner(key.tenantId, key.appName);
    const target = pushTarget(state, planner.plan(contextOf(state, settings.consentRequired), this.deps.clock.now()));
    const software = target === undefined ? undefined : planner.catalogue.find(target);
    if (!software) return false;
    return (await this.pushAll([{ key, appVersionName: state.appVersionName as string, software }], correlationId, `event:${correlationId}`)) === 1;
  }

  /**
   * Claims, publishes and records candidates of one (tenant, app) and one version; returns how many
   * it pushed (the others another run has or had). A publish that fails releases its claim, the rest
   * of the window is still recorded, and the failure is thrown.
   */
  private async pushAll(candidates: readonly PushCandidate[], correlationId: string, owner: string): Promise<number> {
    const first = candidates[0];
    if (!first) return 0;
    const { tenantId, appName } = first.key;
    const software = first.software;
    const version = software.version;
    const ids = candidates.map((c) => c.key.endpointId);
    const claimed = new Set(await this.deps.endpoints.claimPushes(tenantId, appName, ids, version, owner, this.deps.clock.now(), this.options.pushClaimMs));
    if (claimed.size === 0) return 0;
    let content: string;
    try {
      content = await this.content.contentFor(software);
    } catch (e) {
      await this.deps.endpoints.releasePushes(tenantId, appName, [...claimed], version, owner).catch(() => undefined); // else they expire
      throw e;
    }
    const mine = candidates.filter((c) => claimed.has(c.key.endpointId));
    const results = await Promise.allSettled(
      mine.map((c) =>
        this.deps.configPublisher.publish({ tenantId, appName, appVersionName: c.appVersionName, endpointId: c.key.endpointId, version, content, contentType: 'application/json', correlationId }),
      ),
    );
    const sent = mine.filter((_, i) => results[i]!.status === 'fulfilled').map((c) => c.key.endpointId);
    const failed = mine.filter((_, i) => results[i]!.status === 'rejected').map((c) => c.key.endpointId);
    if (sent.length > 0) await this.safety.offeredMany(tenantId, appName, version, await this.deps.endpoints.confirmPushes(tenantId, appName, sent, version));
    if (failed.length > 0) {
      await this.deps.endpoints.releasePushes(tenantId, appName, failed, version, owner).catch(() => undefined);
      throw (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
    }
    return sent.length;
  }
}

/** Candidates grouped by target version, in order of first appearance. */
function groupByVersion(batch: readonly PushCandidate[]): PushCandidate[][] {
  const groups = new Map<string, PushCandidate[]>();
  for (const c of batch) {
    const g = groups.get(c.software.version);
    if (g) g.push(c);
    else groups.set(c.software.version, [c]);
  }
  return [...groups.values()];
}
