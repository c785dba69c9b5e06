// The committed src/generated/api.ts must be what openapi-typescript makes of the OpenAPI document
// http-express serves now: a changed API without `npm run generate:api -w @otao/cli` fails here.
// The generator runs as a child process (openapi-typescript loads ESM-only modules Jest cannot).
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', 'scripts', 'generate-api-types.js');
const OUTPUT = join(__dirname, '..', 'src', 'generated', 'api.ts');
const check = () => spawnSync(process.execPath, [SCRIPT, '--check'], { encoding: 'utf8', timeout: 60_000 });

test('the committed API types equal a fresh generation from the served OpenAPI document', () => {
  const r = check();
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  expect(readFileSync(OUTPUT, 'utf8')).toContain('"/applications/{appName}/software/{version}/rollout"');
});

test('the check fails when the committed types differ', () => {
  const backup = `${OUTPUT}.bak-test`;
  copyFileSync(OUTPUT, backup);
  try {
    writeFileSync(OUTPUT, readFileSync(OUTPUT, 'utf8').replace('failureRate', 'failureRatio'));
    const r = check();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('is stale');
  } finally {
    copyFileSync(backup, OUTPUT);
    rmSync(backup);
  }
});
