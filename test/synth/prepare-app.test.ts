import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { chartApiObjects, prepareApp, recordsConstructMetadata } from '../../src/synth/prepare-app';

/*
 * prepareApp mirrors private code of cdk8s (lib/app.js). The behaviour is
 * checked against cdk8s itself in erp-synth.test.ts (same files as
 * app.synth(), dependant charts included); this test fails LOUDLY when a
 * cdk8s upgrade changes the private functions mirrored, before anything
 * differs in some app's output.
 */

/** The source of a top-level function (or a static method of App) of cdk8s lib/app.js, whitespace collapsed. */
function privateSource(name: string): string | undefined {
  const src = fs.readFileSync(path.join(path.dirname(require.resolve('cdk8s')), 'app.js'), 'utf8');
  const m = new RegExp(`^(function ${name}\\(|    static ${name}\\()`, 'm').exec(src);
  if (!m) return undefined;
  const indent = m[0].startsWith(' ') ? '    ' : '';
  const end = src.indexOf(`\n${indent}}\n`, m.index);
  return src.slice(m.index, end + indent.length + 2).replace(/\s+/g, ' ');
}

// sha256 (first 16 hex digits) of each, as in cdk8s 2.70.106
const MIRRORED: Record<string, string> = {
  _synthChart: '6a18181b9fb93321',
  validate: '649621f939527d6d',
  buildDependencies: 'da274251d1dfdb83',
  resolveDependencies: '022a233fb4f4ea2b',
  chartToKube: '65a88e9ecf9276a6',
};

test.each(Object.entries(MIRRORED))('cdk8s\' private %s is the one src/synth/prepare-app.ts mirrors', (name, hash) => {
  const source = privateSource(name);
  const actual = source === undefined ? 'missing' : createHash('sha256').update(source).digest('hex').slice(0, 16);
  if (actual !== hash) {
    const version = JSON.parse(fs.readFileSync(require.resolve('cdk8s/package.json'), 'utf8')).version;
    throw new Error(`cdk8s ${version} changed its private ${name} (lib/app.js; sha ${actual}, expected ${hash}): `
      + 'compare it with prepareApp/chartApiObjects in src/synth/prepare-app.ts, update them, then the hash here');
  }
});

test('prepareApp: the dependencies cdk8s would add, once', () => {
  const app = Testing.app();
  const a = new Chart(app, 'a');
  const b = new Chart(app, 'b');
  const x = new ApiObject(a, 'x', { apiVersion: 'v1', kind: 'ConfigMap' });
  const y = new ApiObject(b, 'y', { apiVersion: 'v1', kind: 'ConfigMap' });
  x.node.addDependency(b);
  expect(prepareApp(app)).toBe(true);
  expect(a.node.dependencies).toContain(b);
  expect(x.node.dependencies).toContain(y);
  expect(app.charts).toEqual([b, a]);
  expect(chartApiObjects(a)).toEqual([x]);
  expect(prepareApp(new App({ outdir: 'unused' }))).toBe(false);
});

test('recordsConstructMetadata reads the private field App.synth() reads', () => {
  expect(recordsConstructMetadata(new App({ outdir: 'unused', recordConstructMetadata: true }))).toBe(true);
  expect(recordsConstructMetadata(new App({ outdir: 'unused', recordConstructMetadata: false }))).toBe(false);
  const source = fs.readFileSync(path.join(path.dirname(require.resolve('cdk8s')), 'app.js'), 'utf8');
  expect(source).toContain('if (this.recordConstructMetadata) {');
});
