import type { Lease } from '../ports';
import { FaultSwitch } from './faults';

export class InMemoryLease implements Lease {
  readonly faults = new FaultSwitch();
  private readonly leases = new Map<string, { holder: string; until: number }>();
  private readonly checkpoints = new Map<string, number>();

  async tryAcquire(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    this.faults.check('lease.tryAcquire');
    const cur = this.leases.get(name);
    if (cur && cur.holder !== holder && cur.until > now) return false;
    this.leases.set(name, { holder, until: now + ttlMs });
    return true;
  }

  async release(name: string, holder: string): Promise<void> {
    this.faults.check('lease.release');
    if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
  }

  async getCheckpoint(name: string): Promise<number | undefined> {
    this.faults.check('lease.getCheckpoint');
    return this.checkpoints.get(name);
  }

  async setCheckpoint(name: string, value: number): Promise<void> {
    this.faults.check('lease.setCheckpoint');
    this.checkpoints.set(name, value);
  }
}
