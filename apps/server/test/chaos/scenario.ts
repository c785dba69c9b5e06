// The chaos scenario (issue 11, "The proof: a chaos suite"): the real pieces — nats-server, the
// store (FerretDB v2 on PostgreSQL + DocumentDB), versitygw S3, the Tekton stand-in (registry over
// Tekton REST + 17/SCMP), an EPR stand-in (18/EFE, 20/EFMP) — three replicas of the BUILT server,
// and a simulated fleet of endpoints (SimulatedFleet, 6/CDTP over NATS). During a paced `general`
// rollout (2.0.0) and two `targeted` ones (0.6.0, 0.8.0 at a rollout date), faults are injected
// one after another, each a step with its own measurements:
//   nats-create  NATS down 3 s while 0.6.0 is created through a replica that then restarts
//   rollout      2.0.0 goes general, paced by OTAO_PUSH_RATE_PER_SECOND
//   kill         SIGKILL of the replica holding the push job (the `jobs` collection's holder)
//   suspend      2.0.0 suspended over REST mid-rollout, resumed 10 s later
//   dates        0.8.0's rollout date passes: its pushes run under the rollout-date lease
//   nats         NATS down 3 s during the rollout
//   store        FerretDB stopped for the outage (20 s); EPR sends filter matches meanwhile
//   s3           versitygw stopped for the outage; a replica restarts meanwhile
//   tekton       Tekton answers 503 for the outage; a replica restarts meanwhile
//   garbage      random and crafted bytes on every subject OTAO subscribes to
//   settle       until every rollout reached its endpoints and the job queue is empty
// Then everything the fleet, the probes and the store saw is handed to measure.ts. Nothing here
// asserts: the suite does, on the measured facts.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { createMongoStore, type MongoStore } from '@otao/mongo-store';
import { FakeEpr, type FleetEndpointSpec, SimulatedFleet } from '@otao/nats-cdtp/testing';
import { FakeTekton } from '@otao/tekton-config/testing';
import { type FerretDB, type NatsServer, type S3Server, startFerretDB, startNats, startS3 } from '@otao/test-services';
import { OtaoProcess, type RecordedExit } from '../support/otao-process';
import { garbagePayloads, subscribedSubjects } from './garbage';
import { HttpProber, type ProbeRecord, uploadProbe } from './probes';

export const NAMES = {
  tenant: 'default',
  app: 'fleet',
  avn: 'fleet-v1',
  otao: 'otao',
  cmx: 'cmx-ota',
  epr: 'epr',
  tekton: 'tekton',
  tenantManager: 'tenant-manager',
  bucket: 'otao-chaos',
} as const;

export interface ChaosSettings {
  /** Endpoints of the fleet (OTAO_CHAOS_ENDPOINTS, default 10 000). */
  readonly endpoints: number;
  /** OTAO_PUSH_RATE_PER_SECOND of the replicas (OTAO_CHAOS_PUSH_RATE, default 25): the general rollout lasts through the faults. */
  readonly pushRate: number;
  /** Pulls per second of the fleet's pulling endpoints. */
  readonly pullRate: number;
  /** Share of endpoints that keep pulling; the others rely on pushes. */
  readonly pullerShare: number;
  /** How long the store, S3 and Tekton stay down (OTAO_CHAOS_OUTAGE_SECONDS, default 20). */
  readonly outageMs: number;
  /** Share of installs that fail (reported 500). */
  readonly failureRate: number;
  /** The push window (core option pushConcurrency): the duplicate bound is one window per SIGKILL. */
  readonly pushWindow: number;
  /** How long the system may take to settle after the last fault. */
  readonly settleMs: number;
  /** Recovery bound (spec §10 "answers again within seconds"; issue 11: ≤ 5 s). */
  readonly recoveryBoundMs: number;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): ChaosSettings {
  const num = (k: string, d: number): number => (env[k] !== undefined && env[k] !== '' ? Number(env[k]) : d);
  return {
    endpoints: num('OTAO_CHAOS_ENDPOINTS', 10_000),
    pushRate: num('OTAO_CHAOS_PUSH_RATE', 25),
    pullRate: 30,
    pullerShare: 0.1,
    outageMs: num('OTAO_CHAOS_OUTAGE_SECONDS', 20) * 1000,
    failureRate: 0.05,
    pushWindow: 1000,
    settleMs: num('OTAO_CHAOS_SETTLE_SECONDS', 240) * 1000,
    recoveryBoundMs: 5000,
  };
}

/** A rollout of the scenario and the endpoints eligible for it (everyone else must not get it). */
export interface Rollout {
  readonly version: string;
  readonly strategy: 'general' | 'targeted';
  readonly from: string;
  readonly filterId?: string;
  readonly eligible: ReadonlySet<string>;
}

export interface StepRecord {
  readonly name: 'nats-create' | 'rollout' | 'kill' | 'suspend' | 'dates' | 'nats' | 'store' | 's3' | 'tekton' | 'garbage' | 'settle';
  readonly title: string;
  readonly startedAt: number;
  endedAt: number;
  /** When the fault began and when the dependency came back (dependency faults). */
  faultAt?: number;
  returnedAt?: number;
  /** Replicas SIGKILLed in this step. */
  readonly kills: { replicaId: string; at: number }[];
  /** Replicas stopped (SIGTERM) and started again in this step. */
  readonly restarts: { replicaId: string; at: number }[];
  readonly notes: string[];
  error?: string;
}

