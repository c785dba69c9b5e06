/// <reference types="node" />
import { createHash, randomBytes } from 'node:crypto';
import { sha256Hex } from './sha256';

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
