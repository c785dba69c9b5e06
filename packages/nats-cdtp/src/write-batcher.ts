// Coalesces writes to the NATS client. The client flushes its outbound buffer in a microtask
// queued by the first write after a flush; when every write happens in its own async step (one
// awaited push after another, one decided request after another), that is one socket write per
// message. Deferring the writes to the end of the event-loop turn (or until `maxBatch` are
// waiting) hands them to the client in one synchronous burst, which it sends in few writes.

export class WriteBatcher {
  private queue: (() => void)[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly maxBatch = 1000) {}

  /** Number of writes waiting. */
  get pending(): number {
    return this.queue.length;
  }

  /** Queues a write. `write` must not throw (it handles its own failure). */
  add(write: () => void): void {
    this.queue.push(write);
    if (this.queue.length >= this.maxBatch) this.flush();
    else this.scheduled ??= setImmediate(() => this.flush());
  }

  /** Performs every waiting write now. */
  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    const q = this.queue;
    this.queue = [];
    for (const write of q) write();
  }
}
