import { type ApplicationRegistry, type ApplicationSettings, type AppRef, OtaoError, type RegisteredApplication } from '@otao/core';
import type { ApplicationEntry } from './applications';

/** What a change of the registry changed: applications whose settings or versions differ. */
export interface RegistryChange {
  readonly changed: readonly AppRef[];
}

/**
 * The in-memory ApplicationRegistry (synchronous, as the core's hot path needs), replaced as a
 * whole or per scope by its sources. Lookups are O(1). Created `loaded: false` (Tekton), every
 * lookup throws `OtaoError('dependency.unavailable')` until the first full load (`markLoaded`): an
 * application must not be reported unknown before the registry could know it (spec §10).
 */
export class MutableApplicationRegistry implements ApplicationRegistry {
  private byKey = new Map<string, ApplicationEntry>();
  private byVersion = new Map<string, AppRef>();
  private isLoaded: boolean;

  constructor(options: { loaded?: boolean } = {}) {
    this.isLoaded = options.loaded ?? true;
  }

  /** Whether the registry has loaded once. */
  get loaded(): boolean {
    return this.isLoaded;
  }

  /** Records the first full load: lookups answer from now on. */
  markLoaded(): void {
    this.isLoaded = true;
  }

  resolve(appVersionName: string): AppRef | undefined {
    this.check();
    return this.byVersion.get(appVersionName);
  }

  settings(tenantId: string, appName: string): ApplicationSettings | undefined {
    this.check();
    const e = this.byKey.get(`${tenantId}\u0000${appName}`);
    return e ? { consentRequired: e.consentRequired } : undefined;
  }

  tenantsWithApp(appName: string): readonly string[] {
    this.check();
    return [...this.byKey.values()].filter((e) => e.appName === appName).map((e) => e.tenantId);
  }

  applications(tenantId: string): readonly RegisteredApplication[] {
    this.check();
    return [...this.byKey.values()]
      .filter((e) => e.tenantId === tenantId)
      .map((e) => ({ appName: e.appName, settings: { consentRequired: e.consentRequired }, appVersionNames: e.appVersionNames }));
  }

  private check(): void {
    if (!this.isLoaded) throw new OtaoError('dependency.unavailable', 'the application registry has not loaded yet');
  }

  /** All applications (for logs and tests). */
  entries(): ApplicationEntry[] {
    return [...this.byKey.values()];
  }

  /**
   * Replaces the applications within a scope (all; one tenant; one application) by `entries`.
   * Returns the applications whose settings or versions changed.
   */
  replace(scope: { tenantId?: string; appName?: string }, entries: readonly ApplicationEntry[]): RegistryChange {
    const inScope = (e: { tenantId: string; appName: string }): boolean =>
      (scope.tenantId === undefined || e.tenantId === scope.tenantId) && (scope.appName === undefined || e.appName === scope.appName);
    const next = new Map([...this.byKey].filter(([, e]) => !inScope(e)));
    for (const e of entries) if (inScope(e)) next.set(`${e.tenantId}\u0000${e.appName}`, e);
    const changed: AppRef[] = [];
    for (const [k, e] of next) {
      const old = this.byKey.get(k);
      if (!old || old.consentRequired !== e.consentRequired || old.appVersionNames.join('\u0000') !== e.appVersionNames.join('\u0000')) {
        changed.push({ tenantId: e.tenantId, appName: e.appName });
      }
    }
    for (const [k, e] of this.byKey) if (!next.has(k)) changed.push({ tenantId: e.tenantId, appName: e.appName });
    const byVersion = new Map<string, AppRef>();
    for (const e of next.values()) for (const v of e.appVersionNames) byVersion.set(v, { tenantId: e.tenantId, appName: e.appName });
    this.byKey = next;
    this.byVersion = byVersion;
    return { changed };
  }
}
