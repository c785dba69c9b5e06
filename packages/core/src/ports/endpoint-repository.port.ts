/** A report of a CDTP `ConfigApplied` (spec §4.4). `at` in epoch ms. */
export interface EndpointReport {
  readonly configId: string;
  readonly statusCode: number;
  readonly reasonPhrase?: string;
  readonly at: number;
}

/** The last version an endpoint reported applied (2xx ConfigApplied) and when (epoch ms): rollback detection (spec §4.8). */
export interface LastApplied {
  readonly version: string;
  readonly at: number;
}

/** The latest counted state of an endpoint for one version (spec §4.8: each endpoint counts once per version, in its latest state). */
export type CountedOutcome = 'applied' | 'failed' | 'timedOut';

/** A counted report: the endpoint's previous counted state for that version, if it had one (its count moves). */
export interface ReportCounted {
  readonly previous?: CountedOutcome;
}

/** An offer still waiting for a report (spec §4.11). */
export interface PendingOffer {
  readonly endpointId: string;
  /** The first offer of the version to the endpoint (epoch ms). */
  readonly offeredAt: number;
}

/** What OTAO keeps of one endpoint of one (tenant, app). */
export interface EndpointState {
  readonly tenantId: string;
  readonly appName: string;
  readonly endpointId: string;
  readonly appVersionName?: string;
  /** The version last reported as installed; absent until the endpoint reports. */
  readonly currentVersion?: string;
  readonly lastReport?: EndpointReport;
  /** The last version reported applied, set by `recordReport` with `applied`. */
  readonly lastApplied?: LastApplied;
  /** Filter ids the endpoint matches. */
  readonly filters: readonly string[];
  /** True once memberships were loaded for this endpoint (EFMP) or any EFE event was seen. */
  readonly membershipsKnown: boolean;
  /** Consent grants: SemVer versions or `*`. */
  readonly consents: readonly string[];
  /** Versions pushed to this endpoint with ConfigUpdated (accepted by the broker). */
  readonly pushed: readonly string[];
  /** Versions already counted as offered to this endpoint (rollout statistics). */
  readonly offered: readonly string[];
  readonly updatedAt: number;
}

/** What a pull decides with (spec §4.2): the part of {@link EndpointState} the CDTP hot path reads. */
export type PullState = Pick<EndpointState, 'appVersionName' | 'currentVersion' | 'filters' | 'membershipsKnown' | 'consents' | 'offered' | 'lastApplied'>;

export interface EndpointKey {
  readonly tenantId: string;
  readonly appName: string;
  readonly endpointId: string;
}

export interface EndpointPage {
  readonly content: EndpointState[];
  readonly totalElements: number;
}

/**
 * The endpoints of one application that share what a plan without phases depends on: the current
 * version, the filter memberships and the consents (spec §6.3 preview counts). Lists as stored: two
 * shapes may hold the same set in another order.
 */
export interface EndpointShape {
  readonly currentVersion?: string;
  readonly filters: readonly string[];
  readonly consents: readonly string[];
  readonly count: number;
  /**
   * Asked for with `cohortBoundaries` (see {@link EndpointRepository.shapes}): how many of those
   * boundaries the endpoints' cohort (spec §4.10) is at or above, 0 to their number. Absent for
   * endpoints whose cohort the repository does not hold, and when no boundaries were asked for.
   */
  readonly cohortBucket?: number;
}

/**
 * A stored count of one application's endpoints by shape (see {@link EndpointRepository.storeCounts}):
 * what the lists and the preview of a large fleet answer their counts from instead of reading every
 * endpoint at request time. `total` is the sum of the shapes' counts; `countedAt` (epoch ms) is when
 * the count began — writes after it may not be in it.
 */
export interface StoredCounts {
  readonly shapes: readonly EndpointShape[];
  readonly total: number;
  readonly countedAt: number;
  /** The cohort boundaries the shapes were split by (`shapes`' argument); absent or empty: not split. */
  readonly cohortBoundaries?: readonly number[];
}

export interface FilterMember {
  readonly endpointId: string;
  readonly appVersionName: string;
}

/**
 * Endpoint state: current version, reports, filter memberships, consent grants, push and offer
 * bookkeeping. Every query is scoped by tenant. Writes are upserts: an endpoint record is created
 * by the first write that concerns it. Objects returned are snapshots the caller must not mutate.
 * Every method throws `OtaoError('store.unavailable')` when the store cannot be reached.
 */
