/**
 * SHA-256 (FIPS 180-4), synchronous. The core needs it for the cohort of a phased rollout (spec
 * §4.10: `domain/phases.ts` derives the cohort from the digest) and for the audit log's summaries of
 * specifications and metadata (spec §4.13). A port because the core runs without Node.js APIs and
 * depends on `semver` only (ADR 0018): apps/server gives `NodeCryptoSha256` (`@otao/node-platform`,
 * node:crypto); `@otao/core/testing` has `PlainSha256`, a plain-TypeScript reference.
 */
export interface Sha256 {
  /**
   * The 32-byte SHA-256 digest of the UTF-8 encoding of `text` (a lone surrogate encodes as U+FFFD,
   * as `TextEncoder` and Node.js do). Pure and deterministic: no I/O, never throws, never blocks on
   * anything but the computation. The caller owns the returned array; the implementation keeps no
   * reference to it.
   */
  digestUtf8(text: string): Uint8Array;
}
