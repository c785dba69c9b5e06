import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { usageError } from './errors';
import type { Schemas } from './client';

export type SoftwareBody = Record<string, unknown>;

/** Flags of `software create|update`; each present flag overrides the file's or current value. */
export interface SoftwareFlags {
  readonly file?: string | undefined;
  readonly upgradableFrom?: string[] | undefined;
  readonly strategy?: string | undefined;
  readonly spec?: string | undefined;
  readonly specFile?: string | undefined;
  readonly metadata?: string | undefined;
  readonly maxFailureRate?: number | undefined;
  readonly minReports?: number | undefined;
  readonly noFailurePolicy?: boolean | undefined;
}

/** Fields the API returns but ignores on input; dropped before a read-modify-write. */
const READ_ONLY = ['createdAt', 'updatedAt', 'file', 'suspendedReason'];

/** Reads a JSON or YAML document (YAML is a superset of JSON); `-` is stdin. */
export function readDocument(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw usageError(`${what}: cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return parseYaml(text);
  } catch (e) {
    throw usageError(`${what}: ${path} is neither JSON nor YAML: ${(e as Error).message.split('\n')[0]}`);
  }
}

function parseJsonFlag(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw usageError(`${flag}: not JSON: ${(e as Error).message}`);
  }
}

/** The body of a create or update: the file (if any) or the base, then the flags over it. */
export function softwareBody(flags: SoftwareFlags, base: SoftwareBody | undefined): SoftwareBody {
  let body: SoftwareBody = {};
  if (flags.file !== undefined) {
    const doc = readDocument(flags.file, '--file');
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw usageError(`--file: ${flags.file} must hold one software object`);
    body = { ...(doc as SoftwareBody) };
  } else if (base !== undefined) {
    body = { ...base };
  }
  for (const k of READ_ONLY) delete body[k];
  if (flags.upgradableFrom !== undefined) body['upgradableFrom'] = flags.upgradableFrom;
  if (flags.strategy !== undefined) body['rolloutStrategy'] = flags.strategy;
  if (flags.spec !== undefined && flags.specFile !== undefined) throw usageError('--spec and --spec-file: give one');
  if (flags.spec !== undefined) body['specification'] = parseJsonFlag('--spec', flags.spec);
  if (flags.specFile !== undefined) body['specification'] = readDocument(flags.specFile, '--spec-file');
  if (flags.metadata !== undefined) body['metadata'] = parseJsonFlag('--metadata', flags.metadata);
  if (flags.noFailurePolicy === true) {
    if (flags.maxFailureRate !== undefined || flags.minReports !== undefined)
      throw usageError('--no-failure-policy with --max-failure-rate/--min-reports: give one');
    body['failurePolicy'] = null;
  } else if (flags.maxFailureRate !== undefined || flags.minReports !== undefined) {
    const old = (body['failurePolicy'] ?? {}) as Partial<Schemas['FailurePolicy']>;
    const policy = {
      ...old,
      ...(flags.maxFailureRate !== undefined ? { maxFailureRate: flags.maxFailureRate } : {}),
      ...(flags.minReports !== undefined ? { minReports: flags.minReports } : {}),
    };
    if (policy.maxFailureRate === undefined || policy.minReports === undefined)
      throw usageError('a failure policy needs both --max-failure-rate and --min-reports');
    body['failurePolicy'] = policy;
  }
  return body;
}
