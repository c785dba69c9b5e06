import type { Actor, AuditAction, AuditChanges, AuditLog, AuditPage, AuditQuery, AuditRecord, AuditState, AuditWitness } from '@otao/core';
import type { Collection, Db, Filter } from 'mongodb';
import { COLLECTIONS } from './collections';
import { run, runUnlessDuplicate } from './errors';

/** One audit entry. `changes` is JSON text (free JSON: dotted and `$` keys would be refused as field names). */
export interface AuditDocument {
  /** The entry id (unique: the core's id generator). */
  _id: string;
  tenantId: string;
  appName: string;
  at: number;
  actor: Actor;
  action: AuditAction;
  version?: string;
  endpointId?: string;
  changes?: string;
  correlationId: string;
  state: AuditState;
  witness?: AuditWitness;
}

const TENANT_DELETED: AuditAction = 'tenant.deleted';

function toDocument(r: AuditRecord): AuditDocument {
  return {
    _id: r.id,
    tenantId: r.tenantId,
    appName: r.appName,
    at: r.at,
    actor: { type: r.actor.type, id: r.actor.id, ...(r.actor.name !== undefined ? { name: r.actor.name } : {}) },
    action: r.action,
    ...(r.version !== undefined ? { version: r.version } : {}),
    ...(r.endpointId !== undefined ? { endpointId: r.endpointId } : {}),
    ...(r.changes !== undefined ? { changes: JSON.stringify(r.changes) } : {}),
    correlationId: r.correlationId,
    state: r.state,
    ...(r.witness !== undefined ? { witness: r.witness } : {}),
  };
}

function toRecord(d: AuditDocument): AuditRecord {
  return {
    id: d._id,
    at: d.at,
    tenantId: d.tenantId,
    appName: d.appName,
    actor: { type: d.actor.type, id: d.actor.id, ...(typeof d.actor.name === 'string' ? { name: d.actor.name } : {}) },
    action: d.action,
    ...(typeof d.version === 'string' ? { version: d.version } : {}),
    ...(typeof d.endpointId === 'string' ? { endpointId: d.endpointId } : {}),
    ...(typeof d.changes === 'string' ? { changes: JSON.parse(d.changes) as AuditChanges } : {}),
    correlationId: d.correlationId,
    state: d.state,
    ...(d.witness ? { witness: d.witness } : {}),
  };
}

/**
 * The audit log on a MongoDB-wire store (docs/mongo-store.md, docs/audit.md): one document per
 * entry, `_id` the entry id. Pages walk the index `audit_by_app` (tenant, app, time descending);
 * the reconciler reads `audit_pending` (state, time); retention deletes by `audit_by_time`, a
 * batch of ids at a time (no `deleteMany` without a bound).
 */
export class MongoAuditLog implements AuditLog {
  private readonly docs: Collection<AuditDocument>;

  constructor(db: Db) {
    this.docs = db.collection<AuditDocument>(COLLECTIONS.audit);
  }

  async append(record: AuditRecord): Promise<void> {
    // A duplicate `_id` is the same entry appended again (a retry after a lost answer).
    await runUnlessDuplicate('audit.append', () => this.docs.insertOne(toDocument(record)));
  }

  async commit(tenantId: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await run('audit.commit', () => this.docs.updateMany({ _id: { $in: [...ids] }, tenantId, state: 'pending' }, { $set: { state: 'committed' } }));
  }

  async discard(tenantId: string, id: string): Promise<void> {
    await run('audit.discard', () => this.docs.deleteOne({ _id: id, tenantId, state: 'pending' }));
  }

  async page(q: AuditQuery): Promise<AuditPage> {
    const filter: Filter<AuditDocument> = { tenantId: q.tenantId, appName: q.appName, state: 'committed' };
    if (q.since !== undefined || q.until !== undefined)
      filter.at = { ...(q.since !== undefined ? { $gte: q.since } : {}), ...(q.until !== undefined ? { $lt: q.until } : {}) };
    if (q.version !== undefined) filter.version = q.version;
    if (q.endpointId !== undefined) filter.endpointId = q.endpointId;
    if (q.action !== undefined) filter.action = q.action;
    if (q.actor !== undefined) filter.$or = [{ 'actor.id': q.actor }, { 'actor.name': q.actor }];
    const [docs, totalElements] = await Promise.all([
      run('audit.page', () => this.docs.find(filter).sort({ at: -1, _id: -1 }).skip(q.offset).limit(q.limit).toArray()),
      run('audit.count', () => this.docs.countDocuments(filter)),
    ]);
    return {
      content: docs.map((d) => {
        const { state: _s, witness: _w, ...entry } = toRecord(d);
        return entry;
      }),
      totalElements,
    };
  }

  async pending(before: number, limit: number): Promise<AuditRecord[]> {
    const docs = await run('audit.pending', () =>
      this.docs
        .find({ state: 'pending', at: { $lt: before } })
        .sort({ at: 1, _id: 1 })
        .limit(limit)
        .toArray(),
    );
    return docs.map(toRecord);
  }

  async prune(before: number, limit: number): Promise<number> {
    const ids = await run('audit.prune', () =>
      this.docs
        .find({ at: { $lt: before } }, { projection: { _id: 1 } })
        .sort({ at: 1 })
        .limit(limit)
        .toArray(),
    );
    if (ids.length === 0) return 0;
    const done = await run('audit.prune', () => this.docs.deleteMany({ _id: { $in: ids.map((d) => d._id) }, at: { $lt: before } }));
    return done.deletedCount;
  }

  async deleteTenant(tenantId: string): Promise<void> {
    await run('audit.deleteTenant', () => this.docs.deleteMany({ tenantId, action: { $ne: TENANT_DELETED } }));
  }
}
