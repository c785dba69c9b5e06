import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '@otao/core';
import { HTTP_STATUS, HttpFailure } from './error-mapping';

/** The HTTP column of docs/errors.md, code → cell (`—` for a code no REST use case returns). */
function httpColumn(): Map<string, string> {
  const md = readFileSync(join(__dirname, '../../../docs/errors.md'), 'utf8');
  const out = new Map<string, string>();
  for (const line of md.split('\n')) {
    const m = /^\|\s*`([a-z_.]+)`\s*\|\s*([^|]+)\|/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

describe('HTTP status table', () => {
  it('covers exactly the codes of docs/errors.md and of ERROR_CODES', () => {
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...httpColumn().keys()].sort());
    expect(Object.keys(HTTP_STATUS).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('gives every code the status of the HTTP column of docs/errors.md', () => {
    const documented = [...httpColumn()].filter(([, cell]) => cell !== '—');
    expect(documented.length).toBeGreaterThan(0);
    for (const [code, cell] of documented) {
      expect(cell).toMatch(/^\d{3}$/);
      expect({ code, status: HTTP_STATUS[code as keyof typeof HTTP_STATUS] }).toEqual({ code, status: Number(cell) });
    }
  });

  it('maps a code without a REST meaning (`—` in the HTTP column) to 500, as the table says', () => {
    const restless = [...httpColumn()].filter(([, cell]) => cell === '—').map(([code]) => code);
    expect(restless.sort()).toEqual(['config.invalid_config_id', 'config.unknown_name']);
    for (const code of restless) expect(HTTP_STATUS[code as keyof typeof HTTP_STATUS]).toBe(500);
  });

  it('is the status an HttpFailure answers with', () => {
    expect(new HttpFailure('software.precondition_failed', 'stale').status).toBe(412);
    expect(new HttpFailure('store.unavailable', 'down').status).toBe(503);
  });
});
