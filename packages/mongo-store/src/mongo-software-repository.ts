import { compareVersions, versionKey } from '@otao/core';
import type { CreateOutcome, DeleteOutcome, ReplaceOutcome, Software, SoftwareRepository } from '@otao/core';
import type { Collection, Db } from 'mongodb';
import { type BatchOptions, BatchedReader, DEFAULT_BATCH } from './batching';
import { COLLECTIONS } from './collections';
import { run, runUnlessDuplicate } from './errors';
import { idOf } from './keys';

/**
 * A stored software. The whole definition is kept as JSON text in `body`, so free JSON
 * (specifications and metadata with `.`/`$` keys, nested arrays, NUL characters, key order) round-trips
 * exactly; the other fields are copies for queries and the compare-and-set.
 */
export interface SoftwareDocument {
  /** idOf(tenantId, appName, versionKey) */
  _id: string;
  tenantId: string;
  appName: string;
  /** The version without build metadata: one software per precedence. */
  versionKey: string;
  version: string;
  rolloutStrategy: string;
  revision: number;
  /** `createdAt` of the software: a deleted and re-created version is another incarnation, whatever its revision. */
  createdAt: number;
  /** True for non-suspended software with a maintenance window (listWindowed); absent on documents written before windows existed. */
  windowed?: boolean;
  /** Has `phases` and is not suspended: what `listPhased()` finds (absent in documents stored before it existed: see `backfillPhased`). */
  phased?: boolean;
  body: string;
}

function isPhased(s: Software): boolean {
  return s.rolloutStrategy !== 'suspended' && (s.phases?.length ?? 0) > 0;
}

function toDocument(s: Software): SoftwareDocument {
  const key = versionKey(s.version);
  return {
    _id: idOf(s.tenantId, s.appName, key),
    tenantId: s.tenantId,
    appName: s.appName,
    versionKey: key,
    version: s.version,
    rolloutStrategy: s.rolloutStrategy,
    revision: s.revision,
    createdAt: s.createdAt,
    windowed: s.rolloutStrategy !== 'suspended' && s.maintenanceWindow !== undefined,
    phased: isPhased(s),
    body: JSON.stringify(s),
  };
}

function toSoftware(d: SoftwareDocument): Software {
  return JSON.parse(d.body) as Software;
}

/** The revision of one application's catalogue (a counter, bumped after each stored change). */
export interface CatalogueRevisionDocument {
  /** idOf(tenantId, appName) */
  _id: string;
  tenantId: string;
  revision: number;
}

/**
 * SoftwareRepository on a MongoDB-wire store (MongoDB, FerretDB v2). Replace and delete are one
 * conditional write each (`{_id, revision, createdAt}`): atomic compare-and-set on the server.
 * Every stored change then bumps the application's catalogue revision (`$inc`), which replicas read
 * — gathered like endpoint look-ups — before deciding.
 */
export class MongoSoftwareRepository implements SoftwareRepository {
  private readonly docs: Collection<SoftwareDocument>;
  private readonly revisions: Collection<CatalogueRevisionDocument>;
  private readonly revisionReader: BatchedReader<CatalogueRevisionDocument>;

  constructor(db: Db, batch: BatchOptions = DEFAULT_BATCH) {
    this.docs = db.collection<SoftwareDocument>(COLLECTIONS.software);
    this.revisions = db.collection<CatalogueRevisionDocument>(COLLECTIONS.catalogueRevisions);
    this.revisionReader = new BatchedReader(this.revisions, 'software.catalogueRevision', batch);
  }

  async catalogueRevision(tenantId: string, appName: string): Promise<number> {
    return (await this.revisionReader.get(idOf(tenantId, appName)))?.revision ?? 0;
  }

  /** After a stored change: the next revision of the app's catalogue. */
  private async bump(tenantId: string, appName: string): Promise<void> {
    // _id and tenant: an upsert filtering on `_id` alone loses concurrent first writes on FerretDB v2 (see upsertFilter in the endpoint repository)
    const write = () => this.revisions.updateOne({ _id: idOf(tenantId, appName), tenantId }, { $inc: { revision: 1 } }, { upsert: true });
    if (!(await runUnlessDuplicate('software.bumpRevision', write))) await run('software.bumpRevision', write);
  }

