import { createHash } from 'node:crypto';
import type { Sha256 } from '@otao/core';

/** The core's `Sha256` port on node:crypto (OpenSSL). */
export class NodeCryptoSha256 implements Sha256 {
  digestUtf8(text: string): Uint8Array {
    return createHash('sha256').update(text, 'utf8').digest();
  }
}
