// The console's first load stays small (issue #13: initial JavaScript ≤ 250 KB gzipped): what
// index.html loads before any page chunk — its entry script and the modules it preloads. Pages,
// dagre, uPlot and oidc-client-ts are lazy chunks and do not count here.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, test } from '@playwright/test';

const DIST = resolve(__dirname, '../dist');
const BUDGET = 250 * 1024;

/** The JS files index.html loads at once, and what each imports statically (transitively). */
function initialScripts(): string[] {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const queue = [...html.matchAll(/(?:src|href)="\/console\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
  const seen = new Set<string>();
  while (queue.length) {
    const f = queue.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const code = readFileSync(join(DIST, f), 'utf8');
    // static imports only: `import … from "./x.js"` / `import "./x.js"` (dynamic import() is lazy)
    for (const m of code.matchAll(/(?:^|[;}\s])import\s*(?:[\w$*{}\s,]+from\s*)?["']\.\/([^"']+\.js)["']/g)) queue.push(`assets/${m[1]!}`);
  }
  return [...seen];
}

test('the initial JavaScript is at most 250 KB gzipped', () => {
  const files = initialScripts();
  const sizes = files.map((f) => ({ f, gz: gzipSync(readFileSync(join(DIST, f))).length }));
  const total = sizes.reduce((a, s) => a + s.gz, 0);
  console.log(`initial JS: ${sizes.map((s) => `${s.f} ${(s.gz / 1024).toFixed(1)} KB`).join(', ')}; total ${(total / 1024).toFixed(1)} KB gzipped`);
  expect(files.length).toBeGreaterThan(0);
  expect(total).toBeLessThanOrEqual(BUDGET);
});
