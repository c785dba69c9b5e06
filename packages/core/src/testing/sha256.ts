// The plain-TypeScript SHA-256 lives in the core's domain (the audit log hashes specifications with
// it); re-exported here for the fakes and tests that used it from @otao/core/testing.
export { sha256Hex } from '../domain/sha256';
