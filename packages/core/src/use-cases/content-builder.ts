import { isJsonObject, setAtPath } from '../domain/json';
import type { Software } from '../domain/software';
import { versionKey } from '../domain/upgrade-graph';
import { OtaoError } from '../domain/errors';
import { type Clock, type FileStore, storedObjectKey } from '../ports';

interface Cached {
  readonly revision: number;
  /** With the revision, identifies one incarnation of the software: a deleted and re-created version restarts at revision 1. */
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly content: string;
  /** When a link is embedded: the time after which it must not be handed out any more. */
  readonly reuseUntil?: number;
}

/**
 * Builds the content delivered to an endpoint (CDTP pull and push): the UTF-8 JSON of the
 * specification, with a presigned download link injected when a file is attached (spec §5).
 * Serialized content is cached per software incarnation (createdAt) and revision; a link is reused for other endpoints while
 * at least half of its lifetime remains, so presigning is not paid per request.
 */
export class ContentBuilder {
  private readonly cache = new Map<string, Cached>();
  private readonly path: readonly string[];

  constructor(
    private readonly clock: Clock,
    private readonly files: FileStore | undefined,
    private readonly links: { readonly urlPath: string; readonly ttlSeconds: number } | undefined,
  ) {
    this.path = (links?.urlPath ?? 'link').split('.').filter((p) => p.length > 0);
  }

  /**
   * Throws `dependency.unavailable` when a link is needed and cannot be made, or while the file
   * store is known to be unavailable (a link that cannot work now is not handed out, not even a
   * cached one): never a spec without its link.
   */
  async contentFor(sw: Software): Promise<string> {
    const link =
      sw.file && this.files && this.links && isJsonObject(sw.specification)
        ? { file: sw.file, files: this.files, links: this.links, spec: sw.specification }
        : undefined;
    if (link && !link.files.available()) throw new OtaoError('dependency.unavailable', 'the file store (S3) is unavailable: no download link is handed out');
    const key = `${sw.tenantId}\u0000${sw.appName}\u0000${versionKey(sw.version)}`;
    const now = this.clock.now();
    const hit = this.cache.get(key);
    const same = hit !== undefined && hit.revision === sw.revision && hit.createdAt === sw.createdAt && hit.updatedAt === sw.updatedAt;
    if (hit && same && (hit.reuseUntil === undefined || now < hit.reuseUntil)) return hit.content;

    let content: string;
    let reuseUntil: number | undefined;
    if (link) {
      const url = await link.files.presignGet(storedObjectKey(sw, link.file), link.links.ttlSeconds);
      content = JSON.stringify(setAtPath(link.spec, this.path, url));
      reuseUntil = now + (link.links.ttlSeconds * 1000) / 2;
    } else {
      content = JSON.stringify(sw.specification);
    }
    if (this.cache.size > 10_000) this.cache.clear();
    const id = { revision: sw.revision, createdAt: sw.createdAt, updatedAt: sw.updatedAt };
    this.cache.set(key, reuseUntil === undefined ? { ...id, content } : { ...id, content, reuseUntil });
    return content;
  }
}
