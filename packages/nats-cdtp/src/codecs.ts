// Avro codecs of the Kaa records OTAO reads and writes, built at load time from the .avsc files
// vendored verbatim in ../avro (kaaproject/kaa-rfcs, Apache-2.0). Every NATS payload is one raw
// Avro binary record: no container header, no fingerprint, no framing (kaa-protocols.md §1.5).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Resolver, type Schema } from 'avsc';

/** Where the vendored schemas are: `<package>/avro`, the same from `src/` (tests) and `dist/`. */
export const AVRO_DIR = join(__dirname, '..', 'avro');

/** A payload that is not a valid record of the expected schema (garbage, truncated, wrong schema). */
export class CodecError extends Error {
  override readonly name = 'CodecError';
  constructor(
    readonly record: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot decode ${record}: ${message}`, options);
  }
}

interface RecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  fields: { name: string; type: unknown; default?: unknown }[];
}

function loadSchema(file: string): RecordSchema {
  return JSON.parse(readFileSync(join(AVRO_DIR, file), 'utf8')) as RecordSchema;
}

/**
 * The schema an older writer used: the same record minus its last `dropTrailing` fields (Kaa's
 * records only ever grew by appending fields with defaults).
 */
function olderWriter(schema: RecordSchema, dropTrailing: number): RecordSchema {
  return { ...schema, fields: schema.fields.slice(0, schema.fields.length - dropTrailing) };
}

/** A codec for one record type: strict encode, tolerant decode (older writers), never crashes on garbage. */
export class AvroCodec<T> {
  private readonly type: Type;
  private readonly resolvers: readonly Resolver[];
  private readonly guarded: boolean;

  constructor(
    /** Short name used in errors and logs, e.g. `ConfigRequest`. */
    readonly record: string,
    readonly schema: RecordSchema,
    olderWriters: readonly RecordSchema[] = [],
  ) {
    this.type = Type.forSchema(schema as Schema);
    this.resolvers = olderWriters.map((w) => this.type.createResolver(Type.forSchema(w as Schema)));
    this.guarded = hasBlocks(this.type);
  }

  /** Encodes a value; throws CodecError when it does not match the schema (a programming error). */
  encode(value: T): Buffer {
    try {
      return this.type.toBuffer(value);
    } catch (e) {
      throw new CodecError(this.record, `invalid value to encode: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Decodes one record. Tries the newest schema first, then each older writer schema (oldest
   * last). Throws CodecError for anything that is not exactly one record of one of them.
   */
  decode(bytes: Uint8Array): T {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (this.guarded && !blocksPlausible(this.type, buf)) {
      throw new CodecError(this.record, 'array or map block count larger than the payload');
    }
    let first: unknown;
    try {
      return this.type.fromBuffer(buf) as T;
    } catch (e) {
      first = e;
    }
    for (const resolver of this.resolvers) {
      try {
        return this.type.fromBuffer(buf, resolver) as T;
      } catch {
        // try the next (older) writer schema
      }
    }
    throw new CodecError(this.record, (first as Error)?.message ?? String(first), { cause: first });
  }
}

// --- Guard against hostile block counts ---------------------------------------------------------
// avsc reads an array/map block count and loops that many times even past the end of the buffer:
// a 15-byte payload announcing 2^30 map entries hangs the process. Before decoding a record type
// that contains arrays or maps, walk the bytes structurally and refuse a block count larger than
// the bytes left (every item of our schemas takes at least one byte).

interface AvscTypeView {
  readonly typeName: string;
  readonly fields?: readonly { readonly type: AvscTypeView }[];
  readonly itemsType?: AvscTypeView;
  readonly valuesType?: AvscTypeView;
  readonly types?: readonly AvscTypeView[];
  readonly size?: number;
}

function hasBlocks(type: unknown, seen = new Set<unknown>()): boolean {
  if (seen.has(type)) return false;
  seen.add(type);
  const t = type as AvscTypeView;
  switch (t.typeName) {
    case 'array':
    case 'map':
      return true;
    case 'record':
    case 'error':
      return (t.fields ?? []).some((f) => hasBlocks(f.type, seen));
    case 'union:unwrapped':
    case 'union:wrapped':
      return (t.types ?? []).some((u) => hasBlocks(u, seen));
    default:
      return false;
  }
}

class Cursor {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get left(): number {
    return this.buf.length - this.pos;
  }
  /** Zig-zag varint; undefined when malformed or past the end. */
  long(): number | undefined {
    let n = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) return undefined;
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * shift;
      if ((b & 0x80) === 0) return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
      shift *= 128;
    }
    return undefined;
  }
  skip(n: number): boolean {
    if (n < 0 || n > this.left) return false;
    this.pos += n;
    return true;
  }
}

