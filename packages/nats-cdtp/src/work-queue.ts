// Bounded concurrency for message handlers: at most `maxConcurrent` tasks run at once, at most
// `maxQueued` wait. Tasks given the same key run one after the other in arrival order (events of
// one endpoint stay ordered), tasks without a key run independently.

type Task = () => Promise<void>;

interface Item {
  readonly key: string | undefined;
  readonly task: Task;
}

/** A FIFO with O(1) shift. */
class Deque<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(v: T): void {
    this.items.push(v);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }
}

export class WorkQueue {
  private readonly ready = new Deque<Item>();
  /** Tasks waiting behind a running or ready task of the same key. */
  private readonly lanes = new Map<string, Task[]>();
  private running = 0;
  private waiting = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxQueued: number,
    private readonly onError: (e: unknown) => void = () => undefined,
  ) {
    if (!(maxConcurrent >= 1)) throw new Error('maxConcurrent must be >= 1');
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting;
  }

  /** Queues a task; false (and the task is not run) when `maxQueued` tasks already wait. */
  offer(task: Task, key?: string): boolean {
    if (this.running < this.maxConcurrent && this.waiting === 0 && (key === undefined || !this.lanes.has(key))) {
      if (key !== undefined) this.lanes.set(key, []);
      this.run({ key, task });
      return true;
    }
    if (this.waiting >= this.maxQueued) return false;
    this.waiting++;
    if (key === undefined) {
      this.ready.push({ key, task });
    } else {
      const lane = this.lanes.get(key);
      if (lane) lane.push(task);
      else {
        this.lanes.set(key, []);
        this.ready.push({ key, task });
      }
    }
    this.pump();
    return true;
  }

  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.maxConcurrent) {
      const item = this.ready.shift();
      if (!item) break;
      this.waiting--;
      this.run(item);
    }
    if (this.running === 0 && this.waiting === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of w) resolve();
    }
  }

  private run(item: Item): void {
    this.running++;
    let p: Promise<void>;
    try {
      p = item.task();
    } catch (e) {
      p = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    p.catch(this.onError)
      .finally(() => {
        this.running--;
        if (item.key !== undefined) {
          const lane = this.lanes.get(item.key);
          const next = lane?.shift();
          if (next) this.ready.push({ key: item.key, task: next });
          else this.lanes.delete(item.key);
        }
        this.pump();
      })
      .catch(this.onError);
  }
}
