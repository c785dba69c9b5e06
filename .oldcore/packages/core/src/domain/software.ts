import { failure, type Failure, type Result, err, ok } from './result';
import { findNonJson, type JsonValue, MAX_JSON_DEPTH, utf8ByteLength } from './json';
import { parseKaaDate } from './kaa-date';
import { isStrictSemver, matches, parseInputMatcher, sameVersion } from './version';

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
}

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

const WRITABLE = new Set(['version', 'upgradableFrom', 'specification', 'metadata', 'rolloutStrategy', 'filters', 'failurePolicy']);
/** Read-only fields a client may send back unchanged after a GET; they are ignored. */
const READ_ONLY = new Set(['createdAt', 'updatedAt', 'file', 'suspendedReason']);

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
 */
export function validateSoftwareInput(
  body: unknown,
  rules: SoftwareRules,
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

  let failurePolicy: FailurePolicy | undefined;
  const fp = b['failurePolicy'];
  if (fp !== undefined && fp !== null) {
    if (typeof fp !== 'object' || Array.isArray(fp)) return err(invalid('failurePolicy', `must be an object, got ${describe(fp)}`));
    const fpo = fp as Record<string, unknown>;
    for (const k of Object.keys(fpo)) {
      if (k !== 'maxFailureRate' && k !== 'minReports') return err(invalid(`failurePolicy.${k}`, 'unknown field'));
    }
    const rate = fpo['maxFailureRate'];
    const min = fpo['minReports'];
    if (typeof rate !== 'number' || !(rate > 0 && rate <= 1)) {
      return err(invalid('failurePolicy.maxFailureRate', 'must be a number greater than 0 and at most 1'));
    }
    if (typeof min !== 'number' || !Number.isInteger(min) || min < 1 || min > 1_000_000_000) {
      return err(invalid('failurePolicy.minReports', 'must be an integer from 1 to 1000000000'));
    }
    failurePolicy = { maxFailureRate: rate, minReports: min };
  }

  const draft: SoftwareDraft = {
    version,
    upgradableFrom,
    specification: specification as JsonValue,
    metadata: metadata as JsonValue,
    rolloutStrategy: rs as RolloutStrategy,
    filters,
    ...(failurePolicy ? { failurePolicy } : {}),
  };
  return ok(draft);
}

function checkFreeJson(field: string, v: unknown, rules: SoftwareRules): SoftwareValidationError | undefined {
  const bad = findNonJson(v);
  if (bad !== undefined) return invalid(field, `must be plain JSON nested at most ${MAX_JSON_DEPTH} levels deep (offending value at ${bad.length > 200 ? `${bad.slice(0, 200)}…` : bad})`);
  const size = utf8ByteLength(JSON.stringify(v));
  if (size > rules.specMaxBytes) {
    return failure('software.specification_too_large', `${field}: serialized size ${size} bytes exceeds the maximum of ${rules.specMaxBytes} bytes`, field);
  }
  return undefined;
}
