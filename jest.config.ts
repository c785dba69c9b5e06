// Root Jest configuration: runs every workspace's tests in one process (`npx jest`).
// turbo runs each package's own jest.config.ts (`turbo run test`), which uses the same preset.
import type { Config } from 'jest';

const config: Config = {
  projects: ['<rootDir>/packages/*', '<rootDir>/apps/*'],
};

export default config;
