/// <reference types="node" />
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '@otao/core';

// docs/errors.md and the ERROR_CODES registry must list the same codes, with the same meaning.
test('docs/errors.md lists exactly the codes of ERROR_CODES', () => {
  const doc = readFileSync(join(__dirname, '../../../docs/errors.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `([a-z_.]+)` \| ([^|]+) \| ([^|]+) \| (.+) \|$/gm)];
  const documented = new Map(rows.map((m) => [m[1], m[4]!.trim()]));
  expect([...documented.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  for (const [code, meaning] of Object.entries(ERROR_CODES)) expect(documented.get(code)).toBe(meaning);
});
