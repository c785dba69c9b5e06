import type { ConnectionStatus, DropReason, EfmpOperation, EfmpOutcome, EventOutcome, InboundKind, NatsCdtpObserver, RequestOutcome } from '../observer';

/** An observer that counts everything, for tests and the demo. Keys are `a:b` strings. */
export class CountingObserver implements NatsCdtpObserver {
  /** `outcome:statusCode` → count */
  readonly requests = new Map<string, number>();
  /** `kind:reason` → count */
  readonly drops = new Map<string, number>();
  /** `kind:outcome` → count */
  readonly events = new Map<string, number>();
  /** kind → count */
  readonly retries = new Map<string, number>();
  /** `operation:outcome` → count */
  readonly efmp = new Map<string, number>();
  readonly statuses: ConnectionStatus[] = [];
  pushes = 0;
  pushFailures = 0;

  requestHandled(outcome: RequestOutcome, statusCode: number): void {
    inc(this.requests, `${outcome}:${statusCode}`);
  }
  dropped(kind: InboundKind, reason: DropReason): void {
    inc(this.drops, `${kind}:${reason}`);
  }
  pushPublished(): void {
    this.pushes++;
  }
  pushFailed(): void {
    this.pushFailures++;
  }
  eventHandled(kind: InboundKind, outcome: EventOutcome): void {
    inc(this.events, `${kind}:${outcome}`);
  }
  eventRetried(kind: InboundKind): void {
    inc(this.retries, kind);
  }
  efmpRequest(operation: EfmpOperation, outcome: EfmpOutcome): void {
    inc(this.efmp, `${operation}:${outcome}`);
  }
  connectionStatus(status: ConnectionStatus): void {
    this.statuses.push(status);
  }

  /** Count of one key of one of the maps (0 when absent). */
  static get(m: ReadonlyMap<string, number>, key: string): number {
    return m.get(key) ?? 0;
  }

  /** Sum of a map's counts. */
  static total(m: ReadonlyMap<string, number>): number {
    let n = 0;
    for (const v of m.values()) n += v;
    return n;
  }
}

function inc(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}
