import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { startNats, type NatsServer } from '@otao/test-services';
import type { AppRef } from '@otao/core';
import {
  loadApplicationsFile,
  MutableApplicationRegistry,
  parseApplications,
  RegistryLoadError,
  ScmpCodecs,
  ScmpListener,
  TektonApplicationRegistry,
  TektonClient,
} from '../src';
import { FakeTekton } from '../src/testing';

describe('local applications file', () => {
  test('Kaa shape: tenants, consent, versions; default tenant', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otao-apps-'));
    const file = join(dir, 'apps.yaml');
    writeFileSync(
      file,
      [
        'kaa:',
        '  applications:',
        '    kettle:',
        '      tenantId: acme',
        '      consentRequired: true',
        '      versions:',
        '        kettle-v1: {}',
        '        kettle-v2: {}',
        '    toaster:',
        '      versions:',
        '        toaster-v1: {}',
      ].join('\n'),
    );
    const r = new MutableApplicationRegistry();
    r.replace({}, loadApplicationsFile(file, 'default'));
    expect(r.resolve('kettle-v2')).toEqual({ tenantId: 'acme', appName: 'kettle' });
    expect(r.settings('acme', 'kettle')).toEqual({ consentRequired: true });
    expect(r.resolve('toaster-v1')).toEqual({ tenantId: 'default', appName: 'toaster' });
    expect(r.settings('default', 'toaster')).toEqual({ consentRequired: false });
    expect(r.resolve('nope')).toBeUndefined();
    writeFileSync(file, '{"kaa":{"applications":{"Bad App":{"consentRequired":"yes","versions":{"V 1":{}}}}}}');
    expect(() => loadApplicationsFile(file, 'default')).toThrow(RegistryLoadError);
    try {
      loadApplicationsFile(file, 'default');
    } catch (e) {
      expect((e as RegistryLoadError).problems.length).toBe(3);
    }
  });

  test('an application version in two applications is refused', () => {
    const { problems } = parseApplications({ kaa: { applications: { a: { versions: { v1: {} } }, b: { versions: { v1: {} } } } } }, 'default');
    expect(problems.join()).toContain('"v1" is used twice');
  });

  test('replace reports changed applications per scope', () => {
    const r = new MutableApplicationRegistry();
    const e = (tenantId: string, appName: string, consentRequired = false, v = [`${appName}-v1`]) => ({
      tenantId,
      appName,
      consentRequired,
      appVersionNames: v,
    });
    expect(r.replace({}, [e('t1', 'a'), e('t2', 'b')]).changed).toHaveLength(2);
    expect(r.replace({}, [e('t1', 'a'), e('t2', 'b')]).changed).toHaveLength(0);
    expect(r.replace({ tenantId: 't1', appName: 'a' }, [e('t1', 'a', true)]).changed).toEqual([{ tenantId: 't1', appName: 'a' }]);
    expect(r.replace({ tenantId: 't2' }, []).changed).toEqual([{ tenantId: 't2', appName: 'b' }]);
    expect(r.resolve('b-v1')).toBeUndefined();
    expect(r.settings('t1', 'a')).toEqual({ consentRequired: true });
  });
});

