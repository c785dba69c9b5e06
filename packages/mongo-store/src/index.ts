// @otao/mongo-store: the core's repositories and lease on the MongoDB wire protocol (MongoDB or
// FerretDB v2). Plain classes; see docs/mongo-store.md.
export * from './config';
export { type BatchOptions, DEFAULT_BATCH } from './batching';
export { COLLECTIONS, INDEXES, ensureIndexes } from './collections';
export * from './mongo-software-repository';
export * from './mongo-endpoint-repository';
export * from './mongo-rollout-stats-repository';
export * from './mongo-lease';
export * from './mongo-job-queue';
export * from './mongo-audit-log';
export * from './mongo-push-pacer';
export * from './mongo-store';
