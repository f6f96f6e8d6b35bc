#!/usr/bin/env node
// stage-modules.js ROOT PACKAGE DEST: copies PACKAGE and the whole tree of its runtime dependencies, as npm installed
// them in ROOT/node_modules, into DEST/node_modules at the same relative paths (hoisted or nested), so that Node's
// module resolution finds the same files in DEST as in ROOT. Only what is installed is used: nothing is downloaded.
// Each package directory is copied without its own node_modules (nested packages are copied when they are needed).
// stdout: "NAME@VERSION" of each package copied, sorted.
'use strict';

const fs = require('fs');
const path = require('path');

const [root, name, dest] = process.argv.slice(2);
if (!root || !name || !dest) {
  process.stderr.write('usage: stage-modules.js ROOT PACKAGE DEST\n');
  process.exit(2);
}
const rootDir = path.resolve(root);

/** Node's lookup of `dep` from the package in `fromDir`: fromDir/node_modules/dep, then up to ROOT/node_modules. */
function resolve(dep, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', dep);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === rootDir || path.dirname(dir) === dir) return undefined;
  }
}

function copyPackage(from, to) {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const s = path.join(from, entry.name);
    const d = path.join(to, entry.name);
    if (entry.isDirectory()) copyPackage(s, d);
    else if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(s), d);
    else fs.copyFileSync(s, d);
  }
}

const start = resolve(name, rootDir);
if (!start) {
  process.stderr.write(`stage-modules.js: ${name} is not installed in ${rootDir}/node_modules (run npm ci)\n`);
  process.exit(1);
}
const seen = new Map();
const queue = [start];
while (queue.length) {
  const dir = queue.shift();
  if (seen.has(dir)) continue;
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  seen.set(dir, `${pkg.name}@${pkg.version}`);
  const optional = pkg.optionalDependencies || {};
  for (const dep of Object.keys({ ...(pkg.dependencies || {}), ...optional })) {
    const found = resolve(dep, dir);
    if (found) queue.push(found);
    else if (!(dep in optional)) {
      process.stderr.write(`stage-modules.js: ${dep} (needed by ${pkg.name}) is not installed (run npm ci)\n`);
      process.exit(1);
    }
  }
}
for (const dir of seen.keys()) copyPackage(dir, path.join(dest, path.relative(rootDir, dir)));
process.stdout.write([...seen.values()].sort().join('\n') + '\n');
