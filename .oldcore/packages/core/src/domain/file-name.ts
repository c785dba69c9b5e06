import { utf8ByteLength } from './json';

/** The name of an uploaded file when the request names none (spec §5). */
export const DEFAULT_FILE_NAME = 'firmware.bin';
/** The longest file name, in UTF-8 bytes (spec §5). */
export const MAX_FILE_NAME_BYTES = 255;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Checks a file name (spec §5): 1 to 255 UTF-8 bytes; no `/`, `\`, `..`, control characters (C0,
 * DEL, C1) or lone surrogates; not `.`. Returns a message naming the rule, or undefined when the
 * name is acceptable. The name becomes the last segment of an object key, so a path is refused,
 * never cut to its base name.
 */
export function fileNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'name: must not be empty';
  if (utf8ByteLength(name) > MAX_FILE_NAME_BYTES) return `name: must be at most ${MAX_FILE_NAME_BYTES} bytes (UTF-8)`;
  if (name.includes('/') || name.includes('\\')) return 'name: must not contain / or \\';
  if (name.includes('..') || name === '.') return 'name: must not contain ..';
  if (CONTROL.test(name)) return 'name: must not contain control characters';
  if (LONE_SURROGATE.test(name)) return 'name: must be valid Unicode';
  return undefined;
}
