#!/usr/bin/env node
/*
 * prepack (npm pack / npm publish): builds the library alone (src/, imports/:
 * tsconfig.jsii.json) into lib/ with jsii, which also writes the jsii
 * assembly `.jsii` the package ships, then removes compiled files whose
 * source is gone (the compiler never deletes), so a renamed or deleted module
 * cannot ship from a stale lib/.
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { jsiiCommand, jsiiEnv } = require('./jsii');

const root = path.resolve(__dirname, '..');
const lib = path.join(root, 'lib');
// stdout is `npm pack --json` output: jsii's report goes to stderr
const [command, jsiiArgs] = jsiiCommand(root);
execFileSync(command, jsiiArgs, { cwd: root, stdio: ['ignore', 2, 'inherit'], env: jsiiEnv() });

const removed = [];
function prune(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(file);
      if (fs.readdirSync(file).length === 0) fs.rmdirSync(file);
      continue;
    }
    const rel = path.relative(lib, file);
    const source = path.join(root, rel.replace(/(\.d\.ts|\.js)$/, '.ts'));
    const generated = /\.(js|d\.ts)$/.test(rel) && (rel.startsWith(`src${path.sep}`) || rel.startsWith(`imports${path.sep}`));
    if (!generated || !fs.existsSync(source)) {
      fs.rmSync(file);
      removed.push(rel);
    }
  }
}
prune(lib);
// stdout is `npm pack --json` output: report on stderr
if (removed.length) console.error(`prepack: removed stale ${removed.join(', ')} from lib/`);
