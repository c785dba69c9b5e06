// Runs the BUILT server (apps/server/dist/main.js) as a child process, configured by environment
// variables only (none of the parent's OTAO_* / AWS_*), and waits until /ready answers 200.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const SERVER_MAIN = resolve(__dirname, '../../../server/dist/main.js');
export const CONSOLE_INDEX = resolve(__dirname, '../../dist/index.html');

export interface RunningServer {
  readonly baseUrl: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

export function requireBuilt(): void {
  for (const [file, what] of [
    [SERVER_MAIN, 'the server'],
    [CONSOLE_INDEX, 'the console'],
  ] as const) {
    if (!existsSync(file))
      throw new Error(`${file} is missing: the console tests run ${what} as built. Build first: npx turbo run build --filter=@otao/server...`);
  }
}

export async function startServer(port: number, vars: Readonly<Record<string, string>>): Promise<RunningServer> {
  requireBuilt();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('OTAO_') && !k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, { OTAO_LOG_LEVEL: 'info', ...vars, OTAO_HTTP_PORT: String(port) });
  const logFile = join(mkdtempSync(join(tmpdir(), 'otao-console-server-')), 'otao.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [SERVER_MAIN], { env, stdio: ['ignore', fd, fd] });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const tail = (): string => readFileSync(logFile, 'utf8').slice(-4000);
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}); log ${logFile}:\n${tail()}`);
    if (
      await fetch(`${baseUrl}/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`the server was not ready within 60 s; log ${logFile}:\n${tail()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    baseUrl,
    logFile,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
