/** A report of a CDTP `ConfigApplied` (spec §4.4). `at` in epoch ms. */
export interface EndpointReport {
  readonly configId: string;
  readonly statusCode: number;
  readonly reasonPhrase?: string;
  readonly at: number;
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
export type PullState = Pick<EndpointState, 'appVersionName' | 'currentVersion' | 'filters' | 'membershipsKnown' | 'consents' | 'offered'>;

export interface EndpointKey {
  readonly tenantId: string;
  readonly appName: string;
  readonly endpointId: string;
}

export interface EndpointPage {
  readonly content: EndpointState[];
  readonly totalElements: number;
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
  /** Stores the report as `lastReport`; when `applied`, also sets the current version to `report.configId`. */
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
   * endpoint is claimed when it is known, `version` is not among its pushed versions, and no other
   * owner holds an unexpired claim on it; the claim lasts until `now + ttlMs` or until confirmed or
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
   */
  confirmPushes(tenantId: string, appName: string, endpointIds: readonly string[], version: string): Promise<number>;
  /** Ends `owner`'s claims without recording a push (the publish failed), so a later run pushes again. Idempotent. */
  releasePushes(tenantId: string, appName: string, endpointIds: readonly string[], version: string, owner: string): Promise<void>;
  /** Same compare-and-set for the offered bookkeeping of rollout statistics. */
  markOffered(key: EndpointKey, version: string): Promise<boolean>;
  /**
   * Compare-and-set for counting reports (spec §4.8: each report counted once): records that the
   * endpoint's report of `version` with this outcome is counted. True for exactly one caller, and
   * only when the endpoint's last counted report was of another version or the other outcome. The
   * report is recorded first and counted after this mark, so a report retried after a store outage
   * between the two is still counted — once. `token` names the report (its correlation id): a retry
   * of the same report whose first mark was stored but not acknowledged (the connection failed
   * after the write) is true again, so its count is not lost. Creates the endpoint record when absent.
   */
  markReportCounted(key: EndpointKey, version: string, applied: boolean, token?: string): Promise<boolean>;
  /** Deletes everything about the endpoint in the tenant (all apps). Idempotent. */
  delete(tenantId: string, endpointId: string): Promise<void>;
  /** Deletes every endpoint record and loaded-filter record of the tenant. Idempotent. */
  deleteTenant(tenantId: string): Promise<void>;
  /** A page of the app's endpoints in the order of `stream`, optionally only those on `version` (by precedence). */
  list(tenantId: string, appName: string, query: { version?: string; offset: number; limit: number }): Promise<EndpointPage>;
  /**
   * Streams the app's endpoints in batches of at most `batchSize`, optionally only the members of
   * `filterId`, in a stable order (by endpointId for ordinary identifiers; an adapter may place
   * identifiers with control characters, spaces or quotes elsewhere, always the same way). Memory use
   * does not grow with the fleet size.
   */
  stream(tenantId: string, appName: string, options: { filterId?: string; batchSize: number }): AsyncIterable<readonly EndpointState[]>;
}
