#!/usr/bin/env node
/*
 * npm run synth: compiles src/ and deploy/ to lib/ only when a source changed since the
 * last good build, then synthesizes in this very process (no cdk8s CLI, no
 * second Node start-up). Warm and unchanged, that is the app's own time.
 *
 *   npm run synth                        # every environment into dist/<env>/
 *   ERP_ENV=prod npm run synth           # only dist/prod/; the others are kept
 *   npm run synth -- -o out              # into out/<env>/
 *   npm run --silent synth -- --stdout   # one YAML stream on stdout (--silent: no npm banner)
 *   npm run build                        # = node scripts/synth.js --build: always compile, then the jsii assembly
 *   npx cdk8s synth                      # cdk8s.yaml runs this script too (see there)
 *
 * "Changed" means: a file or folder under src/, deploy/ or imports/ (a deleted file
 * changes its folder), tsconfig*.json or node_modules/.package-lock.json
 * (npm install) is newer than lib/.build-stamp, or a source has no compiled
 * file in lib/ (deleted by hand). The stamp is written only after tsc
 * succeeds, dated when tsc started (an edit during the build is newer), and
 * removed when tsc fails, so a failed build is retried rather than
 * synthesized from. Checking costs a few milliseconds; `tsc -b` takes
 * ~0.3 s to find nothing to do, and `tsc --incremental` does not re-emit an
 * output deleted by hand.
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'lib', '.build-stamp');

/**
 * The newest modification time (ms) among the build's inputs, and whether
 * every source still has its compiled file (tsc does not notice a deleted one).
 */
function inputs() {
  let newest = 0;
  let complete = true;
  const consider = (file) => {
    try {
      newest = Math.max(newest, fs.statSync(file).mtimeMs);
    } catch { /* absent: nothing to compare */ }
  };
  const walk = (dir) => {
    consider(dir);
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        walk(p);
      } else if (e.name.endsWith('.ts') || e.name.endsWith('.json')) {
        consider(p);
        if (complete && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
          complete = fs.existsSync(path.join(root, 'lib', path.relative(root, p).replace(/\.ts$/, '.js')));
        }
      }
    }
  };
  walk(path.join(root, 'src'));
  walk(path.join(root, 'deploy'));
  walk(path.join(root, 'imports'));
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'tsconfig.jsii.json', 'node_modules/.package-lock.json']) consider(path.join(root, f));
  return { newest, complete };
}

function upToDate() {
  let built;
  try {
    built = fs.statSync(stamp).mtimeMs;
  } catch {
    return false;
  }
  const { newest, complete } = inputs();
  // strictly newer: on a file system that keeps whole seconds, an edit in the
  // second the build started counts as a change
  return complete && built > newest;
}

/** tsc -p tsconfig.build.json; the stamp records a good build. */
function build() {
  const started = new Date();
  fs.rmSync(stamp, { force: true });
  // tsc reports on stdout: send it to stderr, which the cdk8s CLI shows (it swallows the app's stdout)
  const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', 'tsconfig.build.json'],
    { cwd: root, stdio: ['ignore', 2, 'inherit'] });
  if (r.error) throw r.error;
  if (r.status !== 0) return r.status ?? 1;
  fs.writeFileSync(stamp, `lib/ compiled from the sources as of ${started.toISOString()} (scripts/synth.js)\n`);
  fs.utimesSync(stamp, started, started);
  return 0;
}

/**
 * `npm run build` also builds the library's jsii assembly: `jsii` compiles
 * src/ and imports/ (tsconfig.jsii.json) into lib/ again, with jsii's
 * runtime type information, and writes `.jsii`, the assembly jsii-pacmak
 * (Python, Java, .NET, Go) and jsii-docgen read. Only when package.json
 * configures jsii.
 */
function buildAssembly() {
  let pkg;
  try {
    pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  } catch {
    return 0;
  }
  if (!pkg.jsii) return 0;
  // required here, not at the top: a project without jsii (and without scripts/jsii.js) never gets this far
  const { jsiiCommand, jsiiEnv } = require('./jsii');
  const [command, jsiiArgs] = jsiiCommand(root);
  const r = spawnSync(command, jsiiArgs, { cwd: root, env: jsiiEnv(), stdio: ['ignore', 2, 'inherit'] });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

const args = process.argv.slice(2);
if (args[0] === '--build') {
  process.exitCode = build() || buildAssembly();
} else {
  let status = 0;
  if (!upToDate()) {
    process.stderr.write('synth: sources changed since the last build; compiling src/ and deploy/ to lib/ (tsc)...\n');
    status = build();
    if (status !== 0) process.stderr.write(`synth failed: tsc exited with ${status}; nothing was written\n`);
  }
  if (status === 0) status = require(path.join(root, 'lib', 'deploy', 'main.js')).main(args, process.env);
  process.exitCode = status;
}
