import { randomUUID } from 'node:crypto';
import { versionKey } from '@otao/core';
import type { EndpointKey, EndpointPage, EndpointReport, EndpointRepository, EndpointState, FilterMember, PullState } from '@otao/core';
import type { AnyBulkWriteOperation, Collection, Db, Filter, UpdateFilter } from 'mongodb';
import { type BatchOptions, BatchedReader, BulkWriter, DEFAULT_BATCH, type WriteOutcome } from './batching';
import { COLLECTIONS } from './collections';
import { run, runUnlessDuplicate } from './errors';
import { idOf, idRange } from './keys';

/** One endpoint of one (tenant, app). */
export interface EndpointDocument {
  /** idOf(tenantId, appName, endpointId) */
  _id: string;
  tenantId: string;
  appName: string;
  endpointId: string;
  appVersionName?: string;
  currentVersion?: string;
  /** versionKey(currentVersion): list by version precedence. */
  currentVersionKey?: string;
  /** JSON text of the EndpointReport: its strings come from devices and may hold anything. */
  lastReport?: string;
  filters?: string[];
  membershipsKnown?: boolean;
  consents?: string[];
  /** Versions pushed (ConfigUpdated accepted by the broker) and offered (statistics). */
  pushed?: string[];
  offered?: string[];
  /** Unconfirmed push claims by version ({@link claimField}): who is sending it, until when. */
  claims?: Record<string, { owner: string; until: number }>;
  /** The last counted report (`<version>:applied|failed`), see markReportCounted. */
  counted?: string;
  /** The token (correlation id) of the report that set `counted`. */
  countedBy?: string | null;
  updatedAt: number;
}

type MarkKind = 'pushed' | 'offered';

export interface LoadedFilterDocument {
  /** idOf(tenantId, appName, filterId) */
  _id: string;
  tenantId: string;
  appName: string;
  filterId: string;
}

type Fields = Partial<Omit<EndpointDocument, '_id'>>;

const docId = (k: EndpointKey): string => idOf(k.tenantId, k.appName, k.endpointId);

/**
 * The filter of every upsert of an endpoint: `_id` and the tenant. FerretDB v2 (DocumentDB 0.106)
 * turns an upsert whose filter is `_id` alone into INSERT … ON CONFLICT DO UPDATE SET document =
 * <new>: two first writes of one new document then both "succeed" and the second replaces the
 * first (lost updates, measured: 20 of 40 rounds of 8 racing `$inc`). With a second equality in
 * the filter it inserts plainly, and the loser gets a duplicate key, which is retried as an update.
 */
function upsertFilter(k: EndpointKey): { _id: string; tenantId: string } {
  return { _id: docId(k), tenantId: k.tenantId };
}

/**
 * A version as a field name: SemVer text uses only `[0-9A-Za-z.+-]`, so replacing `.` (a path
 * separator in updates) with `_` is injective.
 */
export function claimField(version: string): string {
  return version.replace(/\./g, '_');
}

function toState(d: EndpointDocument): EndpointState {
  return {
    tenantId: d.tenantId,
    appName: d.appName,
    endpointId: d.endpointId,
    ...(d.appVersionName !== undefined ? { appVersionName: d.appVersionName } : {}),
    ...(d.currentVersion !== undefined ? { currentVersion: d.currentVersion } : {}),
    ...(d.lastReport !== undefined ? { lastReport: JSON.parse(d.lastReport) as EndpointReport } : {}),
    filters: d.filters ?? [],
    membershipsKnown: d.membershipsKnown ?? false,
    consents: d.consents ?? [],
    pushed: d.pushed ?? [],
    offered: d.offered ?? [],
    updatedAt: d.updatedAt,
  };
}

/** The fields a pull reads: a fifth less work for the store than whole documents. */
const PULL_PROJECTION = { appVersionName: 1, currentVersion: 1, filters: 1, membershipsKnown: 1, consents: 1, offered: 1 } as const;

function toPullState(d: Pick<EndpointDocument, keyof typeof PULL_PROJECTION>): PullState {
  return {
    ...(d.appVersionName !== undefined ? { appVersionName: d.appVersionName } : {}),
    ...(d.currentVersion !== undefined ? { currentVersion: d.currentVersion } : {}),
    filters: d.filters ?? [],
    membershipsKnown: d.membershipsKnown ?? false,
    consents: d.consents ?? [],
    offered: d.offered ?? [],
  };
}

