import {
  formatKaaDate,
  type EndpointReport,
  type EndpointState,
  type EndpointView,
  type Preview,
  type RolloutView,
  type Software,
} from '@otao/core';

/** Software as the REST API shows it: Kaa dates, optional fields only when present. */
export function softwareDto(s: Software): Record<string, unknown> {
  return {
    version: s.version,
    upgradableFrom: s.upgradableFrom,
    specification: s.specification,
    metadata: s.metadata,
    rolloutStrategy: s.rolloutStrategy,
    filters: s.filters.map((f) => (f.rolloutDate === undefined ? { filterId: f.filterId } : { filterId: f.filterId, rolloutDate: formatKaaDate(f.rolloutDate) })),
    ...(s.failurePolicy ? { failurePolicy: s.failurePolicy } : {}),
    createdAt: formatKaaDate(s.createdAt),
    updatedAt: formatKaaDate(s.updatedAt),
    ...(s.file
      ? { file: { name: s.file.name, size: s.file.size, sha256: s.file.sha256, contentType: s.file.contentType, uploadedAt: formatKaaDate(s.file.uploadedAt) } }
      : {}),
    ...(s.suspendedReason !== undefined ? { suspendedReason: s.suspendedReason } : {}),
  };
}

/** Strong ETag of a software revision. */
export function etagOf(s: Software): string {
  return `"r${s.revision}"`;
}

/**
 * The revision an If-Match header names: undefined when absent or `*` (any), NaN when it names
 * something else (which can never match: 412).
 */
export function revisionFromIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const tags = header.split(',').map((t) => t.trim());
  if (tags.includes('*')) return undefined;
  for (const t of tags) {
    const m = /^(?:W\/)?"r(\d{1,15})"$/.exec(t);
    if (m) return Number(m[1]);
  }
  return Number.NaN;
}

function reportDto(r: EndpointReport): Record<string, unknown> {
  return { configId: r.configId, statusCode: r.statusCode, ...(r.reasonPhrase !== undefined ? { reasonPhrase: r.reasonPhrase } : {}), reportedAt: formatKaaDate(r.at) };
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
    offset: p.offset,
    limit: p.limit,
    content: p.items.map((i) => ({ ...i, ...(i.rolloutDate !== undefined ? { rolloutDate: formatKaaDate(i.rolloutDate) } : {}) })),
  };
}

export function rolloutDto(r: RolloutView): Record<string, unknown> {
  return { ...r };
}
