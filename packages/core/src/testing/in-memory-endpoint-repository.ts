import { versionKey } from '../domain/upgrade-graph';
import type {
  CountedOutcome,
  EndpointKey,
  EndpointPage,
  EndpointShape,
  EndpointReport,
  EndpointRepository,
  EndpointState,
  FilterMember,
  PendingOffer,
  PullState,
  ReportCounted,
  StoredCounts,
} from '../ports';
import { FaultSwitch } from './faults';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * EndpointRepository in memory. States are frozen and replaced on every write (copy-on-write), so
 * reads hand out snapshots without copying: the fake is fast enough for the core benchmarks.
 */
export class InMemoryEndpointRepository implements EndpointRepository {
  readonly faults = new FaultSwitch();
  /** tenant\0app -> endpointId -> state */
  private readonly apps = new Map<string, Map<string, EndpointState>>();
  private readonly loaded = new Map<string, Set<string>>();
  /** tenant\0app -> stored counts */
  private readonly counts = new Map<string, StoredCounts>();

  /**
   * @param options.cohortOf the cohort rule (spec §4.10; `cohortOf` of the core with a SHA-256): the
   *   fake then holds every endpoint's cohort, as a real store does; without it, none (a store from
   *   before cohorts were stored: `shapes` splits nothing by cohort).
   */
  constructor(private readonly options: { readonly cohortOf?: (tenantId: string, appName: string, endpointId: string) => number } = {}) {}

  private app(tenantId: string, appName: string): Map<string, EndpointState> {
    const k = `${tenantId}\u0000${appName}`;
    let m = this.apps.get(k);
    if (!m) this.apps.set(k, (m = new Map<string, EndpointState>()));
    return m;
  }

  private update(key: EndpointKey, at: number | undefined, f: (s: Mutable<EndpointState>) => void, create = true): boolean {
    const m = this.app(key.tenantId, key.appName);
    const cur = m.get(key.endpointId);
    if (!cur && !create) return false;
    const next: Mutable<EndpointState> = cur
      ? { ...cur }
      : {
          tenantId: key.tenantId,
          appName: key.appName,
          endpointId: key.endpointId,
          filters: [],
          membershipsKnown: false,
          consents: [],
          pushed: [],
          offered: [],
          updatedAt: at ?? 0,
        };
    f(next);
    if (at !== undefined) next.updatedAt = at;
    m.set(key.endpointId, Object.freeze(next));
    return true;
  }

  /** Test and benchmark helper: stores a state as is. */
  put(state: EndpointState): void {
    this.app(state.tenantId, state.appName).set(state.endpointId, Object.freeze({ ...state }));
  }

  /** Test helper: number of endpoint records of the tenant (all apps). */
  count(tenantId: string): number {
    let n = 0;
    for (const [k, m] of this.apps) if (k.startsWith(`${tenantId}\u0000`)) n += m.size;
    return n;
  }

  private peek(key: EndpointKey): EndpointState | undefined {
    return this.apps.get(`${key.tenantId}\u0000${key.appName}`)?.get(key.endpointId);
  }

  async get(key: EndpointKey): Promise<EndpointState | undefined> {
    this.faults.check('endpoints.get');
    return this.peek(key);
  }

  async getForPull(key: EndpointKey): Promise<PullState | undefined> {
    this.faults.check('endpoints.getForPull');
    return this.peek(key); // the frozen state itself: a superset, and no copy on the hot path
  }

  async setCurrentVersion(key: EndpointKey, appVersionName: string, version: string, at: number): Promise<void> {
    this.faults.check('endpoints.setCurrentVersion');
    this.update(key, at, (s) => {
      s.appVersionName = appVersionName;
      s.currentVersion = version;
    });
  }

  async setAppVersionName(key: EndpointKey, appVersionName: string, at: number): Promise<void> {
    this.faults.check('endpoints.setAppVersionName');
    this.update(key, at, (s) => {
      s.appVersionName = appVersionName;
    });
  }

