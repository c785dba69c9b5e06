// The ApplicationRegistry contract suite (packages/contract-tests) on both sources of this package:
// the local file (OTAO_APPLICATIONS_FILE, per-tenant shape, loaded as apps/server loads it) and
// Tekton (TektonApplicationRegistry over FakeTekton's HTTP endpoints).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApplicationRegistry } from '@otao/core';
import { applicationRegistryContract, type DefinedApplication } from '@otao/contract-tests';
import { stringify } from 'yaml';
import { loadApplicationsFile, MutableApplicationRegistry, TektonApplicationRegistry, TektonClient } from '../src';
import { FakeTekton } from '../src/testing';

jest.setTimeout(30_000);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `kaa.tenants.<tenantId>.applications.<appName>.{consentRequired, versions}`; consentRequired only when defined. */
function perTenantDocument(apps: readonly DefinedApplication[]): unknown {
  const tenants: Record<string, { applications: Record<string, unknown> }> = {};
  for (const a of apps) {
    const t = (tenants[a.tenantId] ??= { applications: {} });
    t.applications[a.appName] = {
      ...(a.consentRequired !== undefined ? { consentRequired: a.consentRequired } : {}),
      versions: Object.fromEntries(a.appVersionNames.map((v) => [v, {}])),
    };
  }
  return { kaa: { tenants } };
}

applicationRegistryContract(
  'local file (per-tenant YAML)',
  {
    create: async (apps) => {
      const dir = mkdtempSync(join(tmpdir(), 'otao-registry-contract-'));
      dirs.push(dir);
      const file = join(dir, 'applications.yaml');
      writeFileSync(file, stringify(perTenantDocument(apps)));
      // As apps/server does it (server.ts): read once at start, before the core gets the registry.
      const registry = new MutableApplicationRegistry();
      registry.replace({}, loadApplicationsFile(file, 'default'));
      return registry;
    },
  },
  {
    skip: {
      'before the first load every method throws dependency.unavailable':
        'the file is read before the registry exists (apps/server); a file that cannot be read stops the server, so this registry is never seen unloaded',
    },
  },
);

const tekton = new Map<ApplicationRegistry, { fake: FakeTekton; reg: TektonApplicationRegistry }>();
async function tektonRegistry(apps: readonly DefinedApplication[], down: boolean): Promise<ApplicationRegistry> {
  const fake = new FakeTekton();
  await fake.start();
  for (const a of apps)
    fake.apps.set(a.appName, {
      tenantId: a.tenantId,
      versions: [...a.appVersionNames],
      ...(a.consentRequired !== undefined ? { consentRequired: a.consentRequired } : {}),
    });
  if (down) fake.failWith = 503;
  const reg = new TektonApplicationRegistry(new TektonClient({ url: fake.url, instanceName: 'otao', defaultTenant: 'default', token: async () => 'svc' }), {
    retryBaseMs: 50,
    retryMaxMs: 100,
  });
  await reg.start(); // resolves after the first attempt, loaded or not
  expect(reg.loaded).toBe(!down);
  tekton.set(reg.registry, { fake, reg });
  return reg.registry;
}

applicationRegistryContract(
  'Tekton (FakeTekton)',
  {
    create: async (apps) => tektonRegistry(apps, false),
    beforeFirstLoad: async (apps) => tektonRegistry(apps, true),
    dispose: async (registry) => {
      const t = tekton.get(registry);
      tekton.delete(registry);
      t?.reg.stop();
      await t?.fake.stop();
    },
  },
  {
    skip: {
      'the same application name in two tenants is two unrelated entries':
        "Tekton's full-load body (docs/tekton-config.md) is Kaa's shape kaa.applications.<app>, which names each application once: it cannot give two tenants an application of the same name",
    },
  },
);
