import type { Software } from '../domain/software';
import { versionKey } from '../domain/upgrade-graph';
import { compareVersions } from '../domain/version';
import { cloneJson } from '../domain/json';
import type { CreateOutcome, DeleteOutcome, ReplaceOutcome, SoftwareRepository } from '../ports';
import { FaultSwitch } from './faults';

function snapshot(s: Software): Software {
  return Object.freeze({
    ...s,
    specification: cloneJson(s.specification),
    metadata: cloneJson(s.metadata),
    upgradableFrom: Object.freeze([...s.upgradableFrom]),
    filters: Object.freeze(s.filters.map((f) => Object.freeze({ ...f }))),
  });
}

/** SoftwareRepository in memory: stores JSON-round-tripped snapshots, like a real store would. */
export class InMemorySoftwareRepository implements SoftwareRepository {
  readonly faults = new FaultSwitch();
  private readonly apps = new Map<string, Map<string, Software>>();
  private readonly revisions = new Map<string, number>();

  private bump(tenantId: string, appName: string): void {
    const k = `${tenantId}\u0000${appName}`;
    this.revisions.set(k, (this.revisions.get(k) ?? 0) + 1);
  }

  async catalogueRevision(tenantId: string, appName: string): Promise<number> {
    this.faults.check('software.catalogueRevision');
    return this.revisions.get(`${tenantId}\u0000${appName}`) ?? 0;
  }

  private app(tenantId: string, appName: string): Map<string, Software> {
    const k = `${tenantId}\u0000${appName}`;
    let m = this.apps.get(k);
    if (!m) this.apps.set(k, (m = new Map<string, Software>()));
    return m;
  }

  async list(tenantId: string, appName: string): Promise<Software[]> {
    this.faults.check('software.list');
    return [...this.app(tenantId, appName).values()].sort((a, b) => compareVersions(a.version, b.version));
  }

  async get(tenantId: string, appName: string, version: string): Promise<Software | undefined> {
    this.faults.check('software.get');
    return this.app(tenantId, appName).get(versionKey(version));
  }

  async create(software: Software): Promise<CreateOutcome> {
    this.faults.check('software.create');
    const m = this.app(software.tenantId, software.appName);
    const k = versionKey(software.version);
    if (m.has(k)) return 'conflict';
    m.set(k, snapshot(software));
    this.bump(software.tenantId, software.appName);
    return 'created';
  }

  async replace(software: Software, expectedRevision: number): Promise<ReplaceOutcome> {
    this.faults.check('software.replace');
    const m = this.app(software.tenantId, software.appName);
    const k = versionKey(software.version);
    const cur = m.get(k);
    if (!cur) return 'not_found';
    if (cur.revision !== expectedRevision || cur.createdAt !== software.createdAt) return 'revision_mismatch';
    m.set(k, snapshot(software));
    this.bump(software.tenantId, software.appName);
    return 'replaced';
  }

  async delete(tenantId: string, appName: string, version: string, expectedRevision?: number, expectedCreatedAt?: number): Promise<DeleteOutcome> {
    this.faults.check('software.delete');
    const m = this.app(tenantId, appName);
    const k = versionKey(version);
    const cur = m.get(k);
    if (!cur) return 'not_found';
    if (expectedRevision !== undefined && (cur.revision !== expectedRevision || (expectedCreatedAt !== undefined && cur.createdAt !== expectedCreatedAt))) {
      return 'revision_mismatch';
    }
    m.delete(k);
    this.bump(tenantId, appName);
    return 'deleted';
  }

  async deleteTenant(tenantId: string): Promise<void> {
    this.faults.check('software.deleteTenant');
    for (const k of [...this.apps.keys()]) if (k.startsWith(`${tenantId}\u0000`)) this.apps.delete(k);
    for (const k of [...this.revisions.keys()]) if (k.startsWith(`${tenantId}\u0000`)) this.revisions.set(k, (this.revisions.get(k) ?? 0) + 1);
  }

  async listTargeted(): Promise<Software[]> {
    this.faults.check('software.listTargeted');
    return [...this.apps.values()].flatMap((m) => [...m.values()]).filter((s) => s.rolloutStrategy === 'targeted');
  }
}
