/// <reference types="node" />
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import * as api from '../src';
import * as internal from '../src/internal';

// The public entry (src/index.ts) is what apps/server (or a Kaa service embedding the adapter)
// builds on; the pieces createNatsCdtp assembles are under @otao/nats-cdtp/internal.
// test/public-api.txt pins every name the public entry exports (`value NAME` for runtime exports,
// `type NAME` for types only), so a new export — or an internal leaking out — is a deliberate
// change: update the list with it.
function exportedNames(entry: string): string[] {
  const program = ts.createProgram([entry], { strict: true, skipLibCheck: true, noEmit: true, types: [] });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  return checker.getExportsOfModule(module).map((s) => s.name);
}

test('the public entry exports exactly the names of test/public-api.txt', () => {
  const runtime = new Set(Object.keys(api));
  const actual = exportedNames(join(__dirname, '../src/index.ts'))
    .map((name) => `${runtime.has(name) ? 'value' : 'type'} ${name}`)
    .sort();
  const pinned = readFileSync(join(__dirname, 'public-api.txt'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'));
  expect(actual).toEqual(pinned);
  // Every runtime export has a declaration (nothing reaches the entry untyped).
  expect([...runtime].filter((name) => !actual.includes(`value ${name}`))).toEqual([]);
});

test('the internal entry exports everything the public one does, and the internals besides', () => {
  for (const [name, value] of Object.entries(api)) expect((internal as Record<string, unknown>)[name]).toBe(value);
  // A few of the implementation helpers that are internal on purpose.
  for (const name of ['CdtpProvider', 'CDTP_STATUS', 'cdtpAnswer', 'subjects', 'WorkQueue', 'WriteBatcher', 'NatsConnection', 'EventListeners']) {
    expect(name in internal).toBe(true);
    expect(name in api).toBe(false);
  }
});
