import type { AuditEntry } from '../domain/audit';
import type { AuditLog, AuditPage, AuditQuery, AuditRecord } from '../ports';
import { FaultSwitch } from './faults';

function entryOf(r: AuditRecord): AuditEntry {
  const { state: _s, witness: _w, ...entry } = r;
  return JSON.parse(JSON.stringify(entry)) as AuditEntry;
}

/** Newest first: `at` descending, then `id` descending. */
function newestFirst(a: AuditRecord, b: AuditRecord): number {
  return b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * AuditLog in memory. `faults` makes every call fail; `failNext(method)` makes only the next call of
 * one method fail (a crash or an outage between the steps of an audited change).
 */
export class InMemoryAuditLog implements AuditLog {
  readonly faults = new FaultSwitch();
  private readonly records = new Map<string, AuditRecord>();
  private readonly failing = new Set<keyof AuditLog>();

  /** The next call of `method` throws `store.unavailable` (once). */
  failNext(method: keyof AuditLog): this {
    this.failing.add(method);
    return this;
  }

  private check(method: keyof AuditLog): void {
    this.faults.check(`audit.${method}`);
    if (this.failing.delete(method)) {
      const f = new FaultSwitch();
      f.unavailable = true;
      f.check(`audit.${method}`);
    }
  }

  /** Every stored record (any state), for assertions. */
  all(): AuditRecord[] {
    return [...this.records.values()].sort(newestFirst).map((r) => JSON.parse(JSON.stringify(r)) as AuditRecord);
  }

  async append(record: AuditRecord): Promise<void> {
    this.check('append');
    if (!this.records.has(record.id)) this.records.set(record.id, JSON.parse(JSON.stringify(record)) as AuditRecord);
  }

  async commit(tenantId: string, ids: readonly string[]): Promise<void> {
    this.check('commit');
    for (const id of ids) {
      const r = this.records.get(id);
      if (r && r.tenantId === tenantId && r.state === 'pending') this.records.set(id, { ...r, state: 'committed' });
    }
  }

  async discard(tenantId: string, id: string): Promise<void> {
    this.check('discard');
    const r = this.records.get(id);
    if (r && r.tenantId === tenantId && r.state === 'pending') this.records.delete(id);
  }

  async page(q: AuditQuery): Promise<AuditPage> {
    this.check('page');
    const matching = [...this.records.values()]
      .filter(
        (r) =>
          r.state === 'committed' &&
          r.tenantId === q.tenantId &&
          r.appName === q.appName &&
          (q.version === undefined || r.version === q.version) &&
          (q.endpointId === undefined || r.endpointId === q.endpointId) &&
          (q.action === undefined || r.action === q.action) &&
          (q.actor === undefined || r.actor.id === q.actor || r.actor.name === q.actor) &&
          (q.since === undefined || r.at >= q.since) &&
          (q.until === undefined || r.at < q.until),
      )
      .sort(newestFirst);
    return { content: matching.slice(q.offset, q.offset + q.limit).map(entryOf), totalElements: matching.length };
  }

  async pending(before: number, limit: number): Promise<AuditRecord[]> {
    this.check('pending');
    return [...this.records.values()]
      .filter((r) => r.state === 'pending' && r.at < before)
      .sort((a, b) => -newestFirst(a, b))
      .slice(0, limit)
      .map((r) => JSON.parse(JSON.stringify(r)) as AuditRecord);
  }

  async prune(before: number, limit: number): Promise<number> {
    this.check('prune');
    const old = [...this.records.values()]
      .filter((r) => r.at < before)
      .sort((a, b) => -newestFirst(a, b))
      .slice(0, limit);
    for (const r of old) this.records.delete(r.id);
    return old.length;
  }

  async deleteTenant(tenantId: string): Promise<void> {
    this.check('deleteTenant');
    for (const [id, r] of this.records) if (r.tenantId === tenantId && r.action !== 'tenant.deleted') this.records.delete(id);
  }
}
