import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ConfigDecision, ERROR_CODES, err, failure, ok } from '@otao/core';
import { CDTP_STATUS, cdtpAnswer, cdtpUnavailable, unavailableAnswer } from './status-codes';

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

  it('answers infrastructure failures with 503, outcome unavailable and the code in the reason', () => {
    expect(cdtpUnavailable('store.unavailable')).toEqual({
      outcome: 'unavailable',
      statusCode: 503,
      reasonPhrase: 'service unavailable: store.unavailable',
      configId: null,
      content: null,
    });
    expect(cdtpUnavailable('dependency.unavailable')).toMatchObject({ statusCode: 503, reasonPhrase: 'service unavailable: dependency.unavailable' });
  });
});

describe("CDTP answers to the core's decisions (spec §4.2)", () => {
  const req = { configId: '1.0.0' };
  const answer = (d: ConfigDecision, r: { configId?: string | null } = req) => cdtpAnswer(d, r);

  it('a new version: 200 OK with the version and its content', () => {
    expect(answer(ok({ outcome: 'new', configId: '1.1.0', content: '{"v":1}' }))).toEqual({
      outcome: 'new',
      statusCode: 200,
      reasonPhrase: 'OK',
      configId: '1.1.0',
      content: '{"v":1}',
    });
  });

  it('unchanged: 200 with a null reason, no configId, no content', () => {
    expect(answer(ok({ outcome: 'unchanged' }))).toEqual({ outcome: 'unchanged', statusCode: 200, reasonPhrase: null, configId: null, content: null });
  });

  it('nothing to offer: 200 "no software available" with null configId and content', () => {
    expect(answer(ok({ outcome: 'none' }))).toEqual({ outcome: 'none', statusCode: 200, reasonPhrase: 'no software available', configId: null, content: null });
  });

  it('a configName other than default: 404 "unknown configuration name"', () => {
    expect(answer(err(failure('config.unknown_name', 'x', 'configName')))).toEqual({
      outcome: 'unknown_config_name',
      statusCode: 404,
      reasonPhrase: 'unknown configuration name',
      configId: null,
      content: null,
    });
  });

  it('an unknown appVersionName: 404 "unknown application version"', () => {
    expect(answer(err(failure('application_version.not_found', 'x', 'appVersionName')))).toEqual({
      outcome: 'unknown_app_version',
      statusCode: 404,
      reasonPhrase: 'unknown application version',
      configId: null,
      content: null,
    });
  });

  it('a configId that is not SemVer: 400 naming the value (quoted, at most 100 characters)', () => {
    const bad = err(failure('config.invalid_config_id', 'x', 'configId'));
    expect(answer(bad, { configId: 'v1.0.0' })).toEqual({
      outcome: 'invalid_config_id',
      statusCode: 400,
      reasonPhrase: 'configId "v1.0.0" is not a SemVer version',
      configId: null,
      content: null,
    });
    expect(answer(bad, { configId: 'x'.repeat(300) }).reasonPhrase).toBe(`configId "${'x'.repeat(100)}" is not a SemVer version`);
    expect(answer(bad, { configId: '1.0.0 ' }).reasonPhrase).toBe('configId "1.0.0 " is not a SemVer version');
  });
});