function walk(type: AvscTypeView, c: Cursor): boolean {
  switch (type.typeName) {
    case 'null':
      return true;
    case 'boolean':
      return c.skip(1);
    case 'int':
    case 'long':
    case 'enum':
      return c.long() !== undefined;
    case 'float':
      return c.skip(4);
    case 'double':
      return c.skip(8);
    case 'fixed':
      return c.skip(type.size ?? 0);
    case 'string':
    case 'bytes': {
      const n = c.long();
      return n !== undefined && c.skip(n);
    }
    case 'record':
    case 'error':
      return (type.fields ?? []).every((f) => walk(f.type, c));
    case 'union:unwrapped':
    case 'union:wrapped': {
      const i = c.long();
      const branch = i === undefined ? undefined : type.types?.[i];
      return branch !== undefined && walk(branch, c);
    }
    case 'array':
    case 'map':
      for (;;) {
        let n = c.long();
        if (n === undefined) return false;
        if (n === 0) return true;
        if (n < 0) {
          n = -n;
          if (c.long() === undefined) return false;
        }
        if (n > c.left) return false;
        for (let k = 0; k < n; k++) {
          if (type.typeName === 'map') {
            const len = c.long();
            if (len === undefined || !c.skip(len)) return false;
          }
          if (!walk((type.typeName === 'map' ? type.valuesType : type.itemsType)!, c)) return false;
        }
      }
    default:
      // Logical types and anything exotic: let avsc decide.
      return true;
  }
}

function blocksPlausible(type: Type, buf: Buffer): boolean {
  return walk(type, new Cursor(buf));
}

// --- Records ---------------------------------------------------------------------------------------

/** 6/CDTP `ConfigRequest` (org.kaaproject.ipc.cdtp.gen.v1). `configName` is absent from pre-2026 writers. */
export interface ConfigRequestRecord {
  correlationId: string;
  timestamp: number;
  timeout: number;
  appVersionName: string;
  endpointId: string;
  configId: string | null;
  configName: string | null;
}

/** 6/CDTP `ConfigResponse`. */
export interface ConfigResponseRecord {
  correlationId: string;
  timestamp: number;
  timeout: number;
  appVersionName: string;
  endpointId: string;
  configId: string | null;
  contentType: string;
  content: Buffer | null;
  statusCode: number;
  reasonPhrase: string | null;
}

/** 6/CDTP `ConfigUpdated` (org.kaaproject.ipc.event.gen.v1.endpoint.config). */
export interface ConfigUpdatedRecord {
  correlationId: string;
  timestamp: number;
  timeout: number;
  appVersionName: string;
  endpointId: string;
  configId: string;
  contentType: string;
  content: Buffer;
  originatorReplicaId: string | null;
}

/** 6/CDTP `ConfigApplied`. `statusCode`/`reasonPhrase` are absent from pre-May-2020 writers (200 assumed). */
export interface ConfigAppliedRecord {
  correlationId: string;
  timestamp: number;
  timeout: number;
  appVersionName: string;
  endpointId: string;
  configId: string;
  originatorReplicaId: string | null;
  statusCode: number;
  reasonPhrase: string | null;
}

/** 9/ELCE `RegisteredEvent` / `UnregisteredEvent` (endpoint lifecycle). */
export interface EndpointLifecycleRecord {
  correlationId: string;
  timestamp: number;
  timeout: number;
  appVersionName: string;
  endpointId: string;
  originatorReplicaId: string;
}

/** 9/ELCE `AppVersionUpdatedEvent`. */
export interface AppVersionUpdatedRecord {
  correlationId: string;
  timestamp: number;
  timeout: number;
  appVersionName: string;
  previousAppVersionName: string;
  endpointId: string;
  originatorReplicaId: string;
}

/** 18/EFE `EndpointFilterActivatedEvent` / `PendingEvent` / `DeletedEvent`. */
export interface FilterEventRecord {
  timestamp: number;
  timeout: number;
  correlationId: string;
  originatorReplicaId: string;
  filterId: string;
  applicationName: string;
  filterName: string | null;
}

/** 18/EFE `EndpointMatchedFilterEvent` / `EndpointUnmatchedFilterEvent`. */
export interface FilterMatchRecord {
  timestamp: number;
  timeout: number;
  correlationId: string;
  originatorReplicaId: string;
  filterId: string;
  applicationName: string;
  appVersionName: string;
  filterName: string | null;
  endpointId: string;
}

/** 20/EFMP `EndpointFiltersRequest`. */
export interface EndpointFiltersRequestRecord {
  correlationId: string;
  timestamp: number;
  timeout: number;
  endpointId: string;
}

/** 20/EFMP `EndpointFiltersResponse`. */
export interface EndpointFiltersResponseRecord {
  correlationId: string;
  timestamp: number;
  timeout: number;
  endpointId: string;
  filterIds: string[];
  statusCode: number;
  reasonPhrase: string | null;
}

/** 20/EFMP `EndpointListByFilterRequest`. */
export interface EndpointListByFilterRequestRecord {
  correlationId: string;
  timestamp: number;
  timeout: number;
  filterId: string;
}

