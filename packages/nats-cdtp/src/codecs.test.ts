import fc from 'fast-check';
import { AvroCodec, CodecError, type ConfigAppliedRecord, type ConfigRequestRecord, codecs, legacyWriters, OLDER_WRITERS } from './codecs';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Buffer => Buffer.from(h, 'hex');

/** Every test vector of kaa-protocols.md §2.9, §5 and §6, verbatim (§11.3, 17/SCMP: tekton-config's src/scmp.test.ts). */
const VECTORS = [
  {
    name: '§2.9 ConfigRequest',
    codec: codecs.configRequest as AvroCodec<unknown>,
    value: { correlationId: 'c1', timestamp: 1700000000000, timeout: 3000, appVersionName: 'app-v1', endpointId: 'ep1', configId: '1.0.0', configName: null },
    hex: '04633180a0abfef962f02e0c6170702d763106657031020a312e302e3000',
  },
  {
    name: '§2.9 ConfigResponse (new config)',
    codec: codecs.configResponse as AvroCodec<unknown>,
    value: {
      correlationId: 'c1',
      timestamp: 1700000000001,
      timeout: 0,
      appVersionName: 'app-v1',
      endpointId: 'ep1',
      configId: '1.0.1',
      contentType: 'application/json',
      content: Buffer.from('{"v":"1.0.1"}'),
      statusCode: 200,
      reasonPhrase: 'OK',
    },
    hex: '04633182a0abfef962000c6170702d763106657031020a312e302e31206170706c69636174696f6e2f6a736f6e021a7b2276223a22312e302e31227d900302044f4b',
  },
  {
    name: '§2.9 ConfigResponse (unchanged)',
    codec: codecs.configResponse as AvroCodec<unknown>,
    value: {
      correlationId: 'c1',
      timestamp: 1700000000001,
      timeout: 0,
      appVersionName: 'app-v1',
      endpointId: 'ep1',
      configId: null,
      contentType: 'application/json',
      content: null,
      statusCode: 200,
      reasonPhrase: null,
    },
    hex: '04633182a0abfef962000c6170702d76310665703100206170706c69636174696f6e2f6a736f6e00900300',
  },
  {
    name: '§2.9 ConfigUpdated',
    codec: codecs.configUpdated as AvroCodec<unknown>,
    value: {
      correlationId: 'c2',
      timestamp: 1700000000002,
      timeout: 0,
      appVersionName: 'app-v1',
      endpointId: 'ep1',
      configId: '1.0.1',
      contentType: 'application/json',
      content: Buffer.from('{}'),
      originatorReplicaId: 'otao-0',
    },
    hex: '04633284a0abfef962000c6170702d7631066570310a312e302e31206170706c69636174696f6e2f6a736f6e047b7d020c6f74616f2d30',
  },
  {
    name: '§2.9 ConfigApplied',
    codec: codecs.configApplied as AvroCodec<unknown>,
    value: {
      correlationId: 'c3',
      timestamp: 1700000000003,
      timeout: 0,
      appVersionName: 'app-v1',
      endpointId: 'ep1',
      configId: '1.0.1',
      originatorReplicaId: null,
      statusCode: 200,
      reasonPhrase: null,
    },
    hex: '04633386a0abfef962000c6170702d7631066570310a312e302e3100900300',
  },
  {
    name: '§5 UnregisteredEvent',
    codec: codecs.endpointUnregistered as AvroCodec<unknown>,
    value: { correlationId: 'c6', timestamp: 1700000000006, timeout: 0, appVersionName: 'app-v1', endpointId: 'ep1', originatorReplicaId: 'epr-0' },
    hex: '0463368ca0abfef962000c6170702d7631066570310a6570722d30',
  },
  {
    name: '§6 EndpointMatchedFilterEvent',
    codec: codecs.filterMatched as AvroCodec<unknown>,
    value: {
      timestamp: 1700000000007,
      timeout: 0,
      correlationId: 'c7',
      originatorReplicaId: 'epr-0',
      filterId: 'f1',
      applicationName: 'app',
      appVersionName: 'app-v1',
      filterName: null,
      endpointId: 'ep1',
    },
    hex: '8ea0abfef962000463370a6570722d30046631066170700c6170702d76310006657031',
  },
];

