// The servers of bench/http, in a child process (so the load generator does not share their event
// loop): OTAO's REST API with authentication on (JWT verified against a JWKS over HTTP, RPT
// permissions) and a bare express app returning the same JSON. Prints one JSON line with the ports.
'use strict';
const http = require('node:http');
const express = require('express');
const { exportJWK, generateKeyPair, SignJWT } = require('jose');
const { createTestOtao, endpointState } = require('@otao/core/testing');
const { createNodePlatform } = require('@otao/node-platform');
const { createHttpApp, softwareDto, endpointViewDto } = require('@otao/http-express');
const { JwtAuthenticator, RptPermissionChecker, StaticTenantDirectory } = require('@otao/tenant-auth');

const listen = (handler) => new Promise((ok) => { const s = http.createServer(handler); s.listen(0, '127.0.0.1', () => ok(s.address().port)); });

async function main() {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  let issuer = '';
  const idpPort = await listen((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token` }));
    else res.end(JSON.stringify({ keys: [jwk] }));
  });
  issuer = `http://127.0.0.1:${idpPort}`;

  const t = createTestOtao({ apps: [{ tenantId: 'bench', appName: 'fleet', versions: ['fleet-v1'] }], platform: createNodePlatform() });
  for (let i = 0; i < 50; i++) {
    const v = `${Math.floor(i / 10) + 1}.${i % 10}.0`;
    const prev = i === 0 ? '0.9.0' : `${Math.floor((i - 1) / 10) + 1}.${(i - 1) % 10}.0`;
    const r = await t.core.software.create('bench', 'fleet', { version: v, upgradableFrom: [prev], rolloutStrategy: 'general', specification: { version: v, url: `https://example.com/${v}.bin`, notes: 'x'.repeat(100) }, metadata: { owner: 'ops' } }, 'bench');
    if (!r.ok) throw new Error(r.error.message);
  }
  t.endpoints.put(endpointState('bench', 'fleet', 'ep-1', { appVersionName: 'fleet-v1', currentVersion: '1.3.0', consents: ['*'] }));
  const app = createHttpApp({
    core: t.core,
    authenticator: new JwtAuthenticator({ directory: new StaticTenantDirectory([{ id: 'bench', issuer }]), audience: 'otao' }),
    permissions: new RptPermissionChecker(),
  });
  const otaoPort = await listen(app);

  // The bare baseline: the same JSON bodies, precomputed, from a plain express route.
  const list = (await t.core.software.list('bench', 'fleet')).value.map(softwareDto);
  const view = endpointViewDto((await t.core.insight.endpoint('bench', 'fleet', 'ep-1')).value);
  const bare = express();
  bare.get('/api/v1/applications/fleet/software', (_req, res) => res.json(list));
  bare.get('/api/v1/applications/fleet/endpoints/ep-1/software', (_req, res) => res.json(view));
  const barePort = await listen(bare);

  const token = await new SignJWT({ authorization: { permissions: [{ rsname: 'application-fleet', scopes: ['application:software:read'] }] } })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(issuer).setAudience('otao').setSubject('bench').setIssuedAt().setExpirationTime('1h').sign(privateKey);
  console.log(JSON.stringify({ otaoPort, barePort, token, listBytes: JSON.stringify(list).length, viewBytes: JSON.stringify(view).length }));
}
main().catch((e) => { console.error(e); process.exit(1); });
