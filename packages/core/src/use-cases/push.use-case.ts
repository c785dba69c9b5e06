import type { EndpointContext } from '../domain/eligibility';
import type { Plan } from '../domain/planner';
import type { Software } from '../domain/software';
import { versionKey } from '../domain/upgrade-graph';
import type { EndpointKey, EndpointState, PushScope } from '../ports';
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
export function contextOf(state: EndpointState | undefined, consentRequired: boolean, current?: string): EndpointContext {
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
      // A window of the batch at once: the store adapter gathers the concurrent claims, records and
      // counts into a few bulk writes, the publisher paces and flushes the sends. A failure fails the
      // run after its window settled.
      for (let i = 0; i < batch.length; i += window) {
        const results = await Promise.allSettled(batch.slice(i, i + window).map((c) => this.push(c, correlationId, owner)));
        for (const r of results) {
          if (r.status === 'rejected') throw r.reason;
          if (r.value) pushed++;
          else alreadyPushed++;
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
    return this.push({ key, appVersionName: state.appVersionName as string, software }, correlationId, `event:${correlationId}`);
  }

  /** Claims, publishes and records one candidate; false when another run has it or had it. */
  private async push(c: PushCandidate, correlationId: string, owner: string): Promise<boolean> {
    const version = c.software.version;
    if (!(await this.deps.endpoints.claimPush(c.key, version, owner, this.deps.clock.now(), this.options.pushClaimMs))) return false;
    try {
      const content = await this.content.contentFor(c.software);
      await this.deps.configPublisher.publish({
        tenantId: c.key.tenantId,
        appName: c.key.appName,
        appVersionName: c.appVersionName,
        endpointId: c.key.endpointId,
        version,
        content,
        contentType: 'application/json',
        correlationId,
      });
    } catch (e) {
      await this.deps.endpoints.releasePush(c.key, version, owner).catch(() => undefined); // else it expires
      throw e;
    }
    await this.deps.endpoints.confirmPush(c.key, version);
    await this.safety.offered(c.key, version);
    return true;
  }
}
