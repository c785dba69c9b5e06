import { versionKey } from '@otao/core';
import type { EndpointKey, EndpointPage, EndpointReport, EndpointRepository, EndpointState, FilterMember } from '@otao/core';
import type { AnyBulkWriteOperation, Collection, Db, Filter, UpdateFilter } from 'mongodb';
import { COLLECTIONS, DELETE_CHUNK, deleteAll } from './collections';
import { run, runUnlessDuplicate } from './errors';
import { idOf } from './keys';

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
  /** Read copies of the marks (endpoint_marks holds the authoritative compare-and-set records). */
  pushed?: string[];
  offered?: string[];
  updatedAt: number;
}

type MarkKind = 'pushed' | 'offered';

/** "version was pushed (offered) to the endpoint": inserted once, its unique `_id` is the compare-and-set. */
export interface EndpointMarkDocument {
  /** idOf(kind, tenantId, appName, endpointId, version) */
  _id: string;
  kind: MarkKind;
  tenantId: string;
  appName: string;
  endpointId: string;
  version: string;
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
const BULK_CHUNK = 500;

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

/** EndpointRepository on a MongoDB-wire store (MongoDB, FerretDB v1). */
export class MongoEndpointRepository implements EndpointRepository {
  private readonly docs: Collection<EndpointDocument>;
  private readonly marks: Collection<EndpointMarkDocument>;
  private readonly loaded: Collection<LoadedFilterDocument>;

  /**
   * Bulk import of endpoint states (seeding, migrations, benchmarks), outside the port: inserts in
   * batches; endpoints that already exist are left as they are (duplicates are skipped). Push and
   * offer marks of the states are inserted too.
   */
  async importStates(states: readonly EndpointState[]): Promise<void> {
    for (let i = 0; i < states.length; i += 5000) {
      const chunk = states.slice(i, i + 5000);
      await runUnlessDuplicate('endpoints.importStates', () => this.docs.insertMany(chunk.map(toDocument), { ordered: false }));
      const marks: EndpointMarkDocument[] = chunk.flatMap((s) =>
        (['pushed', 'offered'] as const).flatMap((kind) =>
          s[kind].map((version) => ({ _id: idOf(kind, s.tenantId, s.appName, s.endpointId, version), kind, tenantId: s.tenantId, appName: s.appName, endpointId: s.endpointId, version })),
        ),
      );
      if (marks.length > 0) await runUnlessDuplicate('endpoints.importStates', () => this.marks.insertMany(marks, { ordered: false }));
    }
  }

  constructor(db: Db) {
    this.docs = db.collection<EndpointDocument>(COLLECTIONS.endpoints);
    this.marks = db.collection<EndpointMarkDocument>(COLLECTIONS.endpointMarks);
    this.loaded = db.collection<LoadedFilterDocument>(COLLECTIONS.loadedFilters);
  }

  async get(key: EndpointKey): Promise<EndpointState | undefined> {
    const d = await run('endpoints.get', () => this.docs.findOne({ _id: docId(key) }));
    return d ? toState(d) : undefined;
  }

  async setCurrentVersion(key: EndpointKey, appVersionName: string, version: string, at: number): Promise<void> {
    await this.upsert('endpoints.setCurrentVersion', key, at, { set: { appVersionName, currentVersion: version, currentVersionKey: versionKey(version) } });
  }

  async setAppVersionName(key: EndpointKey, appVersionName: string, at: number): Promise<void> {
    await this.upsert('endpoints.setAppVersionName', key, at, { set: { appVersionName } });
  }

  async recordReport(key: EndpointKey, appVersionName: string, report: EndpointReport, applied: boolean): Promise<void> {
    const set: Fields = { appVersionName, lastReport: JSON.stringify(report) };
    if (applied) Object.assign(set, { currentVersion: report.configId, currentVersionKey: versionKey(report.configId) });
    await this.upsert('endpoints.recordReport', key, report.at, { set });
  }

  async addMembership(key: EndpointKey, appVersionName: string | undefined, filterId: string, at: number): Promise<void> {
    const set: Fields = { membershipsKnown: true, ...(appVersionName !== undefined ? { appVersionName } : {}) };
    await this.upsert('endpoints.addMembership', key, at, { set, addToSet: { filters: filterId } });
  }

  async removeMembership(key: EndpointKey, filterId: string, at: number): Promise<void> {
    await run('endpoints.removeMembership', () =>
      this.docs.updateOne({ _id: docId(key) }, { $pull: { filters: filterId }, $set: { membershipsKnown: true, updatedAt: at } }),
    );
  }

