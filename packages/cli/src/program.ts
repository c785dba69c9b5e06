import { Command, InvalidArgumentError, Option, type OptionValues } from '@commander-js/extra-typings';
import type { Paths, Schemas } from './client';
import type { GlobalOptions } from './config';
import { type Ctx, makeCtx } from './context';
import { EXIT } from './errors';
import { type Io, fields, json, percent, table } from './output';
import { type SoftwareFlags, softwareBody } from './software-input';
import { uploadFile } from './upload';
import { historyBuckets, parseDuration, type RolloutView, watchRollout } from './watch';

type AuditAction = NonNullable<NonNullable<Paths['/applications/{appName}/audit']['get']['parameters']['query']>['action']>;

type Software = Schemas['Software'];

const int =
  (name: string, min: number, max: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
const rate = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError('must be a number in (0, 1]');
  return n;
};
const duration = (v: string): number => {
  const ms = parseDuration(v);
  if (ms === undefined) throw new InvalidArgumentError('must be a duration: 90, 90s, 500ms, 15m, 2h');
  return ms;
};
const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

export interface ProgramDeps {
  readonly io: Io;
  readonly env: NodeJS.ProcessEnv;
  /** Receives the exit code of a completed action. */
  readonly setExit: (code: number) => void;
}

export function buildProgram(deps: ProgramDeps): Command {
  const { io } = deps;
  const program = new Command('otao')
    .description("OTAO's command-line tool: software, files, rollouts, endpoints, consents and audit over the REST API.")
    .version('0.1.0', '-V, --cli-version', 'print the version of otao')
    .addOption(new Option('--url <url>', 'OTAO base URL (default http://127.0.0.1:8080)').env('OTAO_URL'))
    .option('--json', 'print JSON (stable shapes, docs/cli.md) instead of tables')
    .option('-v, --verbose', 'log each request and answer on stderr (never a token or secret)')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      '\nEnvironment: OTAO_URL, OTAO_TOKEN, or OTAO_CLIENT_ID + OTAO_CLIENT_SECRET + OTAO_ISSUER (client credentials; OTAO_RPT_AUDIENCE to exchange the token for an RPT), OTAO_TOKEN_CACHE=memory|file.\nExit codes: 0 ok, 1 usage, 2 API error (4xx, also credentials the issuer refused), 3 API unavailable (5xx, network), 4 rollout suspended (watch), 5 watch --timeout passed.',
    );

  const act =
    (fn: (ctx: Ctx, ...args: never[]) => Promise<number | void>) =>
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      const opts = cmd.optsWithGlobals() as GlobalOptions;
      const ctx = makeCtx(opts, io, deps.env);
      const code = await (fn as (ctx: Ctx, ...a: unknown[]) => Promise<number | void>)(ctx, ...args.slice(0, -1));
      deps.setExit(typeof code === 'number' ? code : EXIT.ok);
    };
  const print = (ctx: Ctx, value: unknown, human: () => string): void => io.out(ctx.config.json ? json(value) : human());

  // ---------------------------------------------------------------------------------------------
  const software = program.command('software').description('software versions of an application (spec §6.1)');
  software
    .command('list')
    .description('list the software of an application, SemVer ascending')
    .argument('<app>', 'application name')
    .action(
      act(async (ctx: Ctx, appName: string) => {
        const { data } = await ctx.api.call(ctx.api.client.GET('/applications/{appName}/software', { params: { path: { appName } }, ...ctx.api.init }));
        print(ctx, data, () =>
          table(
            ['VERSION', 'STRATEGY', 'UPGRADABLE FROM', 'FILE', 'UPDATED'],
            data.map((s) => [
              s.version,
              s.rolloutStrategy + (s.suspendedReason ? ` (${s.suspendedReason})` : ''),
              s.upgradableFrom.join(', '),
              s.file?.name ?? '',
              s.updatedAt,
            ]),
          ),
        );
      }),
    );
  software
    .command('get')
    .description('show one software version')
    .argument('<app>', 'application name')
    .argument('<version>', 'software version')
    .action(
      act(async (ctx: Ctx, appName: string, version: string) => {
        const { data } = await ctx.api.call(
          ctx.api.client.GET('/applications/{appName}/software/{version}', { params: { path: { appName, version } }, ...ctx.api.init }),
        );
        print(ctx, data, () => softwareFields(data));
      }),
    );
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  const bodyOptions = <A extends unknown[], G extends OptionValues>(c: Command<A, {}, G>) =>
    c
      .option('-f, --file <path>', 'the software as JSON or YAML in the API shape (`-` for stdin); flags override its fields')
      .option('--upgradable-from <range>', 'a version or SemVer range it upgrades from (repeatable)', collect)
      .addOption(new Option('--strategy <strategy>', 'rollout strategy').choices(['suspended', 'targeted', 'general']))
      .option('--spec <json>', 'the specification, as JSON')
      .option('--spec-file <path>', 'the specification, from a JSON or YAML file')
      .option('--metadata <json>', 'the metadata, as JSON')
      .option('--max-failure-rate <rate>', 'failure policy: suspend at this failure rate, in (0, 1]', rate)
      .option('--min-reports <n>', 'failure policy: after at least this many reports', int('--min-reports', 1, 1_000_000_000))
      .option('--no-failure-policy', 'remove the failure policy');
  bodyOptions(
    software
      .command('create')
      .description('create a software version (POST); the version comes from the argument or the file')
      .argument('<app>', 'application name')
      .argument('[version]', 'software version (else the file\'s "version")'),
  ).action(
    act(async (ctx: Ctx, appName: string, version: string | undefined, flags: SoftwareFlags & { failurePolicy?: boolean }) => {
      const body = softwareBody(normalise(flags), undefined);
      if (version !== undefined) body['version'] = version;
      body['rolloutStrategy'] ??= 'general';
      const { data } = await ctx.api.call(
        ctx.api.client.POST('/applications/{appName}/software', { params: { path: { appName } }, body: body as Schemas['SoftwareCreate'], ...ctx.api.init }),
      );
      print(ctx, data, () => `created ${appName} ${data.version}\n${softwareFields(data)}`);
    }),
  );
  bodyOptions(
    software
      .command('update')
      .description(
        'replace a software version (PUT). With --file the file is the new body; without it the current software is read and the flags applied on it (If-Match: a concurrent edit fails with 412)',
      )
      .argument('<app>', 'application name')
      .argument('<version>', 'software version'),
  ).action(
    act(async (ctx: Ctx, appName: string, version: string, flags: SoftwareFlags & { failurePolicy?: boolean }) => {
      const f = normalise(flags);
      let etag: string | undefined;
      let base: Record<string, unknown> | undefined;
      if (f.file === undefined) {
        const cur = await ctx.api.call(
          ctx.api.client.GET('/applications/{appName}/software/{version}', { params: { path: { appName, version } }, ...ctx.api.init }),
        );
        base = cur.data;
        etag = cur.response.headers.get('etag') ?? undefined;
      }
      const body = softwareBody(f, base);
      delete body['version'];
      const { data } = await ctx.api.call(
        ctx.api.client.PUT('/applications/{appName}/software/{version}', {
          params: { path: { appName, version } },
          body: body as Schemas['SoftwareReplace'],
          ...(etag !== undefined ? { headers: { 'if-match': etag } } : {}),
          ...ctx.api.init,
        }),
      );
      print(ctx, data, () => `updated ${appName} ${data.version}\n${softwareFields(data)}`);
    }),
  );
  software
    .command('delete')
    .description('delete a software version (and its file)')
    .argument('<app>', 'application name')
    .argument('<version>', 'software version')
    .action(
      act(async (ctx: Ctx, appName: string, version: string) => {
        await ctx.api.call(ctx.api.client.DELETE('/applications/{appName}/software/{version}', { params: { path: { appName, version } }, ...ctx.api.init }));
        print(ctx, { appName, version, deleted: true }, () => `deleted ${appName} ${version}`);
      }),
    );

  // ---------------------------------------------------------------------------------------------
  const file = program.command('file').description("a software version's file (spec §6.2, S3 only)");
  file
    .command('upload')
    .description("upload (or replace) the version's file, streamed, with a progress bar on stderr; checks the server's SHA-256 against the local one")
    .argument('<app>', 'application name')
    .argument('<version>', 'software version')
    .argument('<path>', 'the file to upload')
    .option('--name <name>', 'file name on the server (default: the local file name)')
    .option('--no-progress', 'no progress bar')
    .action(
      act(async (ctx: Ctx, appName: string, version: string, path: string, o: { name?: string; progress: boolean }) => {
        const r = await uploadFile(ctx, appName, version, path, o.name, o.progress);
        print(ctx, { ...r.file, replaced: r.replaced, localSha256: r.localSha256 }, () =>
          [`${r.replaced ? 'replaced' : 'uploaded'} ${r.file.name} (${r.file.size} bytes)`, `sha256 ${r.file.sha256} (matches the local file)`].join('\n'),
        );
      }),
    );
  file
    .command('get')
    .description('show the file metadata and a fresh presigned download URL')
    .argument('<app>', 'application name')
    .argument('<version>', 'software version')
    .action(
      act(async (ctx: Ctx, appName: string, version: string) => {
        const { data } = await ctx.api.call(
          ctx.api.client.GET('/applications/{appName}/software/{version}/file', { params: { path: { appName, version } }, ...ctx.api.init }),
        );
        print(ctx, data, () =>
          fields([
            ['name', data.name],
            ['size', data.size],
            ['sha256', data.sha256],
            ['contentType', data.contentType],
            ['uploadedAt', data.uploadedAt],
            ['downloadUrl', data.downloadUrl],
          ]),
        );
      }),
    );
  file
    .command('delete')
    .description("delete the version's file")
    .argument('<app>', 'application name')
    .argument('<version>', 'software version')
    .action(
      act(async (ctx: Ctx, appName: string, version: string) => {
        await ctx.api.call(
          ctx.api.client.DELETE('/applications/{appName}/software/{version}/file', { params: { path: { appName, version } }, ...ctx.api.init }),
        );
        print(ctx, { appName, version, fileDeleted: true }, () => `deleted the file of ${appName} ${version}`);
      }),
    );

  // ---------------------------------------------------------------------------------------------
  const rollout = program.command('rollout').description('rollout statistics, history, phases (spec §6.3)');
  rollout
    .command('status')
    .description('counters and failure rate of a version (spec §4.8), phase and window when set')
    .argument('<app>', 'application name')
    .argument('<version>', 'software version')
    .action(
      act(async (ctx: Ctx, appName: string, version: string) => {
        const { data } = await ctx.api.call(
          ctx.api.client.GET('/applications/{appName}/software/{version}/rollout', { params: { path: { appName, version } }, ...ctx.api.init }),
        );
        print(ctx, data, () => rolloutFields(data));
      }),
    );
  rollout
    .command('history')
    .description('counts per time bucket')
    .argument('<app>', 'application name')
    .argument('<version>', 'software version')
    .addOption(new Option('--bucket <bucket>', 'bucket size').choices(['minute', 'hour'] as const).default('minute' as const))
    .option('--since <time>', 'from (RFC 3339)')
    .option('--until <time>', 'to (RFC 3339)')
    .action(
      act(async (ctx: Ctx, appName: string, version: string, o: { bucket: 'minute' | 'hour'; since?: string; until?: string }) => {
        const query = { bucket: o.bucket, ...(o.since !== undefined ? { since: o.since } : {}), ...(o.until !== undefined ? { until: o.until } : {}) };
        const { data } = await ctx.api.call(
          ctx.api.client.GET('/applications/{appName}/software/{version}/rollout/history', { params: { path: { appName, version }, query }, ...ctx.api.init }),
        );
        print(ctx, data, () =>
          table(
            ['AT', 'OFFERED', 'APPLIED', 'FAILED', 'TIMED OUT', 'ROLLED BACK'],
            historyBuckets(data).map((b) => [b.start, b.offered, b.applied, b.failed, b.timedOut, b.rolledBack]),
          ),
        );
      }),
    );
  rollout
    .command('advance')
    .description('open the next phase now (soak and gate skipped)')
    .argument('<app>', 'application name')
    .argument('<version>', 'software version')
    .action(
      act(async (ctx: Ctx, appName: string, version: string) => {
        const { data } = await ctx.api.call(
          ctx.api.client.POST('/applications/{appName}/software/{version}/rollout/advance', { params: { path: { appName, version } }, ...ctx.api.init }),
        );
        print(ctx, data, () => `advanced ${appName} ${version}\n${rolloutFields(data)}`);
      }),
    );
  const hold = (holdIt: boolean) =>
    act(async (ctx: Ctx, appName: string, version: string, o: { reason?: string }) => {
      const body = { hold: holdIt, ...(o.reason !== undefined ? { reason: o.reason } : {}) };
      const { data } = await ctx.api.call(
        ctx.api.client.PUT('/applications/{appName}/software/{version}/rollout/hold', { params: { path: { appName, version } }, body, ...ctx.api.init }),
      );
      print(ctx, data, () => `${holdIt ? 'held' : 'resumed'} ${appName} ${version}\n${rolloutFields(data)}`);
    });
  rollout
    .command('hold')
    .description('hold a phased rollout: it does not advance automatically')
    .argument('<app>', 'application name')
    .argument('<version>', 'software version')
    .option('--reason <text>', 'why (audited)')
    .action(hold(true));
  rollout
    .command('resume')
    .description('resume a held rollout')
    .argument('<app>', 'application name')
    .argument('<version>', 'software version')
    .option('--reason <text>', 'why (audited)')
    .action(hold(false));
  rollout
    .command('watch')
    .description(
      'redraw live progress until the rollout is done (exit 0) or suspended (exit 4), or --timeout passes first (exit 5); --json prints one JSON line per poll',
    )
    .argument('<app>', 'application name')
    .argument('<version>', 'software version')
    .option('--interval <seconds>', 'seconds between polls', int('--interval', 1, 3600), 2)
    .option('--timeout <duration>', 'give up with exit 5 when the rollout is neither done nor suspended after this long (90, 90s, 15m, 2h)', duration)
    .addHelpText('after', '\nExit codes: 0 done, 4 suspended, 5 --timeout passed while still running; 2 and 3 as for every command.')
    .action(
      act(async (ctx: Ctx, appName: string, version: string, o: { interval: number; timeout?: number }) =>
        watchRollout(ctx, appName, version, {
          intervalMs: Number(deps.env['OTAO_CLI_WATCH_INTERVAL_MS'] ?? o.interval * 1000),
          json: ctx.config.json,
          timeoutMs: o.timeout,
        }),
      ),
    );

  // ---------------------------------------------------------------------------------------------
  program
    .command('preview')
    .description('dry run: which known endpoints would be offered a version now, later, and why not (spec §6.3)')
    .argument('<app>', 'application name')
    .argument('<version>', 'software version')
    .option('--limit <n>', 'page size (1–1000)', int('--limit', 1, 1000), 100)
    .option('--offset <n>', 'page offset', int('--offset', 0, 1_000_000_000), 0)
    .action(
      act(async (ctx: Ctx, appName: string, version: string, o: { limit: number; offset: number }) => {
        const { data } = await ctx.api.call(
          ctx.api.client.GET('/applications/{appName}/software/{version}/preview', {
            params: { path: { appName, version }, query: { limit: o.limit, offset: o.offset } },
            ...ctx.api.init,
          }),
        );
        print(ctx, data, () =>
          [
            `${appName} ${data.version} (${data.rolloutStrategy}): ${data.total} endpoints (counted ${data.countedAt})`,
            table(['GROUP', 'COUNT'], Object.entries(data.counts)),
            table(
              ['ENDPOINT', 'GROUP', 'CURRENT', 'FILTER', 'ROLLOUT DATE'],
              data.content.map((e) => [e.endpointId, e.group, e.currentVersion, e.filterId, e.rolloutDate]),
            ),
            `showing ${data.content.length} from offset ${data.offset}`,
          ].join('\n'),
        );
      }),
    );

  // ---------------------------------------------------------------------------------------------
  const endpoint = program.command('endpoint').description("endpoints' software state (spec §6.4)");
  endpoint
    .command('list')
    .description('endpoint states of an application')
    .argument('<app>', 'application name')
    .option('--version <version>', 'only endpoints on this version')
    .option('--limit <n>', 'page size (1–1000)', int('--limit', 1, 1000), 100)
    .option('--offset <n>', 'page offset', int('--offset', 0, 1_000_000_000), 0)
    .action(
      act(async (ctx: Ctx, appName: string, o: { version?: string; limit: number; offset: number }) => {
        const query = { limit: o.limit, offset: o.offset, ...(o.version !== undefined ? { version: o.version } : {}) };
        const { data } = await ctx.api.call(ctx.api.client.GET('/applications/{appName}/endpoints', { params: { path: { appName }, query }, ...ctx.api.init }));
        print(ctx, data, () =>
          [
            table(
              ['ENDPOINT', 'APP VERSION', 'CURRENT', 'LAST REPORT', 'CONSENTS', 'UPDATED'],
              data.content.map((e) => [
                e.endpointId,
                e.appVersionName,
                e.currentVersion,
                e.lastReport ? `${e.lastReport.configId} ${e.lastReport.statusCode}` : '',
                e.consents.join(', '),
                e.updatedAt,
              ]),
            ),
            `${data.content.length} of ${data.totalElements} (counted ${data.countedAt})`,
          ].join('\n'),
        );
      }),
    );
  endpoint
    .command('get')
    .description('one endpoint: current version, last report, next hop, path, goal, consents')
    .argument('<app>', 'application name')
    .argument('<endpoint>', 'endpoint id')
    .action(
      act(async (ctx: Ctx, appName: string, endpointId: string) => {
        const { data } = await ctx.api.call(
          ctx.api.client.GET('/applications/{appName}/endpoints/{endpointId}/software', { params: { path: { appName, endpointId } }, ...ctx.api.init }),
        );
        print(ctx, data, () =>
          fields([
            ['endpointId', data.endpointId],
            ['appVersionName', data.appVersionName],
            ['currentVersion', data.currentVersion],
            ['lastReport', data.lastReport ? `${data.lastReport.configId} ${data.lastReport.statusCode} at ${data.lastReport.reportedAt}` : undefined],
            ['next', data.next ?? '(none)'],
            ['path', data.path.join(' → ')],
            ['goal', data.goal],
            ['consents', data.consents.join(', ')],
            ['filters', data.filters?.join(', ')],
          ]),
        );
      }),
    );

  // ---------------------------------------------------------------------------------------------
  const consent = program.command('consent').description("an endpoint's consent to a version or `*` (spec §6.4)");
  const consentAction = (grant: boolean) =>
    act(async (ctx: Ctx, appName: string, endpointId: string, version: string) => {
      const params = { params: { path: { appName, endpointId, version } }, ...ctx.api.init };
      await ctx.api.call(
        grant
          ? ctx.api.client.PUT('/applications/{appName}/endpoints/{endpointId}/consents/{version}', params)
          : ctx.api.client.DELETE('/applications/{appName}/endpoints/{endpointId}/consents/{version}', params),
      );
      print(ctx, { appName, endpointId, version, consent: grant }, () => `${grant ? 'granted' : 'revoked'} consent of ${endpointId} to ${version}`);
    });
  consent
    .command('grant')
    .description('grant consent')
    .argument('<app>', 'application name')
    .argument('<endpoint>', 'endpoint id')
    .argument('<version>', 'a version or *')
    .action(consentAction(true));
  consent
    .command('revoke')
    .description('revoke consent')
    .argument('<app>', 'application name')
    .argument('<endpoint>', 'endpoint id')
    .argument('<version>', 'a version or *')
    .action(consentAction(false));

  // ---------------------------------------------------------------------------------------------
  program
    .command('audit')
    .description('audit entries of an application, newest first (spec §4.13, §6.4.1)')
    .argument('<app>', 'application name')
    .option('--version <version>', 'only this version')
    .option('--endpoint <id>', 'only this endpoint')
    .option('--action <action>', 'only this action')
    .option('--actor <id>', 'only this actor')
    .option('--since <time>', 'from (RFC 3339)')
    .option('--until <time>', 'to (RFC 3339)')
    .option('--limit <n>', 'page size (1–1000)', int('--limit', 1, 1000), 100)
    .option('--offset <n>', 'page offset', int('--offset', 0, 1_000_000_000), 0)
    .action(
      act(
        async (
          ctx: Ctx,
          appName: string,
          o: { version?: string; endpoint?: string; action?: string; actor?: string; since?: string; until?: string; limit: number; offset: number },
        ) => {
          const query = {
            limit: o.limit,
            offset: o.offset,
            ...(o.version !== undefined ? { version: o.version } : {}),
            ...(o.endpoint !== undefined ? { endpointId: o.endpoint } : {}),
            ...(o.action !== undefined ? { action: o.action as AuditAction } : {}),
            ...(o.actor !== undefined ? { actor: o.actor } : {}),
            ...(o.since !== undefined ? { since: o.since } : {}),
            ...(o.until !== undefined ? { until: o.until } : {}),
          };
          const { data } = await ctx.api.call(ctx.api.client.GET('/applications/{appName}/audit', { params: { path: { appName }, query }, ...ctx.api.init }));
          print(ctx, data, () =>
            [
              table(
                ['AT', 'ACTION', 'ACTOR', 'VERSION', 'ENDPOINT', 'CORRELATION ID'],
                data.content.map((e) => [e.at, e.action, `${e.actor.type}:${e.actor.name ?? e.actor.id}`, e.version, e.endpointId, e.correlationId]),
              ),
              `${data.content.length} of ${data.totalElements}`,
            ].join('\n'),
          );
        },
      ),
    );

  return program;
}

