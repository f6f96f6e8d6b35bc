#!/usr/bin/env node
/*
 * One data point of the scaling benchmark (run by scripts/bench.js, one fresh
 * process per N): N tenant stacks in ONE cdk8s App, each a Chart in its own
 * namespace `tenant-<i>` holding ErpApi (pinned image, external PostgreSQL
 * `postgres`) + CeleryPair + the namespace's default-deny NetworkPolicy,
 * synthesized the way `npm run synth` does it: construct validation and
 * toJson (renderFiles), the schema + policy gate, then `<outdir>/tenant-<i>/`
 * written all or nothing (writeEnvironments).
 *
 *   node scripts/bench-stacks.js <N> <outdir>
 *
 * Prints one JSON line: the phase times in ms (module loading excluded from
 * `stacksMs`), object count and gate result. BENCH_LIB points at another
 * compiled tree (default: <repo>/lib) to compare builds.
 */
'use strict';
const { performance } = require('perf_hooks');
const path = require('path');

const n = Number(process.argv[2]);
const outdir = process.argv[3];
if (!Number.isInteger(n) || n < 1 || !outdir) {
  console.error('usage: node scripts/bench-stacks.js <N> <outdir>');
  process.exit(2);
}
const lib = path.resolve(process.env.BENCH_LIB ?? path.join(__dirname, '..', 'lib'), 'src');

const t0 = performance.now();
const { App, Chart } = require('cdk8s');
const { ErpApi, CeleryPair, ExternalDatabase, defaultDeny } = require(path.join(lib, 'index.js'));
const synthesizer = require(path.join(lib, 'synthesizer.js'));
const { applicationPhase, writeEnvironments } = synthesizer;
// renderEnvironments renders every tenant with one app-wide validation and
// dependency resolution; older builds only have renderFiles (one call per tenant)
const renderEnvironments = synthesizer.renderEnvironments ?? ((envs) => Object.fromEntries(
  Object.entries(envs).map(([name, charts]) => [name, synthesizer.renderFiles(charts)])));
const { gate } = require(path.join(lib, 'app-synth.js'));
const t1 = performance.now();

const app = new App({ outdir: 'unused' });
const tenants = [];
for (let i = 0; i < n; i++) {
  const namespace = `tenant-${i}`;
  const chart = new Chart(app, namespace, { namespace });
  const api = new ErpApi(chart, 'Api', {
    image: 'registry.example.com/erp/api:1.4.2',
    database: ExternalDatabase.of({ host: 'postgres' }),
    ingress: { host: `${namespace}.erp.example.com` },
  });
  new CeleryPair(chart, 'Celery', { api });
  defaultDeny(chart, 'DefaultDeny', namespace);
  tenants.push({ namespace, chart });
}
const t2 = performance.now();

const outputs = renderEnvironments(Object.fromEntries(tenants.map(({ namespace, chart }) => [namespace, [{ chart, phase: applicationPhase }]])));
const t3 = performance.now();

let errors = 0;
let objects = 0;
for (const { namespace } of tenants) {
  const files = outputs[namespace];
  objects += files.reduce((k, f) => k + f.objects.length, 0);
  errors += gate({ name: namespace, namespace, allowLatestImages: false }, files).errors.length;
}
const t4 = performance.now();

writeEnvironments(outdir, outputs);
const t5 = performance.now();

process.stdout.write(`${JSON.stringify({
  n, objects, gateErrors: errors,
  loadMs: t1 - t0, buildMs: t2 - t1, renderMs: t3 - t2, gateMs: t4 - t3, writeMs: t5 - t4, stacksMs: t5 - t1,
})}\n`);
