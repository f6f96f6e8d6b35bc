/**
 * `npm run test:integration`: runs the shell and SQL the manifests carry
 * against a real PostgreSQL and a real Django (see README, "Integration tests").
 * Needs test/integration/setup.sh first (Debian packages); fails, never skips,
 * when PostgreSQL or Django is missing.
 * @type {import('jest').Config}
 */
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/integration'],
  testMatch: ['**/*.itest.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  globalSetup: '<rootDir>/test/integration/global-setup.js',
  globalTeardown: '<rootDir>/test/integration/global-teardown.js',
  testTimeout: 120000,
  verbose: true,
};
