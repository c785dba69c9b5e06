import {
  type ApplicationView,
  type AuditEntry,
  formatKaaDate,
  openPercent,
  type EndpointList,
  type EndpointReport,
  type EndpointState,
  type EndpointView,
  type Precondition,
  type Preview,
  type RolloutHistory,
  type RolloutView,
  type Software,
  type SoftwareRevisionRef,
} from '@otao/core';

/** An application of `GET /applications` (spec §6.4.1). */
export function applicationDto(a: ApplicationView): Record<string, unknown> {
  return { appName: a.appName, consentRequired: a.consentRequired, appVersionNames: [...a.appVersionNames] };
}

/** An audit entry as the REST API shows it (spec §4.13): Kaa date, optional fields only when present. */
export function auditEntryDto(e: AuditEntry): Record<string, unknown> {
  return {
    id: e.id,
    at: formatKaaDate(e.at),
    tenantId: e.tenantId,
    appName: e.appName,
    actor: { type: e.actor.type, id: e.actor.id, ...(e.actor.name !== undefined ? { name: e.actor.name } : {}) },
    action: e.action,
    ...(e.version !== undefined ? { version: e.version } : {}),
    ...(e.endpointId !== undefined ? { endpointId: e.endpointId } : {}),
    ...(e.changes !== undefined ? { changes: e.changes } : {}),
    correlationId: e.correlationId,
  };
}

/** Software as the REST API shows it: Kaa dates, optional fields only when present. */
export function softwareDto(s: Software): Record<string, unknown> {
  return {
    version: s.version,
    upgradableFrom: s.upgradableFrom,
    specification: s.specification,
    metadata: s.metadata,
    rolloutStrategy: s.rolloutStrategy,
    filters: s.filters.map((f) =>
      f.rolloutDate === undefined ? { filterId: f.filterId } : { filterId: f.filterId, rolloutDate: formatKaaDate(f.rolloutDate) },
    ),
    ...(s.failurePolicy ? { failurePolicy: s.failurePolicy } : {}),
    ...(s.phases ? { phases: s.phases } : {}),
    ...(s.phaseGate ? { phaseGate: s.phaseGate } : {}),
    ...(s.maintenanceWindow ? { maintenanceWindow: s.maintenanceWindow } : {}),
    ...(s.phase && s.phases
      ? {
          phase: {
            index: s.phase.index,
            percent: openPercent(s),
            openedAt: formatKaaDate(s.phase.openedAt),
            hold: s.phase.hold,
            ...(s.phase.holdReason !== undefined ? { holdReason: s.phase.holdReason } : {}),
          },
        }
      : {}),
    createdAt: formatKaaDate(s.createdAt),
    updatedAt: formatKaaDate(s.updatedAt),
    ...(s.file
      ? { file: { name: s.file.name, size: s.file.size, sha256: s.file.sha256, contentType: s.file.contentType, uploadedAt: formatKaaDate(s.file.uploadedAt) } }
      : {}),
    ...(s.suspendedReason !== undefined ? { suspendedReason: s.suspendedReason } : {}),
  };
}

/**
 * Strong ETag of a software revision: the revision and the incarnation (`createdAt`, base 36), so a
 * deleted and re-created version never repeats a tag (spec §10): `"r3.lz4f8k2a"`.
 */
export function etagOf(s: Pick<Software, 'revision' | 'createdAt'>): string {
  return `"r${s.revision}.${s.createdAt.toString(36)}"`;
}

const ETAG = /^r(\d{1,15})\.([0-9a-z]{1,11})$/;
/** One element of an If-Match list: `*`, or an entity tag, weak (`W/"…"`) or strong (RFC 9110 §8.8.3). */
const LIST_ITEM = /\s*(?:(\*)|(W\/)?"([\x21\x23-\x7e\x80-\xff]*)")\s*(?:,|$)/y;

/**
 * The precondition of an If-Match header (RFC 9110 §13.1.1): none when absent or when it lists
 * `*`; otherwise the software revisions its strong tags name. The comparison is strong: a weak tag,
 * a tag OTAO never produced or a malformed header matches nothing (412).
 */
