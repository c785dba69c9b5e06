// The console's static serving (spec §11): files, config.json, SPA fallback for page paths
// (versions have dots), 404 for a missing asset, the /console -> /console/ redirect, headers.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { consoleCsp, consoleRouter, isConsoleBuilt } from '../src';

function builtConsole(): string {
  const dir = mkdtempSync(join(tmpdir(), 'otao-console-test-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>OTAO console</title>');
  writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
  return dir;
}

function app(dir: string) {
  const a = express();
  a.use(
    '/console',
    consoleRouter({
      dir,
      config: { auth: true, clientId: 'otao-console', tenants: [{ id: 't', issuer: 'https://kc.example/realms/t' }] },
      issuerOrigins: ['https://kc.example'],
    }),
  );
  a.use((_req, res) => res.status(404).json({ code: 'route.not_found' }));
  a.use((e: { status?: number; code?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) =>
    res.status(e.status ?? 500).json({ code: e.code }),
  );
  return a;
}

test('isConsoleBuilt tells a build output from an empty directory', () => {
  expect(isConsoleBuilt(builtConsole())).toBe(true);
  expect(isConsoleBuilt(mkdtempSync(join(tmpdir(), 'otao-empty-')))).toBe(false);
});

test('index, assets, config.json and the SPA fallback', async () => {
  const a = app(builtConsole());
  const index = await request(a).get('/console/');
  expect(index.status).toBe(200);
  expect(index.text).toContain('OTAO console');
  expect(index.headers['cache-control']).toBe('no-cache');
  expect(index.headers['content-security-policy']).toContain("connect-src 'self' https://kc.example");
  expect(index.headers['x-content-type-options']).toBe('nosniff');

  const asset = await request(a).get('/console/assets/index-abc.js');
  expect(asset.status).toBe(200);
  expect(asset.headers['cache-control']).toContain('immutable');

  const config = await request(a).get('/console/config.json');
  expect(config.status).toBe(200);
  expect(config.body).toEqual({ auth: true, clientId: 'otao-console', tenants: [{ id: 't', issuer: 'https://kc.example/realms/t' }] });
  expect(config.headers['cache-control']).toBe('no-store');

  // page paths of the SPA, dots included (a version), answer index.html
  for (const path of ['/console/apps/kettle', '/console/apps/kettle/software/1.0.0', '/console/apps/kettle/software/1.0.0-rc.1/rollout', '/console/callback']) {
    const r = await request(a).get(path);
    expect([path, r.status, r.text]).toEqual([path, 200, expect.stringContaining('OTAO console')]);
  }
});

test('a missing asset is 404, never the page', async () => {
  const r = await request(app(builtConsole())).get('/console/assets/missing.js');
  expect(r.status).toBe(404);
  expect(r.body).toEqual({ code: 'route.not_found' });
});

test('/console redirects to /console/, keeping the query', async () => {
  const r = await request(app(builtConsole())).get('/console?tenant=t');
  expect(r.status).toBe(308);
  expect(r.headers['location']).toBe('/console/?tenant=t');
});

test('the CSP allows nothing but the console and the issuers', () => {
  expect(consoleCsp([])).toContain("connect-src 'self';");
  expect(consoleCsp(['https://a', 'https://a'])).toContain("frame-src 'self' https://a;");
  expect(consoleCsp()).toContain("frame-ancestors 'none'");
});
