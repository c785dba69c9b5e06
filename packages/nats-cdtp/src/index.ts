// @otao/nats-cdtp: OTAO on NATS, byte-compatible with Kaa. 6/CDTP provider (pull, push, applied),
// 9/ELCE, 18/EFE, 20/EFMP, 21/TLE listeners and clients, OTAO software events, Avro codecs built
// from the vendored Kaa schemas (../avro).
//
// The public API: createNatsCdtp and the NatsCdtp it returns (with its configuration, its
// members' types and the observer it reports to), and the Avro codecs of the Kaa records.
// The pieces it assembles are under `@otao/nats-cdtp/internal` (src/internal.ts). The list is
// pinned by test/public-api.test.ts: a new export here is a deliberate change.
export { createNatsCdtp, NatsCdtp, type NatsCdtpClients, type NatsCdtpConfig } from './nats-cdtp';
export type { NatsConnectionConfig, NatsConnection } from './connection';
export type { EventListenersConfig } from './event-listeners';
export type { FilterDirectoryConfig, NatsFilterDirectory } from './filter-directory';
export type { NatsConfigPublisher } from './config-publisher';
export type { NatsSoftwareEventPublisher } from './software-events';
export type { ConnectionStatus, DropReason, EfmpOperation, EfmpOutcome, EventOutcome, InboundKind, NatsCdtpObserver, RequestOutcome } from './observer';
export {
  type AppVersionUpdatedRecord,
  AvroCodec,
  CodecError,
  codecs,
  type ConfigAppliedRecord,
  type ConfigRequestRecord,
  type ConfigResponseRecord,
  type ConfigUpdatedRecord,
  type EndpointFiltersRequestRecord,
  type EndpointFiltersResponseRecord,
  type EndpointLifecycleRecord,
  type EndpointListByFilterRequestRecord,
  type EndpointListByFilterResponseRecord,
  type FilterEventRecord,
  type FilterMatchRecord,
  type TenantLifecycleRecord,
} from './codecs';
