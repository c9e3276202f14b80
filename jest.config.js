/** What both projects share: TypeScript through swc, Powertools quiet, CDK app outdirs cleaned. */
const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest'],
  },
  setupFiles: ['<rootDir>/test/support/quiet-powertools.ts'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
};

module.exports = {
  // Global, not per project: Jest 30 reads only the global testTimeout. Suites synthesize
  // the whole nine-stack app or start engines; on a 2-core machine that takes seconds.
  testTimeout: 120_000,
  // Both cores: many integration suites wait on injected latency, replication delays and
  // health-check intervals rather than compute, so two at a time took the whole run from
  // 3.9 min to 2.8 min here; a third worker made it slower (3.1 min) and overloaded the
  // local platform's timing-sensitive suites until they failed.
  maxWorkers: 2,
  testSequencer: '<rootDir>/test/support/unit-first-sequencer.cjs',
  projects: [
    {
      ...shared,
      // The fast loop (`npm run test:unit`): one construct in one stack, pure rules and
      // config; no engine, no local platform, no child process, no whole-app synthesis.
      displayName: 'unit',
      roots: ['<rootDir>/test/unit'],
    },
    {
      ...shared,
      // Real engines, the local platform, the whole nine-stack app in both models, the
      // compliance packs and the snapshots.
      displayName: 'integration',
      roots: ['<rootDir>/test/integration'],
    },
  ],
};