  async recordReport(key: EndpointKey, appVersionName: string, report: EndpointReport, applied: boolean): Promise<void> {
    this.faults.check('endpoints.recordReport');
    this.update(key, report.at, (s) => {
      s.appVersionName = appVersionName;
      s.lastReport = Object.freeze({ ...report });
      if (applied) {
        s.currentVersion = report.configId;
        s.lastApplied = Object.freeze({ version: report.configId, at: report.at });
      }
    });
    const prefix = `${key.tenantId}\u0000${key.appName}\u0000${key.endpointId}\u0000`;
    for (const [k, at] of this.pending) if (k.startsWith(prefix) && at <= report.at) this.pending.delete(k);
  }

  async addMembership(key: EndpointKey, appVersionName: string | undefined, filterId: string, at: number): Promise<void> {
    this.faults.check('endpoints.addMembership');
    this.update(key, at, (s) => {
      if (appVersionName !== undefined) s.appVersionName = appVersionName;
      if (!s.filters.includes(filterId)) s.filters = Object.freeze([...s.filters, filterId]);
      s.membershipsKnown = true;
    });
  }

  async removeMembership(key: EndpointKey, filterId: string, at: number): Promise<void> {
    this.faults.check('endpoints.removeMembership');
    this.update(
      key,
      at,
      (s) => {
        s.filters = Object.freeze(s.filters.filter((f) => f !== filterId));
        s.membershipsKnown = true;
      },
      false,
    );
  }

  async setMemberships(key: EndpointKey, appVersionName: string | undefined, filterIds: readonly string[], at: number): Promise<void> {
    this.faults.check('endpoints.setMemberships');
    this.update(key, at, (s) => {
      if (appVersionName !== undefined) s.appVersionName = appVersionName;
      s.filters = Object.freeze([...new Set(filterIds)]);
      s.membershipsKnown = true;
    });
  }

  async replaceFilterMembers(tenantId: string, appName: string, filterId: string, members: readonly FilterMember[], at: number): Promise<void> {
    this.faults.check('endpoints.replaceFilterMembers');
    const wanted = new Map(members.map((m) => [m.endpointId, m.appVersionName]));
    const m = this.app(tenantId, appName);
    for (const [id, s] of m) {
      if (s.filters.includes(filterId) && !wanted.has(id)) {
        this.update({ tenantId, appName, endpointId: id }, at, (x) => {
          x.filters = Object.freeze(x.filters.filter((f) => f !== filterId));
        });
      }
    }
    for (const [endpointId, appVersionName] of wanted) {
      this.update({ tenantId, appName, endpointId }, at, (x) => {
        if (x.appVersionName === undefined) x.appVersionName = appVersionName;
        if (!x.filters.includes(filterId)) x.filters = Object.freeze([...x.filters, filterId]);
      });
    }
  }

  async removeFilter(tenantId: string, appName: string, filterId: string): Promise<void> {
    this.faults.check('endpoints.removeFilter');
    const m = this.app(tenantId, appName);
    for (const [id, s] of m) {
      if (s.filters.includes(filterId)) {
        this.update({ tenantId, appName, endpointId: id }, undefined, (x) => {
          x.filters = Object.freeze(x.filters.filter((f) => f !== filterId));
        });
      }
    }
    this.loaded.get(`${tenantId}\u0000${appName}`)?.delete(filterId);
  }

  async loadedFilters(tenantId: string, appName: string): Promise<Set<string>> {
    this.faults.check('endpoints.loadedFilters');
    return new Set(this.loaded.get(`${tenantId}\u0000${appName}`) ?? []);
  }

  async markFilterLoaded(tenantId: string, appName: string, filterId: string): Promise<void> {
    this.faults.check('endpoints.markFilterLoaded');
    const k = `${tenantId}\u0000${appName}`;
    (this.loaded.get(k) ?? this.loaded.set(k, new Set()).get(k)!).add(filterId);
  }

  async grantConsent(key: EndpointKey, version: string, at: number): Promise<void> {
    this.faults.check('endpoints.grantConsent');
    this.update(key, at, (s) => {
      if (!s.consents.includes(version)) s.consents = Object.freeze([...s.consents, version]);
    });
  }

  async revokeConsent(key: EndpointKey, version: string, at: number): Promise<void> {
    this.faults.check('endpoints.revokeConsent');
    this.update(
      key,
      at,
      (s) => {
        s.consents = Object.freeze(s.consents.filter((c) => c !== version));
      },
      false,
    );
  }

