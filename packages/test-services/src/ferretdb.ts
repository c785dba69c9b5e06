import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, REPO_ROOT, ServiceProcess, tempDir } from './process';

/** FerretDB v2 on its own PostgreSQL cluster with the DocumentDB extension. */
export interface FerretDB {
  /** mongodb://127.0.0.1:<port>/ */
  readonly uri: string;
  /** FerretDB's MongoDB-wire port. */
  readonly port: number;
  /** PostgreSQL's port (127.0.0.1). */
  readonly pgPort: number;
  /** Holds `pg/` (the cluster), `ferretdb-state/` and the logs. A temporary one is removed by `stop()`. */
  readonly dataDir: string;
  /** The FerretDB process: stop or kill it to make the store unreachable, start it again to recover. */
  readonly process: ServiceProcess;
  /** The PostgreSQL server process. */
  readonly postgres: ServiceProcess;
  /**
   * Stops FerretDB, then PostgreSQL (fast shutdown); then removes the data directory if it is a
   * temporary one (`dataDir` not given, `keepData` not set).
   */
  stop(): Promise<void>;
}

export interface FerretDBOptions {
  /** FerretDB's port; free by default. */
  readonly port?: number;
  /** PostgreSQL's port; free by default. */
  readonly pgPort?: number;
  /** An existing data directory (restart on the same data), or a new temporary one. */
  readonly dataDir?: string;
  /** Keep the temporary data directory after `stop()` (by default it is removed; a given `dataDir` always stays). */
  readonly keepData?: boolean;
  /**
   * `fast` (default for tests): fsync and synchronous commit off — a crash of the machine may lose
   * the last writes, a crash of FerretDB or PostgreSQL loses nothing. `durable`: PostgreSQL's
   * defaults (the local stack and production).
   */
  readonly durability?: 'fast' | 'durable';
  /** PostgreSQL `shared_buffers` (default `256MB`). */
  readonly sharedBuffers?: string;
  /** FerretDB's connection pool to PostgreSQL (default 50, FerretDB's own default). */
  readonly poolMaxConns?: number;
}

const STORE_SCRIPT = join(REPO_ROOT, 'scripts/services/ensure-store.sh');