describe('test vectors of kaa-protocols.md', () => {
  it.each(VECTORS)('$name encodes byte-exactly', ({ codec, value, hex: expected }) => {
    expect(hex(codec.encode(value))).toBe(expected);
  });

  it.each(VECTORS)('$name decodes to the same record', ({ codec, value, hex: h }) => {
    expect(codec.decode(bytes(h))).toEqual(value);
  });

  it('decodes from a Uint8Array view into a larger buffer (as the NATS client delivers it)', () => {
    const v = VECTORS[0]!;
    const big = Buffer.concat([Buffer.from('garbage-before'), bytes(v.hex), Buffer.from('after')]);
    const view = new Uint8Array(big.buffer, big.byteOffset + 14, v.hex.length / 2);
    expect(codecs.configRequest.decode(view)).toEqual(v.value);
  });
});

describe('older writers (schema evolution, §1.5)', () => {
  it('decodes a pre-2026 ConfigRequest without configName (configName null)', () => {
    const old = legacyWriters.configRequestWithoutConfigName.encode({
      correlationId: 'c1',
      timestamp: 1700000000000,
      timeout: 3000,
      appVersionName: 'app-v1',
      endpointId: 'ep1',
      configId: '1.0.0',
    });
    // The old bytes are the vector without its last field (configName null = one 0x00 byte).
    expect(hex(old)).toBe('04633180a0abfef962f02e0c6170702d763106657031020a312e302e30');
    expect(codecs.configRequest.decode(old)).toEqual({ ...VECTORS[0]!.value, configName: null });
  });

  it('decodes a pre-2026 ConfigRequest with configId null', () => {
    const old = legacyWriters.configRequestWithoutConfigName.encode({
      correlationId: 'x',
      timestamp: 1,
      timeout: 0,
      appVersionName: 'a',
      endpointId: 'e',
      configId: null,
    });
    expect(codecs.configRequest.decode(old)).toMatchObject({ configId: null, configName: null, endpointId: 'e' });
  });

  it('decodes a new ConfigRequest with a configName', () => {
    const b = codecs.configRequest.encode({ ...(VECTORS[0]!.value as ConfigRequestRecord), configId: null, configName: 'network' });
    expect(codecs.configRequest.decode(b)).toMatchObject({ configId: null, configName: 'network' });
  });

  it('decodes a pre-2020 ConfigApplied without statusCode/reasonPhrase as 200', () => {
    const old = legacyWriters.configAppliedWithoutStatus.encode({
      correlationId: 'c3',
      timestamp: 1700000000003,
      timeout: 0,
      appVersionName: 'app-v1',
      endpointId: 'ep1',
      configId: '1.0.1',
      originatorReplicaId: 'cmx-0',
    });
    expect(codecs.configApplied.decode(old)).toEqual({
      correlationId: 'c3',
      timestamp: 1700000000003,
      timeout: 0,
      appVersionName: 'app-v1',
      endpointId: 'ep1',
      configId: '1.0.1',
      originatorReplicaId: 'cmx-0',
      statusCode: 200,
      reasonPhrase: null,
    });
  });

  it('decodes a new ConfigApplied failure with its status and reason', () => {
    const b = codecs.configApplied.encode({ ...(VECTORS[4]!.value as ConfigAppliedRecord), statusCode: 500, reasonPhrase: 'flash failed' });
    expect(codecs.configApplied.decode(b)).toMatchObject({ statusCode: 500, reasonPhrase: 'flash failed' });
  });

  it('older writer schemas are the newest minus the trailing fields', () => {
    expect(OLDER_WRITERS.configRequestWithoutConfigName.fields.map((f) => f.name)).toEqual([
      'correlationId',
      'timestamp',
      'timeout',
      'appVersionName',
      'endpointId',
      'configId',
    ]);
    expect(OLDER_WRITERS.configAppliedWithoutStatus.fields.map((f) => f.name)).toEqual([
      'correlationId',
      'timestamp',
      'timeout',
      'appVersionName',
      'endpointId',
      'configId',
      'originatorReplicaId',
    ]);
  });
});

