import {
  auditLogContract,
  endpointRepositoryContract,
  jobQueueContract,
  leaseContract,
  rolloutStatsRepositoryContract,
  softwareRepositoryContract,
} from '@otao/contract-tests';
import {
  MongoAuditLog,
  MongoEndpointRepository,
  MongoJobQueue,
  MongoLease,
  MongoRolloutStatsRepository,
  MongoSoftwareRepository,
  type MongoStore,
} from '../src';
import { cohortOf as coreCohortOf } from '@otao/core';
import { PlainSha256 } from '@otao/core/testing';
import { databaseName, dropDatabase, startStore, startTestServer, type TestServer } from './harness';

// The same contract suites as the in-memory fakes (packages/contract-tests/test/in-memory.test.ts),
// nothing skipped. A fresh repository instance per test over one database per file; the suites use
// unique tenants and lease names, so tests never see each other's data.
jest.setTimeout(60_000);

let server: TestServer;
let store: MongoStore;
const db = databaseName(__filename);

beforeAll(async () => {
  server = await startTestServer();
  store = await startStore(server.uri, db);
}, 120_000);

afterAll(async () => {
  await twin?.stop();
  await store?.stop();
  if (server) await dropDatabase(server.uri, db);
  await server?.stop();
});

softwareRepositoryContract('mongo-store', { create: async () => new MongoSoftwareRepository(store.db) });
let twin: MongoStore | undefined;
const cohortOf = (t: string, a: string, e: string): number => coreCohortOf(new PlainSha256(), t, a, e);
endpointRepositoryContract('mongo-store', {
  cohortOf,
  create: async () => new MongoEndpointRepository(store.db, undefined, undefined, cohortOf),
  // another MongoClient on the same database: another replica's connections
  twin: async () => (twin ??= await startStore(server.uri, db, { cohortOf })).endpoints,
});
rolloutStatsRepositoryContract('mongo-store', { create: async () => new MongoRolloutStatsRepository(store.db) });
leaseContract('mongo-store', { create: async () => new MongoLease(store.db) });
jobQueueContract('mongo-store', { create: async () => new MongoJobQueue(store.db) });
auditLogContract('mongo-store', { create: async () => new MongoAuditLog(store.db) });
