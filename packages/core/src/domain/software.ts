import { failure, type Failure, type Result, err, ok } from './result';
import { findNonJson, type JsonValue, MAX_JSON_DEPTH, utf8ByteLength } from './json';
import { parseKaaDate } from './kaa-date';
import { DEFAULT_SOAK_MINUTES, MAX_PHASES, MAX_SOAK_MINUTES, type Phase, type PhaseGate, type PhaseState } from './phases';
import { isStrictSemver, matches, parseInputMatcher, sameVersion } from './version';
import type { ZoneRules } from '../ports/zone-rules.port';
import { isHourMinute, isTimeZone, type MaintenanceWindow, WEEKDAYS, type Weekday } from './window';

export const ROLLOUT_STRATEGIES = ['suspended', 'targeted', 'general'] as const;
export type RolloutStrategy = (typeof ROLLOUT_STRATEGIES)[number];

/** A filter of a targeted rollout; `rolloutDate` in epoch ms, absent = active immediately. */
export interface RolloutFilter {
  readonly filterId: string;
  readonly rolloutDate?: number;
}

/** Rollout safety (ours, spec §4.8). */
export interface FailurePolicy {
  readonly maxFailureRate: number;
  readonly minReports: number;
  /** Spec §4.11: an endpoint offered the version that reports nothing within this time counts as timed out. */
  readonly reportTimeoutMinutes?: number;
}

export const MAX_REPORT_TIMEOUT_MINUTES = 43_200;

/** The file attached to a software (spec §5): `size` and `sha256` describe the bytes of the object at `objectKey`. */
export interface SoftwareFile {
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly contentType: string;
  readonly uploadedAt: number;
  /**
   * Where the bytes are in the file store: a key unique to this upload (see `uploadObjectKey`).
   * Absent for files uploaded before keys were unique: `<tenantId>/<appName>/<version>/<name>`.
   * Never shown by the REST API.
   */
  readonly objectKey?: string;
}

/** The mutable part of a software definition, as validated from input. */
export interface SoftwareDraft {
  readonly version: string;
  readonly upgradableFrom: readonly string[];
  readonly specification: JsonValue;
  readonly metadata: JsonValue;
  readonly rolloutStrategy: RolloutStrategy;
  readonly filters: readonly RolloutFilter[];
  readonly failurePolicy?: FailurePolicy;
  /** Phased rollout (spec §4.10). */
  readonly phases?: readonly Phase[];
  /** Health gate of a phase advance (spec §4.10); `failurePolicy` stands in when absent. */
  readonly phaseGate?: PhaseGate;
  /** Maintenance window (spec §4.12). */
  readonly maintenanceWindow?: MaintenanceWindow;
}

/** A stored software of one (tenant, application). `revision` starts at 1 and grows with each change (ETag). */
export interface Software extends SoftwareDraft {
  readonly tenantId: string;
  readonly appName: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly revision: number;
  readonly file?: SoftwareFile;
  readonly suspendedReason?: string;
  /** The open phase of a phased rollout (absent when not phased, or suspended before its first phase opened). */
  readonly phase?: PhaseState;
  /** The audit entry of the change that wrote this state (docs/audit.md); never shown by the REST API. */
  readonly changeId?: string;
}

export interface SoftwareRules {
  /** Maximum UTF-8 size of the serialized specification (and of metadata). */
  readonly specMaxBytes: number;
}

export const DEFAULT_SOFTWARE_RULES: SoftwareRules = { specMaxBytes: 262_144 };

export const MAX_UPGRADABLE_FROM = 1000;
export const MAX_FILTERS = 1000;
export const MAX_FILTER_ID_LENGTH = 256;
const FILTER_ID_FORBIDDEN = /[.*>\s]/u;
const APP_NAME = /^[a-z0-9_-]{1,256}$/;

export type SoftwareValidationError = Failure<'software.invalid' | 'software.specification_too_large'>;

const WRITABLE = new Set([
  'version',
  'upgradableFrom',
  'specification',
  'metadata',
  'rolloutStrategy',
  'filters',
  'failurePolicy',
  'phases',
  'phaseGate',
  'maintenanceWindow',
]);
/** Read-only fields a client may send back unchanged after a GET; they are ignored. */
const READ_ONLY = new Set(['createdAt', 'updatedAt', 'file', 'suspendedReason', 'phase']);

export function isValidAppName(s: unknown): s is string {
  return typeof s === 'string' && APP_NAME.test(s);
}

