import { type Collection, type Db, type Document, MongoClient } from 'mongodb';
import { ensureIndexes } from './collections';
import { batchOptions, driverOptions, type MongoStoreConfig, scanTimeoutMS } from './config';
import { abandonUnsettled, noteClient, raiseDeadline, run, withDeadline } from './errors';
import { MongoAuditLog } from './mongo-audit-log';
import { MongoEndpointRepository } from './mongo-endpoint-repository';
import { MongoJobQueue } from './mongo-job-queue';
import { MongoLease } from './mongo-lease';
import { MongoRolloutStatsRepository } from './mongo-rollout-stats-repository';
import { MongoSoftwareRepository } from './mongo-software-repository';

/** How often the store checks that its client still reaches the server (see `watch`). */
const WATCH_INTERVAL_MS = 1000;
/** How long the watch waits for each of its pings. */
const WATCH_TIMEOUT_MS = 2000;
/** How many watches in a row must find the client stuck (and a fresh one not) before it is replaced. */
const STUCK_ROUNDS = 1;

/**
 * A `Db` whose collections always belong to the store's current client, so that the client can be
 * replaced under the repositories (they keep the collections they were built with).
 */
function liveDb(client: () => MongoClient, database: string): Db {
  const cache = new WeakMap<MongoClient, Map<string, Collection<Document>>>();
  const collectionOf = (name: string): Collection<Document> => {
    const c = client();
    noteClient(c); // the call starting now goes through this client (see abandonUnsettled)
    let byName = cache.get(c);
    if (!byName) cache.set(c, (byName = new Map<string, Collection<Document>>()));
    let col = byName.get(name);
    if (!col) byName.set(name, (col = c.db(database).collection(name)));
    return col;
  };
  const forward = <T extends object>(target: () => T) =>
    new Proxy({} as T, {
      get(_t, prop) {
        const obj = target();
        const v: unknown = Reflect.get(obj, prop, obj);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(obj) : v;
      },
    });
  return new Proxy({} as Db, {
    get(_t, prop) {
      if (prop === 'collection') return (name: string) => forward(() => collectionOf(name));
      const c = client();
      noteClient(c);
      const db = c.db(database);
      const v: unknown = Reflect.get(db, prop, db);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(db) : v;
    },
  });
}

/**
 * The MongoDB-wire store: one client, one database, the repositories of the core's ports.
 * `start()` connects and creates the indexes (idempotent); `stop()` closes the client. The
 * repositories exist from construction; a call made while the store is unreachable throws
 * OtaoError('store.unavailable') within the configured timeouts, and the same instance recovers by
 * itself when the server is back.
 *
 * The client is watched: after a restart of FerretDB, the driver's server monitor was seen to hang
 * for good in its reconnection handshake (driver 6.22 and 7.9 alike: the replica then answers 503
 * forever). Every few seconds the store pings; when the ping cannot reach the server but a fresh
 * client can, the client is replaced (`reconnects` counts it) — the repositories follow at once.
 */
export class MongoStore {
  private current: MongoClient;
  readonly db: Db;
  readonly software: MongoSoftwareRepository;
  readonly endpoints: MongoEndpointRepository;
  readonly stats: MongoRolloutStatsRepository;
  readonly lease: MongoLease;
  readonly jobs: MongoJobQueue;
  readonly audit: MongoAuditLog;
  /** How many times the client was replaced because it no longer reached a reachable server. */
  reconnects = 0;
  private watcher: NodeJS.Timeout | undefined;
  private watching = false;
  private stuckRounds = 0;
  private stopped = false;

  constructor(readonly config: MongoStoreConfig) {
    if (!config.database) throw new RangeError('mongo-store: database must be a non-empty name');
    const o = driverOptions(config);
    raiseDeadline(o.serverSelectionTimeoutMS + o.socketTimeoutMS);
    this.current = this.newClient();
    this.db = liveDb(() => this.current, config.database);
    this.software = new MongoSoftwareRepository(this.db, batchOptions(config));
    this.endpoints = new MongoEndpointRepository(this.db, batchOptions(config), { db: () => this.scanDb(), timeoutMS: scanTimeoutMS(config) }, config.cohortOf);
    this.stats = new MongoRolloutStatsRepository(this.db);
    this.lease = new MongoLease(this.db);
    this.jobs = new MongoJobQueue(this.db);
    this.audit = new MongoAuditLog(this.db);
  }

  /** The driver client in use now (it may be replaced, see the class comment). */
  get client(): MongoClient {
    return this.current;
  }

  /** Connects and creates the indexes. Throws OtaoError('store.unavailable') when the store cannot be reached. */
  async start(): Promise<void> {
    this.stopped = false;
    await run('store.start', () => this.current.connect());
    await run('store.indexes', () => ensureIndexes(this.db));
    await this.software.backfillPhased();
    if (!this.watcher) {
      this.watcher = setInterval(() => void this.watch(), WATCH_INTERVAL_MS);
      this.watcher.unref();
    }
  }

