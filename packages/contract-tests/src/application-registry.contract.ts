import { type ApplicationRegistry, isOtaoError, type RegisteredApplication } from '@otao/core';
import { suiteTest, type SuiteOptions } from './subject';

/** One application of the registry's source (a tenant's application with its settings and version names). */
export interface DefinedApplication {
  readonly tenantId: string;
  readonly appName: string;
  /** Absent: not given in the source (the default, false). */
  readonly consentRequired?: boolean;
  readonly appVersionNames: readonly string[];
}

/** How the suite gets a registry loaded from a definition, and (where the adapter has that state) one that has not loaded yet. */
export interface ApplicationRegistryFactory {
  /** A registry that has loaded `apps` from its source (a file, Tekton, …). */
  create(apps: readonly DefinedApplication[]): Promise<ApplicationRegistry>;
  /**
   * A registry whose source holds `apps` but that has not loaded yet (e.g. Tekton not answering
   * at start). Without it the test of that state must be skipped with a reason.
   */
  beforeFirstLoad?(apps: readonly DefinedApplication[]): Promise<ApplicationRegistry>;
  dispose?(registry: ApplicationRegistry): Promise<void>;
}

const APPS: readonly DefinedApplication[] = [
  { tenantId: 'acme', appName: 'kettle', consentRequired: true, appVersionNames: ['acme-kettle-v1', 'acme-kettle-v2'] },
  { tenantId: 'acme', appName: 'toaster', consentRequired: false, appVersionNames: ['acme-toaster-v1'] },
  { tenantId: 'acme', appName: 'lamp', appVersionNames: ['acme-lamp-v1'] },
  { tenantId: 'globex', appName: 'oven', consentRequired: true, appVersionNames: ['globex-oven-v1'] },
  { tenantId: 'globex.eu', appName: 'fridge', appVersionNames: [] },
];

/** Two tenants with an application of the same name, different settings and version names. */
const SHARED_NAME: readonly DefinedApplication[] = [
  { tenantId: 'acme', appName: 'kettle', consentRequired: true, appVersionNames: ['acme-kettle-v1'] },
  { tenantId: 'globex', appName: 'kettle', consentRequired: false, appVersionNames: ['globex-kettle-v1', 'globex-kettle-v2'] },
  { tenantId: 'globex', appName: 'oven', appVersionNames: ['globex-oven-v1'] },
];

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

function byName(apps: readonly RegisteredApplication[]): Record<string, { consentRequired: boolean; appVersionNames: string[] }> {
  const out: Record<string, { consentRequired: boolean; appVersionNames: string[] }> = {};
  for (const a of apps) {
    expect(out[a.appName]).toBeUndefined(); // each application once
    out[a.appName] = { consentRequired: a.settings.consentRequired, appVersionNames: sorted(a.appVersionNames) };
  }
  return out;
}

/** Every method agrees with the others, for every tenant and application in `apps`. */
function expectAgreement(r: ApplicationRegistry, apps: readonly DefinedApplication[]): void {
  for (const tenantId of new Set(apps.map((a) => a.tenantId))) {
    for (const e of r.applications(tenantId)) {
      expect(r.settings(tenantId, e.appName)).toEqual(e.settings);
      expect(r.tenantsWithApp(e.appName)).toContain(tenantId);
      for (const v of e.appVersionNames) expect(r.resolve(v)).toEqual({ tenantId, appName: e.appName });
    }
  }
}

/**
 * The contract of ApplicationRegistry (spec §7): `resolve`, `settings`, `tenantsWithApp` and
 * `applications` agree with the definition and with one another; the same application name in two
 * tenants is two unrelated entries; unknown names are `undefined` / `[]`, never errors; and before
 * the first load every method throws `OtaoError('dependency.unavailable')`.
 */
