#!/usr/bin/env node
// otao: the command-line tool (spec §12). Exit codes: 0 ok, 1 usage, 2 API error (4xx),
// 3 API unavailable (5xx or no answer), 4 rollout suspended during `rollout watch`.
import { CommanderError } from '@commander-js/extra-typings';
import { CliError, EXIT, oneLine } from './errors';
import { processIo } from './output';
import { buildProgram } from './program';

async function main(argv: readonly string[]): Promise<number> {
  let exit: number = EXIT.ok;
  const program = buildProgram({ io: processIo, env: process.env, setExit: (c) => (exit = c) });
  try {
    await program.parseAsync([...argv]);
    return exit;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are exit 0; anything else commander refused is a usage error (already printed).
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof CliError) {
      processIo.err(`otao: ${e.code}${e.status !== undefined ? ` (${e.status})` : ''}: ${oneLine(e.message)}`);
      return e.exitCode;
    }
    processIo.err(`otao: internal error: ${oneLine(e instanceof Error ? e.message : String(e))}`);
    return EXIT.unavailable;
  }
}

void main(process.argv).then((code) => {
  // A hidden flag for the tests: the process's peak memory (KiB), on stderr, when it ends.
  if (process.env['OTAO_CLI_REPORT_MAX_RSS'] === '1') process.stderr.write(`otao-max-rss-kib=${process.resourceUsage().maxRSS}\n`);
  process.exitCode = code;
});
