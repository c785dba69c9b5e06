import type { EndpointContext } from '../domain/eligibility';
import type { Plan } from '../domain/planner';
import type { Software } from '../domain/software';
import { type AppCatalogue, versionKey } from '../domain/upgrade-graph';
import type { EndpointKey, EndpointState, PullState, PushScope } from '../ports';
import type { CatalogueAt, CatalogueCache } from './catalogue-cache';
import { UNLIMITED_PUSHES } from '../ports';
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
  /**
   * True when the run stopped early because the application's software changed while it ran (e.g. a
   * version was suspended): what it had not sent is left to a run on the new catalogue — the caller
   * runs the scope again at once.
   */
  readonly superseded: boolean;
}

/**
 * The planner's view of one endpoint. Its cohort (spec §4.10) is computed only when the catalogue
 * has a phase below 100 % open.
 */
export function contextOf(
  key: EndpointKey,
  state: Pick<PullState, 'currentVersion' | 'filters' | 'consents'> | undefined,
  consentRequired: boolean,
  catalogue: AppCatalogue,
  current?: string,
): EndpointContext {
  return {
    current: current ?? state?.currentVersion,
    memberships: state?.filters ?? [],
    consents: state?.consents ?? [],
    consentRequired,
    cohort: catalogue.phaseBoundaries.length > 0 ? catalogue.cohortOf(key.tenantId, key.appName, key.endpointId) : undefined,
  };
}

/**
 * Whether a plan calls for a push to this endpoint: a next hop it is not on and was neither pushed
 * nor offered. An answer to a pull delivers the same content as a push (spec §4.2 step 6, §4.3), so
 * an endpoint offered the version on a pull was already told: a push computation run again later —
 * the phase tick's catch-up, a job re-run after a crash, any change of the app — must not send it
 * the version a second time while it installs it (ADR 0021).
 */
export function pushTarget(state: EndpointState, plan: Plan): string | undefined {
  const next = plan.next;
  if (next === undefined || state.appVersionName === undefined) return undefined;
  const same = (v: string): boolean => versionKey(v) === versionKey(next);
  if (state.currentVersion !== undefined && same(state.currentVersion)) return undefined;
  if (state.pushed.some(same) || state.offered.some(same)) return undefined;
  return next;
}

/** The ports PushService uses. */
export type PushServiceDeps = Pick<CoreDeps, 'endpoints' | 'clock' | 'ids' | 'registry' | 'configPublisher' | 'pacer'>;

