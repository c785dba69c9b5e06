// @otao/nats-cdtp: OTAO on NATS, byte-compatible with Kaa. 6/CDTP provider (pull, push, applied),
// 9/ELCE, 18/EFE, 20/EFMP, 21/TLE listeners and clients, OTAO software events, Avro codecs built
// from the vendored Kaa schemas (../avro).
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
