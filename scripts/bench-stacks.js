#!/usr/bin/env node
/*
 * One data point of the scaling benchmark (run by scripts/bench.js, one fresh
 * process per N): N tenant stacks in ONE cdk8s App (scripts/bench-tenants.js:
 * ErpApi + CeleryPair + default deny, each in its own namespace),
 * synthesized THROUGH THE PUBLIC API, as a user of the package would:
 * `require('erp-k8s')` (resolved by Node's package self-reference through
 * package.json "exports" to the built lib/, so internal modules are out of
 * reach), then `ErpSynth.synth(app)`, which writes `<outdir>/tenant-<i>.k8s.yaml`.
 *
 *   node scripts/bench-stacks.js <N> <outdir>              # ErpSynth.synth(app)
 *   node scripts/bench-stacks.js <N> <outdir> --app-synth  # cdk8s' own app.synth(), for comparison
 *
 * Prints one JSON line: the phase times in ms (module loading excluded from
 * `stacksMs`) and the number of objects written. BENCH_LIB=<dir> points at
 * another compiled tree (its src/index.js, the package entry) to compare builds.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { performance } = require('perf_hooks');

const n = Number(process.argv[2]);
const outdir = process.argv[3];
const appSynth = process.argv.includes('--app-synth');
if (!Number.isInteger(n) || n < 1 || !outdir) {
  console.error('usage: node scripts/bench-stacks.js <N> <outdir> [--app-synth]');
  process.exit(2);
}

const t0 = performance.now();
const cdk8s = require('cdk8s');
const erp = process.env.BENCH_LIB ? require(path.resolve(process.env.BENCH_LIB, 'src', 'index.js')) : require('erp-k8s');
const { ErpSynth } = erp;
const { tenantApp } = require('./bench-tenants');
if (!appSynth && !ErpSynth) {
  console.error('bench-stacks: this build of erp-k8s has no ErpSynth; use --app-synth');
  process.exit(2);
}
const t1 = performance.now();

const app = tenantApp(erp, cdk8s, n, { outdir });
const t2 = performance.now();

if (appSynth) app.synth();
else ErpSynth.synth(app);
const t3 = performance.now();

// not timed: what was written
const files = fs.readdirSync(outdir).filter((f) => f.endsWith('.k8s.yaml'));
const objects = files.reduce((k, f) => k + (fs.readFileSync(path.join(outdir, f), 'utf8').match(/^kind: /gm) ?? []).length, 0);

process.stdout.write(`${JSON.stringify({
  n, files: files.length, objects, synth: appSynth ? 'app.synth()' : 'ErpSynth.synth(app)',
  loadMs: t1 - t0, buildMs: t2 - t1, synthMs: t3 - t2, stacksMs: t3 - t1,
})}\n`);
