import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { type ApplicationEntry, parseApplications } from './applications';

/** A registry source that cannot be loaded; the message lists every problem. */
export class RegistryLoadError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: ${problems.join('; ')}`);
    this.name = 'RegistryLoadError';
  }
}

/** Reads OTAO_APPLICATIONS_FILE (YAML or JSON, Kaa's shape). Throws RegistryLoadError. */
export function loadApplicationsFile(path: string, defaultTenant: string): ApplicationEntry[] {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RegistryLoadError(path, [`cannot read or parse: ${(e as Error).message}`]);
  }
  return fromDocument(path, doc, defaultTenant);
}

/** Applications from an already parsed document (e.g. `kaa.applications` inline in the config file). */
export function fromDocument(source: string, doc: unknown, defaultTenant: string): ApplicationEntry[] {
  const { entries, problems } = parseApplications(doc, defaultTenant);
  if (problems.length > 0) throw new RegistryLoadError(source, problems);
  return entries;
}