function toDocument(s: EndpointState): EndpointDocument {
  return {
    _id: docId(s),
    tenantId: s.tenantId,
    appName: s.appName,
    endpointId: s.endpointId,
    ...(s.appVersionName !== undefined ? { appVersionName: s.appVersionName } : {}),
    ...(s.currentVersion !== undefined ? { currentVersion: s.currentVersion, currentVersionKey: versionKey(s.currentVersion) } : {}),
    ...(s.lastReport !== undefined ? { lastReport: JSON.stringify(s.lastReport) } : {}),
    filters: [...s.filters],
    membershipsKnown: s.membershipsKnown,
    consents: [...s.consents],
    pushed: [...s.pushed],
    offered: [...s.offered],
    updatedAt: s.updatedAt,
  };
}

/** Documents written per command by bulk operations (FerretDB v2 refuses more than 25 000). */
export const BULK_CHUNK = 1000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
/** Documents per insert of {@link MongoEndpointRepository.importStates}. */
export const IMPORT_CHUNK = 10_000;

type Change = {
  set?: Fields;
  addToSet?: Partial<Record<'filters' | 'consents' | 'pushed' | 'offered', string>>;
  onInsert?: Fields;
};

/**
 * EndpointRepository on a MongoDB-wire store (MongoDB, FerretDB v2). One document per endpoint;
 * every write is one atomic single-document update. Concurrent calls are gathered: look-ups by key
 * into one `$in` query, writes into one unordered bulk write (src/batching.ts), so a busy CDTP
 * provider costs a fraction of a round trip per request.
 */
export class MongoEndpointRepository implements EndpointRepository {
  private readonly docs: Collection<EndpointDocument>;
  private readonly loaded: Collection<LoadedFilterDocument>;
  private readonly reader: BatchedReader<EndpointDocument>;
  private readonly pullReader: BatchedReader<EndpointDocument>;
  private readonly writer: BulkWriter<EndpointDocument>;

  constructor(db: Db, batch: BatchOptions = DEFAULT_BATCH) {
    this.docs = db.collection<EndpointDocument>(COLLECTIONS.endpoints);
    this.loaded = db.collection<LoadedFilterDocument>(COLLECTIONS.loadedFilters);
    this.reader = new BatchedReader(this.docs, 'endpoints.get', batch);
    this.pullReader = new BatchedReader(this.docs, 'endpoints.getForPull', batch, PULL_PROJECTION);
    this.writer = new BulkWriter(this.docs, 'endpoints.write', batch);
  }

  /**
   * Bulk import of endpoint states (seeding, migrations, benchmarks), outside the port: inserts in
   * chunks of {@link IMPORT_CHUNK}; endpoints that already exist are left as they are.
   */
  async importStates(states: readonly EndpointState[]): Promise<void> {
    for (let i = 0; i < states.length; i += IMPORT_CHUNK) {
      const chunk = states.slice(i, i + IMPORT_CHUNK).map(toDocument);
      await runUnlessDuplicate('endpoints.importStates', () => this.docs.insertMany(chunk, { ordered: false }));
    }
  }

  async get(key: EndpointKey): Promise<EndpointState | undefined> {
    const d = await this.reader.get(docId(key));
    return d ? toState(d) : undefined;
  }

  async getForPull(key: EndpointKey): Promise<PullState | undefined> {
    const d = await this.pullReader.get(docId(key));
    return d ? toPullState(d) : undefined;
  }

  async setCurrentVersion(key: EndpointKey, appVersionName: string, version: string, at: number): Promise<void> {
    await this.upsert(key, at, { set: { appVersionName, currentVersion: version, currentVersionKey: versionKey(version) } });
  }

  async setAppVersionName(key: EndpointKey, appVersionName: string, at: number): Promise<void> {
    await this.upsert(key, at, { set: { appVersionName } });
  }

  async recordReport(key: EndpointKey, appVersionName: string, report: EndpointReport, applied: boolean): Promise<void> {
    const set: Fields = { appVersionName, lastReport: JSON.stringify(report) };
    if (applied) Object.assign(set, { currentVersion: report.configId, currentVersionKey: versionKey(report.configId) });
    await this.upsert(key, report.at, { set });
  }

  async addMembership(key: EndpointKey, appVersionName: string | undefined, filterId: string, at: number): Promise<void> {
    const set: Fields = { membershipsKnown: true, ...(appVersionName !== undefined ? { appVersionName } : {}) };
    await this.upsert(key, at, { set, addToSet: { filters: filterId } });
  }

