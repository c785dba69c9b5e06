// The local applications file (spec §7): Kaa's shape and OTAO's per-tenant shape, in one file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtaoError } from '@otao/core';
import { loadApplicationsFile, MutableApplicationRegistry, parseApplications, RegistryLoadError } from '../src';

const fileWith = (lines: readonly string[]): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'otao-apps-')), 'apps.yaml');
  writeFileSync(file, lines.join('\n'));
  return file;
};

const problemsOf = (f: () => unknown): readonly string[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof RegistryLoadError) return e.problems;
    throw e;
  }
  throw new Error('no RegistryLoadError');
};

describe('per-tenant shape kaa.tenants.<tenantId>.applications', () => {
  test('two tenants each have an application of the same name; both shapes in one file', () => {
    const file = fileWith([
      'kaa:',
      '  applications:',
      '    toaster:', // Kaa's shape, default tenant
      '      versions:',
      '        toaster-v1: {}',
      '    blender:',
      '      tenantId: acme',
      '      versions:',
      '        blender-v1: {}',
      '  tenants:',
      '    acme:',
      '      applications:',
      '        kettle:',
      '          consentRequired: true',
      '          versions:',
      '            acme-kettle-v1: {}',
      '            acme-kettle-v2: {}',
      '    globex:',
      '      applications:',
      '        kettle:',
      '          versions:',
      '            globex-kettle-v1: {}',
      '        empty: {}',
    ]);
    const r = new MutableApplicationRegistry();
    r.replace({}, loadApplicationsFile(file, 'default'));
    expect(r.resolve('acme-kettle-v2')).toEqual({ tenantId: 'acme', appName: 'kettle' });
    expect(r.resolve('globex-kettle-v1')).toEqual({ tenantId: 'globex', appName: 'kettle' });
    expect(r.resolve('toaster-v1')).toEqual({ tenantId: 'default', appName: 'toaster' });
    expect(r.resolve('blender-v1')).toEqual({ tenantId: 'acme', appName: 'blender' });
    expect(r.settings('acme', 'kettle')).toEqual({ consentRequired: true });
    expect(r.settings('globex', 'kettle')).toEqual({ consentRequired: false });
    expect(r.settings('globex', 'empty')).toEqual({ consentRequired: false });
    expect([...r.tenantsWithApp('kettle')].sort()).toEqual(['acme', 'globex']);
    const byName = (t: string) => [...r.applications(t)].sort((a, b) => (a.appName < b.appName ? -1 : 1));
    expect(byName('acme')).toEqual([
      { appName: 'blender', settings: { consentRequired: false }, appVersionNames: ['blender-v1'] },
      { appName: 'kettle', settings: { consentRequired: true }, appVersionNames: ['acme-kettle-v1', 'acme-kettle-v2'] },
    ]);
    expect(byName('globex')).toEqual([
      { appName: 'empty', settings: { consentRequired: false }, appVersionNames: [] },
      { appName: 'kettle', settings: { consentRequired: false }, appVersionNames: ['globex-kettle-v1'] },
    ]);
    expect(r.applications('default').map((a) => a.appName)).toEqual(['toaster']);
    expect(r.applications('nobody')).toEqual([]);
  });

  test('the per-tenant shape alone (JSON) is enough', () => {
    const { entries, problems } = parseApplications({ kaa: { tenants: { acme: { applications: { kettle: { versions: { 'kettle-v1': {} } } } } } } }, 'default');
    expect(problems).toEqual([]);
    expect(entries).toEqual([{ tenantId: 'acme', appName: 'kettle', consentRequired: false, appVersionNames: ['kettle-v1'] }]);
    expect(parseApplications({ kaa: {} }, 'default').problems).toEqual(['kaa.applications (or kaa.tenants.<tenantId>.applications): missing']);
  });

  test('an application version name used twice is refused, naming both places', () => {
    // across tenants of the per-tenant shape
    const acrossTenants = parseApplications(
      { kaa: { tenants: { acme: { applications: { kettle: { versions: { v1: {} } } } }, globex: { applications: { kettle: { versions: { v1: {} } } } } } } },
      'default',
    ).problems;
    expect(acrossTenants).toEqual([
      'application version "v1" is used twice: at kaa.tenants.acme.applications.kettle.versions.v1 and at kaa.tenants.globex.applications.kettle.versions.v1 (an application version name belongs to one application)',
    ]);
    // across the two shapes
    const acrossShapes = parseApplications(
      { kaa: { applications: { toaster: { versions: { v1: {} } } }, tenants: { acme: { applications: { kettle: { versions: { v1: {} } } } } } } },
      'default',
    ).problems;
    expect(acrossShapes).toHaveLength(1);
    expect(acrossShapes[0]).toContain('at kaa.applications.toaster.versions.v1 and at kaa.tenants.acme.applications.kettle.versions.v1');
    // within Kaa's shape
    const withinKaa = parseApplications({ kaa: { applications: { a: { versions: { v1: {} } }, b: { versions: { v1: {} } } } } }, 'default').problems;
    expect(withinKaa.join()).toContain('at kaa.applications.a.versions.v1 and at kaa.applications.b.versions.v1');
    // the file is refused as a whole
    const file = fileWith([
      'kaa:',
      '  applications:',
      '    toaster:',
      '      versions:',
      '        v1: {}',
      '  tenants:',
      '    acme:',
      '      applications:',
      '        kettle:',
      '          versions:',
      '            v1: {}',
    ]);
    expect(problemsOf(() => loadApplicationsFile(file, 'default'))).toEqual([
      'application version "v1" is used twice: at kaa.applications.toaster.versions.v1 and at kaa.tenants.acme.applications.kettle.versions.v1 (an application version name belongs to one application)',
    ]);
  });

  test('one application of one tenant defined in both shapes is refused, naming both places', () => {
    const { problems } = parseApplications(
      {
        kaa: {
          applications: { kettle: { tenantId: 'acme', versions: { 'kettle-v1': {} } } },
          tenants: { acme: { applications: { kettle: { versions: { 'kettle-v2': {} } } } } },
        },
      },
      'default',
    );
    expect(problems).toEqual([
      'application "kettle" of tenant "acme" is defined twice: at kaa.applications.kettle and at kaa.tenants.acme.applications.kettle',
    ]);
    // the default tenant counts as the tenant of a Kaa-shape application without tenantId
    const viaDefault = parseApplications({ kaa: { applications: { kettle: {} }, tenants: { default: { applications: { kettle: {} } } } } }, 'default').problems;
    expect(viaDefault).toHaveLength(1);
    // but the same name in another tenant is fine
    expect(
      parseApplications({ kaa: { applications: { kettle: { tenantId: 'acme' } }, tenants: { globex: { applications: { kettle: {} } } } } }, 'default').problems,
    ).toEqual([]);
  });

  test('every problem of the per-tenant shape is reported at once, with its place', () => {
    const { problems } = parseApplications(
      {
        kaa: {
          tenants: {
            'bad tenant': { applications: {} },
            acme: { applications: { 'Bad App': {}, kettle: { tenantId: 'globex', consentRequired: 'yes', versions: { 'V 1': {} } } }, settings: {} },
            globex: { applications: [] },
            initech: 'x',
          },
        },
      },
      'default',
    );
    expect([...problems].sort()).toEqual(
      [
        'kaa.tenants.bad tenant: must be a tenant id (A-Z, a-z, 0-9, ".", "-", "_")',
        'kaa.tenants.acme.settings: unknown key (only "applications")',
        'kaa.tenants.acme.applications.Bad App: application name must match ^[a-z0-9_-]+$',
        'kaa.tenants.acme.applications.kettle.tenantId: must be absent or "acme" (the tenant of kaa.tenants.acme)',
        'kaa.tenants.acme.applications.kettle.consentRequired: must be true or false',
        'kaa.tenants.acme.applications.kettle.versions.V 1: application version names use a-z, 0-9, "-" and "_"',
        'kaa.tenants.globex.applications: must be a map of application name to settings',
        'kaa.tenants.initech: must be a map with "applications"',
      ].sort(),
    );
    expect(parseApplications({ kaa: { tenants: [] } }, 'default').problems).toEqual(['kaa.tenants: must be a map of tenant id to {applications}']);
    // a tenantId equal to the enclosing tenant is tolerated
    expect(parseApplications({ kaa: { tenants: { acme: { applications: { kettle: { tenantId: 'acme' } } } } } }, 'default').problems).toEqual([]);
  });
});

describe('MutableApplicationRegistry.applications', () => {
  test("a tenant's applications only, kept in step with replace; dependency.unavailable before the first load", () => {
    const r = new MutableApplicationRegistry({ loaded: false });
    expect(() => r.applications('acme')).toThrow(OtaoError);
    r.replace({}, [
      { tenantId: 'acme', appName: 'kettle', consentRequired: true, appVersionNames: ['k1'] },
      { tenantId: 'globex', appName: 'kettle', consentRequired: false, appVersionNames: ['k2'] },
    ]);
    r.markLoaded();
    expect(r.applications('acme')).toEqual([{ appName: 'kettle', settings: { consentRequired: true }, appVersionNames: ['k1'] }]);
    r.replace({ tenantId: 'acme' }, []);
    expect(r.applications('acme')).toEqual([]);
    expect(r.applications('globex')).toEqual([{ appName: 'kettle', settings: { consentRequired: false }, appVersionNames: ['k2'] }]);
  });
});
