// `npm start` (the root package.json script) runs the server the way an operator or a container
// does, and a SIGTERM to npm must reach the server and stop it (issue 11 item 10): npm forwards
// the signal to its child, so that child must be the server itself, not a shell around it.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type FerretDB, freePort, type NatsServer, startFerretDB, startNats } from '@otao/test-services';
import { childEnv, requireBuiltServer } from './support/otao-process';

jest.setTimeout(60_000);

const ROOT = resolve(__dirname, '../../..');
let nats: NatsServer;
let mongo: FerretDB;
/** Environment markers of the processes this file started: whatever still carries one is killed at the end. */
const markers: string[] = [];

beforeAll(async () => {
  requireBuiltServer();
  [nats, mongo] = await Promise.all([startNats(), startFerretDB()]);
});

afterAll(async () => {
  for (const pid of markers.flatMap(processesWith)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await Promise.all([nats?.stop(), mongo?.stop()]);
});

/** Pids of the processes whose environment holds `marker` (Linux /proc). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(marker)) pids.push(Number(d));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !commandOf(pid).startsWith('[') && readFileSync(`/proc/${pid}/stat`, 'latin1').split(' ')[2] !== 'Z';
  } catch {
    return false;
  }
}

async function until(what: string, ms: number, probe: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('SIGTERM to `npm start` stops the server: no node process outlives npm', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'otao-npm-start-'));
  const appsFile = join(dir, 'apps.yaml');
  writeFileSync(appsFile, 'kaa:\n  applications:\n    kettle:\n      versions:\n        kettle-v1: {}\n');
  const marker = `OTAO_REPLICA_ID=npm-start-${randomBytes(4).toString('hex')}`;
  markers.push(marker);
  const port = await freePort();
  const env = childEnv({
    OTAO_NATS_URLS: nats.url,
    OTAO_MONGODB_URI: mongo.uri,
    OTAO_MONGODB_DATABASE: `npmstart${randomBytes(3).toString('hex')}`,
    OTAO_SERVICE_INSTANCE_NAME: `otao-${randomBytes(3).toString('hex')}`,
    OTAO_SECURITY_IGNORED: '/**',
    OTAO_APPLICATIONS_FILE: appsFile,
    OTAO_HTTP_PORT: String(port),
    OTAO_LOG_LEVEL: 'warn',
    OTAO_REPLICA_ID: marker.slice('OTAO_REPLICA_ID='.length),
  });
  let output = '';
  const npm: ChildProcess = spawn('npm', ['start', '--silent'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  npm.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  npm.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const npmExit = new Promise<void>((ok) => npm.once('exit', () => ok()));

  await until('/ready of the server started by npm', 30_000, async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(2000) })).status === 200;
    } catch {
      return false;
    }
  });
  const servers = processesWith(marker).filter((pid) => pid !== npm.pid && commandOf(pid).includes('apps/server/dist/main.js'));
  expect(servers.length).toBeGreaterThanOrEqual(1);
  const server = servers.find((pid) => commandOf(pid).startsWith('node')) ?? servers[0];
  if (server === undefined) throw new Error(`no server process found; output:\n${output}`);

  npm.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([npmExit, new Promise((r) => (timer = setTimeout(r, 20_000)))]);
  clearTimeout(timer);
  // The server stops gracefully (drains, closes the store) and exits; nothing of it is left.
  await until(`the server (pid ${server}, ${commandOf(server)}) to exit after SIGTERM to npm; output:\n${output}`, 20_000, () => !alive(server));
  expect(processesWith(marker).filter(alive)).toEqual([]);
  await expect(fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
});