  async removeMembership(key: EndpointKey, filterId: string, at: number): Promise<void> {
    await this.writer.write({ updateOne: { filter: { _id: docId(key) }, update: { $pull: { filters: filterId }, $set: { membershipsKnown: true, updatedAt: at } } } });
  }

  async setMemberships(key: EndpointKey, appVersionName: string | undefined, filterIds: readonly string[], at: number): Promise<void> {
    const set: Fields = { filters: [...new Set(filterIds)], membershipsKnown: true, ...(appVersionName !== undefined ? { appVersionName } : {}) };
    await this.upsert(key, at, { set });
  }

  async replaceFilterMembers(tenantId: string, appName: string, filterId: string, members: readonly FilterMember[], at: number): Promise<void> {
    const op = 'endpoints.replaceFilterMembers';
    const wanted = new Map(members.map((m) => [m.endpointId, m.appVersionName]));
    // Former members: streamed and diffed here, not sent as a $nin list (which could exceed 16 MB).
    let leaving: string[] = [];
    const flushLeaving = async (): Promise<void> => {
      if (leaving.length === 0) return;
      const ids = leaving;
      leaving = [];
      await run(op, () => this.docs.updateMany({ _id: { $in: ids } }, { $pull: { filters: filterId }, $set: { updatedAt: at } }));
    };
    // The app's range of the primary key (a filter changes rarely; no index on memberships to keep up on every write).
    const { lo, hi } = idRange(tenantId, appName);
    const cursor = this.docs.find({ _id: { $gt: lo, $lt: hi }, filters: filterId }, { projection: { _id: 1, endpointId: 1 } }).batchSize(BULK_CHUNK);
    try {
      for (;;) {
        const d = await run(op, () => cursor.next());
        if (d === null) break;
        if (!wanted.has(d.endpointId)) leaving.push(d._id);
        if (leaving.length >= BULK_CHUNK) await flushLeaving();
      }
    } finally {
      await cursor.close().catch(() => undefined);
    }
    await flushLeaving();
    const entries = [...wanted];
    for (let i = 0; i < entries.length; i += BULK_CHUNK) {
      const ops: AnyBulkWriteOperation<EndpointDocument>[] = [];
      for (const [endpointId, appVersionName] of entries.slice(i, i + BULK_CHUNK)) {
        const key = { tenantId, appName, endpointId };
        ops.push({ updateOne: { filter: upsertFilter(key), update: this.update(key, at, { addToSet: { filters: filterId }, onInsert: { appVersionName } }), upsert: true } });
        // An existing endpoint gets the app version name only when it has none.
        ops.push({ updateOne: { filter: { _id: docId(key), appVersionName: { $exists: false } }, update: { $set: { appVersionName } } } });
      }
      // Upserts racing another writer may hit the unique _id: the chunk is idempotent, so run it again.
      if (!(await runUnlessDuplicate(op, () => this.docs.bulkWrite(ops, { ordered: false })))) await run(op, () => this.docs.bulkWrite(ops, { ordered: false }));
    }
  }

  async removeFilter(tenantId: string, appName: string, filterId: string): Promise<void> {
    const { lo, hi } = idRange(tenantId, appName);
    await run('endpoints.removeFilter', () => this.docs.updateMany({ _id: { $gt: lo, $lt: hi }, filters: filterId }, { $pull: { filters: filterId } }));
    await run('endpoints.removeFilter', () => this.loaded.deleteOne({ _id: idOf(tenantId, appName, filterId) }));
  }

  async loadedFilters(tenantId: string, appName: string): Promise<Set<string>> {
    const docs = await run('endpoints.loadedFilters', () => this.loaded.find({ tenantId, appName }, { projection: { filterId: 1 } }).toArray());
    return new Set(docs.map((d) => d.filterId));
  }

  async markFilterLoaded(tenantId: string, appName: string, filterId: string): Promise<void> {
    await runUnlessDuplicate('endpoints.markFilterLoaded', () => this.loaded.insertOne({ _id: idOf(tenantId, appName, filterId), tenantId, appName, filterId }));
  }

  async grantConsent(key: EndpointKey, version: string, at: number): Promise<void> {
    await this.upsert(key, at, { addToSet: { consents: version } });
  }

