// The operator's path through the console: create software, see it in the graph, upload its file
// (progress to 100 %, size and SHA-256), field-level API validation, and consent giving an
// endpoint its next hop.
import { createHash, randomBytes } from 'node:crypto';
import { FakeCmx } from '@otao/nats-cdtp/testing';
import { expect, test } from '@playwright/test';
import { baseUrl, eventually, rest, screenshot, watchConsole } from './support/helpers';

test('create software, see it in the graph, upload its file', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto(`${baseUrl()}/console/apps/editor`);
  await page.getByRole('link', { name: 'New software' }).click();
  await page.getByLabel('Version (SemVer)').fill('1.0.0');
  await page.getByLabel('Rollout strategy').selectOption('general');
  await page.getByLabel('Upgradable from (one version or range per line)').fill('0.9.0');
  // a JSON syntax error is shown at the field, and nothing is sent
  await page.getByLabel('Specification (delivered to the endpoint as is)').fill('{"mode": "fast",}');
  await expect(page.getByText(/JSON syntax error/)).toBeVisible();
  await page.getByLabel('Specification (delivered to the endpoint as is)').fill('{"mode": "fast"}');
  await expect(page.getByText(/JSON syntax error/)).toHaveCount(0);
  await page.getByRole('button', { name: 'Create software' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('editor 1.0.0');

  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Software' }).click();
  await expect(page.locator('figure.graph [data-node="v:1.0.0"]')).toBeVisible();
  await expect(page.locator('figure.graph [data-edge="v:0.9.0->v:1.0.0"]')).toHaveCount(1);
  await screenshot(page, 'workflow-graph');

  await page.goto(`${baseUrl()}/console/apps/editor/software/1.0.0`);
  const bytes = randomBytes(6 * 1024 * 1024);
  const sha = createHash('sha256').update(bytes).digest('hex');
  await page.getByLabel('Choose a file to upload').setInputFiles({ name: 'kettle-1.0.0.bin', mimeType: 'application/octet-stream', buffer: bytes });
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.getByTestId('upload-percent')).toHaveText('100 %', { timeout: 30_000 });
  await expect(page.getByLabel('Upload progress')).toHaveAttribute('value', '100');
  await expect(page.getByTestId('file-sha256')).toHaveText(sha);
  await expect(page.getByTestId('file-size')).toContainText('6,291,456 bytes');
  await screenshot(page, 'workflow-upload');
  expect(errors).toEqual([]);
});

test('an upload is cancelled from the page (by keyboard) and the stored file stays', async ({ page }) => {
  const errors = watchConsole(page);
  await rest('POST', '/applications/editor/software', { version: '3.0.0', rolloutStrategy: 'suspended' });
  await page.goto(`${baseUrl()}/console/apps/editor/software/3.0.0`);
  const first = randomBytes(1024);
  await page.getByLabel('Choose a file to upload').setInputFiles({ name: 'first.bin', mimeType: 'application/octet-stream', buffer: first });
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.getByTestId('file-sha256')).toHaveText(createHash('sha256').update(first).digest('hex'));

  // the browser's upload is slowed down (Chromium's network emulation), so that it can be cancelled half-way
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
  const second = randomBytes(8 * 1024 * 1024);
  await page.getByLabel('Replace the file').setInputFiles({ name: 'second.bin', mimeType: 'application/octet-stream', buffer: second });
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  const cancel = page.getByRole('button', { name: 'Cancel upload' });
  await expect(cancel).toBeVisible();
  await expect(page.getByTestId('upload-percent')).not.toHaveText('0 %');
  await cancel.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('upload-cancelled')).toHaveText('Upload cancelled: the file above is still the one stored.');
  await expect(cancel).toHaveCount(0);
  await expect(page.getByLabel('Upload progress')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Upload', exact: true })).toBeEnabled();
  const stored = (await rest('GET', '/applications/editor/software/3.0.0/file')) as { name: string; sha256: string };
  expect(stored).toMatchObject({ name: 'first.bin', sha256: createHash('sha256').update(first).digest('hex') });
  await expect(page.getByTestId('file-sha256')).toHaveText(stored.sha256);

  // at full speed again the same file goes through
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.getByTestId('upload-percent')).toHaveText('100 %', { timeout: 30_000 });
  await expect(page.getByTestId('file-sha256')).toHaveText(createHash('sha256').update(second).digest('hex'));
  await expect(page.getByTestId('upload-cancelled')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test("the API's validation message is shown at the field it names", async ({ page }) => {
  await page.goto(`${baseUrl()}/console/apps/editor/software/new`);
  await page.getByLabel('Version (SemVer)').fill('2.0.0');
  await page.getByLabel('Rollout strategy').selectOption('targeted');
  await page.getByRole('button', { name: 'Add filter' }).click();
  await page.getByLabel('Filter 1 id').fill('bad.filter');
  await page.getByRole('button', { name: 'Create software' }).click();
  const field = page.getByLabel('Filter 1 id');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#f-filters-0-filterId-error')).toContainText('filters[0].filterId');
  await expect(field).toBeFocused();
  await screenshot(page, 'workflow-field-error');

  // a duplicate version lands at the version field, a cycle at upgradableFrom
  await page.getByLabel('Filter 1 id').fill('good-filter');
  await page.getByLabel('Version (SemVer)').fill('1.0.0');
  await page.getByRole('button', { name: 'Create software' }).click();
  await expect(page.locator('#f-version-error')).toBeVisible();
});

test('granting consent gives the endpoint its next hop, drawn on the path', async ({ page }) => {
  await rest('POST', '/applications/kettle/software', { version: '1.0.0', rolloutStrategy: 'general' });
  await rest('POST', '/applications/kettle/software', { version: '1.1.0', upgradableFrom: ['1.0.0'], rolloutStrategy: 'general' });
  const cmx = await new FakeCmx({
    servers: process.env['CONSOLE_TEST_NATS_URL']!,
    instanceName: process.env['CONSOLE_TEST_CMX']!,
    providerInstanceName: process.env['CONSOLE_TEST_PROVIDER']!,
  }).start();
  try {
    await cmx.applied({ endpointId: 'kettle-0001', appVersionName: 'kettle-v1', configId: '1.0.0', statusCode: 200 });
  } finally {
    await cmx.stop();
  }
  await eventually(
    'kettle-0001 known',
    async () => ((await rest('GET', '/applications/kettle/endpoints/kettle-0001/software')) as { currentVersion?: string }).currentVersion,
  );

  const errors = watchConsole(page);
  await page.goto(`${baseUrl()}/console/apps/kettle/endpoints/kettle-0001`);
  await expect(page.getByTestId('current')).toHaveText('1.0.0');
  await expect(page.getByTestId('next')).toHaveText('none');
  await page.getByLabel('Grant consent for version').fill('1.1.0');
  await page.getByRole('button', { name: 'Grant consent' }).click();
  await expect(page.getByTestId('next')).toHaveText('1.1.0');
  await expect(page.getByRole('list').getByText('1.1.0')).toBeVisible();
  await expect(page.locator('figure.graph [data-edge="v:1.0.0->v:1.1.0"]')).toHaveClass(/edge-path/);
  await screenshot(page, 'workflow-endpoint-consent');

  await page.getByRole('button', { name: 'Revoke consent for 1.1.0' }).click();
  await expect(page.getByTestId('next')).toHaveText('none');
  expect(errors).toEqual([]);
});