/** A filter id is a NATS subject token: non-empty, no `.`, `*`, `>` or whitespace. */
export function isValidFilterId(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && s.length <= MAX_FILTER_ID_LENGTH && !FILTER_ID_FORBIDDEN.test(s);
}

function invalid(field: string, why: string): SoftwareValidationError {
  return failure('software.invalid', `${field}: ${why}`, field);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * Validates an untrusted software body (spec §2) into a draft.
 * `pathVersion` is the version of the URL on replace: the body's version, if any, must equal it.
 * `zones` says which `maintenanceWindow.timeZone` names exist.
 */
export function validateSoftwareInput(
  body: unknown,
  rules: SoftwareRules,
  zones: ZoneRules,
  pathVersion?: string,
): Result<SoftwareDraft, SoftwareValidationError> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return err(invalid('(body)', `must be a JSON object, got ${describe(body)}`));
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!WRITABLE.has(key) && !READ_ONLY.has(key)) return err(invalid(key, 'unknown field'));
  }

  let version: string;
  if (pathVersion === undefined) {
    if (b['version'] === undefined) return err(invalid('version', 'is required'));
    if (!isStrictSemver(b['version'])) {
      return err(invalid('version', `must be a strict SemVer 2.0.0 version (e.g. 1.2.3), got ${JSON.stringify(b['version'])}`));
    }
    version = b['version'];
  } else {
    version = pathVersion;
    if (b['version'] !== undefined) {
      if (!isStrictSemver(b['version']) || b['version'] !== pathVersion) {
        return err(invalid('version', `must equal the version in the path (${pathVersion}) or be omitted`));
      }
    }
  }

  const upgradableFrom: string[] = [];
  const uf = b['upgradableFrom'];
  if (uf !== undefined && uf !== null) {
    if (!Array.isArray(uf)) return err(invalid('upgradableFrom', `must be an array of strings, got ${describe(uf)}`));
    if (uf.length > MAX_UPGRADABLE_FROM) return err(invalid('upgradableFrom', `at most ${MAX_UPGRADABLE_FROM} entries`));
    const seen = new Set<string>();
    for (let i = 0; i < uf.length; i++) {
      const entry: unknown = uf[i];
      const parsed = parseInputMatcher(entry);
      if (!parsed.ok && parsed.loose) {
        return err(
          invalid(
            `upgradableFrom[${i}]`,
            `${JSON.stringify(entry)} is a loose spelling: write versions in strict SemVer (no "v" prefix, no "=" operator, e.g. "1.0.0") and ranges with <, <=, >, >=, ~, ^ directly before the version or a hyphen range (e.g. ">=1.2.0 <2.0.0")`,
          ),
        );
      }
      if (!parsed.ok) {
        return err(invalid(`upgradableFrom[${i}]`, `${JSON.stringify(entry)} is neither a SemVer version nor a SemVer range`));
      }
      const m = parsed.matcher;
      if (matches(m, version) || (m.kind === 'exact' && sameVersion(m.source, version))) {
        return err(invalid(`upgradableFrom[${i}]`, `${JSON.stringify(entry)} matches the software's own version ${version}`));
      }
      if (!seen.has(m.source)) {
        seen.add(m.source);
        upgradableFrom.push(m.source);
      }
    }
  }

  const specification = b['specification'] === undefined ? {} : b['specification'];
  const specCheck = checkFreeJson('specification', specification, rules);
  if (specCheck) return err(specCheck);
  const metadata = b['metadata'] === undefined ? null : b['metadata'];
  const metaCheck = checkFreeJson('metadata', metadata, rules);
  if (metaCheck) return err(metaCheck);

  const rs = b['rolloutStrategy'];
  if (rs === undefined) return err(invalid('rolloutStrategy', `is required (one of ${ROLLOUT_STRATEGIES.join(', ')})`));
  if (typeof rs !== 'string' || !(ROLLOUT_STRATEGIES as readonly string[]).includes(rs)) {
    return err(invalid('rolloutStrategy', `must be one of ${ROLLOUT_STRATEGIES.join(', ')}, got ${JSON.stringify(rs)}`));
  }

  const filters: RolloutFilter[] = [];
  const fs = b['filters'];
  if (fs !== undefined && fs !== null) {
    if (!Array.isArray(fs)) return err(invalid('filters', `must be an array, got ${describe(fs)}`));
    if (fs.length > MAX_FILTERS) return err(invalid('filters', `at most ${MAX_FILTERS} filters`));
    const ids = new Set<string>();
    for (let i = 0; i < fs.length; i++) {
      const f: unknown = fs[i];
      const field = `filters[${i}]`;
      if (typeof f !== 'object' || f === null || Array.isArray(f)) return err(invalid(field, `must be an object, got ${describe(f)}`));
      const fo = f as Record<string, unknown>;
      for (const k of Object.keys(fo)) {
        if (k !== 'filterId' && k !== 'rolloutDate') return err(invalid(`${field}.${k}`, 'unknown field'));
      }
      if (!isValidFilterId(fo['filterId'])) {
        return err(invalid(`${field}.filterId`, 'must be a non-empty string without ".", "*", ">" or whitespace (at most 256 characters)'));
      }
      const filterId = fo['filterId'];
      if (ids.has(filterId)) return err(invalid(`${field}.filterId`, `duplicate filterId ${JSON.stringify(filterId)}`));
      ids.add(filterId);
      const rd = fo['rolloutDate'];
      if (rd === undefined || rd === null) {
        filters.push({ filterId });
      } else {
        const ms = typeof rd === 'string' ? parseKaaDate(rd) : undefined;
        if (ms === undefined) {
          return err(invalid(`${field}.rolloutDate`, `must be an RFC 3339 UTC date such as 2026-01-31T12:00:00Z, got ${JSON.stringify(rd)}`));
        }
        filters.push({ filterId, rolloutDate: ms });
      }
    }
  }

  const fpResult = optionalObject(b, 'failurePolicy', ['maxFailureRate', 'minReports', 'reportTimeoutMinutes'], (o) => {
    const rate = checkRate('failurePolicy', o);
    if (typeof rate !== 'number') return err(rate);
    const min = checkMinReports('failurePolicy', o);
    if (typeof min !== 'number') return err(min);
    const t = o['reportTimeoutMinutes'];
    if (t !== undefined && t !== null && !isIntegerIn(t, 1, MAX_REPORT_TIMEOUT_MINUTES)) {
      return err(invalid('failurePolicy.reportTimeoutMinutes', `must be an integer from 1 to ${MAX_REPORT_TIMEOUT_MINUTES}`));
    }
    return ok<FailurePolicy>({ maxFailureRate: rate, minReports: min, ...(typeof t === 'number' ? { reportTimeoutMinutes: t } : {}) });
  });
  if (!fpResult.ok) return fpResult;
  const failurePolicy = fpResult.value;

  const gateResult = optionalObject(b, 'phaseGate', ['maxFailureRate', 'minReports'], (o) => {
    const rate = checkRate('phaseGate', o);
    if (typeof rate !== 'number') return err(rate);
    const min = checkMinReports('phaseGate', o);
    if (typeof min !== 'number') return err(min);
    return ok<PhaseGate>({ maxFailureRate: rate, minReports: min });
  });
  if (!gateResult.ok) return gateResult;
  const phaseGate = gateResult.value;

  let phases: Phase[] | undefined;
  const ph = b['phases'];
  if (ph !== undefined && ph !== null) {
    if (!Array.isArray(ph)) return err(invalid('phases', `must be an array, got ${describe(ph)}`));
    if (ph.length === 0 || ph.length > MAX_PHASES) return err(invalid('phases', `must have 1 to ${MAX_PHASES} phases`));
    phases = [];
    for (let i = 0; i < ph.length; i++) {
      const item: unknown = ph[i];
      const field = `phases[${i}]`;
      if (typeof item !== 'object' || item === null || Array.isArray(item)) return err(invalid(field, `must be an object, got ${describe(item)}`));
      const o = item as Record<string, unknown>;
      for (const k of Object.keys(o)) if (k !== 'percent' && k !== 'soakMinutes') return err(invalid(`${field}.${k}`, 'unknown field'));
      const percent = o['percent'];
      if (typeof percent !== 'number' || !Number.isFinite(percent) || !(percent > 0 && percent <= 100)) {
        return err(invalid(`${field}.percent`, 'must be a number greater than 0 and at most 100'));
      }
      const prev = phases[i - 1];
      if (prev && !(percent > prev.percent)) return err(invalid(`${field}.percent`, `must be greater than the previous phase's ${prev.percent}`));
      const soak = o['soakMinutes'];
      if (soak !== undefined && soak !== null && !isIntegerIn(soak, 0, MAX_SOAK_MINUTES)) {
        return err(invalid(`${field}.soakMinutes`, `must be an integer from 0 to ${MAX_SOAK_MINUTES}`));
      }
      phases.push({ percent, soakMinutes: typeof soak === 'number' ? soak : DEFAULT_SOAK_MINUTES });
    }
    if ((phases[phases.length - 1] as Phase).percent !== 100) return err(invalid(`phases[${phases.length - 1}].percent`, 'the last phase must be 100'));
  }

  const windowResult = optionalObject(b, 'maintenanceWindow', ['timeZone', 'start', 'end', 'days'], (o) => {
    const tz = o['timeZone'];
    if (!isTimeZone(zones, tz))
      return err(invalid('maintenanceWindow.timeZone', `must be an IANA time zone name such as Europe/Berlin, got ${JSON.stringify(tz)}`));
    const start = o['start'];
    const end = o['end'];
    if (!isHourMinute(start)) return err(invalid('maintenanceWindow.start', `must be HH:MM (24 h), got ${JSON.stringify(start)}`));
    if (!isHourMinute(end)) return err(invalid('maintenanceWindow.end', `must be HH:MM (24 h), got ${JSON.stringify(end)}`));
    if (start === end) return err(invalid('maintenanceWindow.end', 'must differ from start (an end before the start crosses midnight)'));
    const d = o['days'];
    let days: Weekday[] | undefined;
    if (d !== undefined && d !== null) {
      if (!Array.isArray(d) || d.length === 0) return err(invalid('maintenanceWindow.days', `must be a non-empty array of ${WEEKDAYS.join(', ')}`));
      days = [];
      for (let i = 0; i < d.length; i++) {
        const day: unknown = d[i];
        if (typeof day !== 'string' || !(WEEKDAYS as readonly string[]).includes(day)) {
          return err(invalid(`maintenanceWindow.days[${i}]`, `must be one of ${WEEKDAYS.join(', ')}, got ${JSON.stringify(day)}`));
        }
        if (!days.includes(day as Weekday)) days.push(day as Weekday);
      }
      days.sort((x, y) => WEEKDAYS.indexOf(x) - WEEKDAYS.indexOf(y));
    }
    return ok<MaintenanceWindow>({ timeZone: tz, start, end, ...(days ? { days } : {}) });
  });
  if (!windowResult.ok) return windowResult;
  const maintenanceWindow = windowResult.value;

  const draft: SoftwareDraft = {
    version,
    upgradableFrom,
    specification: specification as JsonValue,
    metadata: metadata as JsonValue,
    rolloutStrategy: rs as RolloutStrategy,
    filters,
    ...(failurePolicy ? { failurePolicy } : {}),
    ...(phases ? { phases } : {}),
    ...(phaseGate ? { phaseGate } : {}),
    ...(maintenanceWindow ? { maintenanceWindow } : {}),
  };
  return ok(draft);
}

