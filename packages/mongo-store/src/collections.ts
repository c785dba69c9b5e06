import type { Db, IndexDescription } from 'mongodb';

/** Collection names used by the adapter (one database per deployment). */
export const COLLECTIONS = {
  software: 'software',
  catalogueRevisions: 'catalogue_revisions',
  endpoints: 'endpoints',
  loadedFilters: 'loaded_filters',
  rolloutStats: 'rollout_stats',
  rolloutHistory: 'rollout_history',
  pendingOffers: 'pending_offers',
  leases: 'leases',
  checkpoints: 'checkpoints',
  jobs: 'jobs',
  rateBudgets: 'rate_budgets',
  audit: 'audit',
  endpointCounts: 'endpoint_counts',
} as const;

/**
 * The secondary indexes the queries need, by collection (single-record reads and writes go by
 * `_id`, the primary key). Plain and unique indexes only: what MongoDB and FerretDB v2 both
 * support. test/indexes.int.test.ts runs `explain` on every query that reads more than one
 * `_id` and fails on a collection scan.
 */
export const INDEXES: Readonly<Record<string, readonly IndexDescription[]>> = {
  [COLLECTIONS.software]: [
    // one software per precedence; its prefix serves list(tenant, app)
    { name: 'software_by_version', key: { tenantId: 1, appName: 1, versionKey: 1 }, unique: true },
    { name: 'software_by_strategy', key: { rolloutStrategy: 1 } },
    // listWindowed: the window scheduler
    { name: 'software_windowed', key: { windowed: 1 } },
    { name: 'software_by_phased', key: { phased: 1 } },
  ],
  [COLLECTIONS.catalogueRevisions]: [{ name: 'catalogue_revisions_by_tenant', key: { tenantId: 1 } }],
  [COLLECTIONS.endpoints]: [
    // count(tenant, app[, version]) for list(); find by version
    { name: 'endpoints_by_version', key: { tenantId: 1, appName: 1, currentVersionKey: 1 } },
    // delete(tenant, endpoint) across apps; deleteTenant
    { name: 'endpoints_by_tenant', key: { tenantId: 1, endpointId: 1 } },
  ],
  [COLLECTIONS.loadedFilters]: [{ name: 'loaded_filters_by_app', key: { tenantId: 1, appName: 1 } }],
  [COLLECTIONS.rolloutStats]: [
    { name: 'stats_by_tenant', key: { tenantId: 1 } },
    // active(since): the software offered recently (rollout gauges, report-timeout scan)
    { name: 'stats_by_last_offer', key: { lastOfferedAt: 1 } },
  ],
  // prune(now): buckets past their retention (a software's buckets are an `_id` range)
  [COLLECTIONS.rolloutHistory]: [{ name: 'history_by_age', key: { bucket: 1, start: 1 } }],
  // findTimedOut(tenant, app, version, before): the oldest pending offers of a version; its prefix serves deleteTenant
  [COLLECTIONS.pendingOffers]: [{ name: 'pending_offers_by_age_and_endpoint', key: { tenantId: 1, appName: 1, versionKey: 1, at: 1, endpointId: 1 } }],
  [COLLECTIONS.leases]: [],
  [COLLECTIONS.checkpoints]: [],
  [COLLECTIONS.rateBudgets]: [],
  // one document per (tenant, app) by `_id`; deleteTenant is an `_id` range
  [COLLECTIONS.endpointCounts]: [],
  [COLLECTIONS.audit]: [
    // page(tenant, app) newest first, its count; the prefix serves deleteTenant
    { name: 'audit_by_app', key: { tenantId: 1, appName: 1, at: -1, _id: -1 } },
    // the reconciler: pending entries, oldest first
    { name: 'audit_pending', key: { state: 1, at: 1, _id: 1 } },
    // retention: the oldest entries
    { name: 'audit_by_time', key: { at: 1 } },
  ],
  [COLLECTIONS.jobs]: [
    { name: 'jobs_by_availability', key: { availableAt: 1, createdAt: 1 } },
    { name: 'jobs_by_slot', key: { slot: 1 }, unique: true },
  ],
};

/**
 * Replicas start together: on FerretDB v2 two `createIndexes` of one collection at once may fail
 * with PostgreSQL's "deadlock detected" (or a catalog conflict). The command is idempotent, so it is
 * tried again after a random pause.
 */
async function concurrently<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (attempt >= 6) throw e;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100 * attempt));
    }
  }
}

/**
 * Indexes earlier versions of the adapter created and this one no longer uses: every index costs
 * each write of its collection, so `start()` drops them.
 */
export const OBSOLETE_INDEXES: Readonly<Record<string, readonly string[]>> = {
  [COLLECTIONS.endpoints]: ['endpoint_by_id', 'endpoints_by_filter'],
  [COLLECTIONS.pendingOffers]: ['pending_offers_by_age'],
};

/**
 * Creates the collections and their indexes (idempotent: `createIndexes` with the same names and
 * keys is a no-op; one command per collection) and drops the obsolete ones.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const [name, indexes] of Object.entries(INDEXES)) {
    if (!existing.has(name)) await db.createCollection(name).catch(() => undefined); // a concurrent start may create it
    if (indexes.length > 0) await concurrently(() => db.collection(name).createIndexes([...indexes]));
    const obsolete = OBSOLETE_INDEXES[name] ?? [];
    if (obsolete.length === 0 || !existing.has(name)) continue;
    const have = new Set((await db.collection(name).listIndexes().toArray()).map((i: { name?: unknown }) => String(i.name)));
    for (const index of obsolete)
      if (have.has(index))
        await db
          .collection(name)
          .dropIndex(index)
          .catch(() => undefined); // a concurrent start may drop it
  }
}
