// ESLint flat config: type-aware rules, and the dependency rule of docs/architecture.md made
// mechanical (a violation fails `npm run lint`, and so the build and CI).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const CORE_ONLY_SEMVER = {
  regex: '^(?!semver$|\\.{1,2}/).*',
  message: '@otao/core is pure: it may import only semver and its own files; time zones and SHA-256 come through its ports (see docs/architecture.md, docs/adr/0018).',
};
const NO_DEEP_CORE = {
  regex: '^@otao/core/(?!testing$).*',
  message: 'Import @otao/core through its public entry only (@otao/core/internal is for benches and white-box tests).',
};
const NO_INTERNAL = {
  regex: '^@otao/[^/]+/internal$',
  message: 'Import a package through its public entry; its ./internal entry is for its own tests and benches.',
};
const NO_CORE_TESTING = {
  regex: '^@otao/core/testing$',
  message: '@otao/core/testing is for tests only.',
};
const NO_ESCAPE = {
  regex: '^(\\.\\./){2,}(packages|apps|core)/',
  message: 'Do not reach into another package by relative path; import its public entry.',
};
const adapterImports = (extra = []) => ({
  patterns: [
    NO_DEEP_CORE,
    NO_ESCAPE,
    { regex: '^@otao/(?!core$|core/testing$|contract-tests$|test-services$).+', message: 'An adapter must not import another adapter (or the server).' },
    ...extra,
  ],
});

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', 'bench/**/*.js', '**/*.config.js', 'jest.preset.js', 'scripts/**', '.ci/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  // The core: pure.
  {
    files: ['packages/core/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [CORE_ONLY_SEMVER] }],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'The core reads no environment: configuration is passed in.' },
        { name: 'Buffer', message: 'The core does no I/O.' },
        { name: 'require', message: 'The core imports statically.' },
        { name: 'setTimeout', message: 'Time enters the core only through the Clock port.' },
        { name: 'setInterval', message: 'Time enters the core only through the Clock port.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Time enters the core only through the Clock port.' },
        { object: 'Math', property: 'random', message: 'Randomness enters the core only through the IdGenerator port.' },
      ],
    },
  },
  // Core tests may use the testing entry and fast-check.
  {
    files: ['packages/core/src/**/*.test.ts', 'packages/core/test/**/*.ts'],
    rules: { 'no-restricted-imports': 'off', 'no-restricted-globals': 'off', 'no-restricted-properties': 'off' },
  },
  // Contract suites: the core's public entry only.
  {
    files: ['packages/contract-tests/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', adapterImports([NO_CORE_TESTING])] },
  },
  // Adapters: the core's public entry; never another adapter.
  {
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/core/**', 'packages/contract-tests/**', 'packages/cli/**', 'packages/*/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        adapterImports([NO_CORE_TESTING, { regex: '^@otao/(contract-tests|test-services)$', message: 'Test support is for tests only.' }]),
      ],
    },
  },
  {
    files: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.ts'],
    ignores: ['packages/core/**', 'packages/cli/**'],
    rules: { 'no-restricted-imports': ['error', adapterImports()] },
  },
  // The CLI (packages/cli) is a client of the REST API only: no OTAO package at run time. Its
  // tests start the built server as a process and simulate a fleet with the NATS stand-ins.
  {
    files: ['packages/cli/src/**/*.ts'],
    ignores: ['packages/cli/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [NO_ESCAPE, { regex: '^@otao/', message: 'otao talks to OTAO through the REST API only (spec §12): no OTAO package.' }] }],
    },
  },
  {
    files: ['packages/cli/src/**/*.test.ts', 'packages/cli/test/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [NO_ESCAPE, { regex: '^@otao/(?!test-services$|nats-cdtp/testing$|nats-cdtp$).+', message: 'CLI tests use the built server as a process, the test services and the NATS stand-ins only.' }] },
      ],
    },
  },
  // Apps (composition roots): anything public, never core internals or the contract suites.
  {
    files: ['apps/*/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [NO_DEEP_CORE, NO_INTERNAL, NO_ESCAPE, { regex: '^@otao/contract-tests$', message: 'Contract suites are for tests.' }] },
      ],
    },
  },
  // The console (spec §11) uses nothing but the REST API: no OTAO package in the browser.
  {
    files: ['apps/console/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^@otao/', message: 'The console talks to OTAO through the REST API only (src/api/client.ts).' }] }],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
