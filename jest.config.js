/**
 * The tiers, by folder (README "Tests, in tiers"), as three jest projects:
 * - unit: test/unit (pure code, mocked activity contexts) and test/workflows (the real workflow code with fake
 *   activities on Temporal's time-skipping test server): seconds; `npm run test:unit`;
 * - simulators: test/simulators, the Kandji and Datadog simulators themselves;
 * - e2e: test/e2e, against one real Temporal dev server (started by the global setup below, for this tier only)
 *   and the simulators.
 * `npm test` runs them all.
 */
const shared = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  // Transpile only, file by file (isolatedModules): type-checking is `tsc`'s job in `npm test`, and a full program
  // per jest worker made every file pay seconds before its first test.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false, tsconfig: { isolatedModules: true } }] },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/test/unit', '<rootDir>/test/workflows'] },
    { ...shared, displayName: 'simulators', roots: ['<rootDir>/test/simulators'] },
    {
      ...shared,
      displayName: 'e2e',
      roots: ['<rootDir>/test/e2e'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
  ],
  // Tests against the dev server run workflows for real: allow them time. (Jest reads the timeout from here only:
  // a project's own testTimeout is ignored.)
  testTimeout: 120_000,
  // Keep the 2 cores for the tests and the servers they start.
  maxWorkers: 2,
  // No forceExit: every tier closes what it opens (servers, workers, connections), and jest exits by itself.
};
