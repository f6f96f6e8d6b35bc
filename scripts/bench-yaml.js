#!/usr/bin/env node
/*
 * The YAML decision, measured (issue 15 step 3): the time the custom emitter
 * (toYaml) and the stock one (cdk8s' `Yaml.stringify`, i.e. `yaml`'s
 * `stringify` with `{ keepUndefined: true, lineWidth: 0, version: '1.1' }`)
 * take on (a) the three environments of `npm run synth` and (b) N tenant
 * stacks through ErpSynth, against the whole synth's time. Run `npm run build` first.
 *
 *   node scripts/bench-yaml.js [--runs 5] [--stacks 500]
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');

const root = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.indexOf(name) >= 0 ? Number(argv[argv.indexOf(name) + 1]) : fallback);
const runs = option('--runs', 5);
const stacks = option('--stacks', 500);

const cdk8s = require('cdk8s');
const { toYaml } = require(path.join(root, 'lib/src/synth/yaml'));
const { ErpSynth } = require(path.join(root, 'lib/src/index.js'));
const { tenantApp } = require('./bench-tenants');
const envs = require(path.join(root, 'lib/deploy/environments'));
const { renderFiles } = require(path.join(root, 'lib/deploy/synth/render'));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn) => { const t = performance.now(); fn(); return performance.now() - t; };
const stock = (docs) => cdk8s.Yaml.stringify(...docs);

// (a) the three environments: objects as renderFiles returns them, per file
const t0 = performance.now();
const files = Object.values(envs.ENVIRONMENTS).flatMap((c) => renderFiles(envs.buildEnvironment(c).charts));
const renderMs = performance.now() - t0;
const envDocs = files.map((f) => f.objects);
for (const docs of envDocs) if (toYaml(docs) !== stock(docs)) throw new Error('custom and stock YAML differ');
const envCustom = median(Array.from({ length: runs }, () => time(() => envDocs.forEach(toYaml))));
const envStock = median(Array.from({ length: runs }, () => time(() => envDocs.forEach(stock))));

// (b) N stacks through ErpSynth (the YAML measured apart, on the same objects)
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-bench-yaml-'));
const app = tenantApp(require(path.join(root, 'lib/src/index.js')), cdk8s, stacks, { outdir: out });
const synthMs = time(() => ErpSynth.synth(app));
const ownObjects = (c) => c.node.findAll().filter((o) => o instanceof cdk8s.ApiObject && cdk8s.Chart.of(o) === c);
const stackDocs = app.charts.map((c) => ownObjects(c).map((o) => o.toJson()));
const stackRuns = Math.max(1, Math.min(runs, 3));
const stCustom = median(Array.from({ length: stackRuns }, () => time(() => stackDocs.forEach(toYaml))));
const stStock = median(Array.from({ length: stackRuns }, () => time(() => stackDocs.forEach(stock))));
fs.rmSync(out, { recursive: true, force: true });

const ms = (x) => `${x.toFixed(1).padStart(7)} ms`;
const share = (part, total) => `${(100 * part / total).toFixed(0)}%`;
const row = (label, custom, stockMs, total) => console.log(`${label.padEnd(40)} custom ${ms(custom)}   stock ${ms(stockMs)}   `
  + `synth ${total.toFixed(0)} ms with custom, ${(total - custom + stockMs).toFixed(0)} ms with stock: `
  + `YAML ${share(custom, total)} (custom) / ${share(stockMs, total - custom + stockMs)} (stock)`);
row(`(a) 3 environments (${envDocs.flat().length} objects)`, envCustom, envStock, renderMs + envCustom);
row(`(b) ${stacks} stacks, ErpSynth.synth`, stCustom, stStock, synthMs);
