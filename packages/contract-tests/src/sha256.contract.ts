import { cohortOf, type Sha256 } from '@otao/core';
import { type SubjectFactory, suiteTest, type SuiteOptions } from './subject';

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * The contract of Sha256 (the core's SHA-256, ADR 0018): FIPS 180-4 digests of the UTF-8 text, 32
 * bytes, a fresh array per call, lone surrogates hashed as U+FFFD; and, through the core's rule,
 * the cohort vectors of spec §4.10.
 */
export function sha256Contract(name: string, factory: SubjectFactory<Sha256>, options?: SuiteOptions): void {
  describe(`Sha256 contract: ${name}`, () => {
    let sha: Sha256;
    const it = suiteTest(options);
    beforeEach(async () => {
      sha = await factory.create();
    });
    afterEach(async () => {
      await factory.dispose?.(sha);
    });

    it('the FIPS 180-4 vectors: empty, "abc", 448 bits, a million "a"', async () => {
      expect(hex(sha.digestUtf8(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      expect(hex(sha.digestUtf8('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      expect(hex(sha.digestUtf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
        '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
      );
      expect(hex(sha.digestUtf8('a'.repeat(1_000_000)))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
    });

    it('hashes the UTF-8 encoding: two-byte, astral, and a lone surrogate as U+FFFD', async () => {
      expect(hex(sha.digestUtf8('ü'))).toBe('607474ca475a9724d7360aba71a56d5df77e61350e3f724cfa1f46e857e2d85f');
      expect(hex(sha.digestUtf8('🚀'))).toBe('ebbc0b2870eb323f2b6cffa5c493ceef81ae7eb36afc73d4e0367301631daec5');
      expect(hex(sha.digestUtf8('\ud800'))).toBe('83d544ccc223c057d2bf80d3f2a32982c32c3c0db8e2674820da5064783fb097');
      expect(hex(sha.digestUtf8('\ud800'))).toBe(hex(sha.digestUtf8('\ufffd')));
    });

    it('answers 32 bytes, a fresh array each call: changing one does not change the next', async () => {
      const a = sha.digestUtf8('default/smart-kettle/kettle-0001');
      expect(a).toBeInstanceOf(Uint8Array);
      expect(a.length).toBe(32);
      expect(hex(a)).toBe('2440974aef0c5200e39ba28ad1f64671071f26cca351c652d2bd44e3b3bba0a7');
      a.fill(0);
      expect(hex(sha.digestUtf8('default/smart-kettle/kettle-0001'))).toBe('2440974aef0c5200e39ba28ad1f64671071f26cca351c652d2bd44e3b3bba0a7');
    });

    it('gives the cohort vectors of spec §4.10 through the core’s rule', async () => {
      expect(cohortOf(sha, 'default', 'smart-kettle', 'kettle-0001')).toBe(28.1);
      expect(cohortOf(sha, 'tenant-a', 'app', 'ep-1')).toBe(99.41);
      expect(cohortOf(sha, 'tenant-a', 'app', 'ep-2')).toBe(95.69);
      expect(cohortOf(sha, 't', 'a', 'ü-endpoint')).toBe(24.15);
    });
  });
}