  async revokeConsent(key: EndpointKey, version: string, at: number): Promise<void> {
    await this.writer.write({ updateOne: { filter: { _id: docId(key) }, update: { $pull: { consents: version }, $set: { updatedAt: at } } } });
  }

  /**
   * One `updateMany` sets a claim with a fresh token on every endpoint whose claim is free, expired
   * or the owner's own (atomic per document), then one `find` reads back which carry the token.
   */
  async claimPushes(tenantId: string, appName: string, endpointIds: readonly string[], version: string, owner: string, now: number, ttlMs: number): Promise<string[]> {
    const op = 'endpoints.claimPushes';
    const claim = `claims.${claimField(version)}`;
    const token = randomUUID();
    const claimed: string[] = [];
    for (const ids of chunks([...new Set(endpointIds)].map((endpointId) => idOf(tenantId, appName, endpointId)), BULK_CHUNK)) {
      const filter = {
        _id: { $in: ids },
        pushed: { $ne: version },
        $or: [{ [claim]: { $exists: false } }, { [`${claim}.until`]: { $lte: now } }, { [`${claim}.owner`]: owner }],
      } as Filter<EndpointDocument>;
      const r = await run(op, () => this.docs.updateMany(filter, { $set: { [claim]: { owner, until: now + ttlMs, token } } as Fields }));
      if (r.modifiedCount === 0) continue;
      const won = await run(op, () => this.docs.find({ _id: { $in: ids }, [`${claim}.token`]: token } as Filter<EndpointDocument>, { projection: { endpointId: 1 } }).toArray());
      for (const d of won) claimed.push(d.endpointId);
    }
    return claimed;
  }

  /**
   * Two `updateMany`s: the endpoints not yet offered the version get it as pushed and offered (their
   * number is the count of new offers: each document is modified once, atomically), then the others
   * get it as pushed.
   */
  async confirmPushes(tenantId: string, appName: string, endpointIds: readonly string[], version: string): Promise<number> {
    const op = 'endpoints.confirmPushes';
    const unset = { [`claims.${claimField(version)}`]: '' as const };
    let newlyOffered = 0;
    for (const ids of chunks([...new Set(endpointIds)].map((endpointId) => idOf(tenantId, appName, endpointId)), BULK_CHUNK)) {
      const first = await run(op, () => this.docs.updateMany({ _id: { $in: ids }, offered: { $ne: version } }, { $addToSet: { pushed: version, offered: version }, $unset: unset }));
      newlyOffered += first.modifiedCount;
      if (first.matchedCount < ids.length) await run(op, () => this.docs.updateMany({ _id: { $in: ids } }, { $addToSet: { pushed: version }, $unset: unset }));
    }
    return newlyOffered;
  }

  async releasePushes(tenantId: string, appName: string, endpointIds: readonly string[], version: string, owner: string): Promise<void> {
    const claim = `claims.${claimField(version)}`;
    for (const ids of chunks(endpointIds.map((endpointId) => idOf(tenantId, appName, endpointId)), BULK_CHUNK)) {
      await run('endpoints.releasePushes', () => this.docs.updateMany({ _id: { $in: ids }, [`${claim}.owner`]: owner }, { $unset: { [claim]: '' as const } }));
    }
  }

  async markOffered(key: EndpointKey, version: string): Promise<boolean> {
    return this.mark('offered', key, version);
  }

  async markReportCounted(key: EndpointKey, version: string, applied: boolean, token?: string): Promise<boolean> {
    // Same trick as `mark`: the upsert's filter matches only when the mark differs (or was set by
    // this same report); when the record already holds it, the upsert's insert hits the unique _id
    // and the outcome is `duplicate`.
    const counted = `${version}:${applied ? 'applied' : 'failed'}`;
    const condition = token === undefined ? { counted: { $ne: counted } } : { $or: [{ counted: { $ne: counted } }, { countedBy: token }] };
    const filter = { ...upsertFilter(key), ...condition } as Filter<EndpointDocument>;
    const outcome = await this.writer.write({ updateOne: { filter, update: this.update(key, undefined, { set: { counted, countedBy: token ?? null } }), upsert: true } });
    return outcome === 'ok';
  }

  async delete(tenantId: string, endpointId: string): Promise<void> {
    await run('endpoints.delete', () => this.docs.deleteMany({ tenantId, endpointId }));
  }

