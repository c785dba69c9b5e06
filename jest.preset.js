// Shared Jest settings for every workspace package. Type checking is done by `tsc` (the
// typecheck task), so ts-jest only transpiles here (isolatedModules) to keep tests fast.
const path = require('node:path');

/** @param {string} dir the package directory */
module.exports = function preset(dir) {
  return {
    rootDir: dir,
    testEnvironment: 'node',
    transform: {
      '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.base.json') }],
    },
    moduleNameMapper: {
      '^@otao/core$': path.join(__dirname, 'packages/core/src/index.ts'),
      '^@otao/core/internal$': path.join(__dirname, 'packages/core/src/internal.ts'),
      '^@otao/core/testing$': path.join(__dirname, 'packages/core/src/testing/index.ts'),
      '^@otao/contract-tests$': path.join(__dirname, 'packages/contract-tests/src/index.ts'),
      '^@otao/test-services$': path.join(__dirname, 'packages/test-services/src/index.ts'),
    },
    testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
    testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  };
};
