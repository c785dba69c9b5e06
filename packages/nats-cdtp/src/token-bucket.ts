// Pacing of ConfigUpdated pushes (OTAO_PUSH_RATE_PER_SECOND). A generic cell rate algorithm:
// every caller reserves the next slot, so concurrent callers are paced together and in order;
// up to `burst` slots may be taken back to back.

export interface PacerClock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realPacerClock: PacerClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class TokenBucket {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  /** Theoretical arrival time of the next slot. */
  private tat = -Infinity;

  /**
   * @param ratePerSecond tokens per second; 0 = unlimited (take() never waits)
   * @param burst slots that may be taken at once; defaults to 50 ms worth (at least 1), enough to
   *   keep the rate with timer granularity of a few milliseconds
   */
  constructor(
    readonly ratePerSecond: number,
    burst?: number,
    private readonly clock: PacerClock = realPacerClock,
  ) {
    if (!(ratePerSecond >= 0) || !Number.isFinite(ratePerSecond)) throw new Error('ratePerSecond must be a finite number >= 0');
    this.intervalMs = ratePerSecond > 0 ? 1000 / ratePerSecond : 0;
    const b = Math.max(1, Math.floor(burst ?? Math.ceil(ratePerSecond / 20)));
    this.toleranceMs = (b - 1) * this.intervalMs;
  }

  /** Waits for a slot. Resolves at once while the rate allows; never rejects. */
  async take(): Promise<void> {
    if (this.intervalMs === 0) return;
    const now = this.clock.now();
    const start = Math.max(this.tat, now - this.toleranceMs);
    this.tat = start + this.intervalMs;
    const wait = start - now;
    if (wait > 0) await this.clock.sleep(wait);
  }
}
