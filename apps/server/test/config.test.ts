import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, describeConfig, loadConfig, redactUrl, secretsOf } from '../src/config';
import { secretScrubber } from '../src/logger';
import { createSecurity } from '../src/security';

const appsFile = join(mkdtempSync(join(tmpdir(), 'otao-cfg-apps-')), 'apps.yaml');
writeFileSync(appsFile, 'kaa:\n  applications: {}\n');
const base = { OTAO_SECURITY_IGNORED: '/**', OTAO_APPLICATIONS_FILE: appsFile };

test('defaults of spec §9', () => {
  const c = loadConfig(base);
  expect(c).toMatchObject({
    httpPort: 8080,
    instanceName: 'otao',
    nats: { urls: ['nats://127.0.0.1:4222'] },
    softwareConsumerInstance: 'cmx-ota',
    eprInstance: 'epr',
    tenantManagerInstance: 'tenant-manager',
    mongo: { database: 'otao' },
    s3: { enabled: false, region: 'us-east-1', forcePathStyle: false, urlPath: 'link', urlTtlSeconds: 3600, maxFileBytes: 2147483648 },
    security: { off: true, defaultTenant: 'default', authzMode: 'rpt' },
    tekton: { enabled: false, url: 'http://tekton', scmpProviderInstance: 'tekton' },
    pushRatePerSecond: 0,
    eventRetrySeconds: 600,
    specMaxBytes: 262144,
    auditRetentionDays: 400,
    logLevel: 'info',
    console: { enabled: true, clientId: 'otao-console' },
  });
  expect(c.replicaId).toMatch(/^[A-Za-z0-9_-]+-[0-9a-f]{8}$/);
  expect(Object.isFrozen(c.s3)).toBe(true);
});

