// The contract suites of the ports this package implements (packages/contract-tests), on a real
// nats-server, with FakeEpr answering 20/EFMP and a plain NATS consumer decoding ConfigUpdated with
// the package's codecs. Nothing skipped. The ConfigPublisher outage kills and restarts the server,
// so this file starts its own nats-server (never NATS_URL).
import { configPublisherContract, filterDirectoryContract, type ReceivedPush } from '@otao/contract-tests';
import { type NatsServer, startNats } from '@otao/test-services';
import type { Subscription } from 'nats';
import { codecs, NatsConfigPublisher, NatsConnection, NatsFilterDirectory, subjects } from '../src/internal';
import { FakeEpr, waitFor } from '../src/testing';
import { names } from './helpers';

jest.setTimeout(60_000);

let srv: NatsServer;
beforeAll(async () => {
  srv = await startNats();
});
afterAll(async () => {
  await srv?.stop();
});

const connection = (name: string): NatsConnection => new NatsConnection({ servers: srv.url, name, reconnectInitialDelayMs: 50, reconnectMaxDelayMs: 250 });

interface EfmpParts {
  epr: FakeEpr;
  connection: NatsConnection;
}
const efmp = new WeakMap<object, EfmpParts>();

filterDirectoryContract('nats-cdtp (FakeEpr)', {
  create: async () => {
    const n = names();
    const epr = await new FakeEpr({ servers: srv.url, instanceName: n.epr }).start();
    const conn = connection(`otao-${n.otao}`);
    await conn.start();
    // Short timeouts and retries: a silent EPR fails in about a second.
    const directory = new NatsFilterDirectory(conn, {
      eprInstanceName: n.epr,
      listTimeoutMs: 300,
      listRetries: 1,
      filtersTimeoutMs: 200,
      filtersRetries: 1,
      retryDelayMs: 10,
    });
    const subject = {
      directory,
      setMembers: async (filterId: string, appVersionName: string, endpointIds: readonly string[]) => epr.setMembers(filterId, appVersionName, endpointIds),
      fail: async (fault: 'silent' | 'server-error' | 'client-error') => {
        epr.behaviour = fault === 'silent' ? { kind: 'silent' } : { kind: 'status', statusCode: fault === 'server-error' ? 500 : 404, reasonPhrase: fault };
      },
      heal: async () => {
        epr.behaviour = { kind: 'answer' };
      },
    };
    efmp.set(subject, { epr, connection: conn });
    return subject;
  },
  dispose: async (subject) => {
    const parts = efmp.get(subject);
    await parts?.connection.stop();
    await parts?.epr.stop();
  },
});

interface PushParts {
  publisher: NatsConnection;
  consumer: NatsConnection;
  sub: Subscription;
}
const push = new WeakMap<object, PushParts>();

configPublisherContract('nats-cdtp', {
  create: async () => {
    const n = names();
    const consumer = connection(`cmx-${n.cmx}`);
    await consumer.start();
    const got: ReceivedPush[] = [];
    const sub = consumer.clientForSubscriptions().subscribe(subjects.configUpdated(n.otao), {
      callback: (err, msg) => {
        if (err) return;
        const r = codecs.configUpdated.decode(msg.data);
        got.push({
          appVersionName: r.appVersionName,
          endpointId: r.endpointId,
          version: r.configId,
          content: r.content.toString('utf8'),
          contentType: r.contentType,
          correlationId: r.correlationId,
        });
      },
    });
    await consumer.clientForSubscriptions().flush();
    const publisherConnection = connection(`otao-${n.otao}`);
    await publisherConnection.start();
    const publisher = new NatsConfigPublisher(publisherConnection, { instanceName: n.otao, replicaId: 'otao-0', confirmTimeoutMs: 2000 });
    const subject = {
      publisher,
      // The server routed every message it accepted before it answers this PING: once the
      // consumer's flush resolved, its callback has seen them.
      received: async () => {
        await consumer.clientForSubscriptions().flush();
        return [...got];
      },
      outage: {
        begin: async () => {
          await srv.process.kill();
          await waitFor(
            () => publisherConnection.status() === 'reconnecting',
            5000,
            () => 'the publisher did not notice the server was gone',
          );
        },
        end: async () => {
          await srv.process.start();
          await waitFor(
            () => publisherConnection.status() === 'connected' && consumer.status() === 'connected',
            10_000,
            () => 'the clients did not reconnect',
          );
          await consumer.clientForSubscriptions().flush(); // its subscription is back on the server
        },
      },
    };
    push.set(subject, { publisher: publisherConnection, consumer, sub });
    return subject;
  },
  dispose: async (subject) => {
    const parts = push.get(subject);
    parts?.sub.unsubscribe();
    await parts?.publisher.stop();
    await parts?.consumer.stop();
  },
});
