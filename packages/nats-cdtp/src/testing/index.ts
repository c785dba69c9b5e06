// @otao/nats-cdtp/testing: stand-ins for the Kaa services OTAO talks to over NATS (CMX, EPR,
// Tenant Manager), for integration tests and the demo. They speak only Avro from the same schemas.
export * from './fake-cmx';
export * from './fake-epr';
export * from './fake-tenant-manager';
export * from './wait';
export * from './counting-observer';
export * from './simulated-fleet';
