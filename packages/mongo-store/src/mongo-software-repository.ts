import { compareVersions, versionKey } from '@otao/core';
import type { CreateOutcome, DeleteOutcome, ReplaceOutcome, Software, SoftwareRepository } from '@otao/core';
import { type Collection, type Db, ObjectId } from 'mongodb';
import { COLLECTIONS, deleteAll } from './collections';
import { run, runUnlessDuplicate } from './errors';
import { idOf, wallClock } from './keys';

/**
 * A stored software. The whole definition is kept as JSON text in `body` (specifications and
 * metadata may hold `.`/`$` keys, nested arrays, NUL characters: FerretDB v1 refuses those in
 * documents); the other fields are copies for queries and the compare-and-set.
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
  /** Random per create: revision claims of a deleted and re-created software never collide. */
  incarnation: string;
  body: string;
}

/**
 * The commit record of a revision change: inserting it (its `_id` is unique) is the atomic
 * compare-and-set that FerretDB v1's non-atomic updates cannot give. The software document is then
 * rolled forward to `next` (or deleted).
 */
export interface RevisionClaimDocument {
  /** idOf(incarnation, fromRevision) */
  _id: string;
  tenantId: string;
  incarnation: string;
  softwareId: string;
  fromRevision: number;
  next: SoftwareDocument | null;
  at: number;
}

export interface MongoSoftwareRepositoryOptions {
  /**
   * A claim older than this whose software document still shows the claimed-from revision belongs to
   * a writer that died between its claim and its write: the next writer rolls it forward.
   */
  readonly staleClaimMs?: number;
}

function toDocument(s: Software, incarnation: string): SoftwareDocument {
  const key = versionKey(s.version);
  return {
    _id: idOf(s.tenantId, s.appName, key),
    tenantId: s.tenantId,
    appName: s.appName,
    versionKey: key,
    version: s.version,
    rolloutStrategy: s.rolloutStrategy,
    revision: s.revision,
    incarnation,
    body: JSON.stringify(s),
  };
}

function toSoftware(d: SoftwareDocument): Software {
  return JSON.parse(d.body) as Software;
}

/** SoftwareRepository on a MongoDB-wire store (MongoDB, FerretDB v1). */
export class MongoSoftwareRepository implements SoftwareRepository {
  private readonly docs: Collection<SoftwareDocument>;
  private readonly claims: Collection<RevisionClaimDocument>;
  private readonly staleClaimMs: number;

  constructor(db: Db, options: MongoSoftwareRepositoryOptions = {}) {
    this.docs = db.collection<SoftwareDocument>(COLLECTIONS.software);
    this.claims = db.collection<RevisionClaimDocument>(COLLECTIONS.softwareRevisions);
    this.staleClaimMs = options.staleClaimMs ?? 30_000;
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
    const doc = toDocument(software, new ObjectId().toHexString());
    const done = await runUnlessDuplicate('software.create', () => this.docs.insertOne(doc));
    return done ? 'created' : 'conflict';
  }

  async replace(software: Software, expectedRevision: number): Promise<ReplaceOutcome> {
    const cur = await this.find(software.tenantId, software.appName, software.version);
    if (!cur) return 'not_found';
    if (cur.revision !== expectedRevision) return 'revision_mismatch';
    const next = toDocument(software, cur.incarnation);
    if (!(await this.claim(cur, next))) return 'revision_mismatch';
    const r = await run('software.replace', () => this.docs.replaceOne({ _id: cur._id, incarnation: cur.incarnation }, next));
    return r.matchedCount === 1 ? 'replaced' : 'not_found';
  }

  async delete(tenantId: string, appName: string, version: string, expectedRevision?: number): Promise<DeleteOutcome> {
    const cur = await this.find(tenantId, appName, version);
    if (!cur) return 'not_found';
    if (expectedRevision !== undefined) {
      if (cur.revision !== expectedRevision) return 'revision_mismatch';
      if (!(await this.claim(cur, null))) return 'revision_mismatch';
    }
    const r = await run('software.delete', () => this.docs.deleteOne({ _id: cur._id, incarnation: cur.incarnation }));
    if (r.deletedCount !== 1) return 'not_found';
    await run('software.delete', () => this.claims.deleteMany({ incarnation: cur.incarnation }));
    return 'deleted';
  }

  async deleteTenant(tenantId: string): Promise<void> {
    await run('software.deleteTenant', () => deleteAll(this.docs, { tenantId }));
    await run('software.deleteTenant', () => deleteAll(this.claims, { tenantId }));
  }

  async listTargeted(): Promise<Software[]> {
    const docs = await run('software.listTargeted', () => this.docs.find({ rolloutStrategy: 'targeted' }).toArray());
    return docs.map(toSoftware);
  }

  private async find(tenantId: string, appName: string, version: string): Promise<SoftwareDocument | null> {
    return run('software.get', () => this.docs.findOne({ _id: idOf(tenantId, appName, versionKey(version)) }));
  }

  /**
   * Claims the transition out of `cur.revision`: true for exactly one caller. A claim that already
   * exists, is old and was never applied (its writer died) is applied here before answering false.
   */
  private async claim(cur: SoftwareDocument, next: SoftwareDocument | null): Promise<boolean> {
    const claim: RevisionClaimDocument = {
      _id: idOf(cur.incarnation, cur.revision),
      tenantId: cur.tenantId,
      incarnation: cur.incarnation,
      softwareId: cur._id,
      fromRevision: cur.revision,
      next,
      at: wallClock(),
    };
    if (await runUnlessDuplicate('software.claim', () => this.claims.insertOne(claim))) return true;
    const existing = await run('software.claim', () => this.claims.findOne({ _id: claim._id }));
    if (existing && existing.at < wallClock() - this.staleClaimMs) {
      const now = await run('software.claim', () => this.docs.findOne({ _id: cur._id, incarnation: cur.incarnation }));
      if (now?.revision === cur.revision) {
        const filter = { _id: cur._id, incarnation: cur.incarnation };
        if (existing.next) await run('software.recover', () => this.docs.replaceOne(filter, existing.next!));
        else await run('software.recover', () => this.docs.deleteOne(filter));
      }
    }
    return false;
  }
}
