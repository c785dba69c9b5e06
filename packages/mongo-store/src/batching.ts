import { OtaoError } from '@otao/core';
import { type AnyBulkWriteOperation, type Collection, type Document, MongoBulkWriteError, type WithId } from 'mongodb';
import { again, CONFLICT_ATTEMPTS, conflictPause, DUPLICATE_KEY, isTransientWriteError, translateError } from './errors';

/** How calls are gathered into commands. */
export interface BatchOptions {
  /** The most keys (reads) or operations (writes) sent in one command. */
  readonly maxBatch: number;
  /**
   * The most commands of one batcher out at once. Calls made while that many are out wait and go
   * together in the next command, so the busier the store, the larger the batches (DataLoader with
   * back-pressure): one caller alone waits for nothing but the next turn of the event loop.
   */
  readonly maxInFlight: number;
}

export const DEFAULT_BATCH: BatchOptions = { maxBatch: 1000, maxInFlight: 1 };

interface Pending<R> {
  resolve(value: R): void;
  reject(error: unknown): void;
}

/**
 * A queue drained by commands. Calls made in one turn of the event loop (e.g. every CDTP request of
 * one socket read) join one command; while `maxInFlight` commands are out, calls queue up and go
 * together as soon as one returns.
 */
abstract class Drain<T extends Pending<never>> {
  private queue: T[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(protected readonly options: BatchOptions) {}

  protected enqueue(item: T): void {
    this.queue.push(item);
    this.kick();
  }

  /** Settles every item of the batch (resolves or rejects each one); never rejects itself. */
  protected abstract send(batch: T[]): Promise<void>;

  private kick(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        this.inFlight++;
        void this.send(batch)
          .catch((e: unknown) => batch.forEach((b) => b.reject(e)))
          .finally(() => {
            this.inFlight--;
            this.kick();
          });
      }
    });
  }
}

interface Read<D> extends Pending<WithId<D> | undefined> {
  readonly id: string;
}

/** Look-ups by `_id` of concurrent callers, sent as one `find({_id: {$in: [...]}})` per command. */
export class BatchedReader<D extends Document> extends Drain<Read<D>> {
  constructor(
    private readonly collection: Collection<D>,
    private readonly operation: string,
    options: BatchOptions = DEFAULT_BATCH,
    /** Only these fields (and `_id`) are read. */
    private readonly projection?: Readonly<Record<string, 1>>,
  ) {
    super(options);
  }

  /** The document with this `_id` (with the projected fields only, when a projection is set), or undefined. Throws OtaoError('store.unavailable'). */
  get(id: string): Promise<WithId<D> | undefined> {
    return new Promise((resolve, reject) => this.enqueue({ id, resolve, reject }));
  }

  protected async send(batch: Read<D>[]): Promise<void> {
    const ids = [...new Set(batch.map((r) => r.id))];
    let docs: WithId<D>[];
    try {
      docs = await again(() => this.collection.find({ _id: { $in: ids } } as never, this.projection ? { projection: this.projection } : {}).toArray());
    } catch (e) {
      const error = translateError(this.operation, e);
      batch.forEach((r) =>
        r.reject(error === 'duplicate' ? new OtaoError('store.unavailable', `${this.operation}: unexpected duplicate key`, { cause: e }) : error),
      );
      return;
    }
    const byId = new Map(docs.map((d) => [String(d._id), d]));
    for (const r of batch) r.resolve(byId.get(r.id));
  }
}

/** The `_id` an operation is about, for ordering (operations without one go last). */
function idOf<D extends Document>(op: AnyBulkWriteOperation<D>): string {
  const filter = 'updateOne' in op ? op.updateOne.filter : 'deleteOne' in op ? op.deleteOne.filter : 'replaceOne' in op ? op.replaceOne.filter : undefined;
  const id: unknown = (filter as { _id?: unknown } | undefined)?._id;
  return typeof id === 'string' ? id : '\uffff';
}

function compareIds<D extends Document>(a: AnyBulkWriteOperation<D>, b: AnyBulkWriteOperation<D>): number {
  const x = idOf(a);
  const y = idOf(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** How one operation of a bulk write ended: applied, or rejected by a unique index. */
export type WriteOutcome = 'ok' | 'duplicate';

interface Write<D extends Document> extends Pending<WriteOutcome> {
  readonly op: AnyBulkWriteOperation<D>;
}

/**
 * Single-document writes of concurrent callers, sent as one unordered `bulkWrite` per command. Each
 * operation stays atomic on its document; each caller learns its own outcome from the write errors'
 * indexes: `duplicate` when a unique index rejected its operation (an upsert whose filter did not
 * match an existing document), `ok` otherwise. Any other per-operation error rejects that caller only.
 */
export class BulkWriter<D extends Document> extends Drain<Write<D>> {
  constructor(
    private readonly collection: Collection<D>,
    private readonly operation: string,
    options: BatchOptions = DEFAULT_BATCH,
  ) {
    super(options);
  }

  write(op: AnyBulkWriteOperation<D>): Promise<WriteOutcome> {
    return new Promise((resolve, reject) => this.enqueue({ op, resolve, reject }));
  }

  protected async send(unsorted: Write<D>[]): Promise<void> {
    // In `_id` order: a bulk write is one transaction on FerretDB v2, and two replicas' bulks that
    // lock the same endpoints in the same order cannot deadlock. (Unordered: the order is free.)
    let batch = [...unsorted].sort((a, b) => compareIds(a.op, b.op));
    for (let attempt = 1; ; attempt++) {
      try {
        // A bulk rolled back whole by a transient conflict (an error of the command: nothing applied) runs again.
        await again(() =>
          this.collection.bulkWrite(
            batch.map((w) => w.op),
            { ordered: false },
          ),
        );
        batch.forEach((w) => w.resolve('ok'));
        return;
      } catch (e) {
        const raw: unknown = e instanceof MongoBulkWriteError ? e.writeErrors : undefined;
        const perOperation = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) as { index: number; code?: unknown; errmsg?: unknown }[];
        // A bulk error without per-operation errors (the connection failed, a write concern error): nothing is known to have been applied.
        if (perOperation.length === 0 || (e instanceof MongoBulkWriteError && e.err !== undefined)) {
          const error = translateError(this.operation, e);
          batch.forEach((w) =>
            w.reject(error === 'duplicate' ? new OtaoError('store.unavailable', `${this.operation}: unexpected duplicate key`, { cause: e }) : error),
          );
          return;
        }
        // Per-operation errors: every other operation of the bulk was applied. Only the operations
        // rolled back by a transient conflict run again — sending the whole bulk again would apply
        // the others twice, and a conditional one (markOffered, markReportCounted) would then find
        // its own first write and report `duplicate`: an offer or a report not counted.
        const failed = new Map(perOperation.map((w) => [w.index, w]));
        const retry: Write<D>[] = [];
        batch.forEach((w, i) => {
          const f = failed.get(i);
          if (!f) w.resolve('ok');
          else if (f.code === DUPLICATE_KEY) w.resolve('duplicate');
          else if (isTransientWriteError(f) && attempt < CONFLICT_ATTEMPTS) retry.push(w);
          else w.reject(new OtaoError('store.unavailable', `${this.operation}: store refused the operation: ${String(f.errmsg ?? f.code)}`, { cause: e }));
        });
        if (retry.length === 0) return;
        batch = retry;
        await conflictPause(attempt);
      }
    }
  }
}