/** The options PushService reads. */
export type PushServiceOptions = Pick<CoreOptions, 'pushBatchSize' | 'pushClaimMs' | 'pushConcurrency'>;

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
    private readonly deps: PushServiceDeps,
    private readonly options: PushServiceOptions,
    private readonly catalogues: CatalogueCache,
    private readonly content: ContentBuilder,
    private readonly safety: RolloutSafety,
  ) {}

  /** The push candidates of a scope, batch by batch (nothing is published or recorded), planned on `at` (default: the current catalogue). */
  async *candidates(scope: PushScope, at?: CatalogueAt): AsyncGenerator<PushCandidate[], void, undefined> {
    const { tenantId, appName } = scope;
    const settings = this.deps.registry.settings(tenantId, appName);
    if (!settings) return;
    const planner = (at ?? (await this.catalogues.current(tenantId, appName))).planner;
    const stream = this.deps.endpoints.stream(tenantId, appName, {
      batchSize: this.options.pushBatchSize,
      ...(scope.kind === 'filter' ? { filterId: scope.filterId } : {}),
    });
    for await (const batch of stream) {
      const now = this.deps.clock.now();
      const out: PushCandidate[] = [];
      for (const state of batch) {
        if (state.currentVersion === undefined) continue;
        const plan = planner.plan(contextOf(state, state, settings.consentRequired, planner.catalogue), now);
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
    // The catalogue this run works from; every slice checks the store still has it (spec §4.3: a
    // suspension stops the run before its next batch, on whichever replica it runs).
    const at = await this.catalogues.current(scope.tenantId, scope.appName);
    for await (const batch of this.candidates(scope, at)) {
      examined += batch.length;
      // By target version, a window at a time: one claim, paced publish bursts confirmed by the
      // broker, one confirmation and one count per burst.
      for (const group of groupByVersion(batch)) {
        for (let i = 0; i < group.length; i += window) {
          const r = await this.pushAll(group.slice(i, i + window), correlationId, owner, at.revision);
          pushed += r.sent;
          alreadyPushed += r.taken;
          if (r.superseded) return { examined, pushed, alreadyPushed, superseded: true };
        }
      }
    }
    return { examined, pushed, alreadyPushed, superseded: false };
  }

  /** Re-plans one endpoint and pushes its next hop if that is new to it (EP-level triggers). */
  async evaluateEndpoint(key: EndpointKey, correlationId: string): Promise<boolean> {
    const settings = this.deps.registry.settings(key.tenantId, key.appName);
    if (!settings) return false;
    const state = await this.deps.endpoints.get(key);
    if (!state || state.currentVersion === undefined) return false;
    const planner = await this.catalogues.planner(key.tenantId, key.appName);
    const target = pushTarget(state, planner.plan(contextOf(key, state, settings.consentRequired, planner.catalogue), this.deps.clock.now()));
    const software = target === undefined ? undefined : planner.catalogue.find(target);
    if (!software) return false;
    return (await this.pushAll([{ key, appVersionName: state.appVersionName as string, software }], correlationId, `event:${correlationId}`)).sent === 1;
  }

  /**
   * Pushes candidates of one (tenant, app) and one version, a slice at a time: the service-wide
   * pacer says how many may go now; the slice is claimed; when `revision` is given, the store's
   * catalogue revision is checked right before sending (a change — e.g. a suspension — stops the
   * run: `superseded`); then the slice is published and recorded once the broker confirmed it. Claims are held only for a
   * slice's publish, so a slow rate never lets them expire under a live owner. A publish that fails
   * releases its claim, the slice's sent pushes are still recorded, and the failure is thrown.
   * Returns how many it sent and how many another run has or had.
   */
  private async pushAll(
    candidates: readonly PushCandidate[],
    correlationId: string,
    owner: string,
    revision?: number,
  ): Promise<{ sent: number; taken: number; superseded: boolean }> {
    const first = candidates[0];
    if (!first) return { sent: 0, taken: 0, superseded: false };
    const { tenantId, appName } = first.key;
    const software = first.software;
    const version = software.version;
    const pacer = this.deps.pacer ?? UNLIMITED_PUSHES;
    let sent = 0;
    let taken = 0;
    let content: string | undefined;
    for (let next = 0; next < candidates.length;) {
      const allowed = Math.max(1, Math.min(await pacer.take(candidates.length - next), candidates.length - next));
      const slice = candidates.slice(next, next + allowed);
      next += allowed;
      const claimed = new Set(
        await this.deps.endpoints.claimPushes(
          tenantId,
          appName,
          slice.map((c) => c.key.endpointId),
          version,
          owner,
          this.deps.clock.now(),
          this.options.pushClaimMs,
        ),
      );
      taken += slice.length - claimed.size;
      const mine = slice.filter((c) => claimed.has(c.key.endpointId));
      if (mine.length === 0) continue;
      let results: PromiseSettledResult<void>[];
      try {
        content ??= await this.content.contentFor(software);
        const body = content;
        // The last look at the catalogue, right before sending (nothing awaited in between): a change
        // stored by then — a suspension — stops the run.
        if (revision !== undefined && (await this.catalogues.current(tenantId, appName)).revision !== revision) {
          await this.deps.endpoints.releasePushes(tenantId, appName, [...claimed], version, owner).catch(() => undefined); // else they expire
          return { sent, taken, superseded: true };
        }
        results = await Promise.allSettled(
          mine.map((c) =>
            this.deps.configPublisher.publish({
              tenantId,
              appName,
              appVersionName: c.appVersionName,
              endpointId: c.key.endpointId,
              version,
              content: body,
              contentType: 'application/json',
              correlationId,
            }),
          ),
        );
      } catch (e) {
        await this.deps.endpoints.releasePushes(tenantId, appName, [...claimed], version, owner).catch(() => undefined); // else they expire
        throw e;
      }
      const ok = mine.filter((_, i) => results[i]!.status === 'fulfilled').map((c) => c.key.endpointId);
      const failed = mine.filter((_, i) => results[i]!.status === 'rejected').map((c) => c.key.endpointId);
      if (ok.length > 0) {
        // With a report timeout (§4.11) the first offers stay pending until a report.
        const offeredAt = software.failurePolicy?.reportTimeoutMinutes !== undefined ? this.deps.clock.now() : undefined;
        await this.safety.offeredMany(tenantId, appName, version, await this.deps.endpoints.confirmPushes(tenantId, appName, ok, version, offeredAt));
      }
      sent += ok.length;
      if (failed.length > 0) {
        await this.deps.endpoints.releasePushes(tenantId, appName, failed, version, owner).catch(() => undefined); // else they expire
        throw (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
      }
    }
    return { sent, taken, superseded: false };
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
