import { AppCatalogue } from '../domain/upgrade-graph';
import { MemoPlanner } from '../domain/planner';
import type { Clock, SoftwareRepository } from '../ports';

interface Entry {
  readonly planner: MemoPlanner;
  readonly loadedAt: number;
}

/**
 * Application catalogues (software + memoised planner) per (tenant, app), loaded from the
 * repository once and reused until invalidated: by a local change, by a software event from another
 * replica (spec §4.9), or after `maxAgeMs` as a safety net.
 */
export class CatalogueCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<MemoPlanner>>();
  private generation = 0;

  constructor(
    private readonly software: SoftwareRepository,
    private readonly clock: Clock,
    private readonly maxAgeMs: number,
  ) {}

  /** The planner (and its catalogue) of an application; loads it when missing or stale. */
  async planner(tenantId: string, appName: string): Promise<MemoPlanner> {
    const key = `${tenantId}\u0000${appName}`;
    const e = this.entries.get(key);
    if (e && this.clock.now() - e.loadedAt < this.maxAgeMs) return e.planner;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const gen = this.generation;
    const p = this.software
      .list(tenantId, appName)
      .then((list) => {
        const planner = new MemoPlanner(new AppCatalogue(list));
        if (gen === this.generation) this.entries.set(key, { planner, loadedAt: this.clock.now() });
        return planner;
      })
      .finally(() => this.loading.delete(key));
    this.loading.set(key, p);
    return p;
  }

  invalidate(tenantId: string, appName: string): void {
    this.generation++;
    this.entries.delete(`${tenantId}\u0000${appName}`);
    this.loading.delete(`${tenantId}\u0000${appName}`);
  }

  invalidateTenant(tenantId: string): void {
    this.generation++;
    for (const k of [...this.entries.keys()]) if (k.startsWith(`${tenantId}\u0000`)) this.entries.delete(k);
    this.loading.clear();
  }
}
