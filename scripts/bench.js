#!/usr/bin/env node
/*
 * Synth benchmark (issue 8). Run through `npm run bench`, which builds first:
 *
 *   npm run bench                      # everything, results in bench/results.md
 *   node scripts/bench.js --quick      # fewer runs, N up to 100, no npm test
 *   node scripts/bench.js --skip-test --sizes 1,10,100,500 --runs 7
 *
 * Prints and writes (bench/results.md, or --out FILE):
 *   (a) the floor: a Node process that only loads cdk8s + cdk8s-plus-28;
 *   (b) synthesis of all environments: the app command of cdk8s.yaml
 *       (`node scripts/synth.js ...`) as the cdk8s CLI runs it, the CLI itself
 *       (`npx cdk8s synth`), and a warm `npm run synth` with nothing changed
 *       (scripts/synth.js: no tsc, since lib/ is up to date, and no CLI; the
 *       output folder already holds the same files), --runs times;
 *   (c) N = 1, 10, 100, 500 ErpApi + CeleryPair tenant stacks in one App,
 *       synthesized through the public API (`require('erp-k8s')`, the
 *       package entry, then `ErpSynth.synth(app)`; scripts/bench-stacks.js,
 *       a fresh process per run), and cdk8s' own `app.synth()` for
 *       comparison at --baseline-sizes (default 10,100; 1 run each);
 *   (d) `npm test`.
 * Wall time: median (and min-max) of --runs runs after one warm-up, measured
 * here with process.hrtime; (a) and (b) runs are interleaved so that both see
 * the same machine load. Peak RSS: GNU time (`/usr/bin/time -f %M`, Debian
 * package `time`), else `process.resourceUsage().maxRSS` reported by every
 * Node process of the command (scripts/bench-maxrss.js via NODE_OPTIONS).
 * Plain Node, no dependencies. BENCH_LIB=<dir> benchmarks another compiled
 * tree (e.g. a checkout of an older commit's lib/) with this harness (for
 * (c), through that tree's src/index.js);
 * BENCH_NO_GNU_TIME=1 forces the RSS fallback.
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');

// ---- options
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
if (flag('--help') || flag('-h')) {
  console.log(fs.readFileSync(__filename, 'utf8').split('*/')[0]);
  process.exit(0);
}
const quick = flag('--quick');
const runs = Number(option('--runs', quick ? 3 : 7));
const stackRuns = Number(option('--stack-runs', quick ? 1 : 3));
const cliRuns = Number(option('--cli-runs', quick ? 1 : 3));
const sizes = option('--sizes', quick ? '1,10,100' : '1,10,100,500').split(',').map(Number);
const baselineSizes = option('--baseline-sizes', quick ? '10' : '10,100').split(',').filter(Boolean).map(Number);
const skipTest = flag('--skip-test') || quick;
const skipCli = flag('--skip-cli');
const out = path.resolve(root, option('--out', 'bench/results.md'));
const lib = path.resolve(process.env.BENCH_LIB ?? path.join(root, 'lib'));

if (!fs.existsSync(path.join(lib, 'deploy', 'main.js'))) {
  console.error(`bench: ${path.join(lib, 'deploy', 'main.js')} not found; run 'npm run build' first (npm run bench does)`);
  process.exit(1);
}

// ---- measuring one command
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-bench-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function hasGnuTime() {
  if (process.env.BENCH_NO_GNU_TIME || !fs.existsSync('/usr/bin/time')) return false;
  const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', path.join(tmp, 'probe'), 'true']);
  return r.status === 0 && /^\d+\s*$/.test(fs.readFileSync(path.join(tmp, 'probe'), 'utf8'));
}
const gnuTime = hasGnuTime();
const rssMethod = gnuTime ? 'GNU time %M' : 'process.resourceUsage().maxRSS of each Node process';

