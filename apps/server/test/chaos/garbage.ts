// Garbage for every NATS subject OTAO subscribes to (docs/nats-cdtp.md "Subjects and queue groups",
// tekton-config's 17/SCMP subjects): random bytes of many lengths, and a few crafted payloads —
// empty, one byte, a valid record of another schema, an Avro block count of 2^30 in 15 bytes (the
// avsc hazard nats-cdtp guards against), JSON that is not a software event, a payload near the
// server's max_payload.
import { randomBytes } from 'node:crypto';
import { codecs } from '@otao/nats-cdtp';

export interface Instances {
  readonly otao: string;
  readonly cmx: string;
  readonly epr: string;
  readonly tenantManager: string;
  readonly tekton: string;
}

/** Whether every replica receives the subject (no queue group) or one of them (queue group `{otao}`). */
export interface GarbageSubject {
  readonly subject: string;
  readonly everyReplica: boolean;
}

export function subscribedSubjects(n: Instances): GarbageSubject[] {
  const one = (subject: string): GarbageSubject => ({ subject, everyReplica: false });
  const all = (subject: string): GarbageSubject => ({ subject, everyReplica: true });
  return [
    one(`kaa.v1.service.${n.otao}.cdtp.request`),
    one(`kaa.v1.events.${n.cmx}.endpoint.config.applied`),
    one(`kaa.v1.events.${n.epr}.endpoint.lifecycle.unregistered`),
    one(`kaa.v1.events.${n.epr}.endpoint.lifecycle.appversion-updated`),
    one(`kaa.v1.events.${n.epr}.endpoint-filter.wave1.ep-matched`),
    one(`kaa.v1.events.${n.epr}.endpoint-filter.wave1.ep-unmatched`),
    one(`kaa.v1.events.${n.epr}.endpoint-filter.garbage.deleted`),
    all(`kaa.v1.events.${n.tenantManager}.tenant.lifecycle.updated`),
    one(`kaa.v1.events.${n.tenantManager}.tenant.lifecycle.unregistered`),
    all(`kaa.v1.events.${n.otao}.software.lifecycle.created`),
    all(`kaa.v1.events.${n.otao}.software.lifecycle.updated`),
    all(`kaa.v1.events.${n.otao}.software.lifecycle.suspended`),
    all(`kaa.v1.events.${n.otao}.software.lifecycle.deleted`),
    all(`kaa.v1.events.${n.tekton}.service.configuration.upsert`),
    all(`kaa.v1.events.${n.tekton}.service.configuration.delete`),
    all(`kaa.v1.service.${n.otao}.scmp.configuration.upsert`),
    all(`kaa.v1.service.${n.otao}.scmp.configuration.delete`),
  ];
}

/** `random` random payloads of 0–4096 bytes, then the crafted ones. */
export function garbagePayloads(random: number, maxPayload: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < random; i++) out.push(randomBytes(Math.floor(Math.random() ** 3 * 4096)));
  out.push(
    Buffer.alloc(0),
    Buffer.from([0x00]),
    Buffer.from([0xff]),
    // a map/array block count of 2^30 with nothing behind it
    Buffer.from([0x02, 0x61, 0x00, 0x02, 0x62, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]),
    // a valid record of another schema (a 6/CDTP ConfigResponse)
    codecs.configResponse.encode({
      correlationId: 'garbage',
      timestamp: Date.now(),
      timeout: 0,
      appVersionName: 'fleet-v1',
      endpointId: 'garbage',
      configId: '9.9.9',
      contentType: 'application/json',
      content: Buffer.from('{}'),
      statusCode: 200,
      reasonPhrase: null,
    }),
    Buffer.from('{"tenantId": 42, "appName": ["x"], "version": {"$gt": ""}}'),
    Buffer.from('not json at all \u0000\u0001'),
    randomBytes(Math.max(0, maxPayload - 1024)),
  );
  return out;
}
