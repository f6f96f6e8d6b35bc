/**
 * `npm run test:e2e`: deploys every environment to the cluster in KUBECONFIG
 * and asserts what a user sees (see test/e2e/environments.e2e.ts and README,
 * "Testing"). Fails, never skips, when no cluster is reachable.
 * @type {import('jest').Config}
 */
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/e2e'],
  testMatch: ['**/*.e2e.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  globalSetup: '<rootDir>/test/e2e/global-setup.ts',
  testTimeout: 40 * 60 * 1000,
  verbose: true,
};
