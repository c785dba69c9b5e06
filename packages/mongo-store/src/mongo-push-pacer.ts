import type { PushPacer } from '@otao/core';
import type { Collection, Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import { run, runUnlessDuplicate } from './errors';

/** The shared budget of one rate: how many pushes were taken in the current window. */
export interface RateBudgetDocument {
  /** The budget's name. */
  _id: string;
  /** The window: floor(epoch ms / windowMs). */
  window: number;
  /** Pushes taken in that window (may exceed the budget: a taker that got less than it asked adds all it asked). */
  used: number;
}

export interface MongoPushPacerOptions {
  /** Budget name (one per rate). Default `pushes`. */
  readonly name?: string;
  /** Epoch ms (tests). */
  readonly now?: () => number;
  /** Waits (tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The service-wide push rate (OTAO_PUSH_RATE_PER_SECOND) as one budget document every replica
 * draws from: time is cut into windows (100 ms at 10 pushes/s or more, else 1 s) each allowing
 * `rate × window` pushes; a taker adds what it asks to the window's count with one atomic `$inc` and
 * gets what was still free. So N replicas together push no faster than the rate, within one window.
 * When the window is spent, the taker waits for the next.
 */
export class MongoPushPacer implements PushPacer {
  private readonly docs: Collection<RateBudgetDocument>;
  private readonly name: string;
  private readonly windowMs: number;
  private readonly budget: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    db: Db,
    readonly ratePerSecond: number,
    options: MongoPushPacerOptions = {},
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError(`MongoPushPacer: the rate must be positive, got ${ratePerSecond}`);
    this.docs = db.collection<RateBudgetDocument>(COLLECTIONS.rateBudgets);
    this.name = options.name ?? 'pushes';
    this.windowMs = ratePerSecond >= 10 ? 100 : 1000;
    this.budget = Math.max(1, Math.round((ratePerSecond * this.windowMs) / 1000));
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async take(wanted: number): Promise<number> {
    const ask = Math.max(1, Math.min(Math.floor(wanted), this.budget));
    for (;;) {
      const now = this.now();
      const window = Math.floor(now / this.windowMs);
      const usedBefore = await this.add(window, ask);
      const granted = Math.min(ask, this.budget - usedBefore);
      if (granted > 0) return granted;
      await this.sleep((window + 1) * this.windowMs - now);
    }
  }

  /** Adds `n` to the window's count; returns the count before. One or two round trips. */
  private async add(window: number, n: number): Promise<number> {
    for (let attempt = 0; attempt < 10; attempt++) {
      // the current window: count on
      const same = await run('pacer.take', () => this.docs.findOneAndUpdate({ _id: this.name, window }, { $inc: { used: n } }, { returnDocument: 'after' }));
      if (same) return same.used - n;
      // an older window (or none yet): start this one
      const moved = await run('pacer.take', () => this.docs.findOneAndUpdate({ _id: this.name, window: { $lt: window } }, { $set: { window, used: n } }));
      if (moved) return 0;
      if (await runUnlessDuplicate('pacer.take', () => this.docs.insertOne({ _id: this.name, window, used: n }))) return 0;
      // another replica moved it to this window (or a later one) in between: look again
    }
    return Number.POSITIVE_INFINITY; // contention beyond reason: grant nothing this window
  }
}
