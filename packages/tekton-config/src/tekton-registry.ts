import { type AppRef, exponentialBackoff, type Logger } from '@otao/core';
import { MutableApplicationRegistry } from './registry';
import type { ScmpScope } from './scmp';
import type { TektonClient } from './tekton-client';

export interface TektonRegistryOptions {
  /** Called after a reload with the applications whose settings or versions changed. */
  onChanged?(changed: readonly AppRef[]): void;
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
}

type Scope = { tenantId?: string; appName?: string };
const keyOf = (s: Scope): string => `${s.tenantId ?? '*'}\u0000${s.appName ?? '*'}`;

/**
 * The application registry from Tekton (spec §7): loaded at start, reloaded on 17/SCMP
 * notifications at the scope they name (all, one tenant, one app, one app version → its app).
 * A failed reload keeps the last good registry and is retried with exponential backoff.
 */
export class TektonApplicationRegistry {
  readonly registry = new MutableApplicationRegistry({ loaded: false });
  private pending = new Map<string, Scope>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failures = 0;
  private stopped = false;
  private everLoaded = false;
  /** Reloads done and failed, for metrics and tests. */
  readonly stats = { reloads: 0, failures: 0 };

  constructor(
    private readonly client: TektonClient,
    private readonly options: TektonRegistryOptions = {},
  ) {}

  /** True once a full load succeeded (readiness). */
  get loaded(): boolean {
    return this.everLoaded;
  }

  /** First full load; on failure it keeps retrying in the background. Resolves either way. */
  async start(): Promise<void> {
    this.pending.set(keyOf({}), {});
    await this.drain();
  }

  /** A 17/SCMP notification: reload its scope (an app version reloads its application). */
  notify(scope: ScmpScope): void {
    const s: Scope =
      scope.tenantId === undefined ? {} : scope.appName === undefined ? { tenantId: scope.tenantId } : { tenantId: scope.tenantId, appName: scope.appName };
    this.pending.set(keyOf(s), s);
    if (!this.timer && !this.running) this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Resolves when no reload is pending (tests). */
  async idle(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ((this.pending.size > 0 || this.running) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, ms);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      while (this.pending.size > 0 && !this.stopped) {
        // A full reload covers every narrower scope.
        const all = this.pending.get(keyOf({}));
        const [k, scope] = all ? [keyOf({}), all] : ([...this.pending][0] as [string, Scope]);
        try {
          await this.reload(scope);
          if (all) this.pending.clear();
          else this.pending.delete(k);
          this.failures = 0;
        } catch (e) {
          this.failures++;
          this.stats.failures++;
          // Until the first load the service cannot answer (CDTP 503): try every second; afterwards the
          // last good registry serves and reloads back off.
          const delay = this.everLoaded
            ? exponentialBackoff(this.failures, this.options.retryBaseMs ?? 1000, this.options.retryMaxMs ?? 30_000)
            : Math.min(this.options.retryBaseMs ?? 1000, 1000);
          this.options.logger?.warn({ scope, err: (e as Error).message, retryInMs: delay }, 'registry reload failed; keeping the last good registry');
          this.schedule(delay);
          return;
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async reload(scope: Scope): Promise<void> {
    let change;
    if (scope.tenantId === undefined) {
      change = this.registry.replace({}, await this.client.fetchAll());
      this.everLoaded = true;
      this.registry.markLoaded();
    } else if (scope.appName === undefined) {
      change = this.registry.replace({ tenantId: scope.tenantId }, await this.client.fetchAll(scope.tenantId));
    } else {
      const entry = await this.client.fetchApp(scope.tenantId, scope.appName);
      change = this.registry.replace({ tenantId: scope.tenantId, appName: scope.appName }, entry ? [entry] : []);
    }
    this.stats.reloads++;
    this.options.logger?.info({ scope, changed: change.changed.length }, 'application registry reloaded');
    if (change.changed.length > 0) this.options.onChanged?.(change.changed);
  }
}
