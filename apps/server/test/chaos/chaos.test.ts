// The chaos suite (issue 11, "The proof: a chaos suite"): `npm run test:chaos`, also run by
// scripts/test.sh after the other tests. One scenario (scenario.ts) injects the faults one after
// another against three replicas of the built server and a simulated fleet; then each assertion
// below checks one measured row (measure.ts) and names what it covers. The table of every
// measurement is printed, and written with the raw facts to a temporary folder.
// Sizes and durations: OTAO_CHAOS_ENDPOINTS (10 000), OTAO_CHAOS_PUSH_RATE (25/s),
// OTAO_CHAOS_OUTAGE_SECONDS (20), OTAO_CHAOS_SETTLE_SECONDS (240). Runs in about 6–8 minutes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBuiltServer } from '../support/otao-process';
import { formatTable, measure, type Row } from './measure';
import { Chaos, log, resultsDir, settingsFromEnv } from './scenario';

const chaos = new Chaos(settingsFromEnv());
let rows: Row[] = [];
let failure: Error | undefined;

beforeAll(async () => {
  requireBuiltServer();
  try {
    await chaos.setup();
    await chaos.run();
    await chaos.settle();
    const facts = await chaos.facts();
    rows = measure(facts);
    const table = formatTable(rows);
    const dir = resultsDir();
    writeFileSync(join(dir, 'table.txt'), `${table}\n`);
    writeFileSync(
      join(dir, 'facts.json'),
      JSON.stringify(
        {
          settings: facts.settings,
          steps: facts.steps,
          rows,
          replicas: facts.replicas,
          suspension: facts.suspension,
          garbage: facts.garbage,
          counters: facts.counters,
          jobsLeft: facts.jobsLeft,
          settled: facts.settled,
        },
        null,
        2,
      ),
    );
    writeFileSync(
      join(dir, 'fleet.json'),
      JSON.stringify({
        pushes: facts.fleet.pushes,
        pulls: facts.fleet.pulls,
        reports: facts.fleet.reports,
        offers: [...facts.fleet.endpoints.values()].map((e) => ({ id: e.spec.endpointId, current: e.current, offers: Object.fromEntries(e.offers) })),
        stored: Object.fromEntries(facts.stored),
      }),
    );
    process.stdout.write(`\n${table}\n\n(table and facts in ${dir}; replica logs: ${chaos.logFiles.join(', ')})\n`);
  } catch (e) {
    failure = e as Error;
    log(`the chaos run could not complete: ${failure.stack ?? failure.message}`);
  }
}, 1_200_000);

afterAll(async () => {
  await chaos.teardown();
}, 120_000);

/** One test per asserted measurement; a failure names the issue-11 items (or spec sections) it covers. */
function check(key: string, name: string): void {
  test(name, () => {
    if (failure) throw failure;
    const row = rows.find((r) => r.key === key);
    if (!row) throw new Error(`${key} was not measured (a step did not run)`);
    if (!row.pass) throw new Error(`${row.metric} = ${row.value}, bound ${row.bound} — covers ${row.covers}${row.detail ? `\n${row.detail}` : ''}`);
  });
}

check('faults', 'every fault was injected as planned');
check('pushes.lost', 'pushes lost = 0: every eligible endpoint was pushed or pulled its version (issue 11 items 2, 3, 6)');
check('checkpoint.0.6.0', 'a targeted rollout created while NATS was down reached its endpoints when its jobs completed (issue 11 item 2)');
check('pushes.ineligible', 'pushes to endpoints not eligible = 0 (spec §3, §4.3)');
check('pushes.duplicates', 'duplicate pushes ≤ one push window per SIGKILL (issue 11 item 3)');
check('pushes.unexplained', 'no push is sent twice without a failure in between (issue 11 items 4, 5)');
check('pushes.suspended', 'pushes of a suspended version after its suspension was stored = 0 (issue 11 item 1)');
check('requests.unanswered', 'requests without an answer = 0, 503 being an answer (spec §4.2, §10; issue 11 item 10)');
check('pulls.404', '404 answers caused by an unloaded registry = 0 (issue 11 item 6)');
check('reports.lost', 'ConfigApplied reports lost = 0 (issue 11 items 6, 7)');
check('events.outage', 'events sent while the store was down are applied once it returns (issue 11 item 7)');
check('jobs.stuck', 'jobs stuck after the faults = 0 (issue 11 items 4, 6)');
check('crashes', 'server crashes = 0 (issue 11 item 9)');
check('recovery.nats-create.cdtp', 'CDTP answers again within 5 s of NATS returning, first restart (spec §10)');
check('recovery.nats.cdtp', 'CDTP answers again within 5 s of NATS returning, restart during the rollout (spec §10)');
check('recovery.store.cdtp', 'CDTP answers again within 5 s of the store returning (spec §10, issue 11 item 7)');
check('recovery.store.rest', 'REST answers again within 5 s of the store returning (spec §10)');
check('recovery.s3.upload', 'uploads succeed again within 5 s of S3 returning (spec §10, issue 11 item 9)');
check('recovery.tekton.cdtp', 'CDTP answers 200 again within 5 s of Tekton returning (spec §10, issue 11 item 6)');
check('recovery.tekton.rest', 'REST answers 200 again within 5 s of Tekton returning (spec §10, issue 11 item 6)');
check('counters.2.0.0', 'rollout counters of the general rollout equal what the fleet saw (issue 11 items 6, 7)');
check('counters.0.6.0', 'rollout counters of the targeted rollout equal what the fleet saw (issue 11 items 2, 6, 7)');
check('counters.0.8.0', 'rollout counters of the dated targeted rollout equal what the fleet saw (issue 11 items 5, 6, 7)');
