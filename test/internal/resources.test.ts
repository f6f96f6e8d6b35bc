/**
 * Requests and limits go through cdk8s-plus (`ContainerProps.resources`), so
 * the exposed container reads them, and the manifest holds them in the form
 * the API server stores (`1Gi`, not cdk8s-plus' `1024Mi`), whichever route
 * renders it: plain `app.synth()` / `Testing.synth()`, or `ErpSynth`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Cron, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { parse } from 'yaml';
import { ErpSynth } from '../../src';
import { addContainer } from '../../src/internal/pod-helpers';
import { ComputeResources, resources, toCpu, toSize } from '../../src/internal/resources';
import { synthesizeCharts } from '../../deploy/synth';
import { container, Manifest, one } from '../util';

const R: ComputeResources = resources('2000m', '1Gi', '2', '1536Mi');
const INIT: ComputeResources = resources('0.5', '512M', '1', '1Gi');

/** A chart with a Deployment (one init container, two containers) and a CronJob. */
function workloads(app: App): Chart {
  const chart = new Chart(app, 'res', { namespace: 'erp' });
  const dep = new kplus.Deployment(chart, 'Dep', { replicas: 1 });
  addContainer(dep, { name: 'migrate', image: 'erp/api:1' }, { resources: INIT, init: true });
  addContainer(dep, { name: 'web', image: 'erp/api:1' }, { resources: R });
  addContainer(dep, { name: 'sidecar', image: 'erp/api:1' }, { resources: resources('10m', '64Mi', '100m', '128Mi') });
  const cj = new kplus.CronJob(chart, 'Cron', { schedule: Cron.daily() });
  addContainer(cj, { name: 'job', image: 'erp/api:1' }, { resources: R });
  return chart;
}

/** What the manifest must hold for R and INIT. */
const EXACT = { limits: { cpu: '2', memory: '1536Mi' }, requests: { cpu: '2', memory: '1Gi' } };
const EXACT_INIT = { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '512M' } };

function expectExact(objs: Manifest[]): void {
  const dep = one(objs, 'Deployment');
  expect(container(dep, 'web').resources).toEqual(EXACT);
  expect(container(dep, 'migrate').resources).toEqual(EXACT_INIT);
  expect(container(dep, 'sidecar').resources).toEqual({ limits: { cpu: '100m', memory: '128Mi' }, requests: { cpu: '10m', memory: '64Mi' } });
  expect(container(one(objs, 'CronJob'), 'job').resources).toEqual(EXACT);
}

describe('container resources', () => {
  test('the cdk8s-plus container reads the configured requests and limits', () => {
    const dep = new kplus.Deployment(new Chart(Testing.app(), 'c'), 'Dep');
    const c = addContainer(dep, { name: 'web', image: 'erp/api:1' }, { resources: R });
    expect(c.resources?.cpu?.request?.amount).toBe('2000m');
    expect(c.resources?.cpu?.limit?.amount).toBe('2');
    expect(c.resources?.memory?.request?.toGibibytes()).toBe(1);
    expect(c.resources?.memory?.limit?.toMebibytes()).toBe(1536);
    expect(dep.containers[0]).toBe(c);
  });

  test('quantities as cdk8s-plus types', () => {
    expect(toCpu('250m').amount).toBe('250m');
    expect(toCpu('0.5').amount).toBe('0.5');
    expect(toSize('3Gi').toGibibytes()).toBe(3);
    expect(toSize('768Mi').toMebibytes()).toBe(768);
    // not whole mebibytes: kept exact in (fractional) mebibytes
    expect(toSize('512M').toMebibytes()).toBe(512e6 / 2 ** 20);
    expect(toSize('100Ki').toKibibytes()).toBe(100);
  });

  test('Testing.synth(chart): exact canonical quantities, each container found by name', () => {
    expectExact(Testing.synth(workloads(Testing.app())) as Manifest[]);
  });

  test('app.synth(): the files hold the exact canonical quantities', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-res-'));
    try {
      const app = new App({ outdir });
      workloads(app);
      app.synth();
      const text = fs.readFileSync(path.join(outdir, 'res.k8s.yaml'), 'utf8');
      expectExact(text.split(/^---$/m).map((d) => parse(d)).filter(Boolean));
      expect(text).not.toMatch(/1024Mi|2000m/);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('ErpSynth and synthesizeCharts (the server-form route): the same quantities', () => {
    const app = Testing.app();
    const chart = workloads(app);
    expectExact(synthesizeCharts([chart])[0]);
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-res-'));
    try {
      const synthApp = new App({ outdir });
      workloads(synthApp);
      ErpSynth.synth(synthApp);
      const text = fs.readFileSync(path.join(outdir, 'res.k8s.yaml'), 'utf8');
      expectExact(text.split(/^---$/m).map((d) => parse(d)).filter(Boolean));
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('a container added in front later still gets its own resources (found by name, not position)', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'erp' });
    const dep = new kplus.Deployment(chart, 'Dep', { replicas: 1 });
    addContainer(dep, { name: 'web', image: 'erp/api:1' }, { resources: R });
    addContainer(dep, { name: 'side', image: 'erp/api:1' }, { resources: INIT });
    // reorder what cdk8s-plus renders: the resources must still follow the names
    const list = (dep as unknown as { _containers: kplus.Container[] })._containers;
    list.reverse();
    const d = one(Testing.synth(chart) as Manifest[], 'Deployment');
    expect(d.spec.template.spec.containers.map((c: Manifest) => c.name)).toEqual(['side', 'web']);
    expect(container(d, 'web').resources).toEqual(EXACT);
    expect(container(d, 'side').resources).toEqual(EXACT_INIT);
  });
});
