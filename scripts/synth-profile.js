#!/usr/bin/env node
/*
 * Where the time of synthesizing every environment goes, section by section
 * (run `npm run build` first): each run is a fresh process doing what
 * `node lib/deploy/main.js` does, timed with performance.now() from process
 * start; the medians of --runs runs (after a warm-up) are printed.
 *
 *   node scripts/synth-profile.js [--runs 7]
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');

const root = path.resolve(__dirname, '..');

if (process.argv[2] !== '--child') {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 7;
  const samples = [];
  for (let k = 0; k <= runs; k++) {
    const r = spawnSync(process.execPath, [__filename, '--child'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) {
      process.stderr.write(r.stderr);
      process.exit(1);
    }
    if (k > 0) samples.push(JSON.parse(r.stdout));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`median of ${runs} runs (ms):`);
  for (const [label] of samples[0]) {
    const ms = median(samples.map((s) => s.find(([l]) => l === label)[1]));
    console.log(`  ${label.padEnd(52)} ${ms.toFixed(1).padStart(7)}`);
  }
  process.exit(0);
}

const rows = [];
let last = performance.now();
rows.push(['node start-up, until this script runs', last]);
const lap = (label) => {
  const now = performance.now();
  rows.push([label, now - last]);
  last = now;
};

require('cdk8s'); lap('require cdk8s (+ constructs, yaml)');
require('cdk8s-plus-28'); lap('require cdk8s-plus-28');
const envs = require(path.join(root, 'lib/deploy/environments'));
const appSynth = require(path.join(root, 'lib/deploy/app-synth'));
const syn = { ...require(path.join(root, 'lib/deploy/synth')), ...require(path.join(root, 'lib/src/synth/yaml')) };
const sv = require(path.join(root, 'lib/src/gates/schema-validator'));
const policy = require(path.join(root, 'lib/src/gates/policy')); lap('require the app\'s own modules');
sv.hasSchema('v1', 'Namespace'); lap('read + JSON.parse strict-schemas.json');

const outputs = {};
const totals = { build: 0, render: 0, schema: 0, policy: 0 };
const timed = (key, fn) => { const t = performance.now(); const r = fn(); totals[key] += performance.now() - t; return r; };
for (const config of Object.values(envs.ENVIRONMENTS)) {
  const built = timed('build', () => appSynth.buildWithSecrets(config, root, {}));
  const files = timed('render', () => syn.renderFiles(built.charts));
  const objects = files.flatMap((f) => f.objects);
  timed('schema', () => sv.validateManifests(objects));
  timed('policy', () => policy.checkPolicy(objects, { allowLatest: config.allowLatestImages, defaultNamespace: config.namespace }));
  outputs[config.name] = files;
}
rows.push(['build the constructs (3 environments)', totals.build]);
rows.push(['validate constructs + toJson (renderFiles)', totals.render]);
rows.push(['schema validation', totals.schema]);
rows.push(['policy gate', totals.policy]);
let t = performance.now();
for (const files of Object.values(outputs)) for (const f of files) syn.toYaml(f.objects);
const yamlMs = performance.now() - t;
rows.push(['YAML (toYaml)', yamlMs]);
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-profile-'));
t = performance.now();
syn.writeEnvironments(out, outputs);
rows.push(['write files: writeEnvironments minus its YAML', performance.now() - t - yamlMs]);
rows.push(['total, until the process would exit', performance.now()]);
fs.rmSync(out, { recursive: true, force: true });
process.stdout.write(JSON.stringify(rows));
