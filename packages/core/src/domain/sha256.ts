// SHA-256 for the core, which runs without Node.js APIs (no node:crypto): @noble/hashes (ADR 0010).
// Used by the audit log to summarise specifications and metadata, by the cohort of phased rollouts
// (domain/phases.ts) and by the in-memory file store.
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/** The SHA-256 of `bytes`, lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/** The UTF-8 bytes of a string. */
export function utf8Bytes(s: string): Uint8Array {
  return utf8ToBytes(s);
}
