// @otao/nats-cdtp/internal: everything the adapter's modules export — the public API (./index)
// and the pieces createNatsCdtp assembles (connection, provider, publishers, listeners, the CDTP
// status table, subjects, work queue, write batcher). For this package's own tests and the
// benches; apps import the public entry only (ESLint bans `@otao/*/internal` there).
export * from './codecs';
export * from './subjects';
export * from './observer';
export * from './status-codes';
export * from './work-queue';
export * from './write-batcher';
export * from './connection';
export * from './cdtp-provider';
export * from './config-publisher';
export * from './software-events';
export * from './filter-directory';
export * from './event-listeners';
export * from './nats-cdtp';