export function applicationRegistryContract(name: string, factory: ApplicationRegistryFactory, options?: SuiteOptions): void {
  describe(`ApplicationRegistry contract: ${name}`, () => {
    const made: ApplicationRegistry[] = [];
    const create = async (apps: readonly DefinedApplication[]): Promise<ApplicationRegistry> => {
      const r = await factory.create(apps);
      made.push(r);
      return r;
    };
    afterEach(async () => {
      for (const r of made.splice(0)) await factory.dispose?.(r);
    });
    const it = suiteTest(options);

    it('resolve: every application version name to its tenant and application', async () => {
      const r = await create(APPS);
      for (const a of APPS) for (const v of a.appVersionNames) expect(r.resolve(v)).toEqual({ tenantId: a.tenantId, appName: a.appName });
    });

    it('settings: consentRequired as defined, false when not given', async () => {
      const r = await create(APPS);
      expect(r.settings('acme', 'kettle')).toEqual({ consentRequired: true });
      expect(r.settings('acme', 'toaster')).toEqual({ consentRequired: false });
      expect(r.settings('acme', 'lamp')).toEqual({ consentRequired: false });
      expect(r.settings('globex', 'oven')).toEqual({ consentRequired: true });
      expect(r.settings('globex.eu', 'fridge')).toEqual({ consentRequired: false });
    });

    it('tenantsWithApp: the tenants that have an application of that name', async () => {
      const r = await create(APPS);
      expect(sorted(r.tenantsWithApp('kettle'))).toEqual(['acme']);
      expect(sorted(r.tenantsWithApp('fridge'))).toEqual(['globex.eu']);
    });

    it("applications: a tenant's applications, each once, with settings and version names; agreeing with the other methods", async () => {
      const r = await create(APPS);
      expect(byName(r.applications('acme'))).toEqual({
        kettle: { consentRequired: true, appVersionNames: ['acme-kettle-v1', 'acme-kettle-v2'] },
        toaster: { consentRequired: false, appVersionNames: ['acme-toaster-v1'] },
        lamp: { consentRequired: false, appVersionNames: ['acme-lamp-v1'] },
      });
      expect(byName(r.applications('globex'))).toEqual({ oven: { consentRequired: true, appVersionNames: ['globex-oven-v1'] } });
      expect(byName(r.applications('globex.eu'))).toEqual({ fridge: { consentRequired: false, appVersionNames: [] } });
      expectAgreement(r, APPS);
    });

    it('the same application name in two tenants is two unrelated entries', async () => {
      const r = await create(SHARED_NAME);
      expect(sorted(r.tenantsWithApp('kettle'))).toEqual(['acme', 'globex']);
      expect(r.settings('acme', 'kettle')).toEqual({ consentRequired: true });
      expect(r.settings('globex', 'kettle')).toEqual({ consentRequired: false });
      expect(r.resolve('acme-kettle-v1')).toEqual({ tenantId: 'acme', appName: 'kettle' });
      expect(r.resolve('globex-kettle-v2')).toEqual({ tenantId: 'globex', appName: 'kettle' });
      expect(byName(r.applications('acme'))).toEqual({ kettle: { consentRequired: true, appVersionNames: ['acme-kettle-v1'] } });
      expect(byName(r.applications('globex'))).toEqual({
        kettle: { consentRequired: false, appVersionNames: ['globex-kettle-v1', 'globex-kettle-v2'] },
        oven: { consentRequired: false, appVersionNames: ['globex-oven-v1'] },
      });
      expect(r.settings('acme', 'oven')).toBeUndefined();
      expectAgreement(r, SHARED_NAME);
    });

    it('unknown names are undefined or empty, never an error', async () => {
      const r = await create(APPS);
      expect(r.resolve('nope-v1')).toBeUndefined();
      expect(r.resolve('')).toBeUndefined();
      expect(r.settings('acme', 'nope')).toBeUndefined();
      expect(r.settings('nobody', 'kettle')).toBeUndefined();
      expect(r.settings('globex', 'kettle')).toBeUndefined(); // an application of another tenant
      expect(r.tenantsWithApp('nope')).toEqual([]);
      expect(r.applications('nobody')).toEqual([]);
    });

    it('an empty definition: nothing is known, nothing throws', async () => {
      const r = await create([]);
      expect(r.resolve('acme-kettle-v1')).toBeUndefined();
      expect(r.settings('acme', 'kettle')).toBeUndefined();
      expect(r.tenantsWithApp('kettle')).toEqual([]);
      expect(r.applications('acme')).toEqual([]);
    });

    const unloadedTitle = 'before the first load every method throws dependency.unavailable';
    it(unloadedTitle, async () => {
      if (!factory.beforeFirstLoad) throw new Error(`${name}: give the factory beforeFirstLoad, or skip "${unloadedTitle}" with a reason`);
      const r = await factory.beforeFirstLoad(APPS);
      made.push(r);
      const code = (f: () => unknown): unknown => {
        try {
          f();
          return 'no error';
        } catch (e) {
          return isOtaoError(e) ? e.code : e;
        }
      };
      expect(code(() => r.resolve('acme-kettle-v1'))).toBe('dependency.unavailable');
      expect(code(() => r.resolve('nope-v1'))).toBe('dependency.unavailable');
      expect(code(() => r.settings('acme', 'kettle'))).toBe('dependency.unavailable');
      expect(code(() => r.tenantsWithApp('kettle'))).toBe('dependency.unavailable');
      expect(code(() => r.applications('acme'))).toBe('dependency.unavailable');
    });
  });
}