describe('garbage raises CodecError, never anything else', () => {
  const request = bytes(VECTORS[0]!.hex);

  it('every truncation of a ConfigRequest fails, except the exact pre-2026 encoding', () => {
    for (let n = 0; n < request.length; n++) {
      const prefix = request.subarray(0, n);
      if (n === request.length - 1) {
        expect(codecs.configRequest.decode(prefix).configName).toBeNull();
        continue;
      }
      expect(() => codecs.configRequest.decode(prefix)).toThrow(CodecError);
    }
  });

  it('trailing bytes after a record fail', () => {
    expect(() => codecs.configRequest.decode(Buffer.concat([request, Buffer.from([0, 0, 0])]))).toThrow(CodecError);
  });

  it('records of other schemas fail as ConfigRequest', () => {
    for (const name of ['§2.9 ConfigUpdated', '§5 UnregisteredEvent', '§2.9 ConfigResponse (new config)', '§6 EndpointMatchedFilterEvent']) {
      const v = VECTORS.find((x) => x.name === name)!;
      expect(() => codecs.configRequest.decode(bytes(v.hex))).toThrow(CodecError);
    }
  });

  it('fixed garbage used by the integration tests fails', () => {
    expect(() => codecs.configRequest.decode(Buffer.alloc(32, 0xff))).toThrow(CodecError);
    expect(() => codecs.configRequest.decode(Buffer.from('{"configId":"1.0.0"}'))).toThrow(CodecError);
    expect(() => codecs.configRequest.decode(Buffer.alloc(0))).toThrow(CodecError);
  });

  it('random bytes either decode to a valid record or raise CodecError (property)', () => {
    const all = Object.values(codecs) as AvroCodec<unknown>[];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: all.length - 1 }), (data, i) => {
        const codec = all[i]!;
        try {
          const v = codec.decode(data);
          // A lucky decode is a real record: it survives an encode/decode round trip.
          expect(codec.decode(codec.encode(v))).toEqual(v);
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError);
        }
      }),
      { numRuns: 3000, seed: 4 },
    );
  });

  it('a hostile block count cannot hang or exhaust memory (map of 2^30 entries in 15 bytes)', () => {
    const long = (n: number): Buffer => {
      const out: number[] = [];
      let z = n * 2; // zig-zag of a positive number
      while (z >= 0x80) {
        out.push((z % 0x80) | 0x80);
        z = Math.floor(z / 0x80);
      }
      out.push(z);
      return Buffer.from(out);
    };
    const head = Buffer.from([2, 0x61, 0, 0, 2, 0x61]); // correlationId 'a', timestamp 0, timeout 0, filterId 'a'
    expect(() => codecs.endpointListByFilterResponse.decode(Buffer.concat([head, long(2 ** 30)]))).toThrow(CodecError);
    const headF = Buffer.from([2, 0x61, 0, 0, 2, 0x65]); // … endpointId 'e'
    expect(() => codecs.endpointFiltersResponse.decode(Buffer.concat([headF, long(2 ** 26)]))).toThrow(CodecError);
    // Negative block counts (count + byte size) are checked the same way.
    expect(() => codecs.endpointFiltersResponse.decode(Buffer.concat([headF, Buffer.from([0xff, 0xff, 0xff, 0x0f]), long(4)]))).toThrow(CodecError);
  });

  it('legitimate arrays and maps still decode', () => {
    const b = codecs.endpointListByFilterResponse.encode({
      correlationId: 'c',
      timestamp: 1,
      timeout: 0,
      filterId: 'f1',
      appVersionsToEndpoints: { 'app-v1': ['ep1', 'ep2'], 'app-v2': [] },
      statusCode: 200,
      reasonPhrase: null,
    });
    expect(codecs.endpointListByFilterResponse.decode(b).appVersionsToEndpoints).toEqual({ 'app-v1': ['ep1', 'ep2'], 'app-v2': [] });
  });

  it('encoding an invalid value raises CodecError', () => {
    expect(() => codecs.filterMatched.encode({ filterId: 'f' } as never)).toThrow(CodecError);
  });
});
