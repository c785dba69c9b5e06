import { Api } from './client';
import { tokenSource } from './auth';
import { type CliConfig, type GlobalOptions, loadConfig } from './config';
import { type Io } from './output';

/** What a command's action gets: configuration, the API client, output. */
export interface Ctx {
  readonly config: CliConfig;
  readonly api: Api;
  readonly io: Io;
  /** A line on stderr with --verbose only. */
  readonly log: (line: string) => void;
}

export function makeCtx(opts: GlobalOptions, io: Io, env: NodeJS.ProcessEnv = process.env): Ctx {
  const config = loadConfig(opts, env);
  const log = config.verbose ? (line: string) => io.err(`otao: ${line}`) : () => undefined;
  log(`url ${config.url}, auth ${config.auth.kind}`);
  const api = new Api(config, tokenSource(config.auth, log), log);
  return { config, api, io, log };
}