export interface SuspensionFacts {
  readonly requestedAt: number;
  readonly storedAt: number;
  readonly resumeRequestedAt: number;
  readonly status: number;
  readonly pushedBefore: number;
  readonly eligible: number;
}

/**
 * The state of a rollout when the last background job caused by a change had completed: a job that
 * completes without pushing what the change made due (a stale catalogue, an unloaded registry) is
 * only healed, if ever, by an unrelated later change.
 */
export interface Checkpoint {
  readonly name: string;
  readonly version: string;
  /** When no job caused by the change was left (undefined: they did not complete in time). */
  readonly at?: number;
  readonly eligible: number;
  /** Eligible endpoints not offered the version by then. */
  readonly missing: number;
  readonly examples: readonly string[];
}

export interface StoredEndpoint {
  readonly currentVersion?: string;
  readonly filters: readonly string[];
  readonly lastReport?: { readonly configId: string; readonly statusCode: number };
  readonly pushed: readonly string[];
  readonly offered: readonly string[];
}

export interface ChaosFacts {
  readonly settings: ChaosSettings;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly steps: readonly StepRecord[];
  readonly rollouts: readonly Rollout[];
  readonly fleet: SimulatedFleet;
  readonly probes: readonly ProbeRecord[];
  readonly replicas: readonly {
    readonly replicaId: string;
    readonly exits: readonly RecordedExit[];
    readonly starts: readonly number[];
    readonly logFile: string;
    /** Log lines of store operations PostgreSQL refused with "deadlock detected". */
    readonly deadlocks: number;
  }[];
  readonly suspension?: SuspensionFacts;
  readonly checkpoints: readonly Checkpoint[];
  /** 18/EFE ep-matched events sent while the store was down (filter `store-outage`). */
  readonly outageEvents: readonly { readonly endpointId: string; readonly sentAt: number }[];
  readonly outageFilter: string;
  readonly stored: ReadonlyMap<string, StoredEndpoint>;
  readonly jobsLeft: readonly string[];
  readonly counters: Readonly<Record<string, { offered: number; applied: number; failed: number } | { error: string }>>;
  readonly garbage?: { readonly sent: number; readonly expectedDrops: number; readonly droppedDelta: number; readonly answers: number };
  readonly settled: { readonly ok: boolean; readonly waitedMs: number; readonly waiting: string };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function log(line: string): void {
  process.stdout.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

const ep = (i: number): string => `ep-${String(i).padStart(6, '0')}`;
const OUTAGE_FILTER = 'store-outage';
const G_SPEC = { rollout: 'general 2.0.0', link: 'replaced by the download link' };

/** The scenario: `setup()`, `run()` (the steps), `settle()`, `facts()`, and `teardown()` (always). */
export class Chaos {
  readonly settings: ChaosSettings;
  readonly steps: StepRecord[] = [];
  readonly rollouts: Rollout[] = [];
  readonly uploads: ProbeRecord[] = [];
  private nats: NatsServer | undefined;
  private fdb: FerretDB | undefined;
  private s3: S3Server | undefined;
  private tekton: FakeTekton | undefined;
  private epr: FakeEpr | undefined;
  private store: MongoStore | undefined;
  private fleetSim: SimulatedFleet | undefined;
  private prober: HttpProber | undefined;
  private replicas: OtaoProcess[] = [];
  private suspension: SuspensionFacts | undefined;
  private readonly checkpoints: Promise<Checkpoint>[] = [];
  private readonly outageEvents: { endpointId: string; sentAt: number }[] = [];
  private garbage: ChaosFacts['garbage'];
  private settled: ChaosFacts['settled'] = { ok: false, waitedMs: 0, waiting: 'not run' };
  private startedAt = Date.now();
  private readonly database = `otao_chaos_${Date.now().toString(36)}`;

  constructor(settings: ChaosSettings) {
    this.settings = settings;
  }

  get fleet(): SimulatedFleet {
    if (!this.fleetSim) throw new Error('the fleet is not started');
    return this.fleetSim;
  }

  // ---------------------------------------------------------------------------------------------
  // Setup

  async setup(): Promise<void> {
    const s = this.settings;
    this.startedAt = Date.now();
    log(`starting nats-server, the store (FerretDB v2 + PostgreSQL), versitygw, Tekton and EPR stand-ins`);
    [this.nats, this.fdb, this.s3] = await Promise.all([startNats(), startFerretDB(), startS3({ buckets: [NAMES.bucket] })]);
    this.tekton = new FakeTekton();
    await this.tekton.start();
    this.tekton.apps.set(NAMES.app, { tenantId: NAMES.tenant, consentRequired: false, versions: [NAMES.avn] });
    this.epr = await new FakeEpr({ servers: this.nats.url, instanceName: NAMES.epr }).start();
    this.store = createMongoStore({ uri: this.fdb.uri, database: this.database });
    await this.store.start();

    // The fleet: 40 % on 1.0.0 (general 2.0.0), 10 % on 0.5.0 (targeted 0.6.0 to filter wave1: 6 in
    // 10 of them), 16 % on 0.7.0 (targeted 0.8.0 at a rollout date to filter wave2: 10 in 16), the
    // rest on 0.1.0 (nothing for them). Every 10th endpoint keeps pulling.
    const n = s.endpoints;
    const g = Math.round(n * 0.4);
    const t1 = Math.round(n * 0.1);
    const t1In = Math.round(t1 * 0.6);
    const t2 = Math.round(n * 0.16);
    const t2In = Math.round(t2 * 0.625);
    const every = Math.max(1, Math.round(1 / s.pullerShare));
    const specs: FleetEndpointSpec[] = [];
    const groups = { g: new Set<string>(), wave1: new Set<string>(), wave2: new Set<string>() };
    for (let i = 0; i < n; i++) {
      const id = ep(i);
      let version = '0.1.0';
      if (i < g) {
        version = '1.0.0';
        groups.g.add(id);
      } else if (i < g + t1) {
        version = '0.5.0';
        if (i < g + t1In) groups.wave1.add(id);
      } else if (i < g + t1 + t2) {
        version = '0.7.0';
        if (i < g + t1 + t2In) groups.wave2.add(id);
      }
      specs.push({ endpointId: id, appVersionName: NAMES.avn, version, pulls: i % every === 0 });
    }
    this.rollouts.push(
      { version: '2.0.0', strategy: 'general', from: '1.0.0', eligible: groups.g },
      { version: '0.6.0', strategy: 'targeted', from: '0.5.0', filterId: 'wave1', eligible: groups.wave1 },
      { version: '0.8.0', strategy: 'targeted', from: '0.7.0', filterId: 'wave2', eligible: groups.wave2 },
    );
    this.epr.setMembers('wave1', NAMES.avn, [...groups.wave1]);
    this.epr.setMembers('wave2', NAMES.avn, [...groups.wave2]);

    const env: Record<string, string> = {
      OTAO_NATS_URLS: this.nats.url,
      OTAO_MONGODB_URI: this.fdb.uri,
      OTAO_MONGODB_DATABASE: this.database,
      OTAO_SERVICE_INSTANCE_NAME: NAMES.otao,
      OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME: NAMES.cmx,
      OTAO_EPR_INSTANCE_NAME: NAMES.epr,
      OTAO_TENANT_MANAGER_INSTANCE_NAME: NAMES.tenantManager,
      OTAO_SCMP_PROVIDER_INSTANCE_NAME: NAMES.tekton,
      OTAO_SECURITY_IGNORED: '/**',
      OTAO_TEKTON_ENABLED: 'true',
      OTAO_TEKTON_URL: this.tekton.url,
      OTAO_S3_ENABLED: 'true',
      OTAO_S3_BUCKET: NAMES.bucket,
      OTAO_S3_ENDPOINT: this.s3.endpoint,
      OTAO_S3_REGION: this.s3.region,
      OTAO_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: this.s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.s3.secretAccessKey,
      OTAO_PUSH_RATE_PER_SECOND: String(s.pushRate),
      OTAO_LOG_LEVEL: 'info',
    };
    log('starting three replicas of the built server');
    this.replicas = await Promise.all(
      [1, 2, 3].map((i) => OtaoProcess.start({ name: `chaos-replica-${i}`, env: { ...env, OTAO_REPLICA_ID: `replica-${i}` }, readyTimeoutMs: 60_000 })),
    );

    // Software: a probe version for uploads (suspended, never offered), and 2.0.0 with its file,
    // created suspended; its rollout starts in the `rollout` step.
    await this.expectStatus('POST', this.api(this.replicas[0]!, '/software'), { version: '0.0.1', rolloutStrategy: 'suspended', specification: {} }, [201]);
    await this.expectStatus(
      'POST',
      this.api(this.replicas[0]!, '/software'),
      { version: '2.0.0', upgradableFrom: ['1.0.0'], rolloutStrategy: 'suspended', specification: G_SPEC },
      [201],
    );
    const firmware = randomBytes(8 * 1024);
    const up = await fetch(this.api(this.replicas[1]!, '/software/2.0.0/file?name=fleet-2.0.0.bin'), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: firmware,
      signal: AbortSignal.timeout(30_000),
    });
    if (up.status !== 201) throw new Error(`upload of 2.0.0's file: ${up.status} ${await up.text()}`);

    this.fleetSim = await new SimulatedFleet({
      servers: this.nats.url,
      providerInstanceName: NAMES.otao,
      cmxInstanceName: NAMES.cmx,
      endpoints: specs,
      pullRatePerSecond: s.pullRate,
      failureRate: s.failureRate,
      installMs: [300, 3000],
    }).start();
    log(`booting the fleet: ${n} endpoints pull once (${specs.filter((x) => x.pulls).length} keep pulling, ${s.pullRate}/s)`);
    const t0 = Date.now();
    await this.fleet.boot(64);
    log(`fleet registered in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // EPR announces wave2's members as they register (18/EFE ep-matched): the rollout date of 0.8.0
    // finds them in the store whenever its filter bootstrap runs.
    for (const id of groups.wave2) await this.epr.matched('wave2', NAMES.app, NAMES.avn, id);
    this.prober = new HttpProber(() => this.replicas, NAMES.app);
    this.prober.start();
    this.fleet.startPulling();
  }

  // ---------------------------------------------------------------------------------------------
  // The steps

  async run(): Promise<void> {
    const s = this.settings;
    const g = this.rollout('2.0.0');

    await this.step(
      'nats-create',
      'NATS restart (down 3 s) while a targeted rollout (0.6.0 to wave1) is created through a replica that then restarts',
      async (st) => {
        const nats = this.nats!;
        const t1 = {
          version: '0.6.0',
          upgradableFrom: ['0.5.0'],
          rolloutStrategy: 'targeted',
          filters: [{ filterId: 'wave1' }],
          specification: { rollout: 'targeted 0.6.0' },
        };
        // A software event makes every replica drop its cached catalogue; the fleet's next pulls load
        // it again, so every replica holds a fresh catalogue without 0.6.0 when NATS goes down.
        await this.expectStatus(
          'PUT',
          this.api(this.anyRunning(), '/software/0.0.1'),
          { rolloutStrategy: 'suspended', specification: {}, metadata: { touched: Date.now() } },
          [200],
        );
        await sleep(1500);
        // ConfigApplied is a NATS core broadcast: one sent while no OTAO replica is subscribed is lost
        // by NATS itself. The fleet holds its reports until every replica is ready again.
        this.fleet.holdReports();
        const creator = await this.bystander();
        st.faultAt = Date.now();
        await nats.process.stop();
        const created = await this.request('POST', this.api(creator, '/software'), t1);
        st.notes.push(
          `0.6.0 created through ${creator.replicaId} while NATS was down: ${created.status}${created.status === 201 ? '' : ` ${created.body.slice(0, 200)}`}`,
        );
        // The creator restarts (a rolling restart during the incident): the jobs the creation caused
        // (wave1's bootstrap, the pushes to its members) run on the other replicas, whose catalogues
        // never heard of 0.6.0 (its software event could not be published).
        st.restarts.push({ replicaId: creator.replicaId, at: Date.now() });
        await creator.stop().catch((e: Error) => st.notes.push(`${creator.replicaId} did not stop cleanly: ${e.message.split('\n')[0]}`));
        await sleep(Math.max(0, 3000 - (Date.now() - st.faultAt)));
        await nats.process.start();
        st.returnedAt = Date.now();
        if (created.status !== 201) await this.expectStatus('POST', this.api(this.anyRunning(), '/software'), t1, [201, 409]);
        await this.allReady(30_000, st);
        this.fleet.releaseReports();
        // When the bootstrap of wave1 and the push to its members have completed and no push of 0.6.0
        // is claimed any more (another app-wide run may be pushing some), every wave1 endpoint must
        // have been offered 0.6.0. The creator starts again only then: its start reloads the registry,
        // which schedules an app-wide push that would hide a job that completed without pushing.
        const checkpoint = this.checkpoint('0.6.0 created while NATS was down', this.rollout('0.6.0'), /"filterId":"wave1"|"filterIds":\["wave1"\]/, 120_000);
        this.checkpoints.push(checkpoint);
        await checkpoint;
        await creator.start().catch((e: Error) => st.notes.push(`${creator.replicaId} did not start again: ${e.message.split('\n')[0]}`));
        await this.allReady(30_000, st);
        await sleep(3000);
      },
    );

    await this.step('rollout', `general rollout of 2.0.0 to ${g.eligible.size} endpoints, ${s.pushRate} pushes/s per OTAO_PUSH_RATE_PER_SECOND`, async () => {
      await this.expectStatus(
        'PUT',
        this.api(this.replicas[0]!, '/software/2.0.0'),
        { upgradableFrom: ['1.0.0'], rolloutStrategy: 'general', specification: G_SPEC },
        [200],
      );
      await this.until('300 pushes of 2.0.0', () => this.pushesOf('2.0.0') >= 300, 120_000);
    });

    await this.step('kill', 'SIGKILL of the replica running the rollout job, restarted at once', async (st) => {
      const holder = await this.waitFor('a replica holding the push job', () => this.jobHolder(), 30_000);
      const victim = this.byId(holder);
      st.notes.push(`job held by ${holder}; ${this.pushesOf('2.0.0')} pushes of 2.0.0 so far`);
      st.kills.push({ replicaId: holder, at: Date.now() });
      st.faultAt = Date.now();
      await victim.kill();
      await victim.start();
      const killedAt = st.kills[0]!.at;
      // the rollout goes on from another replica once the dead claim expired
      const resumed = await this.until(
        'a push of 2.0.0 after the kill',
        () => this.fleet.pushes.some((p) => p.version === '2.0.0' && p.receivedAt > killedAt + 500),
        90_000,
      ).then(
        () => Date.now(),
        () => undefined,
      );
      st.notes.push(resumed ? `rollout resumed ${((resumed - killedAt) / 1000).toFixed(1)} s after the kill` : 'rollout did not resume within 90 s');
      await sleep(3000);
    });

    await this.step('suspend', 'suspend 2.0.0 over REST in the middle of its rollout, resume 10 s later', async (st) => {
      const pushedBefore = new Set(this.fleet.pushes.filter((p) => p.version === '2.0.0').map((p) => p.endpointId)).size;
      if (pushedBefore >= g.eligible.size) st.notes.push('the rollout had already reached every endpoint: nothing left to stop');
      const r = this.anyRunning();
      const requestedAt = Date.now();
      const res = await this.request('PUT', this.api(r, '/software/2.0.0'), { upgradableFrom: ['1.0.0'], rolloutStrategy: 'suspended', specification: G_SPEC });
      const storedAt = Date.now();
      st.faultAt = requestedAt;
      st.notes.push(`suspended through ${r.replicaId}: ${res.status} after ${storedAt - requestedAt} ms; ${pushedBefore} of ${g.eligible.size} pushed before`);
      await sleep(10_000);
      const resumeRequestedAt = Date.now();
      await this.expectStatus(
        'PUT',
        this.api(this.anyRunning(), '/software/2.0.0'),
        { upgradableFrom: ['1.0.0'], rolloutStrategy: 'general', specification: G_SPEC },
        [200],
      );
      this.suspension = { requestedAt, storedAt, resumeRequestedAt, status: res.status, pushedBefore, eligible: g.eligible.size };
      await sleep(2000);
    });

    await this.step('dates', "a targeted rollout's date passes (0.8.0 to wave2): its pushes run under the rollout-date lease", async (st) => {
      const date = Math.ceil((Date.now() + 5000) / 1000) * 1000;
      const body = {
        version: '0.8.0',
        upgradableFrom: ['0.7.0'],
        rolloutStrategy: 'targeted',
        filters: [{ filterId: 'wave2', rolloutDate: new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z') }],
        specification: { rollout: 'targeted 0.8.0' },
      };
      await this.expectStatus('POST', this.api(this.anyRunning(), '/software'), body, [201]);
      st.faultAt = date;
      st.notes.push(
        `0.8.0 created with rolloutDate ${new Date(date).toISOString()}; lease held by ${(await this.leaseHolder().catch(() => undefined)) ?? 'nobody'}`,
      );
      // a run of 1 000 pushes at the configured rate outlasts the lease's 30 s
      await sleep(Math.max(0, date + 45_000 - Date.now()));
    });

    await this.step('nats', 'NATS restart (down 3 s) during the rollout', async (st) => {
      const nats = this.nats!;
      // ConfigApplied is a NATS core broadcast: one sent while no OTAO replica is subscribed is lost
      // by NATS itself. The fleet holds its reports until every replica is ready again.
      this.fleet.holdReports();
      st.faultAt = Date.now();
      await nats.process.stop();
      await sleep(3000);
      await nats.process.start();
      st.returnedAt = Date.now();
      await this.allReady(30_000, st);
      this.fleet.releaseReports();
      await sleep(8000);
    });

    await this.step(
      'store',
      `store stopped for ${s.outageMs / 1000} s (FerretDB process stopped and started); EPR sends filter matches meanwhile`,
      async (st) => {
        const fdb = this.fdb!;
        const epr = this.epr!;
        // 18/EFE ep-matched of idle endpoints to a filter no software uses, 10 a second through the
        // outage: OTAO must keep retrying them until the store is back (OTAO_EVENT_RETRY_SECONDS).
        const idle = [...this.fleet.endpoints.values()].filter((e) => e.spec.version === '0.1.0').map((e) => e.spec.endpointId);
        st.faultAt = Date.now();
        await fdb.process.stop();
        try {
          for (let i = 0; Date.now() < st.faultAt + s.outageMs && i < idle.length; i++) {
            await epr.matched(OUTAGE_FILTER, NAMES.app, NAMES.avn, idle[i]!).then(
              () => this.outageEvents.push({ endpointId: idle[i]!, sentAt: Date.now() }),
              () => undefined,
            );
            await sleep(100);
          }
          await sleep(Math.max(0, st.faultAt + s.outageMs - Date.now()));
        } finally {
          await fdb.process.start();
        }
        st.notes.push(`${this.outageEvents.length} ep-matched events (filter ${OUTAGE_FILTER}) sent while the store was down`);
        st.returnedAt = Date.now();
        await this.allReady(30_000, st);
        await sleep(8000);
      },
    );

    await this.step('s3', `S3 (versitygw) stopped for ${s.outageMs / 1000} s; a replica restarts meanwhile`, async (st) => {
      const s3 = this.s3!;
      const victim = await this.bystander();
      st.faultAt = Date.now();
      await s3.process.stop();
      let uploading = true;
      const probe = (async () => {
        while (uploading) {
          const r = this.runningReplicas();
          if (r.length > 0) await uploadProbe(r[Math.floor(Math.random() * r.length)]!, NAMES.app, '0.0.1', randomBytes(512), this.uploads);
          await sleep(500);
        }
      })();
      try {
        st.restarts.push({ replicaId: victim.replicaId, at: Date.now() });
        await victim.stop();
        try {
          await victim.start('health');
          st.notes.push(`${victim.replicaId} restarted while S3 was down: /health 200`);
        } catch (e) {
          st.notes.push(`${victim.replicaId} did not come up while S3 was down: ${(e as Error).message.split('\n')[0]}`);
        }
        await sleep(Math.max(0, st.faultAt + s.outageMs - Date.now()));
      } finally {
        await s3.process.start();
      }
      st.returnedAt = Date.now();
      if (!victim.running) {
        st.notes.push(`${victim.replicaId} started again after S3 returned`);
        await victim.start().catch((e: Error) => st.notes.push(`${victim.replicaId} still does not start: ${e.message.split('\n')[0]}`));
      }
      await this.until(
        'an upload answered 2xx after S3 returned',
        () => this.uploads.some((u) => u.sentAt >= st.returnedAt! && (u.status === 200 || u.status === 201)),
        60_000,
      ).catch(() => st.notes.push('no upload succeeded within 60 s of S3 returning'));
      await sleep(5000);
      uploading = false;
      await probe;
      await this.allReady(30_000, st);
    });

    await this.step('tekton', `Tekton down (503) for ${s.outageMs / 1000} s while a replica restarts`, async (st) => {
      const tekton = this.tekton!;
      const victim = await this.bystander();
      st.faultAt = Date.now();
      tekton.failWith = 503;
      try {
        st.restarts.push({ replicaId: victim.replicaId, at: Date.now() });
        await victim.stop();
        await victim
          .start('health')
          .catch((e: Error) => st.notes.push(`${victim.replicaId} did not come up while Tekton was down: ${e.message.split('\n')[0]}`));
        await sleep(Math.max(0, st.faultAt + s.outageMs - Date.now()));
      } finally {
        tekton.failWith = undefined;
      }
      st.returnedAt = Date.now();
      if (!victim.running) await victim.start().catch((e: Error) => st.notes.push(`${victim.replicaId} does not start: ${e.message.split('\n')[0]}`));
      await this.allReady(30_000, st);
      await sleep(8000);
    });

    await this.step('garbage', 'garbage bytes on every subscribed subject', async (st) => {
      const before = await this.droppedTotal();
      const nc = await connect({ servers: this.nats!.url, name: 'chaos-garbage' });
      let answers = 0;
      const inbox = 'kaa.v1.replica.chaos-garbage.cdtp.response';
      const sub = nc.subscribe(inbox, { callback: () => answers++ });
      const subjects = subscribedSubjects({ otao: NAMES.otao, cmx: NAMES.cmx, epr: NAMES.epr, tenantManager: NAMES.tenantManager, tekton: NAMES.tekton });
      let sent = 0;
      let expectedDrops = 0;
      st.faultAt = Date.now();
      for (const { subject, everyReplica } of subjects) {
        for (const payload of garbagePayloads(40, nc.info?.max_payload ?? 1024 * 1024)) {
          nc.publish(subject, payload, subject.endsWith('.cdtp.request') ? { reply: inbox } : {});
          sent++;
          expectedDrops += everyReplica ? this.runningReplicas().length : 1;
        }
        await nc.flush();
      }
      st.notes.push(`${sent} garbage messages on ${subjects.length} subjects`);
      await sleep(5000);
      sub.unsubscribe();
      await nc.close();
      const after = await this.droppedTotal();
      this.garbage = { sent, expectedDrops, droppedDelta: after - before, answers };
      await this.allReady(30_000, st);
    });
  }

  /** Waits until every eligible endpoint was offered its version, the job queue is empty and the fleet is quiet. */
  async settle(): Promise<void> {
    await this.step('settle', 'settling: every rollout reaches its endpoints, the job queue empties', async (st) => {
      const t0 = Date.now();
      let waiting: string;
      let ok: boolean;
      for (;;) {
        const missing = this.rollouts.map((r) => [...r.eligible].filter((id) => !this.fleet.endpoints.get(id)!.offers.has(r.version)).length);
        const jobs = await this.jobCount().catch(() => -1);
        waiting = `not yet offered ${this.rollouts.map((r, i) => `${r.version}: ${missing[i]}`).join(', ')}; jobs ${jobs}; fleet busy ${this.fleet.pending}`;
        ok = missing.every((m) => m === 0) && jobs === 0;
        if (ok && this.fleet.unsentReports === 0 && this.fleetQuiet()) break;
        if (Date.now() - t0 > this.settings.settleMs) break;
        if ((Date.now() - t0) % 15_000 < 1000) log(`settling: ${waiting}`);
        await sleep(1000);
      }
      this.fleet.stopPulling();
      // pulls still in flight end by their answer or their timeout (60 s)
      await this.until("the fleet's last pulls to end", () => this.fleet.pulls.every((p) => p.outcome !== 'pending'), 70_000).catch(() => undefined);
      await sleep(3000);
      this.prober?.stop();
      await this.prober?.idle();
      this.settled = { ok, waitedMs: Date.now() - t0, waiting };
      st.notes.push(`settled after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${waiting}`);
    });
  }

  /** Everything measured, with the store read after the faults. */
  async facts(): Promise<ChaosFacts> {
    const stored = new Map<string, StoredEndpoint>();
    const docs = this.store!.db.collection<{
      endpointId: string;
      currentVersion?: string;
      lastReport?: string;
      pushed?: string[];
      offered?: string[];
      filters?: string[];
    }>('endpoints');
    for await (const d of docs.find(
      { tenantId: NAMES.tenant, appName: NAMES.app },
      { projection: { endpointId: 1, currentVersion: 1, lastReport: 1, pushed: 1, offered: 1, filters: 1 } },
    )) {
      const report = d.lastReport ? (JSON.parse(d.lastReport) as { configId: string; statusCode: number }) : undefined;
      stored.set(d.endpointId, {
        ...(d.currentVersion !== undefined ? { currentVersion: d.currentVersion } : {}),
        ...(report ? { lastReport: { configId: report.configId, statusCode: report.statusCode } } : {}),
        pushed: d.pushed ?? [],
        offered: d.offered ?? [],
        filters: d.filters ?? [],
      });
    }
    const jobsLeft = (
      await this.store!.db.collection<{ kind: string; key: string; holder: string | null; attempts: number; availableAt: number }>('jobs').find({}).toArray()
    ).map((j) => `${j.kind} ${j.key} holder=${j.holder ?? '-'} attempts=${j.attempts} availableIn=${Math.round((j.availableAt - Date.now()) / 1000)}s`);
    const counters: Record<string, { offered: number; applied: number; failed: number } | { error: string }> = {};
    for (const r of this.rollouts) {
      const res = await this.request('GET', this.api(this.anyRunning(), `/software/${r.version}/rollout`));
      if (res.status === 200) {
        const b = JSON.parse(res.body) as { offered: number; applied: number; failed: number };
        counters[r.version] = { offered: b.offered, applied: b.applied, failed: b.failed };
      } else counters[r.version] = { error: `${res.status} ${res.body.slice(0, 200)}` };
    }
    const checkpoints = await Promise.all(this.checkpoints);
    return {
      settings: this.settings,
      startedAt: this.startedAt,
      checkpoints,
      outageEvents: this.outageEvents,
      outageFilter: OUTAGE_FILTER,
      endedAt: Date.now(),
      steps: this.steps,
      rollouts: this.rollouts,
      fleet: this.fleet,
      probes: [...(this.prober?.records ?? []), ...this.uploads],
      replicas: this.replicas.map((r) => ({
        replicaId: r.replicaId,
        exits: r.exits,
        starts: r.starts,
        logFile: r.logFile,
        deadlocks: countLines(r.logFile, 'deadlock detected'),
      })),
      ...(this.suspension ? { suspension: this.suspension } : {}),
      stored,
      jobsLeft,
      counters,
      ...(this.garbage ? { garbage: this.garbage } : {}),
      settled: this.settled,
    };
  }

  /** Stops everything this scenario started, whatever state it is in. */
  async teardown(): Promise<void> {
    this.prober?.stop();
    this.fleetSim?.stopPulling();
    await this.fleetSim?.stop().catch(() => undefined);
    await OtaoProcess.killAll();
    await this.epr?.stop().catch(() => undefined);
    await this.tekton?.stop().catch(() => undefined);
    await this.store?.stop().catch(() => undefined);
    await Promise.all([this.nats, this.fdb, this.s3].map(async (svc) => svc?.stop().catch(() => undefined)));
  }

  /** Where the replicas' logs are (for a failure message). */
  get logFiles(): string[] {
    return this.replicas.map((r) => r.logFile);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private async step(name: StepRecord['name'], title: string, fn: (st: StepRecord) => Promise<void>): Promise<void> {
    const st: StepRecord = { name, title, startedAt: Date.now(), endedAt: 0, kills: [], restarts: [], notes: [] };
    this.steps.push(st);
    log(`step ${name}: ${title}`);
    try {
      await fn(st);
    } catch (e) {
      st.error = (e as Error).message;
      log(`step ${name} failed: ${st.error}`);
    } finally {
      st.endedAt = Date.now();
      for (const n of st.notes) log(`  ${n}`);
    }
  }

  rollout(version: string): Rollout {
    const r = this.rollouts.find((x) => x.version === version);
    if (!r) throw new Error(`no rollout ${version}`);
    return r;
  }

  private api(r: OtaoProcess, path: string): string {
    return `${r.baseUrl}/api/v1/applications/${NAMES.app}${path}`;
  }

  private runningReplicas(): OtaoProcess[] {
    return this.replicas.filter((r) => r.running);
  }

  private anyRunning(): OtaoProcess {
    const r = this.runningReplicas();
    if (r.length === 0) throw new Error('no replica runs');
    return r[Math.floor(Math.random() * r.length)]!;
  }

  private byId(replicaId: string): OtaoProcess {
    const r = this.replicas.find((x) => x.replicaId === replicaId);
    if (!r) throw new Error(`no replica ${replicaId}`);
    return r;
  }

  private pushesOf(version: string): number {
    return this.fleet.pushes.filter((p) => p.version === version).length;
  }

  private fleetQuiet(): boolean {
    return this.fleet.pending - this.fleet.pulls.filter((p) => p.outcome === 'pending').length <= 0;
  }

  private async request(method: string, url: string, body?: unknown): Promise<{ status: number; body: string }> {
    const res = await fetch(url, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, body: await res.text() };
  }

  private async expectStatus(method: string, url: string, body: unknown, statuses: number[]): Promise<void> {
    const r = await this.request(method, url, body);
    if (!statuses.includes(r.status)) throw new Error(`${method} ${url}: ${r.status} ${r.body.slice(0, 300)}`);
  }

  private async until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(100);
    }
  }

  private async waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(200);
    }
  }

  /**
   * Waits until no job whose payload matches `caused` is left and no endpoint holds a claim to push
   * the version — at two looks 1.5 s apart — then counts the eligible endpoints of `rollout` not
   * offered its version.
   */
  private async checkpoint(name: string, rollout: Rollout, caused: RegExp, timeoutMs = 300_000): Promise<Checkpoint> {
    const end = Date.now() + timeoutMs;
    let clear = 0;
    while (Date.now() < end && clear < 2) {
      const claim = `claims.${rollout.version.replace(/\./g, '_')}`;
      const left = await Promise.all([this.jobsMatching(caused), this.store!.db.collection('endpoints').countDocuments({ [claim]: { $exists: true } })]).then(
        ([jobs, claims]) => jobs + claims,
        () => 1,
      );
      clear = left === 0 ? clear + 1 : 0;
      await sleep(1500);
    }
    const missing = [...rollout.eligible].filter((id) => !this.fleet.endpoints.get(id)!.offers.has(rollout.version));
    const at = clear >= 2 ? Date.now() : undefined;
    log(
      `checkpoint "${name}": ${at ? `its jobs completed; ${missing.length} of ${rollout.eligible.size} eligible endpoints not offered ${rollout.version}` : 'its jobs did not complete'}`,
    );
    return {
      name,
      version: rollout.version,
      ...(at !== undefined ? { at } : {}),
      eligible: rollout.eligible.size,
      missing: missing.length,
      examples: missing.slice(0, 5),
    };
  }

  /** The replica holding a claimed push job (the `jobs` collection's `holder`), if any. */
  private async jobHolder(): Promise<string | undefined> {
    const j = await this.store!.db.collection<{ kind: string; holder: string | null; until: number }>('jobs').findOne(
      { kind: 'pushes', holder: { $ne: null }, until: { $gt: Date.now() } },
      { sort: { until: -1 } },
    );
    return j?.holder ?? undefined;
  }

  /** The holder of the rollout-date lease, if held. */
  private async leaseHolder(): Promise<string | undefined> {
    const l = await this.store!.db.collection<{ _id: string; holder: string | null; until: number }>('leases').findOne({ _id: 'rollout-dates' });
    return l && l.holder && l.until > Date.now() ? l.holder : undefined;
  }

  /** Jobs whose payload matches. */
  private async jobsMatching(re: RegExp): Promise<number> {
    const jobs = await this.store!.db.collection<{ payload: string }>('jobs')
      .find({}, { projection: { payload: 1 } })
      .toArray();
    return jobs.filter((j) => re.test(j.payload)).length;
  }

  private async jobCount(): Promise<number> {
    return this.store!.db.collection('jobs').countDocuments({});
  }

  /** A running replica that holds neither a push job nor the rollout-date lease (else one that does not hold a job). */
  private async bystander(): Promise<OtaoProcess> {
    const busy = new Set([await this.jobHolder().catch(() => undefined), await this.leaseHolder().catch(() => undefined)]);
    const running = this.runningReplicas();
    return running.find((r) => !busy.has(r.replicaId)) ?? running.find((r) => r.replicaId !== [...busy][0]) ?? running[0]!;
  }

  /** Waits until every running replica answers /ready 200; notes the ones that do not. */
  private async allReady(timeoutMs: number, st: StepRecord): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (const r of this.runningReplicas()) {
      for (;;) {
        const ok = await fetch(`${r.baseUrl}/ready`, { signal: AbortSignal.timeout(3000) }).then(
          (x) => x.status === 200,
          () => false,
        );
        if (ok) break;
        if (Date.now() > end) {
          st.notes.push(`${r.replicaId} not ready within ${timeoutMs / 1000} s`);
          break;
        }
        await sleep(200);
      }
    }
  }

  /** Sum of otao_dropped_messages_total over the running replicas. */
  private async droppedTotal(): Promise<number> {
    let sum = 0;
    for (const r of this.runningReplicas()) {
      const text = await fetch(`${r.baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) }).then(
        (x) => x.text(),
        () => '',
      );
      for (const m of text.matchAll(/^otao_dropped_messages_total\{[^}]*\} (\d+(?:\.\d+)?)/gm)) sum += Number(m[1]);
    }
    return sum;
  }
}

function countLines(file: string, text: string): number {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes(text)).length;
  } catch {
    return 0;
  }
}

/** A scratch folder for the run's table and facts. */
export function resultsDir(): string {
  return mkdtempSync(join(tmpdir(), 'otao-chaos-'));
}
