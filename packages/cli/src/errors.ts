/** The exit codes of `otao` (docs/cli.md, the table there and in `otao --help`). */
export const EXIT = {
  ok: 0,
  usage: 1,
  apiError: 2,
  unavailable: 3,
  suspended: 4,
  /** `rollout watch --timeout`: neither done nor suspended in time. */
  watchTimeout: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error that ends the command with a one-line message and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** The API's `code` (or a code of ours: `cli.usage`, `api.unreachable`, …). */
    readonly code: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage, 'cli.usage');

/** An answer of the API outside 2xx: 4xx → exit 2, 5xx → exit 3. */
export function apiError(status: number, body: unknown, statusText: string): CliError {
  let code = `http.${status}`;
  let message = statusText || `HTTP ${status}`;
  if (typeof body === 'object' && body !== null) {
    const b = body as { code?: unknown; message?: unknown };
    if (typeof b.code === 'string') code = b.code;
    if (typeof b.message === 'string') message = b.message;
  } else if (typeof body === 'string' && body.trim() !== '') {
    message = oneLine(body).slice(0, 300);
  }
  return new CliError(message, status >= 500 ? EXIT.unavailable : EXIT.apiError, code, status);
}

/** A request that got no answer (connection refused, DNS, timeout, reset). */
export function unreachable(url: string, cause: unknown): CliError {
  return new CliError(`cannot reach ${url}: ${describeCause(cause)}`, EXIT.unavailable, 'api.unreachable');
}

export function describeCause(e: unknown): string {
  if (e instanceof Error) {
    const c = (e as { cause?: unknown }).cause;
    if (c instanceof Error) {
      const code = (c as { code?: unknown }).code;
      return typeof code === 'string' ? `${code} (${c.message})` : c.message;
    }
    if (e.name === 'TimeoutError') return 'timed out';
    return e.message;
  }
  return String(e);
}

export const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();
