import { createTestOtao, softwareBody, TEST_APP, TEST_APP_VERSION, TEST_TENANT } from '@otao/core/testing';

test('pull offers the next hop', async () => {
  const t = createTestOtao();
  const r = await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody('1.0.1', ['1.0.0']), 'c');
  expect(r.ok).toBe(true);
  const d = await t.core.config.decide({ appVersionName: TEST_APP_VERSION, endpointId: 'ep1', configId: '1.0.0', correlationId: 'x' });
  expect(d).toEqual({ ok: true, value: { outcome: 'new', configId: '1.0.1', content: '{"version":"1.0.1"}' } });
});
