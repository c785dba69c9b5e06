// The composition root without I/O, on the BUILT server (Jest cannot load inversify, an ES module;
// the server loads it through Node's require(esm)): the container builds every service once, wired
// to each other; a start that fails while building them (an unreadable applications file) is
// logged and exits with 1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { childEnv, requireBuiltServer } from './support/otao-process';

const DIST = resolve(__dirname, '../dist');
const dir = mkdtempSync(join(tmpdir(), 'otao-container-'));
const appsFile = join(dir, 'apps.yaml');
writeFileSync(appsFile, 'kaa:\n  applications:\n    kettle:\n      versions:\n        kettle-v1: {}\n');
const base = { OTAO_SECURITY_IGNORED: '/**', OTAO_APPLICATIONS_FILE: appsFile, OTAO_LOG_LEVEL: 'silent' };

beforeAll(() => requireBuiltServer());

/** Runs `body` in a Node process with `container` and `config` (the built modules) in scope, with `env` as its configuration; returns what it prints as JSON. */
function inBuiltServer(env: Record<string, string>, body: string): Record<string, unknown> {
  const script = `const container = require(${JSON.stringify(join(DIST, 'container'))});
const { loadConfig } = require(${JSON.stringify(join(DIST, 'config'))});
const out = (() => { ${body} })();
process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-e', script], { env: childEnv(env), encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`the script failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

test('every token resolves to one instance, the same one resolveServices returns; the services are wired to each other', () => {
  const out = inBuiltServer(
    base,
    `const c = container.createContainer(loadConfig());
     const s = container.resolveServices(c);
     const keys = Object.keys(container.TYPES);
     return {
       keys,
       sameInstance: keys.filter((k) => container.resolve(c, k) === s[k] && s[k] === c.get(container.TYPES[k])),
       defined: keys.filter((k) => s[k] !== undefined),
       again: keys.filter((k) => container.resolveServices(c)[k] === s[k]),
       apps: s.registry.registry.entries().map((e) => e.appName),
       loaded: s.registry.registry.loaded,
       tekton: s.registry.tekton !== undefined,
       coreFiles: s.core.files !== undefined,
       work: s.work.localState,
       http: typeof s.http,
       platform: [s.sha256.constructor.name, s.zones.constructor.name],
     };`,
  );
  const keys = ['config', 'log', 'metrics', 'store', 'nats', 'files', 'registry', 'security', 'work', 'sha256', 'zones', 'core', 'ticks', 'http'];
  expect(out['keys']).toEqual(keys);
  expect(out['sameInstance']).toEqual(keys);
  expect(out['again']).toEqual(keys);
  expect(out['defined']).toEqual(keys.filter((k) => k !== 'files')); // S3 is off by default
  expect(out).toMatchObject({ apps: ['kettle'], loaded: true, tekton: false, coreFiles: false, work: { unsaved: 0, running: false }, http: 'function' });
  expect(out['platform']).toEqual(['NodeCryptoSha256', 'LuxonZoneRules']); // the core's platform ports (ADR 0018)
});

test('S3 on: the file store is built from the configuration and given to the core', () => {
  const out = inBuiltServer(
    { ...base, OTAO_S3_ENABLED: 'true', OTAO_S3_BUCKET: 'otao-files' },
    `const s = container.resolveServices(container.createContainer(loadConfig()));
     return { files: s.files !== undefined, coreFiles: s.core.files !== undefined };`,
  );
  expect(out).toEqual({ files: true, coreFiles: true });
});

test('an applications file that cannot be read fails the start (logged, exit 1), not the construction', () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'kaa: [not, a, map\n');
  const r = spawnSync(process.execPath, [requireBuiltServer()], {
    env: childEnv({ ...base, OTAO_APPLICATIONS_FILE: bad, OTAO_LOG_LEVEL: 'info', OTAO_HTTP_PORT: '0' }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.status).toBe(1);
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; level: number });
  expect(lines.map((l) => l.msg)).toEqual([
    'starting OTAO',
    'REST authentication is OFF (OTAO_SECURITY_IGNORED=/**): local use only',
    'OTAO could not start',
    'stopping OTAO',
  ]);
  expect(lines[2]!.level).toBe(60); // fatal
  expect(r.stderr).toBe('');
});
