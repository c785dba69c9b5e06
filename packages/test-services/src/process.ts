import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number, isAlive: () => boolean = () => true): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (!isAlive()) throw new Error(`process exited before listening on ${port}`);
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const REPO_ROOT = resolve(__dirname, '../../..');

/** The directory holding nats-server and versitygw; installs them (scripts/services/ensure-binaries.sh) when missing. */
export function serviceBinDir(): string {
  const cache = process.env['OTAO_CACHE_DIR'] ?? join(process.env['HOME'] ?? tmpdir(), '.cache', 'otao');
  const bin = join(cache, 'bin');
  if (!existsSync(join(bin, 'nats-server'))) {
    execFileSync('bash', [join(REPO_ROOT, 'scripts/services/ensure-binaries.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return bin;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `otao-${prefix}-`));
}

export interface ServiceProcessOptions {
  /** How long `start()` waits for the port (default 20 s). */
  readonly readyTimeoutMs?: number;
  /** The signal of a graceful `stop()` (default SIGTERM). */
  readonly stopSignal?: NodeJS.Signals;
  /** Run as this user (when the tests run as root and the service refuses to, like PostgreSQL). */
  readonly uid?: number;
  readonly gid?: number;
}

/** A service running as a child process on a fixed port; can be killed and restarted on the same port. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited = true;
  private readonly readyTimeoutMs: number;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: readonly string[],
    readonly port: number,
    private readonly logFile: string,
    private readonly options: ServiceProcessOptions = {},
  ) {
    this.readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  }

  /** The process id while running. */
  get pid(): number | undefined {
    return this.exited ? undefined : this.child?.pid;
  }

  async start(): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const ids = this.options.uid !== undefined ? { uid: this.options.uid, ...(this.options.gid !== undefined ? { gid: this.options.gid } : {}) } : {};
    const child = spawn(this.command, this.args, { stdio: ['ignore', 'pipe', 'pipe'], ...ids });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.exited = false;
    child.once('exit', () => {
      this.exited = true;
    });
    child.once('error', (e) => {
      this.exited = true;
      log.write(`[test-services] ${this.name} could not be started: ${e.message}\n`);
    });
    this.child = child;
    try {
      await waitForPort(this.port, this.readyTimeoutMs, () => !this.exited);
    } catch (e) {
      child.kill('SIGKILL');
      throw new Error(`${this.name} did not start (log: ${this.logFile}): ${(e as Error).message}`, { cause: e });
    }
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Stops gracefully (SIGTERM or the configured signal, then SIGKILL after 5 s). */
  async stop(): Promise<void> {
    await this.signal(this.options.stopSignal ?? 'SIGTERM', 5000);
  }

  /** Kills at once (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 5000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  private async signal(sig: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    const done = new Promise<void>((res) => child.once('exit', () => res()));
    child.kill(sig);
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await done;
    clearTimeout(t);
  }
}
