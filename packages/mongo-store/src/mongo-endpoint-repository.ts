import { randomUUID } from 'node:crypto';
import { OtaoError, versionKey } from '@otao/core';
import type {
  CountedOutcome,
  EndpointKey,
  EndpointPage,
  EndpointShape,
  EndpointReport,
  EndpointRepository,
  EndpointState,
  FilterMember,
  LastApplied,
  PendingOffer,
  PullState,
  ReportCounted,
  StoredCounts,
} from '@otao/core';
import type { AnyBulkWriteOperation, Collection, Db, Filter, UpdateFilter } from 'mongodb';
import { type BatchOptions, BatchedReader, BulkWriter, DEFAULT_BATCH, type WriteOutcome } from './batching';
import { COLLECTIONS } from './collections';
import { DEFAULT_SCAN_TIMEOUT_MS } from './config';
import { run, runScan, runUnlessDuplicate } from './errors';
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
  claims?: Record<string, { owner: string; until: number; token?: string }>;
  /** The last version reported applied and when (rollback detection). */
  lastApplied?: LastApplied;
  /** The counted state per version (`claimField(versionKey)`): each endpoint counts once per version, in its latest state. */
  outcomes?: Record<string, CountedOutcome>;
  /** The last count (`<versionKey>:applied|failed`), see markReportCounted. Before issue 12: `<version>:…`, the only counted state. */
  counted?: string;
  /** The token (correlation id) of the report that set `counted`. */
  countedBy?: string | null;
  /** The state that count replaced (null: a first count), answered again to a retry of the same report. */
  countedFrom?: CountedOutcome | null;
  /** Version keys the endpoint was counted as rolled back from. */
  rolledBack?: string[];
  /** The endpoint's cohort b(E) (spec §4.10), set when the document is created (`MongoStoreConfig.cohortOf`). */
  cohort?: number;
  updatedAt: number;
}

/** An offer waiting for a report (spec §4.11): created with the first offer when the software has a report timeout. */
export interface PendingOfferDocument {
  /** idOf(tenantId, endpointId, appName, versionKey): an endpoint's offers are one `_id` range (reports, deletion). */
  _id: string;
  tenantId: string;
  appName: string;
  endpointId: string;
  versionKey: string;
  at: number;
  /** The token of the timeout scan resolving it (markTimedOut). */
  resolving?: string;
}

type MarkKind = 'pushed' | 'offered' | 'rolledBack';

/** The stored counts of one application (`storeCounts`): its shapes with short field names. */
export interface EndpointCountsDocument {
  /** idOf(tenantId, appName) */
  _id: string;
  tenantId: string;
  appName: string;
  /** `b`: the cohort bucket of a count split by `cb`, the cohort boundaries. */
  shapes: { v?: string; f: string[]; c: string[]; n: number; b?: number }[];
  total: number;
  countedAt: number;
  cb?: number[];
}

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
    ...(d.lastApplied ? { lastApplied: { version: d.lastApplied.version, at: d.lastApplied.at } } : {}),
    filters: d.filters ?? [],
    membershipsKnown: d.membershipsKnown ?? false,
    consents: d.consents ?? [],
    pushed: d.pushed ?? [],
    offered: d.offered ?? [],
    updatedAt: d.updatedAt,
  };
}

/** The fields a pull reads: a fifth less work for the store than whole documents. */
const PULL_PROJECTION = { appVersionName: 1, currentVersion: 1, filters: 1, membershipsKnown: 1, consents: 1, offered: 1, lastApplied: 1 } as const;

