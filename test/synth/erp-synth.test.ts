import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as cdk8s from 'cdk8s';
import { App, AppProps, Chart, YamlOutputType } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { buildEnvironment, ENVIRONMENTS } from '../../deploy/environments';
import * as erp from '../../src';
import { ErpSynth } from '../../src';
import { fileNames } from '../../deploy/synth';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-synth-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

// the benchmark's own scenario (plain JS, shared with scripts/bench-stacks.js)
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script, not a module of the package
const { tenantApp } = require('../../scripts/bench-tenants');

/** N tenant stacks (ErpApi + CeleryPair + default deny), the app `npm run bench` times. */
function tenants(n: number, props: AppProps): App {
  return tenantApp(erp, cdk8s, n, props);
}

/** Every file under `dir` (relative name -> content). */
function tree(dir: string): Record<string, string> {
  return Object.fromEntries(fileNames(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

/** Builds the app twice (synthesis adds dependencies), synthesizes it both ways, returns both trees. */
function bothWays(build: (props: AppProps) => App, props: AppProps = {}) {
  const reference = path.join(tmp, 'app-synth');
  const fast = path.join(tmp, 'erp-synth');
  build({ ...props, outdir: reference }).synth();
  ErpSynth.synth(build({ ...props, outdir: fast }));
  return { expected: tree(reference), actual: tree(fast) };
}

describe('ErpSynth.synth', () => {
  test('writes the same files, byte for byte, as app.synth() (default output: a file per chart)', () => {
    // GIVEN / WHEN
    const { expected, actual } = bothWays((props) => tenants(3, props));

    // THEN
    expect(Object.keys(expected).sort()).toEqual(['tenant-0.k8s.yaml', 'tenant-1.k8s.yaml', 'tenant-2.k8s.yaml']);
    expect(actual).toEqual(expected);
  });

  test.each([
    ['FILE_PER_APP', YamlOutputType.FILE_PER_APP],
    ['FILE_PER_RESOURCE', YamlOutputType.FILE_PER_RESOURCE],
    ['FOLDER_PER_CHART_FILE_PER_RESOURCE', YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE],
  ])('the same files as app.synth() with yamlOutputType %s', (_, yamlOutputType) => {
    const { expected, actual } = bothWays((props) => tenants(2, props), { yamlOutputType, outputFileExtension: '.yml' });
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    expect(actual).toEqual(expected);
  });

  test('charts that depend on each other: indexed file names and dependency order, as app.synth()', () => {
    const build = (props: AppProps) => {
      const app = new App(props);
      const config = new Chart(app, 'config', { namespace: 'erp' });
      const workloads = new Chart(app, 'workloads', { namespace: 'erp' });
      const map = new kplus.ConfigMap(config, 'Config', { data: { a: 'b' } });
      new kplus.ConfigMap(workloads, 'Other', { data: { c: 'd' } }).node.addDependency(map);
      new Chart(workloads, 'nested', { namespace: 'erp' }); // a nested chart: the parent depends on it
      return app;
    };
    const { expected, actual } = bothWays(build);
    expect(Object.keys(expected).every((f) => /^\d{4}-/.test(f))).toBe(true);
    expect(actual).toEqual(expected);
  });

  test('construct metadata, when the app records it', () => {
    const { expected, actual } = bothWays((props) => tenants(1, props), { recordConstructMetadata: true });
    expect(Object.keys(expected)).toContain('construct-metadata.json');
    expect(actual).toEqual(expected);
  });

  test.each(Object.keys(ENVIRONMENTS))('the %s environment: the same files as app.synth()', (name) => {
    const { expected, actual } = bothWays(({ outdir }) => {
      const app = App.of(buildEnvironment(ENVIRONMENTS[name]).charts[0].chart) as App;
      (app as { outdir: string }).outdir = outdir!;
      return app;
    });
    expect(Object.keys(expected).length).toBeGreaterThan(1);
    expect(actual).toEqual(expected);
  });

  test('fails when a construct validation fails, naming its path', () => {
    // GIVEN
    const app = new App({ outdir: tmp });
    new Chart(app, 'bad').node.addValidation({ validate: () => ['broken on purpose'] });

    // THEN
    expect(() => ErpSynth.synth(app)).toThrow(/\[bad\] broken on purpose/);
  });
});

describe('ErpSynth.synthYaml', () => {
  test('returns what app.synthYaml() returns', () => {
    expect(ErpSynth.synthYaml(tenants(2, { outdir: tmp }))).toEqual(tenants(2, { outdir: tmp }).synthYaml());
  });
});
