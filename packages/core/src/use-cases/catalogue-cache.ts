import { AppCatalogue, type CatalogueRules } from '../domain/upgrade-graph';
import { MemoPlanner } from '../domain/planner';
import type { Clock, SoftwareRepository } from '../ports';

/** A loaded catalogue and the store revision it was loaded at. */
export interface CatalogueAt {
  readonly planner: MemoPlanner;
  readonly revision: number;
}

interface Entry extends CatalogueAt {
  readonly loadedAt: number;
}

/**
 * Application catalogues (software + memoised planner) per (tenant, app). Before every use the
 * application's catalogue revision is read from the store (a cheap read the adapter gathers with
 * others): a catalogue is reused only while its revision is the store's, so every decision on every
 * replica sees each acknowledged change of the software (spec §4.3, §10) — no reliance on the
 * best-effort software events. `maxAgeMs` remains a safety net for a change whose revision bump was
 * lost (a crash between the two writes).
 */
export class CatalogueCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, { readonly revision: number; readonly promise: Promise<CatalogueAt> }>();
  private generation = 0;

  constructor(
    private readonly software: SoftwareRepository,
    private readonly clock: Clock,
    private readonly maxAgeMs: number,
    /** The zone rules and cohort memo every catalogue of this core evaluates with. */
    readonly rules: CatalogueRules,
  ) {}

  /** The planner (and its catalogue) of an application, as of the store's current revision. */
  async planner(tenantId: string, appName: string): Promise<MemoPlanner> {
    return (await this.current(tenantId, appName)).planner;
  }

  /** The catalogue as of the store's current revision, with that revision. */
  async current(tenantId: string, appName: string): Promise<CatalogueAt> {
    const key = `${tenantId}\u0000${appName}`;
    const revision = await this.software.catalogueRevision(tenantId, appName);
    const e = this.entries.get(key);
    if (e && e.revision === revision && this.clock.now() - e.loadedAt < this.maxAgeMs) return e;
    const pending = this.loading.get(key);
    if (pending && pending.revision >= revision) return pending.promise;
    const gen = this.generation;
    const promise = this.software
      .list(tenantId, appName)
      .then((list) => {
        // Stamped with the revision read before the list: a change in between makes the next use reload.
        const loaded: Entry = { planner: new MemoPlanner(new AppCatalogue(list, this.rules)), revision, loadedAt: this.clock.now() };
        if (gen === this.generation) this.entries.set(key, loaded);
        return loaded;
      })
      .finally(() => {
        if (this.loading.get(key)?.promise === promise) this.loading.delete(key);
      });
    this.loading.set(key, { revision, promise });
    return promise;
  }

  /** Drops the catalogue at once (a change made by this replica; the revision would catch it too). */
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
