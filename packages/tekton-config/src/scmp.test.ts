import { ScmpCodecs } from './scmp';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The 17/SCMP test vectors of kaa-protocols.md §11.3, verbatim: the one SCMP codec of OTAO. */
const VECTORS = [
  {
    name: '§11.3 BroadcastConfigurationUpdateEvent',
    type: ScmpCodecs.broadcast,
    value: { correlationId: 'c4', timestamp: 1700000000004, originatorReplicaId: 'tekton-0', tenantID: 't1', appName: 'app', appVerName: null },
    hex: '04633488a0abfef9621074656b746f6e2d3002047431020661707000',
  },
  {
    name: '§11.3 ServiceSpecificConfigurationUpdateEvent',
    type: ScmpCodecs.targeted,
    value: { correlationId: 'c5', timestamp: 1700000000005, tenantID: 't1', appName: 'app', appVerName: null },
    hex: '0463358aa0abfef962047431020661707000',
  },
];

describe('17/SCMP test vectors of kaa-protocols.md', () => {
  it.each(VECTORS)('$name encodes byte-exactly', ({ type, value, hex: expected }) => {
    expect(hex(type.toBuffer(value))).toBe(expected);
  });

  it.each(VECTORS)('$name decodes to the same record', ({ type, value, hex: h }) => {
    expect(type.fromBuffer(Buffer.from(h, 'hex'))).toEqual(value);
  });
});