  /** Unconfirmed push claims: tenant\0app\0endpoint\0version -> claim. */
  private readonly claims = new Map<string, { owner: string; until: number }>();
  /** Per endpoint: the counted state per version key, and the last count (mark, token, previous state) for retries of markReportCounted. */
  private readonly counted = new Map<string, { outcomes: Map<string, CountedOutcome>; last?: { mark: string; token?: string; previous?: CountedOutcome } }>();
  /** Rolled-back marks: tenant\0app\0endpoint\0versionKey. */
  private readonly rolledBack = new Set<string>();
  /** Pending offers: tenant\0app\0endpoint\0versionKey -> first offer time. */
  private readonly pending = new Map<string, number>();

  private epId(tenantId: string, appName: string, endpointId: string): string {
    return `${tenantId}\u0000${appName}\u0000${endpointId}`;
  }

  private countedOf(id: string): { outcomes: Map<string, CountedOutcome>; last?: { mark: string; token?: string; previous?: CountedOutcome } } {
    let c = this.counted.get(id);
    if (!c) this.counted.set(id, (c = { outcomes: new Map() }));
    return c;
  }

  private addPending(tenantId: string, appName: string, endpointId: string, version: string, at: number): void {
    const k = `${this.epId(tenantId, appName, endpointId)}\u0000${versionKey(version)}`;
    if (!this.pending.has(k)) this.pending.set(k, at);
  }

  async claimPushes(
    tenantId: string,
    appName: string,
    endpointIds: readonly string[],
    version: string,
    owner: string,
    now: number,
    ttlMs: number,
  ): Promise<string[]> {
    this.faults.check('endpoints.claimPushes');
    // no await between the checks and the writes: atomic
    const claimed: string[] = [];
    for (const endpointId of new Set(endpointIds)) {
      const cur = this.peek({ tenantId, appName, endpointId });
      if (!cur || cur.pushed.includes(version) || cur.offered.includes(version)) continue;
      const id = `${tenantId}\u0000${appName}\u0000${endpointId}\u0000${version}`;
      const held = this.claims.get(id);
      if (held && held.owner !== owner && held.until > now) continue;
      this.claims.set(id, { owner, until: now + ttlMs });
      claimed.push(endpointId);
    }
    return claimed;
  }

  async confirmPushes(tenantId: string, appName: string, endpointIds: readonly string[], version: string, offeredAt?: number): Promise<number> {
    this.faults.check('endpoints.confirmPushes');
    let newlyOffered = 0;
    for (const endpointId of new Set(endpointIds)) {
      this.claims.delete(`${tenantId}\u0000${appName}\u0000${endpointId}\u0000${version}`);
      this.update(
        { tenantId, appName, endpointId },
        undefined,
        (s) => {
          if (!s.pushed.includes(version)) s.pushed = Object.freeze([...s.pushed, version]);
          if (!s.offered.includes(version)) {
            s.offered = Object.freeze([...s.offered, version]);
            newlyOffered++;
            if (offeredAt !== undefined) this.addPending(tenantId, appName, endpointId, version, offeredAt);
          }
        },
        false,
      );
    }
    return newlyOffered;
  }

  async releasePushes(tenantId: string, appName: string, endpointIds: readonly string[], version: string, owner: string): Promise<void> {
    this.faults.check('endpoints.releasePushes');
    for (const endpointId of endpointIds) {
      const id = `${tenantId}\u0000${appName}\u0000${endpointId}\u0000${version}`;
      if (this.claims.get(id)?.owner === owner) this.claims.delete(id);
    }
  }

  async markOffered(key: EndpointKey, version: string, offeredAt?: number): Promise<boolean> {
    this.faults.check('endpoints.markOffered');
    const cur = this.peek(key);
    if (cur?.offered.includes(version)) return false;
    this.update(key, undefined, (s) => {
      s.offered = Object.freeze([...s.offered, version]);
    });
    if (offeredAt !== undefined) this.addPending(key.tenantId, key.appName, key.endpointId, version, offeredAt);
    return true;
  }