  async setMemberships(key: EndpointKey, appVersionName: string | undefined, filterIds: readonly string[], at: number): Promise<void> {
    const set: Fields = { filters: [...new Set(filterIds)], membershipsKnown: true, ...(appVersionName !== undefined ? { appVersionName } : {}) };
    await this.upsert('endpoints.setMemberships', key, at, { set });
  }

  async replaceFilterMembers(tenantId: string, appName: string, filterId: string, members: readonly FilterMember[], at: number): Promise<void> {
    const op = 'endpoints.replaceFilterMembers';
    const wanted = new Map(members.map((m) => [m.endpointId, m.appVersionName]));
    // Former members: streamed and diffed here, not sent as a $nin list (which could exceed 16 MB).
    const leaving: string[] = [];
    const flushLeaving = async (): Promise<void> => {
      if (leaving.length === 0) return;
      const ids = leaving.splice(0);
      await run(op, () => this.docs.updateMany({ _id: { $in: ids } }, { $pull: { filters: filterId }, $set: { updatedAt: at } }));
    };
    await this.scan(op, { tenantId, appName, filters: filterId }, 1000, async (batch) => {
      for (const d of batch) if (!wanted.has(d.endpointId)) leaving.push(d._id);
      if (leaving.length >= 1000) await flushLeaving();
    });
    await flushLeaving();
    const entries = [...wanted];
    for (let i = 0; i < entries.length; i += BULK_CHUNK) {
      const ops: AnyBulkWriteOperation<EndpointDocument>[] = [];
      for (const [endpointId, appVersionName] of entries.slice(i, i + BULK_CHUNK)) {
        const key = { tenantId, appName, endpointId };
        ops.push({ updateOne: { filter: { _id: docId(key) }, update: this.update(key, at, { addToSet: { filters: filterId }, onInsert: { appVersionName } }), upsert: true } });
        // An existing endpoint gets the app version name only when it has none.
        ops.push({ updateOne: { filter: { _id: docId(key), appVersionName: { $exists: false } }, update: { $set: { appVersionName } } } });
      }
      // Upserts racing another writer may hit the unique _id: the chunk is idempotent, so run it again.
      if (!(await runUnlessDuplicate(op, () => this.docs.bulkWrite(ops, { ordered: false })))) await run(op, () => this.docs.bulkWrite(ops, { ordered: false }));
    }
  }

  async removeFilter(tenantId: string, appName: string, filterId: string): Promise<void> {
    // In chunks of _ids (each pass removes what it matched): FerretDB v1 fails very large multi-document writes.
    for (;;) {
      const ids = await run('endpoints.removeFilter', () => this.docs.find({ tenantId, appName, filters: filterId }, { projection: { _id: 1 } }).limit(DELETE_CHUNK).toArray());
      if (ids.length === 0) break;
      await run('endpoints.removeFilter', () => this.docs.updateMany({ _id: { $in: ids.map((d) => d._id) } }, { $pull: { filters: filterId } }));
      if (ids.length < DELETE_CHUNK) break;
    }
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
    await this.upsert('endpoints.grantConsent', key, at, { addToSet: { consents: version } });
  }

  async revokeConsent(key: EndpointKey, version: string, at: number): Promise<void> {
    await run('endpoints.revokeConsent', () => this.docs.updateOne({ _id: docId(key) }, { $pull: { consents: version }, $set: { updatedAt: at } }));
  }

  async markPushed(key: EndpointKey, version: string): Promise<boolean> {
    return this.mark('pushed', key, version);
  }

  async unmarkPushed(key: EndpointKey, version: string): Promise<void> {
    const op = 'endpoints.unmarkPushed';
    // The read copy first: a copy without its mark only costs a compare-and-set that answers false.
    await run(op, () => this.docs.updateOne({ _id: docId(key) }, { $pull: { pushed: version } }));
    await run(op, () => this.marks.deleteOne({ _id: idOf('pushed', key.tenantId, key.appName, key.endpointId, version) }));
  }

  async markOffered(key: EndpointKey, version: string): Promise<boolean> {
    return this.mark('offered', key, version);
  }

  async delete(tenantId: string, endpointId: string): Promise<void> {
    await run('endpoints.delete', () => this.docs.deleteMany({ tenantId, endpointId }));
    await run('endpoints.delete', () => this.marks.deleteMany({ tenantId, endpointId }));
  }

  async deleteTenant(tenantId: string): Promise<void> {
    await run('endpoints.deleteTenant', () => deleteAll(this.docs, { tenantId }));
    await run('endpoints.deleteTenant', () => deleteAll(this.marks, { tenantId }));
    await run('endpoints.deleteTenant', () => deleteAll(this.loaded, { tenantId }));
  }

