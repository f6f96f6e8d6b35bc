/*
 * The jsii compiler as this repository runs it, for every script that does
 * (synth.js --build, prepack.js, jsii-python.js, and api-docs.js through it).
 */
'use strict';

/** jsii's own warnings left on, but reserved words (`namespace`, `type`: Kubernetes' names) silenced. */
const JSII_ARGS = ['--silence-warnings=reserved-word'];

/**
 * The environment for the jsii tools: they print a boxed warning on every
 * run that Node 20 is past its end of life (2026-10-30); the library
 * supports Node >= 20.12 (package.json engines), so the box is silenced for
 * Node 20 only (a value set by the caller wins).
 */
function jsiiEnv(env = process.env) {
  return { ...env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: env.JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?? '20' };
}

/** `[command, args]` that run the jsii compiler installed in `root`'s node_modules. */
function jsiiCommand(root) {
  return [process.execPath, [require.resolve('jsii/bin/jsii', { paths: [root] }), ...JSII_ARGS]];
}

module.exports = { JSII_ARGS, jsiiCommand, jsiiEnv };