function toPullState(d: Pick<EndpointDocument, keyof typeof PULL_PROJECTION>): PullState {
  return {
    ...(d.appVersionName !== undefined ? { appVersionName: d.appVersionName } : {}),
    ...(d.currentVersion !== undefined ? { currentVersion: d.currentVersion } : {}),
    filters: d.filters ?? [],
    membershipsKnown: d.membershipsKnown ?? false,
    consents: d.consents ?? [],
    offered: d.offered ?? [],
    ...(d.lastApplied ? { lastApplied: { version: d.lastApplied.version, at: d.lastApplied.at } } : {}),
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
    ...(s.lastApplied !== undefined ? { lastApplied: { version: s.lastApplied.version, at: s.lastApplied.at } } : {}),
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
  addToSet?: Partial<Record<'filters' | 'consents' | 'pushed' | 'offered' | 'rolledBack', string>>;
  onInsert?: Fields;
};

/** From this offset on, a page of `list` goes through the scan client (it reads every entry before it). */
const DEEP_PAGE_OFFSET = 10_000;

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
  private readonly offers: Collection<PendingOfferDocument>;
  private readonly offerWriter: BulkWriter<PendingOfferDocument>;
  private readonly counts: Collection<EndpointCountsDocument>;

  /**
   * `scans`: where the queries that read a whole application's endpoints go (the preview's grouping,
   * a list's count), and how long they may take; by default the same database with the default
   * `scanTimeoutMS` (the store passes a client of its own with that socket timeout).
   */
  constructor(
    db: Db,
    batch: BatchOptions = DEFAULT_BATCH,
    private readonly scans: { readonly db: () => Db; readonly timeoutMS: number } = { db: () => db, timeoutMS: DEFAULT_SCAN_TIMEOUT_MS },
    private readonly cohortOf?: (tenantId: string, appName: string, endpointId: string) => number,
  ) {
    this.docs = db.collection<EndpointDocument>(COLLECTIONS.endpoints);
    this.offers = db.collection<PendingOfferDocument>(COLLECTIONS.pendingOffers);
    this.offerWriter = new BulkWriter(this.offers, 'endpoints.pendingOffers', batch);
    this.loaded = db.collection<LoadedFilterDocument>(COLLECTIONS.loadedFilters);
    this.counts = db.collection<EndpointCountsDocument>(COLLECTIONS.endpointCounts);
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
      const chunk = states.slice(i, i + IMPORT_CHUNK).map((s) => {
        const d = toDocument(s);
        if (this.cohortOf) d.cohort = this.cohortOf(s.tenantId, s.appName, s.endpointId);
        return d;
      });
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
    if (applied)
      Object.assign(set, {
        currentVersion: report.configId,
        currentVersionKey: versionKey(report.configId),
        lastApplied: { version: report.configId, at: report.at },
      });
    // The endpoint reported: its offers made until now are no longer waiting (§4.11). Gathered like the endpoint writes.
    const { lo, hi } = idRange(key.tenantId, key.endpointId, key.appName);
    await Promise.all([
      this.upsert(key, report.at, { set }),
      this.offerWriter.write({ deleteMany: { filter: { _id: { $gt: lo, $lt: hi }, at: { $lte: report.at } } } }),
    ]);
  }

  async addMembership(key: EndpointKey, appVersionName: string | undefined, filterId: string, at: number): Promise<void> {
    const set: Fields = { membershipsKnown: true, ...(appVersionName !== undefined ? { appVersionName } : {}) };
    await this.upsert(key, at, { set, addToSet: { filters: filterId } });
  }

  async removeMembership(key: EndpointKey, filterId: string, at: number): Promise<void> {
    await this.writer.write({
      updateOne: { filter: { _id: docId(key) }, update: { $pull: { filters: filterId }, $set: { membershipsKnown: true, updatedAt: at } } },
    });
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
        ops.push({
          updateOne: {
            filter: upsertFilter(key),
            update: this.update(key, at, { addToSet: { filters: filterId }, onInsert: { appVersionName } }),
            upsert: true,
          },
        });
        // An existing endpoint gets the app version name only when it has none.
        ops.push({ updateOne: { filter: { _id: docId(key), appVersionName: { $exists: false } }, update: { $set: { appVersionName } } } });
      }
      // Upserts racing another writer may hit the unique _id: the chunk is idempotent, so run it again.
      if (!(await runUnlessDuplicate(op, () => this.docs.bulkWrite(ops, { ordered: false }))))
        await run(op, () => this.docs.bulkWrite(ops, { ordered: false }));
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
    await runUnlessDuplicate('endpoints.markFilterLoaded', () =>
      this.loaded.insertOne({ _id: idOf(tenantId, appName, filterId), tenantId, appName, filterId }),
    );
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
  async claimPushes(
    tenantId: string,
    appName: string,
    endpointIds: readonly string[],
    version: string,
    owner: string,
    now: number,
    ttlMs: number,
  ): Promise<string[]> {
    const op = 'endpoints.claimPushes';
    const claim = `claims.${claimField(version)}`;
    const token = randomUUID();
    const claimed: string[] = [];
    for (const ids of chunks(
      [...new Set(endpointIds)].map((endpointId) => idOf(tenantId, appName, endpointId)),
      BULK_CHUNK,
    )) {
      const filter = {
        _id: { $in: ids },
        pushed: { $ne: version },
        offered: { $ne: version }, // offered on a pull since the push was computed: delivered already (ADR 0021)
        $or: [{ [claim]: { $exists: false } }, { [`${claim}.until`]: { $lte: now } }, { [`${claim}.owner`]: owner }],
      } as Filter<EndpointDocument>;
      const r = await run(op, () => this.docs.updateMany(filter, { $set: { [claim]: { owner, until: now + ttlMs, token } } as Fields }));
      if (r.modifiedCount === 0) continue;
      const won = await run(op, () =>
        this.docs.find({ _id: { $in: ids }, [`${claim}.token`]: token } as Filter<EndpointDocument>, { projection: { endpointId: 1 } }).toArray(),
      );
      for (const d of won) claimed.push(d.endpointId);
    }
    return claimed;
  }

  /**
   * Two `updateMany`s: the endpoints not yet offered the version get it as pushed and offered (their
   * number is the count of new offers: each document is modified once, atomically), then the others
   * get it as pushed. The count stays exact when the first update runs again after a transient
   * conflict (`run`): on FerretDB v2 one update statement (one `q`, `multi`) is one PostgreSQL call, rolled back
   * whole. (Marking each offered endpoint with the call's token and counting the marks instead was
   * measured: 2 402 → 1 632 pushes/s in bench/e2e-rollout, for a failure not seen.)
   */
  async confirmPushes(tenantId: string, appName: string, endpointIds: readonly string[], version: string, offeredAt?: number): Promise<number> {
    const op = 'endpoints.confirmPushes';
    const unset = { [`claims.${claimField(version)}`]: '' as const };
    let newlyOffered = 0;
    for (const ids of chunks(
      [...new Set(endpointIds)].map((endpointId) => idOf(tenantId, appName, endpointId)),
      BULK_CHUNK,
    )) {
      // With a report timeout: which of them are offered the version for the first time (one more read per window, only then).
      const fresh =
        offeredAt === undefined
          ? []
          : await run(op, () => this.docs.find({ _id: { $in: ids }, offered: { $ne: version } }, { projection: { endpointId: 1 } }).toArray());
      const first = await run(op, () =>
        this.docs.updateMany({ _id: { $in: ids }, offered: { $ne: version } }, { $addToSet: { pushed: version, offered: version }, $unset: unset }),
      );
      newlyOffered += first.modifiedCount;
      if (offeredAt !== undefined && fresh.length > 0)
        await this.addPendingOffers(
          tenantId,
          appName,
          version,
          fresh.map((d) => d.endpointId),
          offeredAt,
        );
      if (first.matchedCount < ids.length) await run(op, () => this.docs.updateMany({ _id: { $in: ids } }, { $addToSet: { pushed: version }, $unset: unset }));
    }
    return newlyOffered;
  }

  async releasePushes(tenantId: string, appName: string, endpointIds: readonly string[], version: string, owner: string): Promise<void> {
    const claim = `claims.${claimField(version)}`;
    for (const ids of chunks(
      endpointIds.map((endpointId) => idOf(tenantId, appName, endpointId)),
      BULK_CHUNK,
    )) {
      await run('endpoints.releasePushes', () => this.docs.updateMany({ _id: { $in: ids }, [`${claim}.owner`]: owner }, { $unset: { [claim]: '' as const } }));
    }
  }

  async markOffered(key: EndpointKey, version: string, offeredAt?: number): Promise<boolean> {
    const marked = await this.mark('offered', key, version);
    // After the mark: only the first offer becomes pending (one more gathered write, only with a report timeout).
    if (marked && offeredAt !== undefined) await this.addPendingOffers(key.tenantId, key.appName, version, [key.endpointId], offeredAt);
    return marked;
  }

  /**
   * A read (gathered) and a compare-and-set on what was read: the upsert's filter matches only while
   * the endpoint's state for the version is still the one read; when another writer changed it, the
   * upsert's insert hits the unique _id (`duplicate`) and the read is done again.
   */
  async markReportCounted(key: EndpointKey, version: string, applied: boolean, token?: string): Promise<ReportCounted | false> {
    const outcome: CountedOutcome = applied ? 'applied' : 'failed';
    const vk = versionKey(version);
    const field = `outcomes.${claimField(vk)}`;
    const mark = `${vk}:${outcome}`;
    for (let attempt = 0; attempt < 20; attempt++) {
      const d = await this.reader.get(docId(key));
      if (token !== undefined && d?.countedBy === token && d.counted === mark) return d.countedFrom ? { previous: d.countedFrom } : {};
      const stored = d?.outcomes?.[claimField(vk)];
      // Marks of before issue 12 held only the last counted report (`<version>:<outcome>`).
      const legacy =
        stored === undefined && d?.counted !== undefined && !d.outcomes && versionKey(d.counted.replace(/:(applied|failed)$/, '')) === vk
          ? d.counted.endsWith(':applied')
            ? 'applied'
            : 'failed'
          : undefined;
      const previous = stored ?? legacy;
      if (previous === outcome) return false;
      const filter = { ...upsertFilter(key), [field]: stored ?? { $exists: false } } as Filter<EndpointDocument>;
      const update = this.update(key, undefined, { set: { [field]: outcome, counted: mark, countedBy: token ?? null, countedFrom: previous ?? null } });
      if ((await this.writer.write({ updateOne: { filter, update, upsert: true } })) === 'ok') return previous !== undefined ? { previous } : {};
    }
    throw new OtaoError('store.unavailable', 'endpoints.markReportCounted: too many concurrent changes of one endpoint');
  }

  async markRolledBack(key: EndpointKey, version: string): Promise<boolean> {
    return this.mark('rolledBack', key, versionKey(version));
  }

  /**
   * Keyset paging in (at, endpointId) order, as two index range reads: the rest of the `after`
   * offer's time (`at` equal, `endpointId` greater), then the later times. No `$or` (each read is one
   * range of the index), and no walk over the offers earlier batches resolved.
   */
  async findTimedOut(tenantId: string, appName: string, version: string, offeredBefore: number, limit: number, after?: PendingOffer): Promise<PendingOffer[]> {
    if (limit <= 0) return [];
    const vk = versionKey(version);
    const read = (range: Record<string, unknown>, n: number) =>
      run('endpoints.findTimedOut', () =>
        this.offers
          .find({ tenantId, appName, versionKey: vk, ...range } as Filter<PendingOfferDocument>, { projection: { endpointId: 1, at: 1 } })
          .sort({ at: 1, endpointId: 1 })
          .limit(n)
          .toArray(),
      );
    const docs = [];
    if (after !== undefined && after.offeredAt <= offeredBefore)
      docs.push(...(await read({ at: after.offeredAt, endpointId: { $gt: after.endpointId } }, limit)));
    if (docs.length < limit) {
      const at = after === undefined ? { $lte: offeredBefore } : { $gt: after.offeredAt, $lte: offeredBefore };
      docs.push(...(await read({ at }, limit - docs.length)));
    }
    return docs.map((d) => ({ endpointId: d.endpointId, offeredAt: d.at }));
  }

  /**
   * Per chunk: one `updateMany` tags the offers still pending with a fresh token (a report deletes
   * its endpoint's offers, before or after: either way it is not tagged and read back), one `find`
   * reads back the tagged ones, one `updateMany` marks those endpoints timed out where the version
   * has no counted state and is not current (`modifiedCount`: each endpoint once), one `deleteMany`
   * resolves the tagged offers. A scan that dies in between leaves tagged offers, found again.
   */
  async markTimedOut(tenantId: string, appName: string, version: string, endpointIds: readonly string[]): Promise<number> {
    const op = 'endpoints.markTimedOut';
    const vk = versionKey(version);
    const field = `outcomes.${claimField(vk)}`;
    const token = randomUUID();
    let marked = 0;
    for (const ids of chunks([...new Set(endpointIds)], BULK_CHUNK)) {
      const offerIds = ids.map((e) => idOf(tenantId, e, appName, vk));
      const tagged = await run(op, () => this.offers.updateMany({ _id: { $in: offerIds } }, { $set: { resolving: token } }));
      if (tagged.matchedCount === 0) continue;
      const live = await run(op, () => this.offers.find({ _id: { $in: offerIds }, resolving: token }, { projection: { endpointId: 1 } }).toArray());
      if (live.length > 0) {
        const filter = {
          _id: { $in: live.map((d) => idOf(tenantId, appName, d.endpointId)) },
          [field]: { $exists: false },
          currentVersionKey: { $ne: vk },
        } as Filter<EndpointDocument>;
        const r = await run(op, () => this.docs.updateMany(filter, { $set: { [field]: 'timedOut' } as Fields }));
        marked += r.modifiedCount;
      }
      await run(op, () => this.offers.deleteMany({ _id: { $in: offerIds }, resolving: token }));
    }
    return marked;
  }

  /** Pending offers of `version` at `at`; an endpoint's existing pending offer of the version keeps its (first) time. */
  private async addPendingOffers(tenantId: string, appName: string, version: string, endpointIds: readonly string[], at: number): Promise<void> {
    const vk = versionKey(version);
    await Promise.all(
      endpointIds.map((endpointId) =>
        this.offerWriter.write({
          insertOne: { document: { _id: idOf(tenantId, endpointId, appName, vk), tenantId, appName, endpointId, versionKey: vk, at } },
        }),
      ),
    );
  }

  async delete(tenantId: string, endpointId: string): Promise<void> {
    const { lo, hi } = idRange(tenantId, endpointId);
    await run('endpoints.delete', () => this.docs.deleteMany({ tenantId, endpointId }));
    await run('endpoints.delete', () => this.offers.deleteMany({ _id: { $gt: lo, $lt: hi } }));
  }

  async deleteTenant(tenantId: string): Promise<void> {
    await run('endpoints.deleteTenant', () => this.docs.deleteMany({ tenantId }));
    await run('endpoints.deleteTenant', () => this.offers.deleteMany({ tenantId }));
    await run('endpoints.deleteTenant', () => this.loaded.deleteMany({ tenantId }));
    const { lo, hi } = idRange(tenantId);
    await run('endpoints.deleteTenant', () => this.counts.deleteMany({ _id: { $gt: lo, $lt: hi } }));
  }

  async list(tenantId: string, appName: string, query: { version?: string; offset: number; limit: number }): Promise<EndpointPage> {
    const byVersion = query.version !== undefined ? { currentVersionKey: versionKey(query.version) } : {};
    const { lo, hi } = idRange(tenantId, appName);
    const offset = Math.max(0, query.offset);
    // A page deep in the list reads every entry before it (skip): like a count, a scan.
    const page = () =>
      (offset >= DEEP_PAGE_OFFSET ? this.scanDocs() : this.docs)
        .find({ _id: { $gt: lo, $lt: hi }, ...byVersion })
        .sort({ _id: 1 })
        .skip(offset)
        .limit(query.limit)
        .toArray();
    const [totalElements, docs] = await Promise.all([
      runScan('endpoints.list', this.scans.timeoutMS, () => this.scanDocs().countDocuments({ tenantId, appName, ...byVersion })),
      query.limit <= 0 ? Promise.resolve([]) : offset >= DEEP_PAGE_OFFSET ? runScan('endpoints.list', this.scans.timeoutMS, page) : run('endpoints.list', page),
    ]);
    return { content: docs.map(toState), totalElements };
  }

  async page(tenantId: string, appName: string, query: { version?: string; offset: number; limit: number; fromEnd?: boolean }): Promise<EndpointState[]> {
    if (query.limit <= 0) return [];
    const byVersion = query.version !== undefined ? { currentVersionKey: versionKey(query.version) } : {};
    const { lo, hi } = idRange(tenantId, appName);
    const offset = Math.max(0, query.offset);
    const deep = offset >= DEEP_PAGE_OFFSET;
    // From the end: the primary key walked backwards, so the last page skips nothing.
    const page = () =>
      (deep ? this.scanDocs() : this.docs)
        .find({ _id: { $gt: lo, $lt: hi }, ...byVersion })
        .sort({ _id: query.fromEnd ? -1 : 1 })
        .skip(offset)
        .limit(query.limit)
        .toArray();
    const docs = deep ? await runScan('endpoints.page', this.scans.timeoutMS, page) : await run('endpoints.page', page);
    if (query.fromEnd) docs.reverse();
    return docs.map(toState);
  }

  async storedCounts(tenantId: string, appName: string): Promise<StoredCounts | undefined> {
    const doc = await run('endpoints.storedCounts', () => this.counts.findOne({ _id: idOf(tenantId, appName) }));
    if (!doc) return undefined;
    return {
      shapes: doc.shapes.map((s) => ({
        ...(typeof s.v === 'string' ? { currentVersion: s.v } : {}),
        filters: s.f,
        consents: s.c,
        count: s.n,
        ...(typeof s.b === 'number' ? { cohortBucket: s.b } : {}),
      })),
      total: doc.total,
      countedAt: doc.countedAt,
      ...(doc.cb && doc.cb.length > 0 ? { cohortBoundaries: doc.cb } : {}),
    };
  }

  async storeCounts(tenantId: string, appName: string, counts: StoredCounts): Promise<void> {
    const _id = idOf(tenantId, appName);
    const doc: EndpointCountsDocument = {
      _id,
      tenantId,
      appName,
      shapes: counts.shapes.map((s) => ({
        ...(s.currentVersion !== undefined ? { v: s.currentVersion } : {}),
        f: [...s.filters],
        c: [...s.consents],
        n: s.count,
        ...(s.cohortBucket !== undefined ? { b: s.cohortBucket } : {}),
      })),
      total: counts.total,
      countedAt: counts.countedAt,
      ...(counts.cohortBoundaries && counts.cohortBoundaries.length > 0 ? { cb: [...counts.cohortBoundaries] } : {}),
    };
    // Replaces an older count; when a newer one is stored the upsert's insert meets its `_id`: kept.
    await runUnlessDuplicate('endpoints.storeCounts', () => this.counts.replaceOne({ _id, countedAt: { $lt: counts.countedAt } }, doc, { upsert: true }));
  }

  /**
   * One aggregation over the app's `_id` range, grouped in the store: what comes back is one row per
   * distinct (version, filters, consents) — and cohort bucket, with boundaries — not the fleet
   * (measured in bench/console-lists). The bucket is a sum of one `$cond` per boundary; a document
   * without a stored cohort (null or missing sorts below every number) gets none.
   */
  async shapes(tenantId: string, appName: string, cohortBoundaries: readonly number[] = []): Promise<EndpointShape[]> {
    const { lo, hi } = idRange(tenantId, appName);
    const bucket =
      cohortBoundaries.length > 0
        ? { $cond: [{ $gte: ['$cohort', 0] }, { $add: cohortBoundaries.map((b) => ({ $cond: [{ $gte: ['$cohort', b] }, 1, 0] })) }, null] }
        : null;
    const group = () =>
      runScan('endpoints.shapes', this.scans.timeoutMS, () =>
        this.scanDocs()
          .aggregate<{ _id: { v?: string | null; f?: string[] | null; c?: string[] | null; b?: number | null }; n: number }>([
            { $match: { _id: { $gt: lo, $lt: hi } } },
            { $group: { _id: { v: '$currentVersion', f: '$filters', c: '$consents', ...(bucket ? { b: bucket } : {}) }, n: { $sum: 1 } } },
          ])
          .toArray(),
      );
    let rows = await group();
    // Endpoints without a stored cohort (written by a replica without the rule, e.g. during a rolling
    // upgrade, after the start-time backfill): stored now for this application, and grouped again.
    if (bucket && this.cohortOf && rows.some((r) => typeof r._id.b !== 'number') && (await this.backfillCohorts({ lo, hi })) > 0) rows = await group();
    return rows.map((r) => ({
      ...(typeof r._id.v === 'string' ? { currentVersion: r._id.v } : {}),
      filters: r._id.f ?? [],
      consents: r._id.c ?? [],
      count: r.n,
      ...(typeof r._id.b === 'number' ? { cohortBucket: r._id.b } : {}),
    }));
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

  /**
   * Stores the cohort of every endpoint document without one (written before cohorts were stored, or
   * by a replica without the rule during a rolling upgrade): in primary-key order, a keyset query and
   * one bulk write per {@link BULK_CHUNK} documents, each update conditional on the cohort still being
   * absent (replicas backfilling at once write the same values). Reads the whole collection once
   * (on FerretDB the filter is applied in the scan): the store runs it in the background at start.
   * Returns how many documents got their cohort; 0 without the rule.
   */
  async backfillCohorts(range: { readonly lo: string; readonly hi?: string } = { lo: '' }): Promise<number> {
    const cohortOf = this.cohortOf;
    if (!cohortOf) return 0;
    const op = 'endpoints.backfillCohorts';
    let after = range.lo;
    let n = 0;
    for (;;) {
      const from = after;
      const ids = range.hi !== undefined ? { $gt: from, $lt: range.hi } : { $gt: from };
      const docs = await runScan(op, this.scans.timeoutMS, () =>
        this.scanDocs()
          .find({ _id: ids, cohort: { $exists: false } }, { projection: { _id: 1, tenantId: 1, appName: 1, endpointId: 1 } })
          .sort({ _id: 1 })
          .limit(BULK_CHUNK)
          .toArray(),
      );
      if (docs.length === 0) return n;
      const ops: AnyBulkWriteOperation<EndpointDocument>[] = docs.map((d) => ({
        updateOne: { filter: { _id: d._id, cohort: { $exists: false } }, update: { $set: { cohort: cohortOf(d.tenantId, d.appName, d.endpointId) } } },
      }));
      const r = await run(op, () => this.docs.bulkWrite(ops, { ordered: false }));
      n += r.modifiedCount;
      if (docs.length < BULK_CHUNK) return n;
      after = docs[docs.length - 1]!._id;
    }
  }

  private scanDocs(): Collection<EndpointDocument> {
    return this.scans.db().collection<EndpointDocument>(COLLECTIONS.endpoints);
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
      ...(this.cohortOf ? { cohort: this.cohortOf(key.tenantId, key.appName, key.endpointId) } : {}),
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
