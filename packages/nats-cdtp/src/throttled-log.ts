import type { Logger } from '@otao/core';

/**
 * Logs a recurring warning (garbage on a subject, dropped messages) at most once per interval per
 * key, with the number suppressed since: a flood of bad input cannot flood the log.
 */
export class ThrottledLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(key: string, message: string, fields: Record<string, unknown> = {}): void {
    const t = this.now();
    const entry = this.last.get(key);
    if (entry && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(key, { at: t, suppressed: 0 });
    this.logger.warn(suppressed > 0 ? { ...fields, suppressedSinceLast: suppressed } : fields, message);
  }
}
