#!/usr/bin/env node
/*
 * prepack (npm pack / npm publish): builds the library (src/, imports/: tsconfig.lib.json) into lib/ with tsc, then removes
 * compiled files whose source is gone (tsc never deletes), so a renamed or
 * deleted module cannot ship from a stale lib/.
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const lib = path.join(root, 'lib');
execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.lib.json'], { cwd: root, stdio: 'inherit' });

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
