// eslint (typescript-eslint): CI runs `npm run lint`. Besides the recommended
// rules, two kinds of house rule: a 150-character line, and import
// boundaries that keep the layout honest (ARCHITECTURE.md):
//   - the library (src/) never imports this repository's deployment (deploy/);
//   - constructs (src/app, src/data, src/gateway, src/migrations) never import
//     the offline gates (src/gates): a gate checks a construct's output, so
//     the dependency points from gates to nothing a construct needs; nor the
//     synthesis machinery (src/synth), which runs on finished constructs;
//   - internals (src/internal) import no construct area, no gate, no synth;
//   - the construct areas are layered: data <- migrations <- app <- gateway
//     (an area imports only the ones to its left, never one to its right).
'use strict';
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

const DEPLOY = {
  group: ['**/deploy/**', '**/deploy'],
  message: 'the library (src/) must not import the repository\'s deployment (deploy/)',
};
const GATES = {
  group: ['**/gates/**', '**/gates'],
  message: 'constructs must not import the offline gates (src/gates): gates check output, constructs build it',
};
const SYNTH = {
  group: ['**/synth/**', '**/synth'],
  message: 'constructs must not import the synthesis machinery (src/synth): it synthesizes finished constructs',
};
const AREAS = {
  group: ['**/app/**', '**/data/**', '**/gateway/**', '**/migrations/**', '**/synth/**'],
  message: 'src/internal holds shared helpers: it must not import a construct area or the synthesis machinery',
};
const INTERNAL_GATES = {
  group: ['**/gates/**', '**/gates'],
  message: 'src/internal holds shared helpers: it must not import the offline gates (src/gates)',
};

/** The construct areas an area must not import: the layers above it. */
const above = (...areas) => ({
  group: areas.flatMap((a) => [`**/${a}/**`, `**/${a}`]),
  message: `the construct areas are layered data <- migrations <- app <- gateway: this area must not import ${areas.join(', ')}`,
});

const NODE_GLOBALS = Object.fromEntries([
  'require', 'module', 'exports', 'process', '__dirname', '__filename', 'console', 'Buffer', 'URL',
  'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'structuredClone', 'fetch',
].map((name) => [name, 'readonly']));

module.exports = tseslint.config(
  { ignores: ['lib/**', 'dist/**', 'node_modules/**', 'imports/**', 'examples/**', 'test/e2e/images/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'max-len': ['error', { code: 150, ignoreUrls: true, ignoreRegExpLiterals: true }],
      // `const { status: _s, ...rest } = o` leaves out a field: the rest is what is used
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // a jsii struct that is another struct with other defaults: `interface ApiGatewayRedis extends RedisProps {}`
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  {
    // scripts, jest configs and the pack test: CommonJS on Node
    files: ['**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'commonjs', globals: NODE_GLOBALS },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['src/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [DEPLOY] }] } },
  { files: ['src/gateway/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [DEPLOY, GATES, SYNTH] }] } },
  { files: ['src/app/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [DEPLOY, GATES, SYNTH, above('gateway')] }] } },
  { files: ['src/migrations/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [DEPLOY, GATES, SYNTH, above('app', 'gateway')] }] } },
  {
    files: ['src/data/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [DEPLOY, GATES, SYNTH, above('migrations', 'app', 'gateway')] }] },
  },
  { files: ['src/internal/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [DEPLOY, INTERNAL_GATES, AREAS] }] } },
);