  /**
   * Stores the cohort of endpoint documents written without one (see `MongoStoreConfig.cohortOf`):
   * the composition root runs it in the background after `start`. Returns how many it completed.
   */
  backfillCohorts(): Promise<number> {
    return this.endpoints.backfillCohorts();
  }

  /** Health check for readiness: resolves when the server answers `ping`, else throws OtaoError('store.unavailable'). */
  async ping(): Promise<void> {
    await run('store.ping', () => this.db.command({ ping: 1 }));
  }

  /** Closes the clients (idempotent). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = undefined;
    const scans = this.scans;
    this.scans = undefined;
    await Promise.all([this.current.close(), scans?.close()]);
  }

  private scans: MongoClient | undefined;

  /**
   * The database through a second, small client whose socket timeout is `scanTimeoutMS`: for the
   * few queries that read a whole application's endpoints (seconds at a million on FerretDB v2),
   * so that neither the main client's timeout nor its pool is spent on them. Connected on first use.
   */
  private scanDb(): Db {
    if (!this.scans) {
      const timeout = scanTimeoutMS(this.config);
      this.scans = new MongoClient(this.config.uri, { ...driverOptions(this.config), socketTimeoutMS: timeout, maxPoolSize: 2, waitQueueTimeoutMS: timeout });
    }
    return this.scans.db(this.config.database);
  }

  /**
   * One check: a ping through the client; if it fails, a ping through a fresh short-lived client.
   * The server answering the fresh one, and then still not ours, means our client is stuck: replace it.
   */
  async watch(): Promise<boolean> {
    if (this.watching || this.stopped) return false;
    this.watching = true;
    const reaches = async (): Promise<boolean> => {
      try {
        await withDeadline(() => this.current.db(this.config.database).command({ ping: 1 }), WATCH_TIMEOUT_MS);
        return true;
      } catch {
        return false;
      }
    };
    try {
      if (await reaches()) {
        this.stuckRounds = 0;
        return false;
      }
      // unreachable through our client: is the server there?
      const probe = new MongoClient(this.config.uri, {
        ...driverOptions(this.config),
        serverSelectionTimeoutMS: WATCH_TIMEOUT_MS,
        connectTimeoutMS: WATCH_TIMEOUT_MS,
        socketTimeoutMS: WATCH_TIMEOUT_MS,
        monitorCommands: false,
      });
      try {
        await withDeadline(() => probe.db(this.config.database).command({ ping: 1 }), WATCH_TIMEOUT_MS);
      } catch {
        this.stuckRounds = 0;
        return false; // the store is down: nothing to mend
      } finally {
        void probe.close(true).catch(() => undefined);
      }
      // The server is there. A client that was only slow to see it come back (its ping above went out
      // while the server was still down) reaches it now: replacing it would give up calls it is
      // answering, and a write given up after the server applied it would be made again (a count
      // made twice). Only a client that still cannot reach a server a fresh one reaches is stuck.
      if (await reaches()) {
        this.stuckRounds = 0;
        return false;
      }
      // STUCK_ROUNDS in a row (1: at once; the stuck client must go fast, its calls hold requests).
      if (++this.stuckRounds < STUCK_ROUNDS || this.stopped) return false;
      this.stuckRounds = 0;
      const stuck = this.current;
      const fresh = this.newClient();
      try {
        await withDeadline(() => fresh.connect(), WATCH_TIMEOUT_MS);
      } catch {
        void fresh.close(true).catch(() => undefined);
        return false;
      }
      this.current = fresh;
      this.reconnects++;
      abandonUnsettled(stuck, 'the client was replaced (it no longer reached the server)');
      this.config.onReconnect?.('the client no longer reached the server, a fresh client did: replaced');
      void stuck.close(true).catch(() => undefined);
      return true;
    } catch {
      return false;
    } finally {
      this.watching = false;
    }
  }

  private newClient(): MongoClient {
    const client = new MongoClient(this.config.uri, driverOptions(this.config));
    const onCommand = this.config.onCommand;
    if (onCommand) {
      // Handshakes and heartbeats are not commands of OTAO's: only what the repositories send is counted.
      const ignored = new Set(['hello', 'isMaster', 'ismaster', 'ping', 'saslStart', 'saslContinue', 'endSessions']);
      client.on('commandSucceeded', (e) => void (ignored.has(e.commandName) || onCommand({ commandName: e.commandName, durationMs: e.duration, ok: true })));
      client.on('commandFailed', (e) => void (ignored.has(e.commandName) || onCommand({ commandName: e.commandName, durationMs: e.duration, ok: false })));
    }
    return client;
  }
}

/** Factory for composition roots: `createMongoStore(config)` then `await store.start()`. */
export function createMongoStore(config: MongoStoreConfig): MongoStore {
  return new MongoStore(config);
}
