// A REST-only OTAO over the in-memory core (authentication by the static token `Bearer default:admin`, tenant "default", application
// "kettle" with a few software versions and endpoints) for schemathesis. Prints the port.
'use strict';
const { createTestOtao, endpointState, StaticAuthenticator, TablePermissionChecker } = require('@otao/core/testing');
const { createHttpApp } = require('@otao/http-express');

async function main() {
  const t = createTestOtao({ apps: [{ tenantId: 'default', appName: 'kettle', versions: ['kettle-v1'] }] });
  for (const [v, from] of [['1.0.0', []], ['1.1.0', ['1.0.0']], ['2.0.0', ['>=1.0.0 <2.0.0']]]) {
    await t.core.software.create('default', 'kettle', { version: v, upgradableFrom: from, rolloutStrategy: 'general', specification: { v } }, 'seed');
  }
  for (let i = 0; i < 20; i++) t.endpoints.put(endpointState('default', 'kettle', `ep-${i}`, { appVersionName: 'kettle-v1', currentVersion: '1.0.0' }));
  // Authentication on (a static token), so schemathesis' authentication checks mean something.
  const permissions = new TablePermissionChecker().grant('default', 'admin', 'kettle', ['application:software:read', 'application:software:update', 'application:software:delete']);
  const app = createHttpApp({ core: t.core, authenticator: new StaticAuthenticator(), permissions });
  const srv = app.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log(srv.address().port));
}
main().catch((e) => { console.error(e); process.exit(1); });