/** 20/EFMP `EndpointListByFilterResponse`. */
export interface EndpointListByFilterResponseRecord {
  correlationId: string;
  timestamp: number;
  timeout: number;
  filterId: string;
  appVersionsToEndpoints: Record<string, string[]>;
  statusCode: number;
  reasonPhrase: string | null;
}

/** 21/TLE `UpdatedEvent` / `UnregisteredEvent` (tenant lifecycle; not 9/ELCE's UnregisteredEvent). */
export interface TenantLifecycleRecord {
  correlationId: string;
  timestamp: number;
  timeout: number;
  tenantId: string;
  originatorReplicaId: string;
}

const configRequestSchema = loadSchema('0006-config-request.avsc');
const configAppliedSchema = loadSchema('0006-config-applied.avsc');

/** The older writer schemas, exported so tests and stand-ins can produce their bytes. */
export const OLDER_WRITERS = {
  /** ConfigRequest before January 2026: no `configName`. */
  configRequestWithoutConfigName: olderWriter(configRequestSchema, 1),
  /** ConfigApplied before May 2020: no `statusCode`, `reasonPhrase`. */
  configAppliedWithoutStatus: olderWriter(configAppliedSchema, 2),
} as const;

/** Every codec, one per record. */
export const codecs = {
  configRequest: new AvroCodec<ConfigRequestRecord>('ConfigRequest', configRequestSchema, [OLDER_WRITERS.configRequestWithoutConfigName]),
  configResponse: new AvroCodec<ConfigResponseRecord>('ConfigResponse', loadSchema('0006-config-response.avsc')),
  configUpdated: new AvroCodec<ConfigUpdatedRecord>('ConfigUpdated', loadSchema('0006-config-updated.avsc')),
  configApplied: new AvroCodec<ConfigAppliedRecord>('ConfigApplied', configAppliedSchema, [OLDER_WRITERS.configAppliedWithoutStatus]),
  endpointRegistered: new AvroCodec<EndpointLifecycleRecord>('RegisteredEvent', loadSchema('0009-ep-registered.avsc')),
  endpointUnregistered: new AvroCodec<EndpointLifecycleRecord>('UnregisteredEvent', loadSchema('0009-ep-unregistered.avsc')),
  appVersionUpdated: new AvroCodec<AppVersionUpdatedRecord>('AppVersionUpdatedEvent', loadSchema('0009-ep-appversion-updated.avsc')),
  filterActivated: new AvroCodec<FilterEventRecord>('EndpointFilterActivatedEvent', loadSchema('0018-epf-activated.avsc')),
  filterPending: new AvroCodec<FilterEventRecord>('EndpointFilterPendingEvent', loadSchema('0018-epf-pending.avsc')),
  filterDeleted: new AvroCodec<FilterEventRecord>('EndpointFilterDeletedEvent', loadSchema('0018-epf-deleted.avsc')),
  filterMatched: new AvroCodec<FilterMatchRecord>('EndpointMatchedFilterEvent', loadSchema('0018-epf-ep-matched.avsc')),
  filterUnmatched: new AvroCodec<FilterMatchRecord>('EndpointUnmatchedFilterEvent', loadSchema('0018-epf-ep-unmatched.avsc')),
  endpointFiltersRequest: new AvroCodec<EndpointFiltersRequestRecord>('EndpointFiltersRequest', loadSchema('0020-endpoint-filters-request.avsc')),
  endpointFiltersResponse: new AvroCodec<EndpointFiltersResponseRecord>('EndpointFiltersResponse', loadSchema('0020-endpoint-filters-response.avsc')),
  endpointListByFilterRequest: new AvroCodec<EndpointListByFilterRequestRecord>(
    'EndpointListByFilterRequest',
    loadSchema('0020-endpoint-list-by-filter-request.avsc'),
  ),
  endpointListByFilterResponse: new AvroCodec<EndpointListByFilterResponseRecord>(
    'EndpointListByFilterResponse',
    loadSchema('0020-endpoint-list-by-filter-response.avsc'),
  ),
  tenantUpdated: new AvroCodec<TenantLifecycleRecord>('TenantUpdatedEvent', loadSchema('0021-tenant-updated.avsc')),
  tenantUnregistered: new AvroCodec<TenantLifecycleRecord>('TenantUnregisteredEvent', loadSchema('0021-tenant-unregistered.avsc')),
} as const;

/** Codecs that write the older schemas (for stand-ins of old Kaa builds and for tests). */
export const legacyWriters = {
  configRequestWithoutConfigName: new AvroCodec<Omit<ConfigRequestRecord, 'configName'>>(
    'ConfigRequest(pre-2026)',
    OLDER_WRITERS.configRequestWithoutConfigName,
  ),
  configAppliedWithoutStatus: new AvroCodec<Omit<ConfigAppliedRecord, 'statusCode' | 'reasonPhrase'>>(
    'ConfigApplied(pre-2020)',
    OLDER_WRITERS.configAppliedWithoutStatus,
  ),
} as const;
