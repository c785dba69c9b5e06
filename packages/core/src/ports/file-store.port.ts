/**
 * The software file store (S3). Only what the core decides with; uploading is the adapter's.
 * Every method throws `OtaoError('dependency.unavailable')` when the store cannot be reached.
 */
export interface FileStore {
  /** A presigned GET URL for the object, valid `ttlSeconds`. */
  presignGet(objectKey: string, ttlSeconds: number): Promise<string>;
  /** Deletes one object. Idempotent (absent is not an error). */
  delete(objectKey: string): Promise<void>;
  /** Deletes every object under the prefix. Idempotent. */
  deletePrefix(prefix: string): Promise<void>;
}

/** `<tenantId>/<appName>/<version>/` */
export function fileFolder(tenantId: string, appName: string, version: string): string {
  return `${tenantId}/${appName}/${version}/`;
}

/** `<tenantId>/<appName>/<version>/<fileName>` (spec §5). */
export function fileObjectKey(tenantId: string, appName: string, version: string, fileName: string): string {
  return `${fileFolder(tenantId, appName, version)}${fileName}`;
}
