import { err, failure, ok, type Result } from '../domain/result';
import type { FileStore, FileUpload, FileUploadFailure, StoredObject } from '../ports';
import { FaultSwitch } from './faults';
import { sha256Hex } from './sha256';

/** One stored object of the in-memory file store. */
export interface MemoryObject {
  readonly bytes: Uint8Array;
  readonly contentType: string;
  readonly sha256: string;
}

const LINK_BASE = 'https://files.example/';

/**
 * FileStore in memory, with the contract of S3FileStore: an upload reads its body chunk by chunk
 * and stores the object only once it is complete; past `maxBytes` it stops pulling at once (and
 * never calls the iterator's `return()`). `faults.unavailable` simulates S3 being down; the
 * `objects`, `deleted` and the counters are there for tests to arrange and assert.
 */
export class InMemoryFileStore implements FileStore {
  readonly faults = new FaultSwitch('dependency.unavailable');
  readonly objects = new Map<string, MemoryObject>();
  /** Every `delete(key)` and `deletePrefix(prefix)` (as `prefix*`) that succeeded, in order. */
  readonly deleted: string[] = [];
  uploads = 0;
  presigned = 0;

  async upload(input: FileUpload): Promise<Result<StoredObject, FileUploadFailure>> {
    this.uploads++;
    this.faults.check('files.upload');
    const it = input.body[Symbol.asyncIterator]();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await it.next();
      } catch {
        return err(failure('request.invalid', 'the upload was interrupted before the file was complete', 'file'));
      }
      if (next.done) break;
      size += next.value.length;
      if (size > input.maxBytes) {
        return err(failure('file.too_large', `the file is larger than the limit of ${input.maxBytes} bytes (OTAO_S3_MAX_FILE_BYTES)`, 'file'));
      }
      chunks.push(Uint8Array.from(next.value));
    }
    this.faults.check('files.upload');
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    const sha256 = sha256Hex(bytes);
    this.objects.set(input.key, { bytes, contentType: input.contentType, sha256 });
    return ok({ size, sha256 });
  }

  async presignGet(objectKey: string, ttlSeconds: number): Promise<string> {
    this.faults.check('files.presign');
    this.presigned++;
    return `${LINK_BASE}${objectKey}?ttl=${ttlSeconds}&sig=${this.presigned}`;
  }

  async delete(objectKey: string): Promise<void> {
    this.faults.check('files.delete');
    this.objects.delete(objectKey);
    this.deleted.push(objectKey);
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (prefix.length === 0) throw new Error('deletePrefix: refusing to delete the whole store');
    this.faults.check('files.deletePrefix');
    for (const k of [...this.objects.keys()]) if (k.startsWith(prefix)) this.objects.delete(k);
    this.deleted.push(`${prefix}*`);
  }

  available(): boolean {
    return !this.faults.unavailable;
  }

  /** What following a link made by `presignGet` gives: the object, or undefined (404) when there is none. */
  download(url: string): MemoryObject | undefined {
    if (!url.startsWith(LINK_BASE)) return undefined;
    const q = url.indexOf('?');
    return this.objects.get(url.slice(LINK_BASE.length, q < 0 ? undefined : q));
  }

  /** The keys under a prefix, sorted. */
  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}
