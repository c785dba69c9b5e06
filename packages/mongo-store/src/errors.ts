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
  if (e.code === 112 || (typeof e.hasErrorLabel === 'function' && e.hasErrorLabel('TransientTransactionError'))) return true;
  return /deadlock detected|could not serialize access|40P01|40001/.test(e.message);
}

/** How often a command rolled back by a transient conflict runs again (with a short random pause). */
const CONFLICT_ATTEMPTS = 5;

/** Runs a call, again after a transient conflict (it was rolled back, so it is safe to repeat). */
export async function again<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (attempt >= CONFLICT_ATTEMPTS || !isTransientConflict(e)) throw e;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
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
