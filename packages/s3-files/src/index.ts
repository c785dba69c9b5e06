// @otao/s3-files: the software file store on S3 (spec §5).
export * from './s3-file-store';
