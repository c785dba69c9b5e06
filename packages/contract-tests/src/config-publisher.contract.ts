import { type ConfigPublisher, type ConfigPush, isOtaoError } from '@otao/core';
import { unique } from './shapes';
import { type SubjectFactory, suiteTest, type SuiteOptions } from './subject';

/**
 * A 6/CDTP `ConfigUpdated` as a consumer (CMX) receives it. `tenantId` and `appName` are not part of
 * the event: a consumer knows the application from `appVersionName`.
 */
export interface ReceivedPush {
  readonly appVersionName: string;
  readonly endpointId: string;
  /** The CDTP `configId`. */
  readonly version: string;
  /** The content as UTF-8 text. */
  readonly content: string;
  readonly contentType: string;
  readonly correlationId: string;
}

/** A ConfigPublisher under test, with a consumer listening to what it publishes and a broker the suite can take away. */
export interface ConfigPublisherSubject {
  readonly publisher: ConfigPublisher;
  /**
   * Every push a consumer (subscribed before the first publish) has received so far. It must not
   * wait for more to arrive: it only lets the consumer catch up with what the broker already
   * accepted (e.g. a NATS consumer flushes its own connection: the server sends its PONG after the
   * messages it routed before).
   */
  received(): Promise<readonly ReceivedPush[]>;
  /** Makes the broker unavailable to the publisher (e.g. kills the server and waits until the publisher's client noticed), and brings it back. */
  readonly outage?: { begin(): Promise<void>; end(): Promise<void> };
}

export interface ConfigPublisherSuiteOptions extends SuiteOptions {
  /** How long the publisher may take to publish again once the broker is back; default 10 000 ms. */
  readonly recoveryMs?: number;
}

/** The suites are compiled without Node or DOM types; the timer is the runtime's. */
const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => (globalThis as unknown as { setTimeout(f: () => void, ms: number): unknown }).setTimeout(resolve, ms));

function received(p: ConfigPush): ReceivedPush {
  return {
    appVersionName: p.appVersionName,
    endpointId: p.endpointId,
    version: p.version,
    content: p.content,
    contentType: p.contentType,
    correlationId: p.correlationId,
  };
}

/**
 * The contract of ConfigPublisher (6/CDTP `ConfigUpdated`, spec §4.3): a published push reaches a
 * consumer with every field intact; `publish` resolves only once the broker accepted the event, so
 * a consumer has it as soon as `publish` resolved; concurrent publishes each resolve for their own
 * event; and `OtaoError('dependency.unavailable')` while the broker is unavailable, publishing
 * again once it is back.
 */
export function configPublisherContract(name: string, factory: SubjectFactory<ConfigPublisherSubject>, options?: ConfigPublisherSuiteOptions): void {
  describe(`ConfigPublisher contract: ${name}`, () => {
    let s: ConfigPublisherSubject;
    let u: string;
    const it = suiteTest(options);
    const push = (i: number, overrides: Partial<ConfigPush> = {}): ConfigPush => ({
      tenantId: 'tenant-a',
      appName: 'kettle',
      appVersionName: 'kettle-v1',
      endpointId: `${u}-ep-${i}`,
      version: '1.0.1',
      content: JSON.stringify({ version: '1.0.1', i }),
      contentType: 'application/json',
      correlationId: `${u}-corr-${i}`,
      ...overrides,
    });
    const mine = async (): Promise<ReceivedPush[]> => (await s.received()).filter((r) => r.correlationId.startsWith(u));

    beforeEach(async () => {
      s = await factory.create();
      u = unique('push');
    });
    afterEach(async () => {
      await factory.dispose?.(s);
    });

    it('a published push is received with every field intact, as soon as publish resolved', async () => {
      const p = push(1, {
        appVersionName: 'kettle_v-2',
        version: '2.0.0-rc.1+build.7',
        content: JSON.stringify({
          url: 'https://files.example/a?X-Amz-Signature=ab%2Fcd&x=1',
          name: 'Чайник 🫖 漢字',
          nested: { a: [1, null, true] },
          nul: '\u0000',
        }),
      });
      await s.publisher.publish(p);
      expect(await mine()).toEqual([received(p)]);
    });

    it('a large content arrives byte for byte', async () => {
      const big = JSON.stringify({ blob: 'x'.repeat(200_000), tail: 'é' });
      const p = push(1, { content: big });
      await s.publisher.publish(p);
      const [r] = await mine();
      expect(r?.content.length).toBe(big.length);
      expect(r?.content === big).toBe(true);
    });

    it('concurrent publishes: each resolves once its own event was accepted, none lost or duplicated', async () => {
      const pushes = Array.from({ length: 1500 }, (_, i) => push(i));
      await Promise.all(pushes.map((p) => s.publisher.publish(p)));
      const got = await mine();
      expect(got).toHaveLength(pushes.length);
      expect(new Set(got.map((r) => r.correlationId)).size).toBe(pushes.length);
      expect([...got].sort((a, b) => a.correlationId.localeCompare(b.correlationId))).toEqual(
        pushes.map(received).sort((a, b) => a.correlationId.localeCompare(b.correlationId)),
      );
    });

    it('a publish that resolved is received even when the next ones are still pending', async () => {
      const first = push(1);
      await s.publisher.publish(first);
      const later = s.publisher.publish(push(2));
      expect((await mine()).map((r) => r.correlationId)).toContain(first.correlationId);
      await later;
    });

    const outageTitle = 'broker unavailable: publish throws dependency.unavailable; publishes again once it is back';
    it(outageTitle, async () => {
      if (!s.outage) throw new Error(`${name}: give the subject an outage, or skip "${outageTitle}" with a reason`);
      await s.outage.begin();
      let e: unknown;
      try {
        await s.publisher.publish(push(1));
      } catch (err) {
        e = err;
      } finally {
        await s.outage.end();
      }
      expect(isOtaoError(e) ? e.code : e).toBe('dependency.unavailable');

      const until = Date.now() + (options?.recoveryMs ?? 10_000);
      const p = push(2);
      for (;;) {
        try {
          await s.publisher.publish(p);
          break;
        } catch (err) {
          if (!isOtaoError(err) || err.code !== 'dependency.unavailable' || Date.now() > until) throw err;
          await sleep(100);
        }
      }
      expect((await mine()).map((r) => r.correlationId)).toContain(p.correlationId);
    });
  });
}
