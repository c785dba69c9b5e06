// The software editor's form model: every field of spec §2, to and from the API's JSON, and the
// mapping of the API's validation messages (`filters[0].filterId: …`) onto the form's fields.
import type { Software } from '../api/client';

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export interface FormState {
  version: string;
  rolloutStrategy: 'suspended' | 'targeted' | 'general';
  upgradableFrom: string;
  filters: { filterId: string; rolloutDate: string }[];
  failurePolicy: { on: boolean; maxFailureRate: string; minReports: string; reportTimeoutMinutes: string };
  phases: { percent: string; soakMinutes: string }[];
  phaseGate: { on: boolean; maxFailureRate: string; minReports: string };
  window: { on: boolean; timeZone: string; start: string; end: string; days: string[] };
  specification: string;
  metadata: string;
}

export const emptyForm = (): FormState => ({
  version: '',
  rolloutStrategy: 'suspended',
  upgradableFrom: '',
  filters: [],
  failurePolicy: { on: false, maxFailureRate: '0.05', minReports: '20', reportTimeoutMinutes: '' },
  phases: [],
  phaseGate: { on: false, maxFailureRate: '0.05', minReports: '20' },
  window: { on: false, timeZone: 'UTC', start: '22:00', end: '04:00', days: [] },
  specification: '{}',
  metadata: 'null',
});

export function formOf(s: Software): FormState {
  const f = emptyForm();
  return {
    version: s.version,
    rolloutStrategy: s.rolloutStrategy,
    upgradableFrom: s.upgradableFrom.join('\n'),
    filters: s.filters.map((fl) => ({ filterId: fl.filterId, rolloutDate: fl.rolloutDate ? fl.rolloutDate.replace(/Z$/, '') : '' })),
    failurePolicy: s.failurePolicy
      ? {
          on: true,
          maxFailureRate: String(s.failurePolicy.maxFailureRate),
          minReports: String(s.failurePolicy.minReports),
          reportTimeoutMinutes: s.failurePolicy.reportTimeoutMinutes ? String(s.failurePolicy.reportTimeoutMinutes) : '',
        }
      : f.failurePolicy,
    phases: (s.phases ?? []).map((p) => ({ percent: String(p.percent), soakMinutes: p.soakMinutes === undefined ? '' : String(p.soakMinutes) })),
    phaseGate: s.phaseGate ? { on: true, maxFailureRate: String(s.phaseGate.maxFailureRate), minReports: String(s.phaseGate.minReports) } : f.phaseGate,
    window: s.maintenanceWindow ? { on: true, ...s.maintenanceWindow, days: s.maintenanceWindow.days ?? [] } : f.window,
    specification: JSON.stringify(s.specification ?? {}, null, 2),
    metadata: JSON.stringify(s.metadata ?? null, null, 2),
  };
}

/** A JSON text's syntax error in words, or undefined. */
export function jsonError(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    const m = (e as Error).message;
    const pos = /position (\d+)/.exec(m);
    if (pos && !/line \d+/.test(m)) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      const col = before.length - before.lastIndexOf('\n');
      return `${m} (line ${line}, column ${col})`;
    }
    return m;
  }
}

const num = (s: string): number => (s.trim() === '' ? Number.NaN : Number(s));

/** The request body (POST or PUT) of a form without JSON syntax errors. Optional sections are sent only when used. */
export function bodyOf(f: FormState, base: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = { ...base };
  for (const k of ['failurePolicy', 'phases', 'phaseGate', 'maintenanceWindow']) delete body[k];
  body['rolloutStrategy'] = f.rolloutStrategy;
  body['upgradableFrom'] = f.upgradableFrom
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean);
  body['filters'] = f.filters.map((x) => ({ filterId: x.filterId.trim(), ...(x.rolloutDate ? { rolloutDate: toUtc(x.rolloutDate) } : {}) }));
  body['specification'] = JSON.parse(f.specification) as unknown;
  body['metadata'] = JSON.parse(f.metadata) as unknown;
  if (f.failurePolicy.on) {
    body['failurePolicy'] = {
      maxFailureRate: num(f.failurePolicy.maxFailureRate),
      minReports: num(f.failurePolicy.minReports),
      ...(f.failurePolicy.reportTimeoutMinutes.trim() ? { reportTimeoutMinutes: num(f.failurePolicy.reportTimeoutMinutes) } : {}),
    };
  }
  if (f.phases.length)
    body['phases'] = f.phases.map((p) => ({ percent: num(p.percent), ...(p.soakMinutes.trim() ? { soakMinutes: num(p.soakMinutes) } : {}) }));
  if (f.phaseGate.on) body['phaseGate'] = { maxFailureRate: num(f.phaseGate.maxFailureRate), minReports: num(f.phaseGate.minReports) };
  if (f.window.on) {
    body['maintenanceWindow'] = {
      timeZone: f.window.timeZone.trim(),
      start: f.window.start,
      end: f.window.end,
      ...(f.window.days.length ? { days: f.window.days } : {}),
    };
  }
  return body;
}

/** `2026-05-01T10:00` or `…:00` (the date input, read as UTC) -> RFC 3339 UTC. */
export function toUtc(local: string): string {
  const withSeconds = /T\d{2}:\d{2}$/.test(local) ? `${local}:00` : local;
  return `${withSeconds}Z`;
}

/**
 * Where an API message belongs: its field prefix (`filters[0].filterId: …`), shortened until a
 * field of the form has it (`upgradableFrom[1]` -> `upgradableFrom`); `undefined` = the whole form.
 */
export function fieldOfMessage(message: string, code: string, known: ReadonlySet<string>): string | undefined {
  if (code === 'software.version_conflict') return 'version';
  if (code === 'software.cycle') return 'upgradableFrom';
  if (code === 'software.specification_too_large' || code === 'software.specification_not_object') return 'specification';
  const m = /^([A-Za-z][\w]*(?:\[\d+\]|\.[A-Za-z]\w*)*)\s*:/.exec(message);
  let field = m?.[1];
  if (field === 'maintenanceWindow' || field?.startsWith('maintenanceWindow.')) field = field.replace('maintenanceWindow', 'window');
  while (field) {
    if (known.has(field)) return field;
    const cut = Math.max(field.lastIndexOf('.'), field.lastIndexOf('['));
    field = cut > 0 ? field.slice(0, cut) : undefined;
  }
  return undefined;
}

/** The field keys the form renders (for fieldOfMessage). */
export function knownFields(f: FormState): Set<string> {
  const s = new Set(['version', 'rolloutStrategy', 'upgradableFrom', 'filters', 'specification', 'metadata', 'failurePolicy', 'phases', 'phaseGate', 'window']);
  f.filters.forEach((_, i) => ['', '.filterId', '.rolloutDate'].forEach((x) => s.add(`filters[${i}]${x}`)));
  f.phases.forEach((_, i) => ['', '.percent', '.soakMinutes'].forEach((x) => s.add(`phases[${i}]${x}`)));
  ['maxFailureRate', 'minReports', 'reportTimeoutMinutes'].forEach((x) => s.add(`failurePolicy.${x}`));
  ['maxFailureRate', 'minReports'].forEach((x) => s.add(`phaseGate.${x}`));
  ['timeZone', 'start', 'end', 'days'].forEach((x) => s.add(`window.${x}`));
  return s;
}

/** The form field id of a field key (`filters[0].filterId` -> `f-filters-0-filterId`). */
export const idOf = (key: string): string => `f-${key.replace(/[[\].]+/g, '-').replace(/-$/, '')}`;