  async list(tenantId: string, appName: string): Promise<Software[]> {
    const docs = await run('software.list', () => this.docs.find({ tenantId, appName }).toArray());
    return docs.map(toSoftware).sort((a, b) => compareVersions(a.version, b.version));
  }

  async get(tenantId: string, appName: string, version: string): Promise<Software | undefined> {
    const d = await this.find(tenantId, appName, version);
    return d ? toSoftware(d) : undefined;
  }

  async create(software: Software): Promise<CreateOutcome> {
    const done = await runUnlessDuplicate('software.create', () => this.docs.insertOne(toDocument(software)));
    if (!done) return 'conflict';
    await this.bump(software.tenantId, software.appName);
    return 'created';
  }

  async replace(software: Software, expectedRevision: number): Promise<ReplaceOutcome> {
    const next = toDocument(software);
    const r = await run('software.replace', () => this.docs.replaceOne({ _id: next._id, revision: expectedRevision, createdAt: software.createdAt }, next));
    if (r.matchedCount === 1) {
      await this.bump(software.tenantId, software.appName);
      return 'replaced';
    }
    return (await this.find(software.tenantId, software.appName, software.version)) ? 'revision_mismatch' : 'not_found';
  }

  async delete(tenantId: string, appName: string, version: string, expectedRevision?: number, expectedCreatedAt?: number): Promise<DeleteOutcome> {
    const _id = idOf(tenantId, appName, versionKey(version));
    const filter =
      expectedRevision === undefined
        ? { _id }
        : expectedCreatedAt === undefined
          ? { _id, revision: expectedRevision }
          : { _id, revision: expectedRevision, createdAt: expectedCreatedAt };
    const r = await run('software.delete', () => this.docs.deleteOne(filter));
    if (r.deletedCount === 1) {
      await this.bump(tenantId, appName);
      return 'deleted';
    }
    if (expectedRevision === undefined) return 'not_found';
    return (await this.find(tenantId, appName, version)) ? 'revision_mismatch' : 'not_found';
  }

  async deleteTenant(tenantId: string): Promise<void> {
    await run('software.deleteTenant', () => this.docs.deleteMany({ tenantId }));
    // Kept and moved on, never deleted: a revision must not return to a value a cache may still hold.
    await run('software.deleteTenant', () => this.revisions.updateMany({ tenantId }, { $inc: { revision: 1 } }));
  }

  async listTargeted(): Promise<Software[]> {
    const docs = await run('software.listTargeted', () => this.docs.find({ rolloutStrategy: 'targeted' }).toArray());
    return docs.map(toSoftware);
  }

  async listWindowed(): Promise<Software[]> {
    const docs = await run('software.listWindowed', () => this.docs.find({ windowed: true }).toArray());
    return docs.map(toSoftware);
  }

  async listPhased(): Promise<Software[]> {
    const docs = await run('software.listPhased', () => this.docs.find({ phased: true }).toArray());
    return docs.map(toSoftware).filter(isPhased);
  }

  /**
   * Sets `phased` on the documents stored before the field existed (run by the store's `start()`;
   * idempotent, a compare-and-set on the revision so a concurrent change wins). Returns how many it set.
   */
  async backfillPhased(): Promise<number> {
    const docs = await run('software.backfillPhased', () => this.docs.find({ phased: { $exists: false } }).toArray());
    let n = 0;
    for (const d of docs) {
      const r = await run('software.backfillPhased', () =>
        this.docs.updateOne({ _id: d._id, revision: d.revision, createdAt: d.createdAt }, { $set: { phased: isPhased(toSoftware(d)) } }),
      );
      n += r.modifiedCount;
    }
    return n;
  }

  private async find(tenantId: string, appName: string, version: string): Promise<SoftwareDocument | null> {
    return run('software.get', () => this.docs.findOne({ _id: idOf(tenantId, appName, versionKey(version)) }));
  }
}