describe('Tekton registry reloaded by 17/SCMP over a real NATS server', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let tekton: FakeTekton;
  let reg: TektonApplicationRegistry;
  let listener: ScmpListener;
  const changes: AppRef[][] = [];
  const invalid: string[] = [];

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    tekton = new FakeTekton();
    await tekton.start();
    tekton.apps.set('kettle', { tenantId: 'acme', versions: ['kettle-v1'] });
    tekton.apps.set('toaster', { tenantId: 'beta', versions: ['toaster-v1'] });
    reg = new TektonApplicationRegistry(new TektonClient({ url: tekton.url, instanceName: 'otao', defaultTenant: 'default', token: async () => 'svc' }), {
      onChanged: (c) => changes.push([...c]),
      retryBaseMs: 50,
      retryMaxMs: 200,
    });
    listener = new ScmpListener({
      instanceName: 'otao',
      providerInstanceName: 'tekton',
      onNotification: (s) => reg.notify(s),
      onInvalid: (subject) => invalid.push(subject),
    });
    listener.start(nc);
    await nc.flush();
    await reg.start();
  });
  afterAll(async () => {
    listener.stop();
    reg.stop();
    await nc.close();
    await tekton.stop();
    await nats.stop();
  });

  const until = async (cond: () => boolean): Promise<void> => {
    const end = Date.now() + 5000;
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(cond()).toBe(true);
  };

  test('start loads everything', () => {
    expect(reg.loaded).toBe(true);
    expect(reg.registry.resolve('kettle-v1')).toEqual({ tenantId: 'acme', appName: 'kettle' });
    expect(tekton.requests[0]).toBe('GET /api/v1/app-configs?serviceInstanceName=otao');
  });

  test('a broadcast for one application reloads just that application', async () => {
    tekton.requests = [];
    changes.length = 0;
    tekton.apps.set('kettle', { tenantId: 'acme', consentRequired: true, versions: ['kettle-v1', 'kettle-v2'] });
    tekton.apps.set('toaster', { tenantId: 'beta', consentRequired: true, versions: ['toaster-v1'] }); // not reloaded: other scope
    tekton.notify(nc, { tenantId: 'acme', appName: 'kettle' }, { broadcastFrom: 'tekton' });
    await until(() => reg.registry.settings('acme', 'kettle')?.consentRequired === true);
    expect(reg.registry.resolve('kettle-v2')).toEqual({ tenantId: 'acme', appName: 'kettle' });
    expect(reg.registry.settings('beta', 'toaster')?.consentRequired).toBe(false);
    expect(tekton.requests).toEqual(['GET /api/v1/app-configs/applications/kettle?serviceInstanceName=otao&tenantId=acme']);
    expect(changes).toEqual([[{ tenantId: 'acme', appName: 'kettle' }]]);
  });

  test('a targeted notification for a tenant reloads that tenant', async () => {
    tekton.requests = [];
    tekton.notify(nc, { tenantId: 'beta' }, { instance: 'otao' });
    await until(() => reg.registry.settings('beta', 'toaster')?.consentRequired === true);
    expect(tekton.requests).toEqual(['GET /api/v1/app-configs?serviceInstanceName=otao&tenantId=beta']);
  });

  test('a delete of an application removes it', async () => {
    tekton.apps.delete('toaster');
    tekton.notify(nc, { tenantId: 'beta', appName: 'toaster', kind: 'delete' }, { broadcastFrom: 'tekton' });
    await until(() => reg.registry.resolve('toaster-v1') === undefined);
  });

  test('a failed reload keeps the last good registry and retries until Tekton is back', async () => {
    tekton.failWith = 503;
    tekton.apps.set('kettle', { tenantId: 'acme', consentRequired: false, versions: ['kettle-v1'] });
    const failuresBefore = reg.stats.failures;
    tekton.notify(nc, {}, { broadcastFrom: 'tekton' });
    await until(() => reg.stats.failures >= failuresBefore + 2);
    expect(reg.registry.settings('acme', 'kettle')?.consentRequired).toBe(true); // last good
    tekton.failWith = undefined;
    await until(() => reg.registry.settings('acme', 'kettle')?.consentRequired === false);
  });

  test('notifications from another provider instance or garbage are ignored', async () => {
    tekton.apps.set('kettle', { tenantId: 'acme', consentRequired: true, versions: ['kettle-v1'] });
    tekton.notify(nc, { tenantId: 'acme', appName: 'kettle' }, { broadcastFrom: 'other-tekton' });
    nc.publish('kaa.v1.events.tekton.service.configuration.upsert', new Uint8Array([1, 2, 3]));
    await until(() => invalid.length === 1);
    await reg.idle();
    expect(reg.registry.settings('acme', 'kettle')?.consentRequired).toBe(false);
  });
});

describe('17/SCMP test vectors (kaa-protocols.md §11.3)', () => {
  test('broadcast and targeted records encode and decode byte-exactly', () => {
    const b = { correlationId: 'c4', timestamp: 1700000000004, originatorReplicaId: 'tekton-0', tenantID: 't1', appName: 'app', appVerName: null };
    expect(ScmpCodecs.broadcast.toBuffer(b).toString('hex')).toBe('04633488a0abfef9621074656b746f6e2d3002047431020661707000');
    expect(ScmpCodecs.broadcast.fromBuffer(Buffer.from('04633488a0abfef9621074656b746f6e2d3002047431020661707000', 'hex'))).toEqual(b);
    const t = { correlationId: 'c5', timestamp: 1700000000005, tenantID: 't1', appName: 'app', appVerName: null };
    expect(ScmpCodecs.targeted.toBuffer(t).toString('hex')).toBe('0463358aa0abfef962047431020661707000');
    expect(ScmpCodecs.targeted.fromBuffer(Buffer.from('0463358aa0abfef962047431020661707000', 'hex'))).toEqual(t);
  });
});
