/// <reference types="node" />
import { DEFAULT_FILE_NAME, fileNameProblem } from './file-name';

describe('file names (spec §5)', () => {
  test.each([
    ['../x'],
    ['..'],
    ['.'],
    ['a/b'],
    ['a\\b'],
    ['a\u0000b'],
    ['a\nb'],
    ['a\u007fb'],
    ['a\u0085b'],
    [''],
    ['x'.repeat(256)],
    ['é'.repeat(128)],
    ['\ud800x'],
    ['x\udc00'],
  ])('%j is refused', (name) => {
    expect(fileNameProblem(name)).toMatch(/^name: /);
  });

  test.each([['firmware.bin'], ['fw v1.2 (final).tar.gz'], ['é'.repeat(127) + 'x'], ['ファーム.bin'], ['.hidden'], ['a.b.c'], ['x'.repeat(255)], ['😀.bin']])(
    '%j is accepted',
    (name) => {
      expect(fileNameProblem(name)).toBeUndefined();
    },
  );

  test('the byte limit counts UTF-8 like Node does', () => {
    for (const name of ['é'.repeat(127) + 'x', 'é'.repeat(127) + 'xy', '😀'.repeat(63) + 'abc', '😀'.repeat(63) + 'abcd', 'ファ'.repeat(42) + 'abc']) {
      expect(fileNameProblem(name) === undefined).toBe(Buffer.byteLength(name, 'utf8') <= 255);
    }
  });

  test('the default name is acceptable', () => {
    expect(fileNameProblem(DEFAULT_FILE_NAME)).toBeUndefined();
  });
});
