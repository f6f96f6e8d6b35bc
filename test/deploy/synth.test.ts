import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { buildEnvironment, ENVIRONMENTS } from '../../deploy/environments';
import { checkPolicy } from '../../src/gates/policy';
import { ApiGatewayChart } from '../../src/gateway/api-gateway-chart';
import {
  applicationPhase, migrationJobs, renderEnvironments, renderFiles, synthesizeCharts, writeEnvironments, writeRenderedEnvironments,
} from '../../deploy/synth';
import { toYaml } from '../../src/synth/yaml';
import { serverForm } from '../../src/internal/server-form';

// One build per environment, shared by every test below.
const built = Object.fromEntries(Object.entries(ENVIRONMENTS).map(([name, config]) => [name, buildEnvironment(config)]));
const rendered = Object.fromEntries(Object.entries(built).map(([name, env]) => [name, renderFiles(env.charts)]));

describe('synthesizeCharts', () => {
  test.each(Object.keys(ENVIRONMENTS))('%s: the same objects, in the same order, as chart.toJson()', (name) => {
    // a second build: toJson() must not see the first one's resolved dependencies
    // chart.toJson() in the form the API server stores (see server-form.ts)
    const reference = buildEnvironment(ENVIRONMENTS[name]).charts.map(({ chart }) => chart.toJson().map(serverForm));
    expect(synthesizeCharts(built[name].charts.map(({ chart }) => chart))).toEqual(reference);
  });

  test('charts of several apps: each app is prepared on its own', () => {
    const charts = ['a', 'b'].map((id) => {
      const chart = new Chart(Testing.app(), id, { namespace: id });
      new kplus.ConfigMap(chart, 'Config', { data: { id } });
      return chart;
    });
    const out = renderEnvironments({ a: [{ chart: charts[0], phase: 1 }], b: [{ chart: charts[1], phase: 1 }] });
    expect(out.a[0].objects[0].data).toEqual({ id: 'a' });
    expect(out.b[0].objects[0].metadata.namespace).toBe('b');
  });

  test('construct validation errors still fail the render', () => {
    const chart = new Chart(Testing.app(), 'bad');
    chart.node.addValidation({ validate: () => ['broken on purpose'] });
    expect(() => renderFiles([{ chart, phase: 1 }])).toThrow(/construct validation failed:\n {2}\[bad\] broken on purpose/);
  });
});

describe('phases', () => {
  const job = (chart: Chart, id: string, component: string) => new ApiObject(chart, id, {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: id, labels: { 'app.kubernetes.io/component': component } },
  });

  test('a Job goes to 30-migrations because the deployment names it, not because of its component label', () => {
    const chart = new Chart(Testing.app(), 'app', { namespace: 'x' });
    const named = job(chart, 'named', 'worker');
    job(chart, 'labelled', 'migrations');
    new ApiObject(chart, 'config', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config' } });
    const files = renderFiles([{ chart, phase: applicationPhase([named]) }]);
    expect(files.map((f) => [f.name, f.objects.map((o) => o.metadata.name)])).toEqual([
      ['10-config.k8s.yaml', ['config']], ['30-migrations.k8s.yaml', ['named']], ['40-workloads.k8s.yaml', ['labelled']],
    ]);
    expect(files[1].objects[0].metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('-1');
  });

  test.each(Object.keys(ENVIRONMENTS))('%s: 30-migrations holds exactly the migration Jobs and pre-migration dumps the constructs expose', (name) => {
    const env = built[name];
    // not `instanceof ApiGatewayChart`: cdk8s' Chart[Symbol.hasInstance] makes every chart pass it
    const gateway = env.charts.map((c) => c.chart).find((c) => c.node.id === `${name}-gateway`) as ApiGatewayChart;
    const expected = migrationJobs(env.api, gateway).map((o) => o.toJson().metadata.name).sort();
    const migrations = rendered[name].find((f) => f.name === '30-migrations.k8s.yaml')?.objects ?? [];
    expect(migrations.map((o) => o.metadata.name).sort()).toEqual(expected);
    expect(expected.length).toBeGreaterThanOrEqual(2);
  });
});

describe('policy index', () => {
  test('hundreds of namespaces: the same verdicts as one namespace at a time', () => {
    const objects = rendered.prod.flatMap((f) => f.objects);
    const alone = checkPolicy(objects, { defaultNamespace: 'erp-prod' });
    const many = Array.from({ length: 50 }, (_, i) => objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: `t${i}` } }))).flat();
    const result = checkPolicy(many, { defaultNamespace: 'erp-prod' });
    expect(result.violations.length).toBe(alone.violations.length * 50);
    expect(result.exemptions.length).toBe(alone.exemptions.length * 50);
  });
});

describe('writing environments', () => {
  const tree = (dir: string): Record<string, string> => Object.fromEntries(fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()
    .map((f) => [f, fs.statSync(path.join(dir, f)).isDirectory() ? '<dir>' : fs.readFileSync(path.join(dir, f), 'utf8')]));
  const v = (text: string) => [{ name: '10-config.k8s.yaml', text }];

  test('writes each <outdir>/<env>/ whole and returns every file; a folder already holding the same bytes is left alone', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-write-'));
    expect(writeEnvironments(out, rendered)).toHaveLength(Object.values(rendered).flat().length);
    const again = writeRenderedEnvironments(out, {
      dev: v(toYaml(rendered.dev[1].objects)),
      prod: rendered.prod.map((f) => ({ name: f.name, text: toYaml(f.objects) })),
    });
    expect(again).toMatchObject({ written: ['dev'], unchanged: ['prod'] });
    expect(fs.readdirSync(path.join(out, 'dev'))).toEqual(['10-config.k8s.yaml']);
  });

  test('a swap that fails puts back the folders already swapped, and leaves no staging folder', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-write-'));
    writeRenderedEnvironments(out, { a: v('a: 1\n'), b: v('b: 1\n') });
    const before = tree(out);
    const realFs = jest.requireActual<typeof fs>('fs');
    const rename = realFs.renameSync;
    let failed = false; // the staging folder of b cannot be moved into place (once)
    const spy = jest.spyOn(realFs, 'renameSync').mockImplementation((from, to) => {
      if (!failed && String(to) === path.join(out, 'b') && String(from).includes('.staging-')) {
        failed = true;
        throw Object.assign(new Error('EXDEV: simulated'), { code: 'EXDEV' });
      }
      return rename(from, to);
    });
    try {
      expect(() => writeRenderedEnvironments(out, { a: v('a: 2\n'), b: v('b: 2\n') })).toThrow(/simulated/);
    } finally {
      spy.mockRestore();
    }
    expect(tree(out)).toEqual(before);
  });
});
