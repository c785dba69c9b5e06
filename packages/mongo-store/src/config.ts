import { type BatchOptions, DEFAULT_BATCH } from './batching';

/** Configuration of the MongoDB-wire store, parsed and validated by the composition root. */
export interface MongoStoreConfig {
  /** `mongodb://…` connection string (MongoDB or FerretDB). */
  readonly uri: string;
  /** Database holding OTAO's collections. */
  readonly database: string;
  /** How long a call waits for a reachable server before failing (driver `serverSelectionTimeoutMS`). */
  readonly serverSelectionTimeoutMS?: number;
  /** TCP connect timeout (driver `connectTimeoutMS`). */
  readonly connectTimeoutMS?: number;
  /** How long a call waits for an answer on an open connection (driver `socketTimeoutMS`). */
  readonly socketTimeoutMS?: number;
  /**
   * How long a query that reads a whole application's endpoints in the store may take: the
   * preview's grouping (`shapes`) and the count of an endpoint list (driver `timeoutMS` of that one
   * operation, instead of `socketTimeoutMS`). On FerretDB v2 grouping 1 000 000 endpoints takes
   * seconds (bench/console-lists). Default 60 000.
   */
  readonly scanTimeoutMS?: number;
  /**
   * The cohort rule of phased rollouts (spec §4.10): `cohortOf` of `@otao/core` with a SHA-256, given
   * by the composition root (the rule stays in the core). The store then keeps each endpoint's cohort
   * in its document — set when the document is created, and by `backfillCohorts` for documents
   * written before — so that the preview's grouping can split the fleet by phase boundaries
   * (`EndpointRepository.shapes`). Without it no cohort is stored, and a phased preview classifies
   * endpoint by endpoint.
   */
  readonly cohortOf?: (tenantId: string, appName: string, endpointId: string) => number;
  /** Connection pool size (driver `maxPoolSize`). */
  readonly maxPoolSize?: number;
  /** Retry a read once after a network error (driver `retryReads`). */
  readonly retryReads?: boolean;
  /** How concurrent endpoint look-ups and writes are gathered into commands (defaults: 1000 per command, 2 commands out). */
  readonly batch?: Partial<BatchOptions>;
  /**
   * Called once per command the driver sends to the server (from the driver's command monitoring),
   * for metrics: how many round trips OTAO makes, by command, and how long they take.
   */
  readonly onCommand?: (event: StoreCommandEvent) => void;
  /** Told when the store replaced a client that no longer reached a reachable server (for logs). */
  readonly onReconnect?: (reason: string) => void;
}

/** One command sent to the store (a round trip), as seen by the driver's command monitoring. */
export interface StoreCommandEvent {
  /** `find`, `update`, `insert`, `findAndModify`, `getMore`, … */
  readonly commandName: string;
  readonly durationMs: number;
  readonly ok: boolean;
}

export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_SCAN_TIMEOUT_MS = 60_000;

/** `scanTimeoutMS`, validated. */
export function scanTimeoutMS(config: MongoStoreConfig): number {
  const x = config.scanTimeoutMS ?? DEFAULT_SCAN_TIMEOUT_MS;
  if (!Number.isInteger(x) || x <= 0)
    throw new RangeError(`mongo-store: scanTimeoutMS must be a positive integer of milliseconds, got ${String(config.scanTimeoutMS)}`);
  return x;
}

/** The driver options derived from the configuration. */
export function driverOptions(config: MongoStoreConfig): {
  serverSelectionTimeoutMS: number;
  connectTimeoutMS: number;
  socketTimeoutMS: number;
  maxPoolSize: number;
  retryReads: boolean;
  waitQueueTimeoutMS: number;
  retryWrites: false;
  appName: string;
  monitorCommands: boolean;
} {
  const ms = (v: number | undefined, name: string): number => {
    const x = v ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(x) || x <= 0) throw new RangeError(`mongo-store: ${name} must be a positive integer of milliseconds, got ${String(v)}`);
    return x;
  };
  return {
    serverSelectionTimeoutMS: ms(config.serverSelectionTimeoutMS, 'serverSelectionTimeoutMS'),
    connectTimeoutMS: ms(config.connectTimeoutMS, 'connectTimeoutMS'),
    socketTimeoutMS: ms(config.socketTimeoutMS, 'socketTimeoutMS'),
    maxPoolSize: config.maxPoolSize ?? 50,
    retryReads: config.retryReads ?? true,
    // Without it a call waiting for a pooled connection waits forever (the driver's default is 0 =
    // no limit unless the deprecated timeoutMS is set): after a FerretDB restart such calls were
    // seen to hang for good while the pool waited for its monitor.
    waitQueueTimeoutMS: ms(config.socketTimeoutMS, 'socketTimeoutMS'),
    // A retried write is not idempotent for inserts used as compare-and-set; FerretDB has no retryable writes anyway.
    retryWrites: false,
    appName: 'otao',
    monitorCommands: config.onCommand !== undefined,
  };
}

/** The batching options of the configuration, defaults filled in. */
export function batchOptions(config: MongoStoreConfig): BatchOptions {
  const b = { ...DEFAULT_BATCH, ...config.batch };
  if (!Number.isInteger(b.maxBatch) || b.maxBatch < 1 || b.maxBatch > 25_000)
    throw new RangeError(`mongo-store: batch.maxBatch must be an integer in 1..25000, got ${String(b.maxBatch)}`);
  if (!Number.isInteger(b.maxInFlight) || b.maxInFlight < 1)
    throw new RangeError(`mongo-store: batch.maxInFlight must be a positive integer, got ${String(b.maxInFlight)}`);
  return b;
}
