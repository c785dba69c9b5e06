// Browser tests of the console (issue #13): Debian's chromium (scripts/services/ensure-chromium.sh;
// Playwright never downloads a browser here), against the real built server with real NATS,
// FerretDB and S3, started by test/global-setup.ts.
import { defineConfig } from '@playwright/test';
import { chromiumPath } from './test/support/chromium';

export default defineConfig({
  testDir: 'test',
  testMatch: /.*\.spec\.ts$/,
  globalSetup: './test/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['./test/support/jest-results-reporter.ts']],
  outputDir: 'test-results',
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'] },
    viewport: { width: 1366, height: 850 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
