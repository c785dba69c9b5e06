import { OtaoError } from '@otao/core';
import {
  MongoBulkWriteError,
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';

// The one place where driver errors are translated. A duplicate key is an expected outcome (the
// callers turn it into the port's `conflict`/`false`); everything else becomes
// OtaoError('store.unavailable') with the driver error as `cause`, so no driver type crosses a port.

export const DUPLICATE_KEY = 11000;

/**
 * A duplicate-key rejection (single write, or a bulk write whose every error is one). FerretDB 2.5
 * answers an upserting `findAndModify` that hits an existing `_id` with code 1 (InternalError) and
 * PostgreSQL's unique-violation text instead of 11000; that is recognised too.
 */
export function isDuplicateKey(e: unknown): boolean {
  if (e instanceof MongoBulkWriteError) {
    const raw: unknown = e.writeErrors;
    const errors = (Array.isArray(raw) ? raw : [raw]) as { code?: unknown }[];
    return errors.length > 0 && errors.every((w) => w.code === DUPLICATE_KEY);
  }
  if (!(e instanceof MongoServerError)) return false;
  return e.code === DUPLICATE_KEY || (e.code === 1 && /duplicate key value violates unique constraint/.test(e.message));
}

/** The store could not be reached, or did not answer in time. */
function isUnreachable(e: unknown): boolean {
  return (
    e instanceof MongoNetworkError || // includes MongoNetworkTimeoutError
    e instanceof MongoServerSelectionError ||
    e instanceof MongoTopologyClosedError ||
    e instanceof MongoNotConnectedError ||
    e instanceof MongoClientClosedError ||
    e instanceof MongoServerClosedError ||
    e instanceof MongoOperationTimeoutError ||
    (e instanceof Error && e.name === 'MongoPoolClearedError')
  );
}

/** Translates any error raised by a store call; `duplicate` when the write hit a unique index. */
export function translateError(operation: string, e: unknown): 'duplicate' | OtaoError {
  if (e instanceof OtaoError) return e;
  if (isDuplicateKey(e)) return 'duplicate';
  const detail = e instanceof Error ? e.message : String(e);
  const what = isUnreachable(e) ? 'store unreachable' : 'store refused the operation';
  return new OtaoError('store.unavailable', `${operation}: ${what}: ${detail}`, { cause: e });
}

/**
 * A conflict between concurrent transactions that the server rolled back whole, so the command may
 * simply run again: PostgreSQL's "deadlock detected" (40P01) or serialization failure (40001) under
 * FerretDB v2 — e.g. two replicas' multi-document writes meeting on the same endpoints — and
 * MongoDB's TransientTransactionError / WriteConflict (112).
 */
export function isTransientConflict(e: unknown): boolean {
  if (!(e instanceof MongoServerError) && !(e instanceof MongoBulkWriteError)) return false;
  // A bulk write's errors per operation: the other operations were applied, the bulk must not run
  // again whole (BulkWriter runs again only the operations rolled back).
  if (e instanceof MongoBulkWriteError && e.writeErrors !== undefined && (!Array.isArray(e.writeErrors) || e.writeErrors.length > 0)) return false;
  if (e.code === 112 || (typeof e.hasErrorLabel === 'function' && e.hasErrorLabel('TransientTransactionError'))) return true;
  return TRANSIENT_MESSAGE.test(e.message);
}

const TRANSIENT_MESSAGE = /deadlock detected|could not serialize access|40P01|40001/;

/** Whether one operation's error in a bulk write is a transient conflict (that operation alone was rolled back). */
export function isTransientWriteError(w: { code?: unknown; errmsg?: unknown }): boolean {
  return w.code === 112 || (typeof w.errmsg === 'string' && TRANSIENT_MESSAGE.test(w.errmsg));
}

/** How long to pause before attempt `attempt + 1` after a transient conflict. */
export function conflictPause(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
}

/** How often a command rolled back by a transient conflict runs again (with a short random pause). */
export const CONFLICT_ATTEMPTS = 5;

/**
 * The longest one driver call may stay unsettled before the store gives up on it (see `withDeadline`).
 * Raised by each store to its own server-selection + socket timeouts (10 s with the defaults).
 */
let deadlineMs = 10_000;

/** Makes every later call wait at least `ms` before its deadline (the largest of all stores' wins). */
export function raiseDeadline(ms: number): void {
  deadlineMs = Math.max(deadlineMs, ms);
}

/** The driver calls not settled yet, with the client each was sent through (when known), to abandon them when it is replaced. */
const unsettled = new Map<(e: Error) => void, object | undefined>();

/** The client whose collections were touched last (see `noteClient`): read right after a call starts. */
let touched: object | undefined;

/** Told by the store's `Db` proxy which client a call is going through (synchronously, as the call starts). */
export function noteClient(client: object): void {
  touched = client;
}

/**
 * A driver call that has not settled long after every driver timeout has passed is given up:
 * after a FerretDB restart the driver was seen to leave an operation pending for good (its server
 * monitor hung in the reconnection handshake). Without this, one such call holds a batcher's slot
 * and every later read of the replica waits behind it forever. The call itself may still finish;
 * its result is then ignored.
 */
export function withDeadline<T>(call: () => Promise<T>, ms = deadlineMs): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const settle = (): void => {
      clearTimeout(timer);
      unsettled.delete(abandon);
    };
    const abandon = (e: Error): void => {
      settle();
      reject(e);
    };
    const timer = setTimeout(() => abandon(new MongoOperationTimeoutError(`no answer from the store within ${ms} ms (driver call given up)`)), ms);
    touched = undefined;
    const pending = call();
    unsettled.set(abandon, touched);
    touched = undefined;
    pending.then(
      (v) => {
        settle();
        resolve(v);
      },
      (e: unknown) => abandon(e instanceof Error ? e : new Error(String(e))),
    );
  });
}