function isIntegerIn(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function checkRate(field: string, o: Record<string, unknown>): number | SoftwareValidationError {
  const rate = o['maxFailureRate'];
  if (typeof rate !== 'number' || !(rate > 0 && rate <= 1)) return invalid(`${field}.maxFailureRate`, 'must be a number greater than 0 and at most 1');
  return rate;
}

function checkMinReports(field: string, o: Record<string, unknown>): number | SoftwareValidationError {
  const min = o['minReports'];
  if (!isIntegerIn(min, 1, 1_000_000_000)) return invalid(`${field}.minReports`, 'must be an integer from 1 to 1000000000');
  return min;
}

/**
 * An optional object field: absent or null gives undefined; otherwise it must be an object with only
 * `keys`, and `parse` checks it (returning the value or a failure).
 */
function optionalObject<T extends object>(
  b: Record<string, unknown>,
  field: string,
  keys: readonly string[],
  parse: (o: Record<string, unknown>) => Result<T, SoftwareValidationError>,
): Result<T | undefined, SoftwareValidationError> {
  const v = b[field];
  if (v === undefined || v === null) return ok(undefined);
  if (typeof v !== 'object' || Array.isArray(v)) return err(invalid(field, `must be an object, got ${describe(v)}`));
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!keys.includes(k)) return err(invalid(`${field}.${k}`, 'unknown field'));
  return parse(o);
}

function checkFreeJson(field: string, v: unknown, rules: SoftwareRules): SoftwareValidationError | undefined {
  const bad = findNonJson(v);
  if (bad !== undefined)
    return invalid(
      field,
      `must be plain JSON nested at most ${MAX_JSON_DEPTH} levels deep (offending value at ${bad.length > 200 ? `${bad.slice(0, 200)}…` : bad})`,
    );
  const size = utf8ByteLength(JSON.stringify(v));
  if (size > rules.specMaxBytes) {
    return failure('software.specification_too_large', `${field}: serialized size ${size} bytes exceeds the maximum of ${rules.specMaxBytes} bytes`, field);
  }
  return undefined;
}