/** Where the store's binaries are: installs them (scripts/services/ensure-store.sh) when missing. */
export function storeBinaries(): { ferretdb: string; pgBin: string } {
  const cache = process.env['OTAO_CACHE_DIR'] ?? join(process.env['HOME'] ?? '/tmp', '.cache', 'otao');
  const bin = join(cache, 'bin');
  const pgBinFile = join(bin, 'postgres-bin-dir');
  const ready = (): boolean => {
    if (!existsSync(join(bin, 'ferretdb2')) || !existsSync(pgBinFile)) return false;
    const pgBin = readFileSync(pgBinFile, 'utf8').trim();
    const share = execFileSync(join(pgBin, 'pg_config'), ['--sharedir'], { encoding: 'utf8' }).trim();
    return existsSync(join(share, 'extension', 'documentdb.control'));
  };
  if (!ready()) execFileSync('bash', [STORE_SCRIPT], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { ferretdb: join(bin, 'ferretdb2'), pgBin: readFileSync(pgBinFile, 'utf8').trim() };
}

/** PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` system user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, but there is no postgres system user to run PostgreSQL as (install postgresql, or run as a normal user)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function chownTree(dir: string, owner: { uid: number; gid: number } | undefined): void {
  if (!owner) return;
  execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, dir]);
}

/** The settings DocumentDB needs; the two `documentdb.*` marked essential make unique compound indexes fast. */
function postgresConf(pgPort: number, socketDir: string, options: FerretDBOptions): string {
  const lines = [
    "listen_addresses = '127.0.0.1'",
    `port = ${pgPort}`,
    `unix_socket_directories = '${socketDir}'`,
    "shared_preload_libraries = 'pg_cron,pg_documentdb_core,pg_documentdb'",
    "cron.database_name = 'postgres'",
    // essential: without them creating a unique compound index is quadratic (never ends at 100k documents)
    "documentdb.rum_library_load_option = 'require_documentdb_extended_rum'",
    'documentdb.defaultUseCompositeOpClass = true',
    'documentdb.enableCompact = true',
    'documentdb.enableLetAndCollationForQueryMatch = true',
    'documentdb.enableNowSystemVariable = true',
    'documentdb.enableSortbyIdPushDownToPrimaryKey = true',
    'documentdb.enableSchemaValidation = true',
    'documentdb.enableBypassDocumentValidation = true',
    `shared_buffers = ${options.sharedBuffers ?? '256MB'}`,
    'max_connections = 200',
    "log_min_messages = 'warning'",
  ];
  if ((options.durability ?? 'fast') === 'fast') lines.push('fsync = off', 'synchronous_commit = off', 'full_page_writes = off');
  return `\n# OTAO test-services\n${lines.join('\n')}\n`;
}

/**
 * Starts the store OTAO runs on: a PostgreSQL cluster with the DocumentDB extension (created with
 * `initdb` the first time, in a temporary folder unless `dataDir` is given) and FerretDB v2 in front
 * of it, both on free local ports. Installs the binaries on first use (scripts/services/ensure-store.sh).
 */
export async function startFerretDB(options: FerretDBOptions = {}): Promise<FerretDB> {
  const { ferretdb, pgBin } = storeBinaries();
  const owner = runAs();
  const dataDir = options.dataDir ?? tempDir('ferretdb');
  const pgData = join(dataDir, 'pg');
  const stateDir = join(dataDir, 'ferretdb-state');
  mkdirSync(stateDir, { recursive: true });
  const [port, pgPort] = [options.port ?? (await freePort()), options.pgPort ?? (await freePort())];
  const fresh = !existsSync(join(pgData, 'PG_VERSION'));
  chownTree(dataDir, owner);
  const spawnAs = owner ? { uid: owner.uid, gid: owner.gid } : {};
  if (fresh) {
    execFileSync(join(pgBin, 'initdb'), ['-D', pgData, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...spawnAs,
    });
  }
  // The port may change between runs on the same data: the settings file is OTAO's own, included last.
  writeFileSync(join(pgData, 'otao.conf'), postgresConf(pgPort, dataDir, options));
  const conf = readFileSync(join(pgData, 'postgresql.conf'), 'utf8');
  if (!conf.includes("include = 'otao.conf'")) writeFileSync(join(pgData, 'postgresql.conf'), `${conf}\ninclude = 'otao.conf'\n`);
  chownTree(dataDir, owner);

  const postgres = new ServiceProcess('postgres', join(pgBin, 'postgres'), ['-D', pgData], pgPort, join(dataDir, 'postgres.log'), {
    ...spawnAs,
    stopSignal: 'SIGINT', // fast shutdown: SIGTERM would wait for FerretDB's pooled sessions
    readyTimeoutMs: 30_000,
  });
  await postgres.start();
  const pgUrl = `postgres://postgres@127.0.0.1:${pgPort}/postgres?pool_max_conns=${options.poolMaxConns ?? 50}`;
  if (fresh) await createExtension(pgBin, pgPort, spawnAs);

  const args = [
    `--postgresql-url=${pgUrl}`,
    `--listen-addr=127.0.0.1:${port}`,
    `--state-dir=${stateDir}`,
    '--no-auth',
    '--telemetry=disable',
    '--log-level=WARN',
    '--debug-addr=-',
  ];
  const proc = new ServiceProcess('ferretdb', ferretdb, args, port, join(dataDir, 'ferretdb.log'));
  try {
    await proc.start();
  } catch (e) {
    await postgres.stop();
    throw e;
  }
  // If this process ends without stop() (a crash, process.exit), the servers must not outlive it:
  // PostgreSQL then shuts down by itself (SIGINT: fast shutdown), FerretDB too.
  const onExit = (): void => {
    for (const [p, sig] of [
      [proc, 'SIGTERM'],
      [postgres, 'SIGINT'],
    ] as const) {
      const pid = p.pid;
      if (pid !== undefined) {
        try {
          process.kill(pid, sig);
        } catch {
          // already gone
        }
      }
    }
  };
  process.on('exit', onExit);
  const temporary = options.dataDir === undefined && options.keepData !== true;
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    port,
    pgPort,
    dataDir,
    process: proc,
    postgres,
    stop: async () => {
      process.off('exit', onExit);
      await proc.stop();
      await postgres.stop();
      if (temporary) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `CREATE EXTENSION documentdb CASCADE`, retried while PostgreSQL still starts up. */
async function createExtension(pgBin: string, pgPort: number, spawnAs: object): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      execFileSync(
        join(pgBin, 'psql'),
        [
          '-h',
          '127.0.0.1',
          '-p',
          String(pgPort),
          '-U',
          'postgres',
          '-d',
          'postgres',
          '-v',
          'ON_ERROR_STOP=1',
          '-qc',
          'CREATE EXTENSION IF NOT EXISTS documentdb CASCADE',
        ],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
          ...spawnAs,
        },
      );
      return;
    } catch (e) {
      if (Date.now() > until) throw new Error(`CREATE EXTENSION documentdb failed: ${String((e as { stderr?: unknown }).stderr ?? e)}`, { cause: e });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