  async markReportCounted(key: EndpointKey, version: string, applied: boolean, token?: string): Promise<ReportCounted | false> {
    this.faults.check('endpoints.markReportCounted');
    const c = this.countedOf(this.epId(key.tenantId, key.appName, key.endpointId));
    const outcome: CountedOutcome = applied ? 'applied' : 'failed';
    const vk = versionKey(version);
    const mark = `${vk}\u0000${outcome}`;
    if (token !== undefined && c.last?.mark === mark && c.last.token === token) return c.last.previous !== undefined ? { previous: c.last.previous } : {};
    const previous = c.outcomes.get(vk);
    if (previous === outcome) return false;
    if (!this.peek(key)) this.update(key, undefined, () => undefined);
    c.outcomes.set(vk, outcome);
    c.last = { mark, ...(token !== undefined ? { token } : {}), ...(previous !== undefined ? { previous } : {}) };
    return previous !== undefined ? { previous } : {};
  }

  async markRolledBack(key: EndpointKey, version: string): Promise<boolean> {
    this.faults.check('endpoints.markRolledBack');
    const k = `${this.epId(key.tenantId, key.appName, key.endpointId)}\u0000${versionKey(version)}`;
    if (this.rolledBack.has(k)) return false;
    if (!this.peek(key)) this.update(key, undefined, () => undefined);
    this.rolledBack.add(k);
    return true;
  }

  async findTimedOut(tenantId: string, appName: string, version: string, offeredBefore: number, limit: number, after?: PendingOffer): Promise<PendingOffer[]> {
    this.faults.check('endpoints.findTimedOut');
    const prefix = `${tenantId}\u0000${appName}\u0000`;
    const suffix = `\u0000${versionKey(version)}`;
    const out: PendingOffer[] = [];
    for (const [k, at] of this.pending) {
      if (at > offeredBefore || !k.startsWith(prefix) || !k.endsWith(suffix)) continue;
      const endpointId = k.slice(prefix.length, k.length - suffix.length);
      if (after && (at < after.offeredAt || (at === after.offeredAt && endpointId <= after.endpointId))) continue;
      out.push({ endpointId, offeredAt: at });
    }
    return out.sort((a, b) => a.offeredAt - b.offeredAt || (a.endpointId < b.endpointId ? -1 : 1)).slice(0, Math.max(0, limit));
  }

  async markTimedOut(tenantId: string, appName: string, version: string, endpointIds: readonly string[]): Promise<number> {
    this.faults.check('endpoints.markTimedOut');
    const vk = versionKey(version);
    let marked = 0;
    for (const endpointId of new Set(endpointIds)) {
      const id = this.epId(tenantId, appName, endpointId);
      if (!this.pending.delete(`${id}\u0000${vk}`)) continue;
      const state = this.peek({ tenantId, appName, endpointId });
      if (!state || (state.currentVersion !== undefined && versionKey(state.currentVersion) === vk)) continue;
      const c = this.countedOf(id);
      if (c.outcomes.has(vk)) continue;
      c.outcomes.set(vk, 'timedOut');
      marked++;
    }
    return marked;
  }

  async delete(tenantId: string, endpointId: string): Promise<void> {
    this.faults.check('endpoints.delete');
    for (const k of [...this.counted.keys()]) if (k.startsWith(`${tenantId}\u0000`) && k.split('\u0000')[2] === endpointId) this.counted.delete(k);
    for (const k of [...this.rolledBack]) if (k.startsWith(`${tenantId}\u0000`) && k.split('\u0000')[2] === endpointId) this.rolledBack.delete(k);
    for (const k of [...this.pending.keys()]) if (k.startsWith(`${tenantId}\u0000`) && k.split('\u0000')[2] === endpointId) this.pending.delete(k);
    for (const [k, m] of this.apps) if (k.startsWith(`${tenantId}\u0000`)) m.delete(endpointId);
    for (const k of [...this.claims.keys()]) if (k.startsWith(`${tenantId}\u0000`) && k.split('\u0000')[2] === endpointId) this.claims.delete(k);
  }

  async deleteTenant(tenantId: string): Promise<void> {
    this.faults.check('endpoints.deleteTenant');
    for (const k of [...this.counted.keys()]) if (k.startsWith(`${tenantId}\u0000`)) this.counted.delete(k);
    for (const k of [...this.rolledBack]) if (k.startsWith(`${tenantId}\u0000`)) this.rolledBack.delete(k);
    for (const k of [...this.pending.keys()]) if (k.startsWith(`${tenantId}\u0000`)) this.pending.delete(k);
    for (const k of [...this.apps.keys()]) if (k.startsWith(`${tenantId}\u0000`)) this.apps.delete(k);
    for (const k of [...this.loaded.keys()]) if (k.startsWith(`${tenantId}\u0000`)) this.loaded.delete(k);
    for (const k of [...this.claims.keys()]) if (k.startsWith(`${tenantId}\u0000`)) this.claims.delete(k);
    for (const k of [...this.counts.keys()]) if (k.startsWith(`${tenantId}\u0000`)) this.counts.delete(k);
  }

