/// <reference types="node" />
import { createHash, randomBytes } from 'node:crypto';
import { PlainSha256, sha256Hex, utf8Bytes } from './sha256';

// The reference implementation checked against node:crypto; the Sha256 contract suite
// (@otao/contract-tests) holds it and the production adapter to the same vectors.
test('sha256Hex agrees with node:crypto on every length around the block boundaries and on random data', () => {
  const node = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
  expect(sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  for (let n = 0; n <= 200; n++) {
    const b = randomBytes(n);
    expect(sha256Hex(b)).toBe(node(b));
  }
  const big = randomBytes(1_000_003);
  expect(sha256Hex(big)).toBe(node(big));
});

test('utf8Bytes agrees with Buffer on ASCII, multi-byte, astral and lone surrogates', () => {
  for (const s of ['', 'abc', 'é', '漢字', '🚀🔥', 'a\u0000b', '\ud800', 'x\udc00y', 'e\u0301']) {
    expect(Buffer.from(utf8Bytes(s)).toString('hex')).toBe(Buffer.from(s, 'utf8').toString('hex'));
  }
});

test('PlainSha256.digestUtf8 is the digest of the UTF-8 text, as node:crypto hashes a string', () => {
  const sha = new PlainSha256();
  for (const s of ['', 'default/smart-kettle/kettle-0001', 't/a/ü-endpoint', '🚀\ud800x'.repeat(40)]) {
    expect(Buffer.from(sha.digestUtf8(s)).toString('hex')).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
  }
});