export interface EndpointRepository {
  /** The endpoint's state, or undefined when OTAO knows nothing of it. */
  get(key: EndpointKey): Promise<EndpointState | undefined>;
  /**
   * The fields of the state a pull decides with, equal to those of `get` (undefined when OTAO knows
   * nothing of the endpoint); adapters read only these, the CDTP hot path's one read.
   */
  getForPull(key: EndpointKey): Promise<PullState | undefined>;
  /** Upserts the current version (and app version name). Idempotent. */
  setCurrentVersion(key: EndpointKey, appVersionName: string, version: string, at: number): Promise<void>;
  /** Upserts the application version name only. Idempotent. */
  setAppVersionName(key: EndpointKey, appVersionName: string, at: number): Promise<void>;
  /**
   * Stores the report as `lastReport`; when `applied`, also sets the current version and
   * `lastApplied` to `report.configId` (at `report.at`). Resolves the endpoint's pending offers
   * (every version) made at or before `report.at`: an endpoint that reported is not timed out (§4.11).
   */
  recordReport(key: EndpointKey, appVersionName: string, report: EndpointReport, applied: boolean): Promise<void>;
  /** Adds a membership (upsert; marks memberships known). Idempotent. */
  addMembership(key: EndpointKey, appVersionName: string | undefined, filterId: string, at: number): Promise<void>;
  /** Removes a membership (marks memberships known when the endpoint exists). Idempotent. */
  removeMembership(key: EndpointKey, filterId: string, at: number): Promise<void>;
  /** Replaces the endpoint's whole membership list (EFMP `ep-filters-request` answer). */
  setMemberships(key: EndpointKey, appVersionName: string | undefined, filterIds: readonly string[], at: number): Promise<void>;
  /**
   * Makes exactly `members` the members of the filter within (tenant, app): adds the membership to
   * each (upserting endpoints), removes it from every other endpoint of the app. Idempotent.
   */
  replaceFilterMembers(tenantId: string, appName: string, filterId: string, members: readonly FilterMember[], at: number): Promise<void>;
  /** Removes the filter from every endpoint of the app and forgets it was loaded. Idempotent. */
  removeFilter(tenantId: string, appName: string, filterId: string): Promise<void>;
  /** Filter ids whose members were loaded for the app (EFMP bootstrap done). */
  loadedFilters(tenantId: string, appName: string): Promise<Set<string>>;
  /** Records that the filter's members were loaded. Idempotent. */
  markFilterLoaded(tenantId: string, appName: string, filterId: string): Promise<void>;
  /** Adds a consent grant (upsert). Idempotent. */
  grantConsent(key: EndpointKey, version: string, at: number): Promise<void>;
  /** Removes a consent grant. Idempotent; absent endpoint is not an error. */
  revokeConsent(key: EndpointKey, version: string, at: number): Promise<void>;
  /**
   * Claims the pushes of `version` to endpoints of one (tenant, app) for `owner` (spec §4.3: a push
   * counts as sent only once the broker accepted it, and is sent once in normal operation). An
   * endpoint is claimed when it is known, `version` is neither among its pushed nor among its
   * offered versions (an answer to a pull delivered it already: a push computed before that pull
   * must not send it again, ADR 0021), and no other owner holds an unexpired claim on it; the claim lasts until `now + ttlMs` or until confirmed or
   * released. An owner may claim again what it holds (a durable job re-run after its replica died
   * re-sends its unconfirmed pushes at once); another owner gets an expired claim. Atomic per
   * endpoint across replicas: of concurrent claimers exactly one gets an endpoint. Returns the ids
   * claimed (any order).
   */
  claimPushes(tenantId: string, appName: string, endpointIds: readonly string[], version: string, owner: string, now: number, ttlMs: number): Promise<string[]>;
  /**
   * Records `version` as pushed to the endpoints (after the broker accepted it) and as offered, and
   * ends any claim on it. Returns how many of them had not been offered `version` before (each
   * endpoint counts once, across replicas, with `markOffered`). Idempotent; unknown ids are skipped.
   * With `offeredAt` (the software has a report timeout), an endpoint offered `version` for the first
   * time also gets a pending offer at that time (see `findTimedOut`); an existing one is kept.
   */
  confirmPushes(tenantId: string, appName: string, endpointIds: readonly string[], version: string, offeredAt?: number): Promise<number>;
  /** Ends `owner`'s claims without recording a push (the publish failed), so a later run pushes again. Idempotent. */
  releasePushes(tenantId: string, appName: string, endpointIds: readonly string[], version: string, owner: string): Promise<void>;
  /**
   * Same compare-and-set for the offered bookkeeping of rollout statistics. When it is true and
   * `offeredAt` is given (the software has a report timeout), the endpoint also gets a pending offer
   * of `version` at that time (see `findTimedOut`).
   */
  markOffered(key: EndpointKey, version: string, offeredAt?: number): Promise<boolean>;
  /**
   * Compare-and-set for counting reports (spec §4.8: each endpoint counts at most once per version,
   * in its latest state): sets the endpoint's counted state for `version` to applied or failed.
   * Answers `false` when that already is its state (a repeated report: nothing to count), else
   * `{previous}` — the state it had (applied, failed or timedOut: the caller moves that count) or
   * none (a first count) — for exactly one of concurrent callers. The report is recorded first and
   * counted after this mark, so a report retried after a store outage between the two is still
   * counted — once. `token` names the report (its correlation id): a retry of the same report whose
   * mark was stored but not acknowledged (the connection failed after the write) gets the same answer
   * again, so its count is not lost. Creates the endpoint record when absent.
   */
  markReportCounted(key: EndpointKey, version: string, applied: boolean, token?: string): Promise<ReportCounted | false>;
  /**
   * Compare-and-set, once per (endpoint, version): true for exactly one caller the first time the
   * endpoint is marked as having rolled back from `version` (spec §4.8). Creates the record when absent.
   */
  markRolledBack(key: EndpointKey, version: string): Promise<boolean>;
  /**
   * The pending offers of `version` in (tenant, app) made at or before `offeredBefore`, in
   * (offeredAt, endpointId) order, at most `limit` (spec §4.11); with `after`, only those strictly
   * after it in that order (keyset paging: a scan continues where its last batch ended, instead of
   * walking again over the offers it resolved — on PostgreSQL their index entries stay until vacuum).
   * A pending offer is created by `markOffered`/`confirmPushes` with an offer time and resolved by
   * `recordReport` or `markTimedOut`. Served by an index: never a scan of the fleet.
   */
  findTimedOut(tenantId: string, appName: string, version: string, offeredBefore: number, limit: number, after?: PendingOffer): Promise<PendingOffer[]>;
  /**
   * Resolves the pending offers of `version` of these endpoints; of those still pending (no report
   * since), each endpoint that has no counted state for `version` and is not on it is marked timed
   * out. Returns how many were marked: an endpoint is marked at most once, across callers.
   */
  markTimedOut(tenantId: string, appName: string, version: string, endpointIds: readonly string[]): Promise<number>;
  /** Deletes everything about the endpoint in the tenant (all apps), pending offers included. Idempotent. */
  delete(tenantId: string, endpointId: string): Promise<void>;
  /** Deletes every endpoint record, loaded-filter record and stored count of the tenant. Idempotent. */
  deleteTenant(tenantId: string): Promise<void>;
  /** A page of the app's endpoints in the order of `stream`, optionally only those on `version` (by precedence). */
  list(tenantId: string, appName: string, query: { version?: string; offset: number; limit: number }): Promise<EndpointPage>;
  /**
   * The app's endpoints grouped by (current version, filters, consents), each with its count, computed
   * by the store in one query (the fleet never comes into memory). Every endpoint is in exactly one
   * shape; an empty application has none. Any order.
   *
   * With `cohortBoundaries` (ascending, in (0, 100)), the shapes are also split by the endpoints'
   * cohort b(E) (spec §4.10): `cohortBucket` is how many boundaries b(E) is at or above. A repository
   * holds an endpoint's cohort when it was built with the cohort rule (`cohortOf` of `@otao/core`,
   * given by the composition root: the rule stays in the core) and stores it with each endpoint it
   * creates; endpoints it holds no cohort for are in shapes without `cohortBucket`.
   */
  shapes(tenantId: string, appName: string, cohortBoundaries?: readonly number[]): Promise<EndpointShape[]>;
  /**
   * A page of the app's endpoints without their count: the same entries, in the same order, as
   * `list` with that query. With `fromEnd`, `offset` counts from the last entry (offset 0 and limit
   * 50 is the last 50): the entries are still returned in ascending order. A page near the end of a
   * large list is then as cheap as one near its start.
   */
  page(tenantId: string, appName: string, query: { version?: string; offset: number; limit: number; fromEnd?: boolean }): Promise<EndpointState[]>;
  /** The counts last stored by `storeCounts` for the app, or undefined. */
  storedCounts(tenantId: string, appName: string): Promise<StoredCounts | undefined>;
  /**
   * Stores counts of the app (from `shapes`) unless counts with a later or equal `countedAt` are
   * stored already (two replicas counting at once: the later count stays). `deleteTenant` removes them.
   */
  storeCounts(tenantId: string, appName: string, counts: StoredCounts): Promise<void>;
  /**
   * Streams the app's endpoints in batches of at most `batchSize`, optionally only the members of
   * `filterId`, in a stable order (by endpointId for ordinary identifiers; an adapter may place
   * identifiers with control characters, spaces or quotes elsewhere, always the same way). Memory use
   * does not grow with the fleet size.
   */
  stream(tenantId: string, appName: string, options: { filterId?: string; batchSize: number }): AsyncIterable<readonly EndpointState[]>;
}