/**
 * Gives up every driver call not settled yet that was sent through `client` (just replaced as
 * stuck): each fails as the store being unreachable, so its caller retries on the fresh client.
 * Calls of other clients (other stores in the process) are left alone.
 */
export function abandonUnsettled(client: object, reason: string): number {
  let n = 0;
  for (const [abandon, owner] of [...unsettled]) {
    if (owner !== client) continue;
    n++;
    abandon(new MongoOperationTimeoutError(`driver call given up: ${reason}`));
  }
  return n;
}

/** Runs a call, again after a transient conflict (it was rolled back, so it is safe to repeat). */
export async function again<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withDeadline(call);
    } catch (e) {
      if (attempt >= CONFLICT_ATTEMPTS || !isTransientConflict(e)) throw e;
      await conflictPause(attempt);
    }
  }
}

/** Runs a store call; any error (a duplicate key included, which is unexpected here) is thrown translated. */
export async function run<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await again(call);
  } catch (e) {
    const t = translateError(operation, e);
    throw t === 'duplicate' ? new OtaoError('store.unavailable', `${operation}: unexpected duplicate key`, { cause: e }) : t;
  }
}

/**
 * Runs a query that reads a whole application (`scanTimeoutMS`): like `run`, with its own deadline
 * instead of the default one, and not repeated after a conflict (it writes nothing to roll back).
 */
export async function runScan<T>(operation: string, timeoutMS: number, call: () => Promise<T>): Promise<T> {
  try {
    return await withDeadline(call, timeoutMS + deadlineMs);
  } catch (e) {
    const t = translateError(operation, e);
    throw t === 'duplicate' ? new OtaoError('store.unavailable', `${operation}: unexpected duplicate key`, { cause: e }) : t;
  }
}

/** Runs a store write whose duplicate-key rejection is an expected outcome: resolves `undefined` then. */
export async function runUnlessDuplicate<T>(operation: string, call: () => Promise<T>): Promise<{ value: T } | undefined> {
  try {
    return { value: await again(call) };
  } catch (e) {
    const t = translateError(operation, e);
    if (t === 'duplicate') return undefined;
    throw t;
  }
}
