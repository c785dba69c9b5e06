// Where the integration tests find a MongoDB-wire server:
//  1. MONGODB_URI when set (scripts/test.sh starts FerretDB and sets it);
//  2. otherwise mongodb-memory-server (a real mongod it downloads on first use);
//  3. and when that fails (no internet on the machine), a FerretDB started by @otao/test-services.
// Each test file uses its own database (`databaseName`), so files never see each other's data.
import { startFerretDB } from '@otao/test-services';
import { MongoClient } from 'mongodb';
import { MongoMemoryServer } from 'mongodb-memory-server';
import { MongoStore, type MongoStoreConfig } from '../src';

export interface TestServer {
  readonly uri: string;
  readonly kind: 'MONGODB_URI' | 'mongodb-memory-server' | 'ferretdb';
  stop(): Promise<void>;
}

const MEMORY_SERVER_TIMEOUT_MS = 30_000;

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms)))]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export async function startTestServer(): Promise<TestServer> {
  const fromEnv = process.env['MONGODB_URI'];
  if (fromEnv) return { uri: fromEnv, kind: 'MONGODB_URI', stop: async () => undefined };
  try {
    const created = MongoMemoryServer.create();
    // If the race below gives up, the late server must still be stopped.
    created.then(
      (late) => late,
      () => undefined,
    );
    const mem = await withTimeout(created, MEMORY_SERVER_TIMEOUT_MS, 'mongodb-memory-server');
    return { uri: mem.getUri(), kind: 'mongodb-memory-server', stop: async () => void (await mem.stop()) };
  } catch (e) {
    process.stderr.write(
      `[mongo-store tests] mongodb-memory-server unavailable (${(e as Error).message.split('\n')[0]}); falling back to FerretDB from @otao/test-services\n`,
    );
    const fdb = await startFerretDB();
    return { uri: fdb.uri, kind: 'ferretdb', stop: () => fdb.stop() };
  }
}

/** A database name unique to this test file and run. */
export function databaseName(file: string): string {
  const base = file
    .replace(/^.*[\\/]/, '')
    .replace(/\.test\.ts$/, '')
    .replace(/[^a-z0-9]/gi, '_');
  return `otao_${base}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
}

export function storeConfig(uri: string, database: string, overrides: Partial<MongoStoreConfig> = {}): MongoStoreConfig {
  return { uri, database, serverSelectionTimeoutMS: 5000, connectTimeoutMS: 5000, socketTimeoutMS: 10_000, ...overrides };
}

export async function startStore(uri: string, database: string, overrides: Partial<MongoStoreConfig> = {}): Promise<MongoStore> {
  const store = new MongoStore(storeConfig(uri, database, overrides));
  await store.start();
  return store;
}

/** Drops the test database (best effort) and closes. */
export async function dropDatabase(uri: string, database: string): Promise<void> {
  const c = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
  try {
    await c.db(database).dropDatabase();
  } catch {
    // the server may already be gone
  } finally {
    await c.close();
  }
}
