// Software files on S3 (s3-files), when configured: OTAO_S3_ENABLED and a bucket.
import { S3FileStore } from '@otao/s3-files';
import { ContainerModule } from 'inversify';
import type { OtaoConfig } from '../../config';
import { provide, resolve } from '../tokens';

export function filesEnabled(c: OtaoConfig): boolean {
  return c.s3.enabled && c.s3.bucket !== undefined;
}

export const filesModule = new ContainerModule(({ bind }) => {
  provide(bind, 'files', (ctx) => {
    const c = resolve(ctx, 'config');
    if (!c.s3.enabled || !c.s3.bucket) return undefined;
    return new S3FileStore({
      bucket: c.s3.bucket,
      region: c.s3.region,
      forcePathStyle: c.s3.forcePathStyle,
      ...(c.s3.endpoint ? { endpoint: c.s3.endpoint } : {}),
    });
  });
});
