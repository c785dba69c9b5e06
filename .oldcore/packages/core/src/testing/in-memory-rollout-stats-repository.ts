import { versionKey } from '../domain/upgrade-graph';
import type { RolloutCounter, RolloutCounts, RolloutStatsRepository } from '../ports';
import { FaultSwitch } from './faults';

const ZERO: RolloutCounts = Object.freeze({ offered: 0, applied: 0, failed: 0 });

export class InMemoryRolloutStatsRepository implements RolloutStatsRepository {
  readonly faults = new FaultSwitch();
  private readonly counts = new Map<string, RolloutCounts>();

  async increment(tenantId: string, appName: string, version: string, counter: RolloutCounter, by = 1): Promise<RolloutCounts> {
    this.faults.check('stats.increment');
    const k = `${tenantId}\u0000${appName}\u0000${versionKey(version)}`;
    const c = this.counts.get(k) ?? ZERO;
    const next = Object.freeze({ ...c, [counter]: c[counter] + by });
    this.counts.set(k, next);
    return next;
  }

  async get(tenantId: string, appName: string, version: string): Promise<RolloutCounts> {
    this.faults.check('stats.get');
    return this.counts.get(`${tenantId}\u0000${appName}\u0000${versionKey(version)}`) ?? ZERO;
  }

  async delete(tenantId: string, appName: string, version: string): Promise<void> {
    this.faults.check('stats.delete');
    this.counts.delete(`${tenantId}\u0000${appName}\u0000${versionKey(version)}`);
  }

  async deleteTenant(tenantId: string): Promise<void> {
    this.faults.check('stats.deleteTenant');
    for (const k of [...this.counts.keys()]) if (k.startsWith(`${tenantId}\u0000`)) this.counts.delete(k);
  }
}