/** commander's `--no-failure-policy` sets failurePolicy: false. */
function normalise(flags: SoftwareFlags & { failurePolicy?: boolean }): SoftwareFlags {
  const { failurePolicy, ...rest } = flags;
  return { ...rest, noFailurePolicy: failurePolicy === false };
}

function softwareFields(s: Software): string {
  return fields([
    ['version', s.version],
    ['rolloutStrategy', s.rolloutStrategy],
    ['suspendedReason', s.suspendedReason],
    ['upgradableFrom', s.upgradableFrom.join(', ')],
    ['filters', s.filters.map((f) => f.filterId + (f.rolloutDate ? ` from ${f.rolloutDate}` : '')).join(', ')],
    ['failurePolicy', s.failurePolicy ? `suspend at ${percent(s.failurePolicy.maxFailureRate)} after ${s.failurePolicy.minReports} reports` : undefined],
    ['file', s.file ? `${s.file.name} (${s.file.size} bytes, sha256 ${s.file.sha256})` : undefined],
    ['specification', s.specification],
    ['metadata', s.metadata],
    ['createdAt', s.createdAt],
    ['updatedAt', s.updatedAt],
  ]);
}

function rolloutFields(r: RolloutView): string {
  return fields([
    ['version', r.version],
    ['rolloutStrategy', r.rolloutStrategy],
    ['suspendedReason', r.suspendedReason],
    ['offered', r.offered],
    ['applied', r.applied],
    ['failed', r.failed],
    ['timedOut', r.timedOut],
    ['rolledBack', r.rolledBack],
    ['failureRate', percent(r.failureRate)],
    [
      'phase',
      r.phase
        ? `${r.phase.index} (${r.phase.percent}%)${r.phase.hold ? ' held' : ''}${r.phase.waitingFor ? `, waiting for ${r.phase.waitingFor}` : ''}`
        : undefined,
    ],
    ['window', r.window ? (r.window.open ? 'open' : `closed, opens ${r.window.nextOpenAt ?? '?'}`) : undefined],
  ]);
}