test('every wrong variable is named, all at once', () => {
  let error: unknown;
  try {
    loadConfig({
      OTAO_HTTP_PORT: '99999',
      OTAO_SERVICE_INSTANCE_NAME: 'otao.prod',
      OTAO_NATS_URLS: 'http://x',
      OTAO_S3_ENABLED: 'maybe',
      OTAO_S3_URL_TTL_SECONDS: '-1',
      OTAO_AUTHZ_MODE: 'magic',
      OTAO_LOG_LEVEL: 'loud',
      OTAO_MONGODB_URI: 'postgres://x',
      OTAO_PUSH_RATE_PER_SECOND: 'fast',
      OTAO_TENANTS: '{',
      OTAO_OAUTH_CLIENT_ID: 'otao',
    });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const text = (error as ConfigError).problems.join('\n');
  for (const v of [
    'OTAO_HTTP_PORT',
    'OTAO_SERVICE_INSTANCE_NAME',
    'OTAO_NATS_URLS',
    'OTAO_S3_ENABLED',
    'OTAO_S3_URL_TTL_SECONDS',
    'OTAO_AUTHZ_MODE',
    'OTAO_LOG_LEVEL',
    'OTAO_MONGODB_URI',
    'OTAO_PUSH_RATE_PER_SECOND',
    'OTAO_TENANTS',
    'OTAO_OAUTH_CLIENT_SECRET',
    'OTAO_APPLICATIONS_FILE',
  ]) {
    expect(text).toContain(v);
  }
});

test('the console (spec §11): OTAO_CONSOLE_ENABLED and OTAO_CONSOLE_CLIENT_ID', () => {
  expect(loadConfig({ ...base, OTAO_CONSOLE_ENABLED: 'false', OTAO_CONSOLE_CLIENT_ID: 'ops-console' }).console).toEqual({
    enabled: false,
    clientId: 'ops-console',
  });
  expect(() => loadConfig({ ...base, OTAO_CONSOLE_ENABLED: 'maybe', OTAO_CONSOLE_CLIENT_ID: 'has space' })).toThrow(
    /OTAO_CONSOLE_CLIENT_ID: "has space"[\s\S]*OTAO_CONSOLE_ENABLED: "maybe" must be true or false/,
  );
});

test('a missing applications file is a configuration problem', () => {
  expect(() => loadConfig({ ...base, OTAO_APPLICATIONS_FILE: '/nonexistent/apps.yaml' })).toThrow(
    /OTAO_APPLICATIONS_FILE: \/nonexistent\/apps.yaml does not exist/,
  );
});

test('security needs a tenant source; S3 needs a bucket; uma needs the client id', () => {
  const problems = (env: Record<string, string>): string => {
    try {
      loadConfig(env);
      return '';
    } catch (e) {
      return (e as ConfigError).problems.join('\n');
    }
  };
  expect(problems({ OTAO_APPLICATIONS_FILE: appsFile })).toContain('OTAO_TENANTS or OTAO_TENANT_MANAGER_URL');
  expect(problems({ ...base, OTAO_S3_ENABLED: 'true' })).toContain('OTAO_S3_BUCKET');
  expect(problems({ OTAO_APPLICATIONS_FILE: appsFile, OTAO_TENANTS: '[{"id":"a","issuer":"https://kc/realms/a"}]', OTAO_AUTHZ_MODE: 'uma' })).toContain(
    'OTAO_OAUTH_CLIENT_ID',
  );
  expect(problems({ OTAO_APPLICATIONS_FILE: appsFile, OTAO_TENANT_MANAGER_URL: 'http://tm' })).toContain('OTAO_OAUTH_ISSUER');
});

test("a client for OTAO's own calls needs its issuer whenever Tekton or the Tenant Manager is called (no token-less calls)", () => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (e) {
      return [...(e as ConfigError).problems];
    }
  };
  const tenants = { OTAO_TENANTS: '[{"id":"a","issuer":"https://kc/realms/a"}]' };
  const client = { OTAO_OAUTH_CLIENT_ID: 'otao', OTAO_OAUTH_CLIENT_SECRET: 's3cr3t' };
  const tekton = { OTAO_TEKTON_ENABLED: 'true' };
  // OTAO_TENANTS with Tekton: the client was silently ignored without an issuer.
  const withTekton = problems({ ...tenants, ...client, ...tekton });
  expect(withTekton).toEqual([
    expect.stringMatching(/^OTAO_OAUTH_ISSUER: required with OTAO_OAUTH_CLIENT_ID\/OTAO_OAUTH_CLIENT_SECRET and OTAO_TEKTON_ENABLED=true/),
  ]);
  // Authentication off does not change that: Tekton is still called.
  expect(problems({ OTAO_SECURITY_IGNORED: '/**', ...client, ...tekton }).join('\n')).toContain('OTAO_OAUTH_ISSUER: required');
  // Listed with every other problem at once.
  expect(problems({ ...tenants, ...client, ...tekton, OTAO_HTTP_PORT: 'x' }).map((p) => p.split(':')[0])).toEqual(['OTAO_OAUTH_ISSUER', 'OTAO_HTTP_PORT']);
  // Given, the client is used: Tekton gets a client-credentials token.
  const cfg = loadConfig({ ...tenants, ...client, ...tekton, OTAO_OAUTH_ISSUER: 'https://kc/realms/kaa' });
  expect(createSecurity(cfg).tokens).toBeDefined();
  // A client only for UMA decisions (no Tekton, no Tenant Manager) needs no issuer.
  expect(problems({ ...tenants, ...client, OTAO_APPLICATIONS_FILE: appsFile, OTAO_AUTHZ_MODE: 'uma' })).toEqual([]);
});

test('a YAML file with Kaa keys sets values; the environment wins; secrets are redacted when described', () => {
  const dir = mkdtempSync(join(tmpdir(), 'otao-cfg-'));
  const file = join(dir, 'otao.yaml');
  writeFileSync(
    file,
    [
      'server:',
      '  port: 9090',
      'kaa:',
      '  service-instance:',
      '    name: otao-eu',
      '  applications:',
      '    kettle:',
      '      tenantId: acme',
      '      versions:',
      '        kettle-v1: {}',
      'security:',
      '  ignored: /**',
      'nats:',
      '  urls: [nats://a:4222, nats://b:4222]',
      'OTAO_MONGODB_URI: mongodb://user:secret@db:27017',
    ].join('\n'),
  );
  const c = loadConfig({ OTAO_CONFIG_FILE: file, OTAO_HTTP_PORT: '7070' });
  expect(c.httpPort).toBe(7070);
  expect(c.instanceName).toBe('otao-eu');
  expect(c.nats.urls).toEqual(['nats://a:4222', 'nats://b:4222']);
  expect(c.security.off).toBe(true);
  expect(c.inlineApplications).toEqual({ kaa: { applications: { kettle: { tenantId: 'acme', versions: { 'kettle-v1': {} } } } } });
  expect(JSON.stringify(describeConfig(c))).not.toContain('secret');
  writeFileSync(file, 'bogus:\n  key: 1\n');
  expect(() => loadConfig({ ...base, OTAO_CONFIG_FILE: file })).toThrow(/unknown key "bogus.key"/);
});

