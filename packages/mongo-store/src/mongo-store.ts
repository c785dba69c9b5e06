import { type Db, MongoClient } from 'mongodb';
import { ensureIndexes } from './collections';
import { batchOptions, driverOptions, type MongoStoreConfig } from './config';
import { run } from './errors';
import { MongoEndpointRepository } from './mongo-endpoint-repository';
import { MongoJobQueue } from './mongo-job-queue';
import { MongoLease } from './mongo-lease';
import { MongoRolloutStatsRepository } from './mongo-rollout-stats-repository';
import { MongoSoftwareRepository } from './mongo-software-repository';

/**
 * The MongoDB-wire store: one client, one database, the four repositories of the core's ports.
 * `start()` connects and creates the indexes (idempotent); `stop()` closes the client. The
 * repositories exist from construction; a call made while the store is unreachable throws
 * OtaoError('store.unavailable') within the configured timeouts, and the same instance recovers by
 * itself when the server is back.
 */
export class MongoStore {
  readonly client: MongoClient;
  readonly db: Db;
  readonly software: MongoSoftwareRepository;
  readonly endpoints: MongoEndpointRepository;
  readonly stats: MongoRolloutStatsRepository;
  readonly lease: MongoLease;
  readonly jobs: MongoJobQueue;

  constructor(readonly config: MongoStoreConfig) {
    if (!config.database) throw new RangeError('mongo-store: database must be a non-empty name');
    this.client = new MongoClient(config.uri, driverOptions(config));
    const onCommand = config.onCommand;
    if (onCommand) {
      // Handshakes and heartbeats are not commands of OTAO's: only what the repositories send is counted.
      const ignored = new Set(['hello', 'isMaster', 'ismaster', 'ping', 'saslStart', 'saslContinue', 'endSessions']);
      this.client.on('commandSucceeded', (e) => void (ignored.has(e.commandName) || onCommand({ commandName: e.commandName, durationMs: e.duration, ok: true })));
      this.client.on('commandFailed', (e) => void (ignored.has(e.commandName) || onCommand({ commandName: e.commandName, durationMs: e.duration, ok: false })));
    }
    this.db = this.client.db(config.database);
    this.software = new MongoSoftwareRepository(this.db, batchOptions(config));
    this.endpoints = new MongoEndpointRepository(this.db, batchOptions(config));
    this.stats = new MongoRolloutStatsRepository(this.db);
    this.lease = new MongoLease(this.db);
    this.jobs = new MongoJobQueue(this.db);
  }

  /** Connects and creates the indexes. Throws OtaoError('store.unavailable') when the store cannot be reached. */
  async start(): Promise<void> {
    await run('store.start', () => this.client.connect());
    await run('store.indexes', () => ensureIndexes(this.db));
  }

  /** Health check for readiness: resolves when the server answers `ping`, else throws OtaoError('store.unavailable'). */
  async ping(): Promise<void> {
    await run('store.ping', () => this.db.command({ ping: 1 }));
  }

  /** Closes the client (idempotent). */
  async stop(): Promise<void> {
    await this.client.close();
  }
}

/** Factory for composition roots: `createMongoStore(config)` then `await store.start()`. */
export function createMongoStore(config: MongoStoreConfig): MongoStore {
  return new MongoStore(config);
}
