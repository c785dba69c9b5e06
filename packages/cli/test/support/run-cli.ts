// Runs the BUILT `otao` (dist/main.js) as a child process, like an operator or a CI job would, and
// the BUILT server (@otao/server's dist/main.js) the way apps/server's end-to-end tests do.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '@otao/test-services';

export const CLI_MAIN = resolve(__dirname, '../../dist/main.js');
export const SERVER_MAIN = require.resolve('@otao/server');

export function requireBuilt(): void {
  for (const f of [CLI_MAIN, SERVER_MAIN]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: build first (npx turbo run build --filter=@otao/cli...)`);
  }
}

/** The parent's environment without OTAO_* (and AWS/NATS credentials), plus `env`. */
export function cleanEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('OTAO_') && !k.startsWith('AWS_') && k !== 'NATS_USERNAME' && k !== 'NATS_PASSWORD') base[k] = v;
  }
  return { ...base, ...env };
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `otao args…` to its end (killed after `timeoutMs`). */
export function otao(args: readonly string[], env: Readonly<Record<string, string>> = {}, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      ok({ code, stdout, stderr });
    });
  });
}

/** The built server as a child process, waited for until /ready answers 200. */
export class Server {
  private exited = false;
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    child.once('exit', () => (this.exited = true));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(env: Readonly<Record<string, string>>): Promise<Server> {
    const port = await freePort();
    const logFile = join(mkdtempSync(join(tmpdir(), 'otao-cli-server-')), 'otao.log');
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, [SERVER_MAIN], {
      env: cleanEnv({ OTAO_REPLICA_ID: 'cli-1', OTAO_LOG_LEVEL: 'info', ...env, OTAO_HTTP_PORT: String(port) }),
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const s = new Server(port, child, logFile);
    const until = Date.now() + 30_000;
    for (;;) {
      if (s.exited) throw new Error(`the server exited before /ready; log:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
      try {
        const r = await fetch(`${s.url}/ready`, { signal: AbortSignal.timeout(2000) });
        if (r.status === 200) return s;
      } catch {
        // not yet
      }
      if (Date.now() > until) {
        child.kill('SIGKILL');
        throw new Error(`the server was not ready within 30 s; log:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((ok) => this.child.once('exit', ok));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(t);
  }
}
