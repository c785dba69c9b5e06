import { compareVersions, versionKey } from '@otao/core';
import type { CreateOutcome, DeleteOutcome, ReplaceOutcome, Software, SoftwareRepository } from '@otao/core';
import type { Collection, Db } from 'mongodb';
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
  body: string;
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
    body: JSON.stringify(s),
  };
}

function toSoftware(d: SoftwareDocument): Software {
  return JSON.parse(d.body) as Software;
}

/**
 * SoftwareRepository on a MongoDB-wire store (MongoDB, FerretDB v2). Replace and delete are one
 * conditional write each (`{_id, revision, createdAt}`): atomic compare-and-set on the server.
 */
export class MongoSoftwareRepository implements SoftwareRepository {
  private readonly docs: Collection<SoftwareDocument>;

  constructor(db: Db) {
    this.docs = db.collection<SoftwareDocument>(COLLECTIONS.software);
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
    return done ? 'created' : 'conflict';
  }

  async replace(software: Software, expectedRevision: number): Promise<ReplaceOutcome> {
    const next = toDocument(software);
    const r = await run('software.replace', () => this.docs.replaceOne({ _id: next._id, revision: expectedRevision, createdAt: software.createdAt }, next));
    if (r.matchedCount === 1) return 'replaced';
    return (await this.find(software.tenantId, software.appName, software.version)) ? 'revision_mismatch' : 'not_found';
  }

  async delete(tenantId: string, appName: string, version: string, expectedRevision?: number, expectedCreatedAt?: number): Promise<DeleteOutcome> {
    const _id = idOf(tenantId, appName, versionKey(version));
    const filter =
      expectedRevision === undefined ? { _id } : expectedCreatedAt === undefined ? { _id, revision: expectedRevision } : { _id, revision: expectedRevision, createdAt: expectedCreatedAt };
    const r = await run('software.delete', () => this.docs.deleteOne(filter));
    if (r.deletedCount === 1) return 'deleted';
    if (expectedRevision === undefined) return 'not_found';
    return (await this.find(tenantId, appName, version)) ? 'revision_mismatch' : 'not_found';
  }

  async deleteTenant(tenantId: string): Promise<void> {
    await run('software.deleteTenant', () => this.docs.deleteMany({ tenantId }));
  }

  async listTargeted(): Promise<Software[]> {
    const docs = await run('software.listTargeted', () => this.docs.find({ rolloutStrategy: 'targeted' }).toArray());
    return docs.map(toSoftware);
  }

  private async find(tenantId: string, appName: string, version: string): Promise<SoftwareDocument | null> {
    return run('software.get', () => this.docs.findOne({ _id: idOf(tenantId, appName, versionKey(version)) }));
  }
}