  async list(tenantId: string, appName: string, query: { version?: string; offset: number; limit: number }): Promise<EndpointPage> {
    this.faults.check('endpoints.list');
    const all = this.sorted(tenantId, appName, query.version);
    return { content: all.slice(query.offset, query.offset + query.limit), totalElements: all.length };
  }

  async page(tenantId: string, appName: string, query: { version?: string; offset: number; limit: number; fromEnd?: boolean }): Promise<EndpointState[]> {
    this.faults.check('endpoints.page');
    const all = this.sorted(tenantId, appName, query.version);
    const offset = Math.max(0, query.offset);
    if (!query.fromEnd) return all.slice(offset, offset + query.limit);
    const end = all.length - offset;
    return end <= 0 ? [] : all.slice(Math.max(0, end - query.limit), end);
  }

  async storedCounts(tenantId: string, appName: string): Promise<StoredCounts | undefined> {
    this.faults.check('endpoints.storedCounts');
    return this.counts.get(`${tenantId}\u0000${appName}`);
  }

  async storeCounts(tenantId: string, appName: string, counts: StoredCounts): Promise<void> {
    this.faults.check('endpoints.storeCounts');
    const k = `${tenantId}\u0000${appName}`;
    const had = this.counts.get(k);
    if (had && had.countedAt >= counts.countedAt) return;
    this.counts.set(
      k,
      Object.freeze({
        shapes: counts.shapes.map((s) => Object.freeze({ ...s })),
        total: counts.total,
        countedAt: counts.countedAt,
        ...(counts.cohortBoundaries && counts.cohortBoundaries.length > 0 ? { cohortBoundaries: Object.freeze([...counts.cohortBoundaries]) } : {}),
      }),
    );
  }

  private sorted(tenantId: string, appName: string, version: string | undefined): EndpointState[] {
    const want = version === undefined ? undefined : versionKey(version);
    return [...this.app(tenantId, appName).values()]
      .filter((s) => want === undefined || (s.currentVersion !== undefined && versionKey(s.currentVersion) === want))
      .sort((a, b) => (a.endpointId < b.endpointId ? -1 : a.endpointId > b.endpointId ? 1 : 0));
  }

  async shapes(tenantId: string, appName: string, cohortBoundaries: readonly number[] = []): Promise<EndpointShape[]> {
    this.faults.check('endpoints.shapes');
    const byKey = new Map<string, EndpointShape>();
    const cohortOf = cohortBoundaries.length > 0 ? this.options.cohortOf : undefined;
    for (const s of this.app(tenantId, appName).values()) {
      let bucket: number | undefined;
      if (cohortOf) {
        const cohort = cohortOf(tenantId, appName, s.endpointId);
        bucket = 0;
        while (bucket < cohortBoundaries.length && cohort >= (cohortBoundaries[bucket] as number)) bucket++;
      }
      const k = JSON.stringify([s.currentVersion ?? null, s.filters, s.consents, bucket ?? null]);
      const seen = byKey.get(k);
      byKey.set(k, {
        ...(s.currentVersion !== undefined ? { currentVersion: s.currentVersion } : {}),
        filters: [...s.filters],
        consents: [...s.consents],
        count: (seen?.count ?? 0) + 1,
        ...(bucket !== undefined ? { cohortBucket: bucket } : {}),
      });
    }
    return [...byKey.values()];
  }

  async *stream(tenantId: string, appName: string, options: { filterId?: string; batchSize: number }): AsyncIterable<readonly EndpointState[]> {
    this.faults.check('endpoints.stream');
    const m = this.app(tenantId, appName);
    const ids = [...m.keys()].sort();
    let batch: EndpointState[] = [];
    for (const id of ids) {
      const s = m.get(id);
      if (!s || (options.filterId !== undefined && !s.filters.includes(options.filterId))) continue;
      batch.push(s);
      if (batch.length >= options.batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
}
