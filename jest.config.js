/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  // Tests against the dev server run workflows for real: allow them time, and keep the 2 cores for the server.
  testTimeout: 120_000,
  maxWorkers: 2,
  // Worker runtimes can hold native handles a little past their shutdown; never let that hang a CI run.
  forceExit: true,
};
