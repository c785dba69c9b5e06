// The demo data of the local stack (scripts/start.sh) and of the schemathesis run
// (scripts/schemathesis/run.js): application "smart-kettle" (application version smart-kettle-v1,
// tenant "default") with software 1.0.0, 1.1.0 (with a file) and 2.0.0, and the endpoint "kettle-1"
// known to OTAO (it pulled on 1.0.0). The OpenAPI document's examples name these (appName
// smart-kettle, version 1.1.0, endpointId kettle-1), so they are real on a stack with this data.
// Idempotent: a second load on the same store keeps what is there.
'use strict';

const APP = 'smart-kettle';
const AVN = 'smart-kettle-v1';
const ENDPOINT = 'kettle-1';
const VERSIONS = [
  { version: '1.0.0', upgradableFrom: ['0.9.0'], rolloutStrategy: 'general', specification: { notes: 'first release' } },
  { version: '1.1.0', upgradableFrom: ['1.0.0'], rolloutStrategy: 'general', specification: { notes: 'bug fixes' } },
  { version: '2.0.0', upgradableFrom: ['1.1.0'], rolloutStrategy: 'general', specification: { notes: 'new features' } },
];

/** The application registry file (OTAO_APPLICATIONS_FILE) declaring the demo application. */
function applicationsYaml() {
  return ['kaa:', '  applications:', `    ${APP}:`, '      tenantId: default', '      consentRequired: false', '      versions:', `        ${AVN}: {}`, ''].join('\n');
}

async function http(method, url, body, headers = {}) {
  const res = await fetch(url, { method, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

/**
 * Loads the demo data into the OTAO at `base` (REST with authentication off; S3 on) and, through
 * a simulated CMX on `natsUrl`, makes endpoint kettle-1 known. Returns the upload's metadata.
 */
async function loadDemoData(base, natsUrl, say = () => undefined) {
  const api = `${base}/api/v1/applications/${APP}`;
  for (const v of VERSIONS) {
    const r = await http('POST', `${api}/software`, v);
    if (r.status === 201) say(`  created software ${v.version} (upgradable from ${v.upgradableFrom.join(', ')})`);
    else if (r.status === 409) say(`  software ${v.version} is already there (from a previous run)`);
    else throw new Error(`create ${v.version}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const firmware = Buffer.from(`smart-kettle firmware 1.1.0 built ${new Date().toISOString()}\n`.repeat(200));
  const up = await http('PUT', `${api}/software/1.1.0/file?name=kettle-1.1.0.bin`, firmware, { 'content-type': 'application/octet-stream' });
  if (up.status !== 200 && up.status !== 201) throw new Error(`upload: ${up.status} ${JSON.stringify(up.body)}`);
  say(`  uploaded ${up.body.name} to S3 (${up.body.size} bytes, sha256 ${up.body.sha256.slice(0, 16)}…)`);
  const { FakeCmx } = require('@otao/nats-cdtp/testing');
  const cmx = await new FakeCmx({ servers: natsUrl }).start();
  try {
    const r = await cmx.pull({ endpointId: ENDPOINT, appVersionName: AVN, configId: '1.0.0' });
    say(`  endpoint ${ENDPOINT} (on 1.0.0) pulled: ConfigResponse ${r.statusCode}, offered ${r.configId}`);
  } finally {
    await cmx.stop();
  }
  return up.body;
}

module.exports = { APP, AVN, ENDPOINT, VERSIONS, applicationsYaml, loadDemoData, http };