test('an S3 endpoint with credentials in its URL is described (logged) without them', () => {
  const c = loadConfig({ ...base, OTAO_S3_ENABLED: 'true', OTAO_S3_BUCKET: 'firmware', OTAO_S3_ENDPOINT: 'http://AKIDEXAMPLE:s3cr3tKey@minio:9000' });
  const text = JSON.stringify(describeConfig(c));
  expect(text).not.toMatch(/s3cr3tKey|AKIDEXAMPLE/);
  expect(text).toContain('minio:9000');
});

describe('credentials inside configured URLs are never logged', () => {
  test.each([
    ['http://tm-user:tm-pass@tm:8080/base', 'http://***@tm:8080/base'],
    ['https://tekton/api?token=abc123&tenant=x', 'https://tekton/api?token=***&tenant=***'],
    ['http://u:p@s3.local:9000/?X-Amz-Security-Token=zzz#frag', 'http://***@s3.local:9000/?X-Amz-Security-Token=***#***'],
    ['mongodb://otao:p@ss/w0rd@db-0,db-1/?replicaSet=rs0&w=majority', 'mongodb://***@db-0,db-1/?replicaSet=***&w=***'],
    ['nats://user:a/b@host:4222', 'nats://***@host:4222'],
    ['not a url?secret=1', 'not a url?secret=***'],
    ['http://plain:8080/path', 'http://plain:8080/path'],
  ])('redactUrl(%j) = %j', (raw, shown) => {
    expect(redactUrl(raw)).toBe(shown);
  });

  const secretEnv = {
    OTAO_APPLICATIONS_FILE: appsFile,
    OTAO_TENANT_MANAGER_URL: 'http://tmuser:TM-PASSWORD@tm.local:8080/?token=TM-QUERY-TOKEN',
    OTAO_TEKTON_URL: 'https://tkuser:TK-PASSWORD@tekton.local/?access_token=TK-QUERY-TOKEN',
    OTAO_S3_ENDPOINT: 'http://s3user:S3-PASSWORD@s3.local:9000/?X-Amz-Security-Token=S3-QUERY-TOKEN',
    OTAO_OAUTH_ISSUER: 'https://kc.local/realms/kaa?client_secret=ISSUER-QUERY-SECRET',
    OTAO_OAUTH_CLIENT_ID: 'otao',
    OTAO_OAUTH_CLIENT_SECRET: 'CLIENT-SECRET',
    OTAO_MONGODB_URI: 'mongodb://otao:MONGO-PASSWORD@db:27017/?authSource=admin',
    OTAO_NATS_URLS: 'nats://natsuser:NATS-URL-PASSWORD@nats:4222',
    NATS_PASSWORD: 'NATS-PASSWORD',
  };
  const SECRETS = [
    'TM-PASSWORD',
    'TM-QUERY-TOKEN',
    'TK-PASSWORD',
    'TK-QUERY-TOKEN',
    'S3-PASSWORD',
    'S3-QUERY-TOKEN',
    'ISSUER-QUERY-SECRET',
    'CLIENT-SECRET',
    'MONGO-PASSWORD',
    'NATS-URL-PASSWORD',
    'NATS-PASSWORD',
  ];

  test('describeConfig shows every URL redacted; secretsOf lists every secret', () => {
    const c = loadConfig(secretEnv);
    const shown = JSON.stringify(describeConfig(c));
    for (const s of SECRETS) expect(shown).not.toContain(s);
    expect(shown).toContain('"tenantManagerUrl":"http://***@tm.local:8080/?token=***"');
    expect(shown).toContain('"url":"https://***@tekton.local/?access_token=***"');
    expect(shown).toContain('"endpoint":"http://***@s3.local:9000/?X-Amz-Security-Token=***"');
    expect(secretsOf(c)).toEqual(expect.arrayContaining(SECRETS));
  });

  test('the logger scrubs the configuration secrets from every line, whatever field or message carries them', () => {
    const c = loadConfig(secretEnv);
    const scrub = secretScrubber(secretsOf(c));
    const line = JSON.stringify({ msg: `fetch ${c.tekton.url} failed`, err: { message: `connect ${c.security.tenantManagerUrl}`, cause: c.s3.endpoint } });
    const out = scrub(line);
    for (const s of SECRETS) expect(out).not.toContain(s);
    expect(JSON.parse(out)).toMatchObject({ msg: 'fetch https://tkuser:***@tekton.local/?access_token=*** failed' });
    // JSON-escaped forms too
    expect(secretScrubber(['a"b\\c-secret'])(JSON.stringify({ m: 'x a"b\\c-secret y' }))).toBe('{"m":"x *** y"}');
  });

  test('a bad URL in a configuration error is redacted', () => {
    try {
      loadConfig({ ...base, OTAO_TEKTON_URL: 'ftp://u:FTP-PASSWORD@h/?token=FTP-TOKEN' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect((e as Error).message).toContain('OTAO_TEKTON_URL: "ftp://***@h/?token=***" must use http: or https:');
      expect((e as Error).message).not.toMatch(/FTP-PASSWORD|FTP-TOKEN/);
    }
  });
});

test('applications inline in the YAML file: the per-tenant shape kaa.tenants, alone or beside kaa.applications (spec §7)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'otao-cfg-'));
  const file = join(dir, 'otao.yaml');
  const tenants = ['  tenants:', '    acme:', '      applications:', '        kettle:', '          versions:', '            acme-kettle-v1: {}'];
  writeFileSync(file, ['kaa:', ...tenants].join('\n'));
  const alone = loadConfig({ OTAO_SECURITY_IGNORED: '/**', OTAO_CONFIG_FILE: file });
  expect(alone.inlineApplications).toEqual({ kaa: { tenants: { acme: { applications: { kettle: { versions: { 'acme-kettle-v1': {} } } } } } } });
  writeFileSync(file, ['kaa:', '  applications:', '    kettle:', '      versions:', '        kettle-v1: {}', ...tenants].join('\n'));
  const both = loadConfig({ OTAO_SECURITY_IGNORED: '/**', OTAO_CONFIG_FILE: file });
  expect(both.inlineApplications).toEqual({
    kaa: {
      applications: { kettle: { versions: { 'kettle-v1': {} } } },
      tenants: { acme: { applications: { kettle: { versions: { 'acme-kettle-v1': {} } } } } },
    },
  });
});

test('OTAO_EXACT_COUNTS_BELOW and OTAO_COUNTS_MAX_AGE_MS: defaults 20000 and 60000, bounded whole numbers', () => {
  expect(loadConfig(base)).toMatchObject({ exactCountsBelow: 20_000, countsMaxAgeMs: 60_000 });
  expect(loadConfig({ ...base, OTAO_EXACT_COUNTS_BELOW: '500', OTAO_COUNTS_MAX_AGE_MS: '5000' })).toMatchObject({
    exactCountsBelow: 500,
    countsMaxAgeMs: 5000,
  });
  for (const bad of ['0', '-1', 'many', '2.5'])
    expect(() => loadConfig({ ...base, OTAO_EXACT_COUNTS_BELOW: bad })).toThrow(/OTAO_EXACT_COUNTS_BELOW: .* must be an integer from 1 to/);
  for (const bad of ['999', 'soon', '86400001'])
    expect(() => loadConfig({ ...base, OTAO_COUNTS_MAX_AGE_MS: bad })).toThrow(/OTAO_COUNTS_MAX_AGE_MS: .* must be an integer from 1000 to 86400000/);
});

test('OTAO_AUDIT_RETENTION_DAYS: default 400, a whole number of days from 1 to 36500', () => {
  expect(loadConfig({ ...base, OTAO_AUDIT_RETENTION_DAYS: '30' }).auditRetentionDays).toBe(30);
  for (const bad of ['0', '-5', 'forever', '1.5', '36501']) {
    expect(() => loadConfig({ ...base, OTAO_AUDIT_RETENTION_DAYS: bad })).toThrow(/OTAO_AUDIT_RETENTION_DAYS: .* must be an integer from 1 to 36500/);
  }
});
