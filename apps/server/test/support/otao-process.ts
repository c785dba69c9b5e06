// End-to-end test support: runs the BUILT server (`apps/server/dist/main.js`) as a child process,
// configured only by environment variables, exactly as an operator would run it. Nothing is built
// here: scripts/test.sh builds before the tests, and a missing build fails with a clear message.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '@otao/test-services';

/** The built entry point of the server. */
export const SERVER_MAIN = resolve(__dirname, '../../dist/main.js');

/** Throws a clear error when the server was not built (the tests never build). */
export function requireBuiltServer(): string {
  if (!existsSync(SERVER_MAIN)) {
    throw new Error(
      `${SERVER_MAIN} is missing: the end-to-end tests run the built server and build nothing. ` +
        'Build it first: `npx turbo run build --filter=@otao/server...` (scripts/test.sh does this).',
    );
  }
  return SERVER_MAIN;
}

/**
 * The environment of a child server: the parent's environment without any `OTAO_*` variable (so
 * that only what a test gives configures the server), plus the test's variables.
 */
export function childEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('OTAO_') && !k.startsWith('AWS_') && k !== 'NATS_USERNAME' && k !== 'NATS_PASSWORD') base[k] = v;
  }
  return { ...base, ...env };
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** An exit of the process as recorded: `expected` when it followed `stop()` or `kill()`, false when it exited by itself (a crash). */
export interface RecordedExit extends Exit {
  readonly at: number;
  readonly expected: boolean;
}

/** What `start()` waits for: `/ready` 200 (default), or only `/health` 200 (a start while a dependency is down). */
export type StartWait = 'ready' | 'health';

export interface OtaoProcessOptions {
  /** The server's variables (OTAO_HTTP_PORT, OTAO_REPLICA_ID and OTAO_LOG_LEVEL get defaults). */
  readonly env: Readonly<Record<string, string>>;
  /** A short name for logs and messages. Default `otao`. */
  readonly name?: string;
  /** How long to wait for `/ready` 200. Default 30 000 ms. */
  readonly readyTimeoutMs?: number;
  /** What the first start waits for. Default `ready`. */
  readonly waitFor?: StartWait;
  /** How long a SIGTERM stop may take before the process is killed and the stop fails. Default 20 000 ms. */
  readonly stopTimeoutMs?: number;
}

const live = new Set<OtaoProcess>();

/** One OTAO server process; can be stopped (SIGTERM), killed (SIGKILL) and started again with the same env. */
export class OtaoProcess {
  readonly name: string;
  readonly port: number;
  readonly replicaId: string;
  readonly env: Readonly<Record<string, string>>;
  /** stdout and stderr of every run, appended. */
  readonly logFile: string;
  /** Every exit, in order. */
  readonly exits: RecordedExit[] = [];
  /** Start times (epoch ms) of every run, in order. */
  readonly starts: number[] = [];
  private stopping = false;
  private child: ChildProcess | undefined;
  private exit: Promise<Exit> | undefined;
  private exited: Exit | undefined;
  private readonly readyTimeoutMs: number;
  private readonly stopTimeoutMs: number;

  private constructor(name: string, port: number, env: Record<string, string>, options: OtaoProcessOptions) {
    this.name = name;
    this.port = port;
    this.env = env;
    this.replicaId = env['OTAO_REPLICA_ID'] as string;
    this.logFile = join(mkdtempSync(join(tmpdir(), `otao-e2e-${name}-`)), 'otao.log');
    this.readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 20_000;
  }

  /** Starts a server on a free HTTP port and waits until `/ready` answers 200. */
  static async start(options: OtaoProcessOptions): Promise<OtaoProcess> {
    requireBuiltServer();
    const name = options.name ?? 'otao';
    const port = options.env['OTAO_HTTP_PORT'] !== undefined ? Number(options.env['OTAO_HTTP_PORT']) : await freePort();
    const env = {
      OTAO_REPLICA_ID: `${name}-1`,
      OTAO_LOG_LEVEL: 'info',
      ...options.env,
      OTAO_HTTP_PORT: String(port),
    };
    const p = new OtaoProcess(name, port, env, options);
    await p.start(options.waitFor);
    return p;
  }

