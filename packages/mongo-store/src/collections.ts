import type { Collection, Db, Document, Filter, IndexDescription } from 'mongodb';

/** Collection names used by the adapter (one database per deployment). */
export const COLLECTIONS = {
  software: 'software',
  softwareRevisions: 'software_revisions',
  endpoints: 'endpoints',
  endpointMarks: 'endpoint_marks',
  loadedFilters: 'loaded_filters',
  rolloutStats: 'rollout_stats',
  leases: 'leases',
  checkpoints: 'checkpoints',
  jobs: 'jobs',
  jobClaims: 'job_claims',
} as const;

/**
 * Every index the hot-path queries need, by collection. Created idempotently at start-up
 * (`createIndexes` with the same names and keys is a no-op). No partial, sparse or TTL index:
 * FerretDB v1 has none.
 */
export const INDEXES: Readonly<Record<string, readonly IndexDescription[]>> = {
  [COLLECTIONS.software]: [
    // lookups by precedence and the per-(tenant, app) listing (its prefix)
    { name: 'software_by_version', key: { tenantId: 1, appName: 1, versionKey: 1 }, unique: true },
    { name: 'software_by_strategy', key: { rolloutStrategy: 1 } },
  ],
  [COLLECTIONS.softwareRevisions]: [
    { name: 'revisions_by_software', key: { incarnation: 1 } },
    { name: 'revisions_by_tenant', key: { tenantId: 1 } },
  ],
  [COLLECTIONS.endpoints]: [
    { name: 'endpoint_by_id', key: { tenantId: 1, appName: 1, endpointId: 1 }, unique: true },
    { name: 'endpoints_by_version', key: { tenantId: 1, appName: 1, currentVersionKey: 1, endpointId: 1 } },
    { name: 'endpoints_by_filter', key: { tenantId: 1, appName: 1, filters: 1, endpointId: 1 } },
    { name: 'endpoints_by_tenant', key: { tenantId: 1, endpointId: 1 } },
  ],
  [COLLECTIONS.endpointMarks]: [{ name: 'marks_by_endpoint', key: { tenantId: 1, endpointId: 1 } }],
  [COLLECTIONS.loadedFilters]: [{ name: 'loaded_filters_by_app', key: { tenantId: 1, appName: 1 } }],
  [COLLECTIONS.rolloutStats]: [
    { name: 'stats_by_software', key: { tenantId: 1, appName: 1, versionKey: 1, seq: -1 }, unique: true },
  ],
  [COLLECTIONS.leases]: [{ name: 'lease_terms', key: { name: 1, term: -1 }, unique: true }],
  [COLLECTIONS.checkpoints]: [],
  [COLLECTIONS.jobs]: [
    { name: 'jobs_by_availability', key: { availableAt: 1, createdAt: 1 } },
    { name: 'jobs_waiting_by_key', key: { key: 1, waiting: 1 } },
  ],
  [COLLECTIONS.jobClaims]: [{ name: 'claims_by_job', key: { jobId: 1 } }],
};

/**
 * Creates every collection's missing indexes; idempotent. Indexes are created one by one, and only
 * those not listed yet: FerretDB v1.24 drops the connection (a server panic) when one
 * `createIndexes` names two or more indexes that already exist.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const [name, indexes] of Object.entries(INDEXES)) {
    if (!existing.has(name)) await db.createCollection(name).catch(() => undefined); // a concurrent start may create it
    const have = new Set((await db.collection(name).listIndexes().toArray()).map((i: { name?: unknown }) => String(i.name)));
    for (const index of indexes) if (!have.has(index.name!)) await db.collection(name).createIndexes([index]);
  }
}

/** Documents deleted per statement by {@link deleteAll}. */
export const DELETE_CHUNK = 5000;

/**
 * deleteMany in chunks of `_id`s: FerretDB v1 (SQLite) fails a deleteMany that matches more than
 * ~32 000 documents ("too many SQL variables"), e.g. deleting a large tenant.
 */
export async function deleteAll<T extends Document>(collection: Collection<T>, filter: Filter<T>): Promise<void> {
  for (;;) {
    const ids = (await collection.find(filter, { projection: { _id: 1 } }).limit(DELETE_CHUNK).toArray()).map((d) => d._id);
    if (ids.length === 0) return;
    await collection.deleteMany({ _id: { $in: ids } } as Filter<T>);
    if (ids.length < DELETE_CHUNK) return;
  }
}
