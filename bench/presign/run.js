#!/usr/bin/env node
// bench/presign: download links per second for a software with a file (spec §5).
//   reuse  - ContentBuilder.contentFor (as createOtaoCore wires it) with the real S3FileStore: a
//            link is reused while at least half of its lifetime remains;
//   decide - the whole CDTP pull (core.config.decide of createOtaoCore) over in-memory fakes,
//            a different endpoint each time, content and link from the same builder;
//   naive  - a fresh S3FileStore.presignGet per request (the baseline), and the same plus
//            injecting it into the specification and serializing (what contentFor returns).
// Signing is local CPU work (no S3 round trip), so the S3 server only has to exist for the
// upload. Needs the built packages (npx turbo run build --filter=@otao/s3-files...) and Go for
// the test S3 server (versitygw, built once).
// Usage: node bench/presign/run.js [--seconds S] [--json]
'use strict';
const { performance } = require('node:perf_hooks');
const { Readable } = require('node:stream');
const { createOtaoCore, setAtPath, storedObjectKey } = require('@otao/core');
const { ContentBuilder } = require('@otao/core/internal');
const testing = require('@otao/core/testing');
const { createNodePlatform } = require('@otao/node-platform');
const { S3FileStore } = require('@otao/s3-files');
const { startS3 } = require('@otao/test-services');

const args = process.argv.slice(2);
const SECONDS = (() => {
  const i = args.indexOf('--seconds');
  return i >= 0 ? Number(args[i + 1]) : 3;
})();
const JSON_OUT = args.includes('--json');
const T = 'bench';
const APP = 'fleet';
const AVN = 'fleet-v1';
const LINKS = { urlPath: 'ota.download.url', ttlSeconds: 3600 };

async function measure(name, fn) {
  // Warm-up, then as many calls as fit in SECONDS.
  for (let i = 0; i < 2000; i++) await fn(i);
  let n = 0;
  const start = performance.now();
  const until = start + SECONDS * 1000;
  while (performance.now() < until) {
    for (let k = 0; k < 200; k++) await fn(n++);
  }
  const s = (performance.now() - start) / 1000;
  return { name, ops: n, seconds: s, perSecond: n / s };
}

async function main() {
  const s3 = await startS3({ buckets: ['otao-bench'] });
  const store = new S3FileStore({
    bucket: 'otao-bench',
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  try {
    await store.verifyBucket();
    const clock = { now: () => Date.now() };
    const deps = {
      software: new testing.InMemorySoftwareRepository(),
      endpoints: new testing.InMemoryEndpointRepository(),
      stats: new testing.InMemoryRolloutStatsRepository(),
      lease: new testing.InMemoryLease(),
      clock,
      ids: new testing.SequentialIds('b-'),
      registry: new testing.InMemoryApplicationRegistry([{ tenantId: T, appName: APP, versions: [AVN] }]),
      configPublisher: new testing.RecordingConfigPublisher(),
      softwareEvents: new testing.RecordingSoftwareEventPublisher(),
      filterDirectory: new testing.InMemoryFilterDirectory(),
      work: new testing.QueueWorkScheduler(),
      audit: new testing.InMemoryAuditLog(),
      files: store,
      ...createNodePlatform(),
    };
    const core = createOtaoCore(deps, { fileLinks: LINKS });
    const spec = { version: '1.1.0', notes: 'x'.repeat(200), ota: { size: 4, sha256: 'ab'.repeat(32) } };
    const created = await core.software.create(T, APP, { version: '1.1.0', upgradableFrom: ['1.0.0'], rolloutStrategy: 'general', specification: spec }, 'bench');
    if (!created.ok) throw new Error(created.error.message);
    const att = await core.files.upload(T, APP, '1.1.0', { name: 'fw.bin', body: Readable.from([Buffer.from('fw!!')]), correlationId: 'bench' });
    if (!att.ok) throw new Error(att.error.message);
    const sw = att.value.software;
    const key = storedObjectKey(sw, att.value.file);

    const builder = new ContentBuilder(clock, store, LINKS);
    const path = LINKS.urlPath.split('.');
    const check = JSON.parse(await builder.contentFor(sw));
    const res = await fetch(check.ota.download.url);
    if (res.status !== 200 || (await res.text()) !== 'fw!!') throw new Error(`the link does not download the file (${res.status})`);

    const results = [];
    results.push(await measure('naive: presignGet per request', () => store.presignGet(key, LINKS.ttlSeconds)));
    results.push(await measure('naive: presignGet + inject + serialize per request', async () => JSON.stringify(setAtPath(sw.specification, path, await store.presignGet(key, LINKS.ttlSeconds)))));
    results.push(await measure('reuse: ContentBuilder.contentFor', () => builder.contentFor(sw)));
    results.push(await measure('reuse: core.config.decide (whole pull, new endpoint each time)', (i) => core.config.decide({ appVersionName: AVN, endpointId: `ep-${i}`, configId: '1.0.0', correlationId: 'b' })));
    const base = results[0].perSecond;
    if (JSON_OUT) {
      console.log(JSON.stringify({ seconds: SECONDS, node: process.version, results: results.map((r) => ({ ...r, ratioToNaive: r.perSecond / base })) }, null, 2));
    } else {
      console.log(`bench/presign (${SECONDS} s each, node ${process.version}, one core)`);
      for (const r of results) console.log(`  ${r.name.padEnd(66)} ${Math.round(r.perSecond).toLocaleString('en-US').padStart(12)} /s   x${(r.perSecond / base).toFixed(1)}`);
    }
  } finally {
    store.stop();
    await s3.process.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