let seq = 0;
/** Runs a command; returns wall ms, peak RSS KiB (max over its processes), status, stdout. */
function measure(cmd, args, { env = {}, cwd = root } = {}) {
  const rssFile = path.join(tmp, `rss-${seq++}`);
  let file = cmd;
  let fileArgs = args;
  const childEnv = { ...process.env, ...env };
  if (gnuTime) {
    file = '/usr/bin/time';
    fileArgs = ['-f', '%M', '-o', rssFile, cmd, ...args];
  } else {
    childEnv.BENCH_MAXRSS_FILE = rssFile;
    childEnv.NODE_OPTIONS = `${childEnv.NODE_OPTIONS ?? ''} --require ${JSON.stringify(path.join(__dirname, 'bench-maxrss.js'))}`.trim();
  }
  const start = process.hrtime.bigint();
  const r = spawnSync(file, fileArgs, { cwd, env: childEnv, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  let rssKiB = NaN;
  try {
    const values = fs.readFileSync(rssFile, 'utf8').split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
    if (values.length) rssKiB = Math.max(...values);
  } catch { /* no report: NaN */ }
  if (r.error) throw r.error;
  return { wallMs, rssKiB, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = (samples) => ({
  wallMs: median(samples.map((s) => s.wallMs)),
  minMs: Math.min(...samples.map((s) => s.wallMs)),
  maxMs: Math.max(...samples.map((s) => s.wallMs)),
  rssKiB: median(samples.map((s) => s.rssKiB)),
  runs: samples.length,
});
const check = (label, r) => {
  if (r.status !== 0) {
    console.error(`bench: ${label} failed (exit ${r.status}):\n${r.stderr}`);
    process.exit(1);
  }
  return r;
};
const log = (s) => process.stderr.write(`${s}\n`);

/** Benchmarks several commands with interleaved runs (one warm-up each). */
function interleaved(commands, n, { fatal = true } = {}) {
  const run = (c) => {
    const r = measure(c.cmd, c.args, c.opts);
    if (r.status !== 0 && !fatal) log(`bench: ${c.label} failed (exit ${r.status}); reported as failed:\n${r.stderr.slice(-2000)}`);
    return fatal ? check(c.label, r) : r;
  };
  commands.forEach(run);
  const samples = commands.map(() => []);
  for (let i = 0; i < n; i++) commands.forEach((c, k) => samples[k].push(run(c)));
  return samples.map((xs) => ({ ...summary(xs), failed: xs.some((x) => x.status !== 0) }));
}

// ---- (a) + (b): the floor and the app, interleaved
const appLine = /^app:\s*(.+)$/m.exec(fs.readFileSync(path.join(root, 'cdk8s.yaml'), 'utf8'));
const appWords = (appLine ? appLine[1].trim() : 'node lib/deploy/main.js').split(/\s+/)
  .map((w) => (process.env.BENCH_LIB && (w === 'lib/deploy/main.js' || w === 'scripts/synth.js') ? path.join(lib, 'deploy', 'main.js') : w));
const appOut = path.join(tmp, 'app-out');
log(`(a)+(b) floor and '${appWords.join(' ')}' x${runs}, interleaved, after a warm-up...`);
const appCmd = appWords[0] === 'node' ? process.execPath : appWords[0];
const [floor, app] = interleaved([
  { label: 'floor', cmd: process.execPath, args: ['-e', "require('cdk8s');require('cdk8s-plus-28')"] },
  { label: 'app', cmd: appCmd, args: appWords.slice(1), opts: { env: { CDK8S_OUTDIR: appOut } } },
], runs);

let cli;
let npmSynth;
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
if (!skipCli && !process.env.BENCH_LIB) {
  log(`(b) npx cdk8s synth --no-check-upgrade x${cliRuns}...`);
  [cli] = interleaved([{ label: 'cdk8s CLI', cmd: npx, args: ['cdk8s', 'synth', '--no-check-upgrade', '-o', path.join(tmp, 'cli-out')] }], cliRuns);
  log(`(b) warm npm run synth, nothing changed x${runs}...`);
  // the warm-up run compiles lib/ if a source changed since the last build
  // (someone's half-edited src/ may fail it) and writes the output once
  [npmSynth] = interleaved([{ label: 'npm run synth', cmd: npm, args: ['run', '--silent', 'synth', '--', '-o', path.join(tmp, 'npm-out')] }], runs,
    { fatal: false });
}

// ---- (c) N stacks, through the package entry (require('erp-k8s') resolves to lib/ by self-reference)
// BENCH_LIB only when benchmarking another tree: otherwise bench-stacks.js goes through package.json "exports"
const stacksEnv = process.env.BENCH_LIB ? { BENCH_LIB: lib } : {};
/** Median of `runs` fresh processes of bench-stacks.js for N stacks. */
function stackPoint(n, runs, extra = []) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const dir = path.join(tmp, `stacks-${n}-${i}`);
    const r = check(`${n} stacks ${extra.join(' ')}`, measure(process.execPath, [path.join(__dirname, 'bench-stacks.js'), String(n), dir, ...extra],
      { env: stacksEnv }));
    samples.push({ ...r, ...JSON.parse(r.stdout.trim().split('\n').pop()) });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const pick = (k) => median(samples.map((s) => s[k]));
  return { n, ...summary(samples), objects: samples[0].objects, stacksMs: pick('stacksMs'), loadMs: pick('loadMs'), buildMs: pick('buildMs'),
    synthMs: pick('synthMs') };
}
const stacks = [];
check('stacks warm-up', measure(process.execPath, [path.join(__dirname, 'bench-stacks.js'), '1', path.join(tmp, 'stacks-warm')], { env: stacksEnv }));
for (const n of sizes) {
  log(`(c) ${n} stack(s), ErpSynth.synth(app), x${stackRuns}...`);
  stacks.push(stackPoint(n, stackRuns));
}
const baseline = [];
for (const n of baselineSizes) {
  log(`(c) ${n} stack(s), cdk8s app.synth(), x1...`);
  baseline.push(stackPoint(n, 1, ['--app-synth']));
}

// ---- (d) npm test
let test;
if (!skipTest) {
  log('(d) npm test (once)...');
  const r = measure(npm, ['test', '--silent'], { env: { CI: 'true' } });
  test = { ...summary([r]), passed: r.status === 0 };
}

// ---- report
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const range = (x) => (x.failed ? '**failed**' : `${(x.minMs / 1000).toFixed(2)}-${(x.maxMs / 1000).toFixed(2)} s`);
const mib = (kib) => (Number.isFinite(kib) ? `${Math.round(kib / 1024)} MiB` : 'n/a');
const row = (cells) => `| ${cells.join(' | ')} |`;
const cpu = (os.cpus()[0] || { model: 'unknown' }).model.trim();
const ratio = app.wallMs / floor.wallMs;
const per = (x) => x.stacksMs / x.n;
const at = (n) => stacks.find((x) => x.n === n);
const slope = (() => {
  if (stacks.length < 2) return NaN;
  const mx = stacks.reduce((a, x) => a + x.n, 0) / stacks.length;
  const my = stacks.reduce((a, x) => a + x.wallMs, 0) / stacks.length;
  const sxy = stacks.reduce((a, x) => a + (x.n - mx) * (x.wallMs - my), 0);
  const sxx = stacks.reduce((a, x) => a + (x.n - mx) ** 2, 0);
  return sxy / sxx;
})();
const linearity = at(500) && at(10) ? per(at(500)) / per(at(10)) : NaN;
const verdict = (ok) => (ok ? 'yes' : '**no**');

const nproc = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
const lines = [
  '## Benchmark results',
  '',
  `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${os.cpus().length} CPUs (\`nproc\`: ${nproc}), ${cpu}; `
    + `Node ${process.version}; ${os.platform()} ${os.release()}; load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}.`,
  `Command: \`npm run bench\` (\`npm run build && node scripts/bench.js\`). Wall time: median of ${runs} runs after a warm-up, with min-max, (a) `
    + `and (b) interleaved; peak RSS (median): ${rssMethod}.`,
  '',
  row(['', 'command', 'wall (median)', 'min-max', 'peak RSS', 'runs']),
  row(['---', '---', '---:', '---:', '---:', '---:']),
  row(['(a) floor', "`node -e \"require('cdk8s');require('cdk8s-plus-28')\"`", s(floor.wallMs), range(floor), mib(floor.rssKiB), floor.runs]),
  row(['(b) synth, all environments', `\`CDK8S_OUTDIR=<tmp> ${appWords.join(' ')}\``, s(app.wallMs), range(app), mib(app.rssKiB), app.runs]),
  ...(cli ? [row(['(b) cdk8s CLI', '`npx cdk8s synth --no-check-upgrade`', s(cli.wallMs), range(cli), mib(cli.rssKiB), cli.runs])] : []),
  ...(npmSynth ? [row(['(b) warm, nothing changed', '`npm run synth` (scripts/synth.js)', s(npmSynth.wallMs), range(npmSynth), mib(npmSynth.rssKiB),
    npmSynth.runs])] : []),
  ...(test ? [row(['(d) tests', '`npm test`', s(test.wallMs), test.passed ? 'passed' : '**failed**', mib(test.rssKiB), 1])] : []),
  '',
  `**(b)/(a) = ${ratio.toFixed(2)}x**: synthesis of every environment vs. merely loading cdk8s + cdk8s-plus-28; the CLI's own start-up is not `
    + `counted.`,
  '',
  `(c) N ErpApi + CeleryPair tenant stacks in one App, through the public API (\`node scripts/bench-stacks.js N <tmp>\`: \`require('erp-k8s')\`, `
    + `build, \`ErpSynth.synth(app)\` writing \`<tmp>/tenant-<i>.k8s.yaml\`), median of ${stackRuns} fresh process(es); cdk8s' \`app.synth()\` `
      + `(\`--app-synth\`) for comparison, 1 run:`,
  '',
  row(['synth', 'N', 'objects', 'wall', 'peak RSS', 'in-process (excl. module load)', 'per stack', 'build / synth']),
  row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---']),
  ...[...stacks.map((x) => ['`ErpSynth.synth(app)`', x]), ...baseline.map((x) => ['`app.synth()`', x])].map(([label, x]) => row([label, x.n,
    x.objects, s(x.wallMs), mib(x.rssKiB), s(x.stacksMs), `${per(x).toFixed(1)} ms`,
    [x.buildMs, x.synthMs].map((v) => `${Math.round(v)}`).join(' / ') + ' ms'])),
  '',
  `**Per-stack slope: ${slope.toFixed(1)} ms/stack** (least squares of wall time over N); `
    + `time per stack at N=500 / N=10: **${Number.isFinite(linearity) ? linearity.toFixed(2) : 'n/a'}** (ErpSynth).`,
  '',
  'Targets (issues 8, 13 and 16):',
  '',
  row(['target', 'measured', 'met']),
  row(['---', '---', '---']),
  row(['all environments <= 1.5x the floor', `${ratio.toFixed(2)}x (${s(app.wallMs)} vs ${s(floor.wallMs)})`, verdict(ratio <= 1.5)]),
  ...(npmSynth ? [row(['warm `npm run synth`, nothing changed, <= 1 s (issue 13)', npmSynth.failed ? '**failed**' : s(npmSynth.wallMs),
    verdict(!npmSynth.failed && npmSynth.wallMs <= 1000)])] : []),
  ...(at(500) ? [
    row(['500 stacks through the public API <= 10 s', s(at(500).wallMs), verdict(at(500).wallMs <= 10000)]),
    row(['500 stacks <= 1 GiB peak RSS', mib(at(500).rssKiB), verdict(at(500).rssKiB <= 1024 * 1024)]),
  ] : []),
  ...(Number.isFinite(linearity) ? [row(['per stack at N=500 <= 1.5x per stack at N=10', `${linearity.toFixed(2)}x`, verdict(linearity <= 1.5)])]
    : []),
  ...(test ? [row(['`npm test` <= 30 s', s(test.wallMs), verdict(test.wallMs <= 30000)])] : []),
  '',
];
const text = lines.join('\n');
console.log(text);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${text}\n`);
log(`written to ${path.relative(root, out)}`);
