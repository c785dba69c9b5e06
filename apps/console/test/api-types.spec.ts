// The committed API types (src/api/schema.d.ts) must be what openapi-typescript makes of the
// OpenAPI document today: a change of the API without `npm run generate:api` fails here.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';

test('the generated API types are in step with the OpenAPI document', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'otao-api-types-')), 'schema.d.ts');
  const cli = join(dirname(require.resolve('openapi-typescript/package.json')), 'bin', 'cli.js');
  execFileSync(process.execPath, [cli, resolve(__dirname, '../../../packages/http-express/openapi.json'), '-o', out], { stdio: 'pipe' });
  const fresh = readFileSync(out, 'utf8');
  const committed = readFileSync(resolve(__dirname, '../src/api/schema.d.ts'), 'utf8');
  expect(committed === fresh, 'src/api/schema.d.ts differs from a fresh generation: run `npm run generate:api -w @otao/console` and commit it').toBe(true);
});
