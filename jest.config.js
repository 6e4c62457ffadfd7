// The Lambda runtime is Node.js 22; the SDK's notice about Node.js 20 is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/**
 * Jest runs TypeScript through ts-jest in transpile-only mode: `npm test` type-checks the
 * whole tree once with `tsc --noEmit` before jest starts, so per-file type-checking here
 * would only repeat that work.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // tsconfig.json sets isolatedModules, so ts-jest transpiles each file without type information
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  globalSetup: '<rootDir>/test/harness/moto-global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/moto-global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/harness/setup-after-env.ts'],
  reporters: ['default', '<rootDir>/test/harness/summary-reporter.js'],
  testTimeout: 30000,
  maxWorkers: process.env.CI ? 2 : '50%',
};