  /** Kills (SIGKILL) every server still running: afterAll's safety net. */
  static async killAll(): Promise<void> {
    await Promise.all([...live].map((p) => p.kill()));
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exited === undefined;
  }

  /** The last `lines` lines of the log (for failure messages). */
  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8')
        .split('\n')
        .slice(-lines - 1)
        .join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Starts the process (again, with the same env and port) and waits for `/ready` 200 (or `/health` 200). */
  async start(waitFor: StartWait = 'ready'): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const fd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [SERVER_MAIN], { env: childEnv(this.env), stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.exited = undefined;
    this.stopping = false;
    this.starts.push(Date.now());
    live.add(this);
    this.exit = new Promise<Exit>((ok) => {
      child.once('exit', (code, signal) => {
        this.exited = { code, signal };
        this.exits.push({ code, signal, at: Date.now(), expected: this.stopping });
        live.delete(this);
        ok({ code, signal });
      });
    });
    try {
      await this.waitReady(waitFor === 'health' ? '/health' : '/ready');
    } catch (e) {
      await this.kill();
      throw e;
    }
  }

  private async waitReady(path: '/ready' | '/health'): Promise<void> {
    const until = Date.now() + this.readyTimeoutMs;
    let last: string;
    for (;;) {
      if (this.exited) {
        throw new Error(
          `${this.name} exited (code ${this.exited.code}, signal ${this.exited.signal}) before ${path} answered 200; log ${this.logFile}:\n${this.logTail()}`,
        );
      }
      try {
        const res = await fetch(`${this.baseUrl}${path}`, { signal: AbortSignal.timeout(2000) });
        const body = await res.text();
        if (res.status === 200) return;
        last = `${res.status} ${body}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > until) {
        throw new Error(`${this.name}: ${path} did not answer 200 within ${this.readyTimeoutMs} ms (last: ${last}); log ${this.logFile}:\n${this.logTail()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Graceful stop: SIGTERM, then waits for the exit. Fails (after a SIGKILL) when the process does
   * not exit within the stop timeout or exits with anything but status 0.
   */
  async stop(): Promise<Exit> {
    const child = this.child;
    const exit = this.exit;
    if (!child || !exit || this.exited) throw new Error(`${this.name} is not running`);
    this.stopping = true;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((ok) => {
      timer = setTimeout(() => ok('timeout'), this.stopTimeoutMs);
    });
    const r = await Promise.race([exit, timedOut]);
    clearTimeout(timer);
    if (r === 'timeout') {
      await this.kill();
      throw new Error(`${this.name} did not exit within ${this.stopTimeoutMs} ms of SIGTERM; log ${this.logFile}:\n${this.logTail()}`);
    }
    if (r.code !== 0)
      throw new Error(`${this.name} exited with code ${r.code} (signal ${r.signal}) after SIGTERM, expected 0; log ${this.logFile}:\n${this.logTail()}`);
    return r;
  }

  /** Kills at once (SIGKILL), as a crash would; resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    const exit = this.exit;
    if (!child || !exit || this.exited) return;
    this.stopping = true;
    child.kill('SIGKILL');
    await exit;
  }

  /** Graceful stop (exit 0 required), then a start with the same env and port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit. */
  readonly wallMs: number;
}

/** Runs the built server with `env` until it exits by itself (killed after `timeoutMs`). */
export async function runServerToExit(env: Readonly<Record<string, string>>, timeoutMs = 10_000): Promise<RunResult> {
  requireBuiltServer();
  return new Promise<RunResult>((ok, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, [SERVER_MAIN], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    let wallMs = Number.NaN;
    child.once('exit', () => {
      wallMs = performance.now() - started;
    });
    // 'close' follows 'exit' once the pipes are drained: all output is in.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      ok({ code, signal, stdout, stderr, wallMs });
    });
  });
}