export function preconditionOf(header: string | undefined): Precondition {
  if (header === undefined) return {};
  const ifMatch: SoftwareRevisionRef[] = [];
  LIST_ITEM.lastIndex = 0;
  while (LIST_ITEM.lastIndex < header.length) {
    const at = LIST_ITEM.lastIndex;
    const m = LIST_ITEM.exec(header);
    if (!m || LIST_ITEM.lastIndex === at) return { ifMatch: [] }; // malformed: nothing can match
    if (m[1] === '*') return {};
    if (m[2] !== undefined) continue; // weak: never matches under strong comparison
    const t = ETAG.exec(m[3] as string);
    if (!t) continue;
    const revision = Number(t[1]);
    const createdAt = parseInt(t[2] as string, 36);
    if (Number.isSafeInteger(revision) && Number.isSafeInteger(createdAt)) ifMatch.push({ createdAt, revision });
  }
  return { ifMatch };
}

function reportDto(r: EndpointReport): Record<string, unknown> {
  return {
    configId: r.configId,
    statusCode: r.statusCode,
    ...(r.reasonPhrase !== undefined ? { reasonPhrase: r.reasonPhrase } : {}),
    reportedAt: formatKaaDate(r.at),
  };
}

/** GET …/endpoints (spec §6.4): a page with its count and when that was counted. */
export function endpointListDto(page: EndpointList): Record<string, unknown> {
  return { content: page.content.map(endpointStateDto), totalElements: page.totalElements, countedAt: formatKaaDate(page.countedAt) };
}

export function endpointStateDto(s: EndpointState): Record<string, unknown> {
  return {
    endpointId: s.endpointId,
    ...(s.appVersionName !== undefined ? { appVersionName: s.appVersionName } : {}),
    ...(s.currentVersion !== undefined ? { currentVersion: s.currentVersion } : {}),
    ...(s.lastReport ? { lastReport: reportDto(s.lastReport) } : {}),
    filters: s.filters,
    consents: s.consents,
    updatedAt: formatKaaDate(s.updatedAt),
  };
}

export function endpointViewDto(v: EndpointView): Record<string, unknown> {
  return {
    endpointId: v.endpointId,
    ...(v.appVersionName !== undefined ? { appVersionName: v.appVersionName } : {}),
    ...(v.currentVersion !== undefined ? { currentVersion: v.currentVersion } : {}),
    ...(v.lastReport ? { lastReport: reportDto(v.lastReport) } : {}),
    ...(v.next !== undefined ? { next: v.next } : {}),
    path: v.path,
    ...(v.goal !== undefined ? { goal: v.goal } : {}),
    consents: v.consents,
    filters: v.filters,
  };
}

export function previewDto(p: Preview): Record<string, unknown> {
  return {
    version: p.version,
    rolloutStrategy: p.rolloutStrategy,
    counts: p.counts,
    total: p.total,
    countedAt: formatKaaDate(p.countedAt),
    offset: p.offset,
    limit: p.limit,
    content: p.items.map((i) => ({
      ...i,
      ...(i.rolloutDate !== undefined ? { rolloutDate: formatKaaDate(i.rolloutDate) } : {}),
      ...(i.nextOpenAt !== undefined ? { nextOpenAt: formatKaaDate(i.nextOpenAt) } : {}),
    })),
  };
}

export function rolloutDto(r: RolloutView): Record<string, unknown> {
  const { phase, window, ...rest } = r;
  const windowDto = window
    ? { window: { open: window.open, ...(window.nextOpenAt !== undefined ? { nextOpenAt: formatKaaDate(window.nextOpenAt) } : {}) } }
    : {};
  if (!phase) return { ...rest, ...windowDto };
  const { openedAt, nextCheckAt, ...p } = phase;
  return {
    ...rest,
    phase: { ...p, openedAt: formatKaaDate(openedAt), ...(nextCheckAt !== undefined ? { nextCheckAt: formatKaaDate(nextCheckAt) } : {}) },
    ...windowDto,
  };
}

export function rolloutHistoryDto(h: RolloutHistory): Record<string, unknown> {
  return {
    version: h.version,
    bucket: h.bucket,
    since: formatKaaDate(h.since),
    until: formatKaaDate(h.until),
    buckets: h.buckets.map((b) => ({
      start: formatKaaDate(b.start),
      offered: b.offered,
      applied: b.applied,
      failed: b.failed,
      timedOut: b.timedOut,
      rolledBack: b.rolledBack,
    })),
  };
}