  async list(tenantId: string, appName: string, query: { version?: string; offset: number; limit: number }): Promise<EndpointPage> {
    const filter: Filter<EndpointDocument> = { tenantId, appName, ...(query.version !== undefined ? { currentVersionKey: versionKey(query.version) } : {}) };
    const [totalElements, docs] = await Promise.all([
      run('endpoints.list', () => this.docs.countDocuments(filter)),
      query.limit <= 0
        ? Promise.resolve([])
        : run('endpoints.list', () => this.docs.find(filter).sort({ endpointId: 1 }).skip(Math.max(0, query.offset)).limit(query.limit).toArray()),
    ]);
    return { content: docs.map(toState), totalElements };
  }

  async *stream(tenantId: string, appName: string, options: { filterId?: string; batchSize: number }): AsyncIterable<readonly EndpointState[]> {
    const filter: Filter<EndpointDocument> = { tenantId, appName, ...(options.filterId !== undefined ? { filters: options.filterId } : {}) };
    const size = Math.max(1, Math.floor(options.batchSize));
    const cursor = this.docs.find(filter).sort({ endpointId: 1 }).batchSize(size);
    try {
      let batch: EndpointState[] = [];
      for (;;) {
        const d = await run('endpoints.stream', () => cursor.next());
        if (d === null) break;
        batch.push(toState(d));
        if (batch.length >= size) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  /** Test and benchmark helper: the raw collection of endpoint documents. */
  get collection(): Collection<EndpointDocument> {
    return this.docs;
  }

  private async mark(kind: MarkKind, key: EndpointKey, version: string): Promise<boolean> {
    const op = kind === 'pushed' ? 'endpoints.markPushed' : 'endpoints.markOffered';
    const markId = idOf(kind, key.tenantId, key.appName, key.endpointId, version);
    const inserted = await runUnlessDuplicate(op, () => this.marks.insertOne({ _id: markId, kind, tenantId: key.tenantId, appName: key.appName, endpointId: key.endpointId, version }));
    if (!inserted) return false;
    try {
      await this.upsert(op, key, undefined, { addToSet: { [kind]: version } });
    } catch (e) {
      // Without its read copy the mark would hide the version from every later push: undo it.
      await this.marks.deleteOne({ _id: markId }).catch(() => undefined);
      throw e;
    }
    return true;
  }

  /** Reads the documents matching `filter` in batches, ordered by endpointId (memory bounded by the batch). */
  private async scan(op: string, filter: Filter<EndpointDocument>, size: number, each: (batch: EndpointDocument[]) => Promise<void>): Promise<void> {
    const cursor = this.docs.find(filter, { projection: { _id: 1, endpointId: 1 } }).sort({ endpointId: 1 }).batchSize(size);
    try {
      let batch: EndpointDocument[] = [];
      for (;;) {
        const d = await run(op, () => cursor.next());
        if (d === null) break;
        batch.push(d);
        if (batch.length >= size) {
          await each(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await each(batch);
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  /** The update of one endpoint, creating it with empty defaults when absent. */
  private update(key: EndpointKey, at: number | undefined, change: { set?: Fields; addToSet?: Partial<Record<'filters' | 'consents' | 'pushed' | 'offered', string>>; onInsert?: Fields }): UpdateFilter<EndpointDocument> {
    const set: Fields = { ...change.set, ...(at !== undefined ? { updatedAt: at } : {}) };
    const touched = new Set([...Object.keys(set), ...Object.keys(change.addToSet ?? {})]);
    const defaults: Fields = {
      tenantId: key.tenantId,
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
    const update: UpdateFilter<EndpointDocument> = {
      ...(Object.keys(set).length > 0 ? { $set: set } : {}),
      ...(change.addToSet ? { $addToSet: change.addToSet } : {}),
      $setOnInsert: onInsert,
    };
    return update;
  }

  /** updateOne with upsert; a concurrent first write of the same endpoint (duplicate _id) is retried as an update. */
  private async upsert(op: string, key: EndpointKey, at: number | undefined, change: Parameters<MongoEndpointRepository['update']>[2]): Promise<void> {
    const update = this.update(key, at, change);
    const filter = { _id: docId(key) };
    if (!(await runUnlessDuplicate(op, () => this.docs.updateOne(filter, update, { upsert: true })))) {
      await run(op, () => this.docs.updateOne(filter, update, { upsert: true }));
    }
  }
}
