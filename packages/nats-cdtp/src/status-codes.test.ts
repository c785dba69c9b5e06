import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '@otao/core';
import { CDTP_STATUS, unavailableAnswer } from './status-codes';

/** The CDTP column of docs/errors.md, code → status (absent for `—`). */
function cdtpColumn(): Map<string, number> {
  const md = readFileSync(join(__dirname, '../../../docs/errors.md'), 'utf8');
  const out = new Map<string, number>();
  for (const line of md.split('\n')) {
    const m = /^\|\s*`([a-z_.]+)`\s*\|\s*([^|]+)\|\s*([^|]+)\|/.exec(line);
    if (!m) continue;
    const cdtp = m[3]!.trim();
    if (/^\d+$/.test(cdtp)) out.set(m[1]!, Number(cdtp));
  }
  return out;
}

describe('CDTP status table', () => {
  it('is exactly the CDTP column of docs/errors.md', () => {
    expect(new Map(Object.entries(CDTP_STATUS))).toEqual(cdtpColumn());
  });

  it('names only codes the core knows', () => {
    for (const code of Object.keys(CDTP_STATUS)) expect(Object.keys(ERROR_CODES)).toContain(code);
  });

  it('answers infrastructure failures with 503 and the documented reason', () => {
    expect(unavailableAnswer('store.unavailable')).toEqual({ statusCode: 503, reasonPhrase: 'service unavailable: store.unavailable' });
  });
});
