import { OtaoError } from '../domain/errors';
import type { ApplicationRegistry, ApplicationSettings, AppRef, RegisteredApplication } from '../ports';

export interface AppDefinition {
  readonly tenantId: string;
  readonly appName: string;
  readonly versions: readonly string[];
  readonly consentRequired?: boolean;
}

/** ApplicationRegistry in memory, editable by tests. */
export class InMemoryApplicationRegistry implements ApplicationRegistry {
  private readonly byVersion = new Map<string, AppRef>();
  private readonly settingsMap = new Map<string, ApplicationSettings>();
  /** False: every lookup throws dependency.unavailable, as a registry that has not loaded yet. */
  loaded = true;

  private check(): void {
    if (!this.loaded) throw new OtaoError('dependency.unavailable', 'the application registry has not loaded yet');
  }

  constructor(apps: readonly AppDefinition[] = []) {
    for (const a of apps) this.define(a);
  }

  define(a: AppDefinition): void {
    this.settingsMap.set(`${a.tenantId}\u0000${a.appName}`, { consentRequired: a.consentRequired ?? false });
    for (const v of a.versions) this.byVersion.set(v, { tenantId: a.tenantId, appName: a.appName });
  }

  setConsentRequired(tenantId: string, appName: string, consentRequired: boolean): void {
    this.settingsMap.set(`${tenantId}\u0000${appName}`, { consentRequired });
  }

  remove(tenantId: string, appName: string): void {
    this.settingsMap.delete(`${tenantId}\u0000${appName}`);
    for (const [v, r] of [...this.byVersion]) if (r.tenantId === tenantId && r.appName === appName) this.byVersion.delete(v);
  }

  resolve(appVersionName: string): AppRef | undefined {
    this.check();
    return this.byVersion.get(appVersionName);
  }

  settings(tenantId: string, appName: string): ApplicationSettings | undefined {
    this.check();
    return this.settingsMap.get(`${tenantId}\u0000${appName}`);
  }

  tenantsWithApp(appName: string): readonly string[] {
    this.check();
    const out: string[] = [];
    for (const k of this.settingsMap.keys()) {
      const [t, a] = k.split('\u0000');
      if (a === appName && t !== undefined) out.push(t);
    }
    return out;
  }

  applications(tenantId: string): readonly RegisteredApplication[] {
    this.check();
    const out: RegisteredApplication[] = [];
    for (const [k, settings] of this.settingsMap) {
      const [t, appName] = k.split('\u0000');
      if (t !== tenantId || appName === undefined) continue;
      const appVersionNames = [...this.byVersion].filter(([, r]) => r.tenantId === tenantId && r.appName === appName).map(([v]) => v);
      out.push({ appName, settings, appVersionNames });
    }
    return out;
  }
}