  async deleteTenant(tenantId: string): Promise<void> {
    await run('endpoints.deleteTenant', () => this.docs.deleteMany({ tenantId }));
    await run('endpoints.deleteTenant', () => this.loaded.deleteMany({ tenantId }));
  }

  async list(tenantId: string, appName: string, query: { version?: string; offset: number; limit: number }): Promise<EndpointPage> {
    const byVersion = query.version !== undefined ? { currentVersionKey: versionKey(query.version) } : {};
    const { lo, hi } = idRange(tenantId, appName);
    const [totalElements, docs] = await Promise.all([
      run('endpoints.list', () => this.docs.countDocuments({ tenantId, appName, ...byVersion })),
      query.limit <= 0
        ? Promise.resolve([])
        : run('endpoints.list', () =>
            this.docs
              .find({ _id: { $gt: lo, $lt: hi }, ...byVersion })
              .sort({ _id: 1 })
              .skip(Math.max(0, query.offset))
              .limit(query.limit)
              .toArray(),
          ),
    ]);
    return { content: docs.map(toState), totalElements };
  }

  /**
   * Keyset pagination in primary-key order: each batch is one query starting after the last `_id`
   * seen, so no cursor stays open on the server between batches (a paced rollout may take hours),
   * and a store restart in the middle costs one retried batch, not the stream.
   */
  async *stream(tenantId: string, appName: string, options: { filterId?: string; batchSize: number }): AsyncIterable<readonly EndpointState[]> {
    const size = Math.max(1, Math.floor(options.batchSize));
    const { lo, hi } = idRange(tenantId, appName);
    const byFilter: Filter<EndpointDocument> = options.filterId !== undefined ? { filters: options.filterId } : {};
    let after = lo;
    for (;;) {
      const from = after;
      const docs = await run('endpoints.stream', () =>
        this.docs
          .find({ _id: { $gt: from, $lt: hi }, ...byFilter })
          .sort({ _id: 1 })
          .limit(size)
          .toArray(),
      );
      if (docs.length === 0) return;
      yield docs.map(toState);
      if (docs.length < size) return;
      after = docs[docs.length - 1]!._id;
    }
  }

  /** Test and benchmark helper: the raw collection of endpoint documents. */
  get collection(): Collection<EndpointDocument> {
    return this.docs;
  }

  /**
   * "Add `version` to `kind` unless it is there" as one conditional update: the filter matches only
   * while the version is absent; when the endpoint exists and already has it, the upsert's insert
   * collides with its `_id` (duplicate key) — the compare-and-set failed.
   */
  private async mark(kind: MarkKind, key: EndpointKey, version: string): Promise<boolean> {
    const filter = { ...upsertFilter(key), [kind]: { $ne: version } } as Filter<EndpointDocument>;
    const outcome = await this.writer.write({ updateOne: { filter, update: this.update(key, undefined, { addToSet: { [kind]: version } }), upsert: true } });
    return outcome === 'ok';
  }

  /** The update of one endpoint, creating it with empty defaults when absent. */
  private update(key: EndpointKey, at: number | undefined, change: Change): UpdateFilter<EndpointDocument> {
    const set: Fields = { ...change.set, ...(at !== undefined ? { updatedAt: at } : {}) };
    const touched = new Set([...Object.keys(set), ...Object.keys(change.addToSet ?? {})]);
    const defaults: Fields = {
      // tenantId comes from the upsert's filter (upsertFilter)
      appName: key.appName,
      endpointId: key.endpointId,
      filters: [],
      membershipsKnown: false,
      consents: [],
      pushed: [],
      offered: [],
      updatedAt: at ?? 0,
      ...change.onInsert,
    };
    const onInsert = Object.fromEntries(Object.entries(defaults).filter(([k]) => !touched.has(k))) as Fields;
    return {
      ...(Object.keys(set).length > 0 ? { $set: set } : {}),
      ...(change.addToSet ? { $addToSet: change.addToSet } : {}),
      $setOnInsert: onInsert,
    };
  }

  /** An upsert of one endpoint; a concurrent first write of the same endpoint (duplicate _id) is retried as an update. */
  private async upsert(key: EndpointKey, at: number | undefined, change: Change): Promise<void> {
    const op: AnyBulkWriteOperation<EndpointDocument> = { updateOne: { filter: upsertFilter(key), update: this.update(key, at, change), upsert: true } };
    const outcome: WriteOutcome = await this.writer.write(op);
    if (outcome === 'duplicate') await this.writer.write(op);
  }
}
