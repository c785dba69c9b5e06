// HTTP probes of the chaos suite: what an operator's monitoring and an administrator's client see
// while faults are injected. Every probe records when it was sent and how (or whether) it was
// answered, so the suite can tell "answered 503" (an answer) from "no answer at all".
import type { OtaoProcess } from '../support/otao-process';

/** `refused`: nothing listens (the replica is down or restarting); `no-answer`: connected, but no response within the timeout. */
export type ProbeStatus = number | 'refused' | 'no-answer';

export interface ProbeRecord {
  readonly replicaId: string;
  readonly kind: 'ready' | 'rest' | 'upload';
  readonly sentAt: number;
  readonly at: number;
  readonly status: ProbeStatus;
  readonly body?: string;
}

async function probe(url: string, init: RequestInit, timeoutMs: number): Promise<{ status: ProbeStatus; body?: string }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { status: res.status, body: body.slice(0, 300) };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    if (err.name === 'TimeoutError') return { status: 'no-answer' };
    return { status: 'refused', body: `${err.message}${err.cause?.code ? ` (${err.cause.code})` : ''}` };
  }
}

/**
 * Polls every replica that runs: `GET /ready` and a REST read that needs the store
 * (`GET /api/v1/applications/{app}/software`), each at most once in flight per replica, every
 * `everyMs`. A REST read without any answer within 30 s counts as unanswered.
 */
export class HttpProber {
  readonly records: ProbeRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly busy = new Set<string>();

  constructor(
    private readonly replicas: () => readonly OtaoProcess[],
    private readonly appName: string,
    private readonly everyMs = 250,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      for (const r of this.replicas()) {
        if (!r.running) continue;
        this.once(r, 'ready', `${r.baseUrl}/ready`, 30_000);
        this.once(r, 'rest', `${r.baseUrl}/api/v1/applications/${this.appName}/software`, 30_000);
      }
    }, this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Resolves once no probe is in flight. */
  async idle(): Promise<void> {
    while (this.busy.size > 0) await new Promise((r) => setTimeout(r, 50));
  }

  private once(r: OtaoProcess, kind: 'ready' | 'rest', url: string, timeoutMs: number): void {
    const key = `${r.replicaId}/${kind}`;
    if (this.busy.has(key)) return;
    this.busy.add(key);
    const sentAt = Date.now();
    void probe(url, {}, timeoutMs)
      .then(({ status, body }) => {
        this.records.push({
          replicaId: r.replicaId,
          kind,
          sentAt,
          at: Date.now(),
          status,
          ...(typeof status === 'number' && status !== 200 && body ? { body } : {}),
        });
      })
      .finally(() => this.busy.delete(key));
  }
}

/** One file upload through REST (PUT …/software/{version}/file), recorded like the probes. */
export async function uploadProbe(r: OtaoProcess, appName: string, version: string, bytes: Uint8Array, records: ProbeRecord[]): Promise<ProbeStatus> {
  const sentAt = Date.now();
  const { status, body } = await probe(
    `${r.baseUrl}/api/v1/applications/${appName}/software/${version}/file?name=probe.bin`,
    { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes },
    30_000,
  );
  records.push({
    replicaId: r.replicaId,
    kind: 'upload',
    sentAt,
    at: Date.now(),
    status,
    ...(body !== undefined && status !== 200 && status !== 201 ? { body } : {}),
  });
  return status;
}
