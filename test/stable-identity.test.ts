/**
 * Identities are contracts: selectors, pod labels and names come from props
 * and fixed labels, never from construct paths. Renaming a chart or a
 * construct id, or moving a construct into another chart, must produce
 * objects Kubernetes accepts over the old ones (a selector is immutable).
 */
import { App, Chart } from 'cdk8s';
import { ApiGatewayChart, CeleryPair, CostMgmtPostgres, ErpApi, ErpOperations, Redis } from '../src';
import { ENVIRONMENTS } from '../deploy/environments';
import { buildEnvironment } from '../deploy/environments/erp-environment';
import { renderFiles } from '../deploy/synth';
import { Manifest } from './util';

/** The same app under other chart and construct ids (and the API moved to the data chart). */
function build(ids: { data: string; web: string; api: string; celery: string; gateway: string; sameChart: boolean }): Manifest[] {
  const app = new App({ outdir: 'unused' });
  const data = new Chart(app, ids.data, { namespace: 'shop' });
  const database = new CostMgmtPostgres(data, `${ids.data}Postgres`, {
    roles: ['hive', 'api_gateway'], databases: [{ name: 'hive', owner: 'hive' }, { name: 'api_gateway', owner: 'api_gateway' }],
  });
  const redis = new Redis(data, `${ids.data}Redis`);
  const web = ids.sameChart ? data : new Chart(app, ids.web, { namespace: 'shop' });
  const api = new ErpApi(web, ids.api, { image: 'registry.example.com/shop/api:1.4.2', database, redis, ingress: { host: 'shop.example.com' } });
  new CeleryPair(web, ids.celery, { api, worker: { replicas: 2 } });
  new ErpOperations(web, `${ids.api}Ops`, { api, bootstrap: { adminEmail: 'admin@example.com' } });
  new ApiGatewayChart(app, ids.gateway, {
    namespace: 'shop', allowedHosts: ['gw.example.com'], ingress: { hosts: [{ host: 'gw.example.com' }] },
    database: database.databaseFor('api_gateway'),
  });
  const charts = app.charts.map((chart) => ({ chart, phase: 4 }));
  return renderFiles(charts).flatMap((f) => f.objects).map((o) => {
    // the Argo CD wave and the object order may differ with the chart layout; the objects themselves may not
    const { 'argocd.argoproj.io/sync-wave': _w, ...annotations } = o.metadata.annotations ?? {};
    return { ...o, metadata: { ...o.metadata, annotations } };
  });
}

const key = (o: Manifest) => `${o.kind}/${o.metadata.name}`;
const byKey = (objs: Manifest[]) => Object.fromEntries(objs.map((o) => [key(o), o]));

describe('stable identities', () => {
  const before = build({ data: 'data', web: 'web', api: 'Api', celery: 'Celery', gateway: 'gateway', sameChart: false });
  const after = build({ data: 'infra', web: 'application', api: 'ErpBackend', celery: 'Workers', gateway: 'edge', sameChart: true });

  test('renaming charts and construct ids, and moving the API into another chart, changes no object', () => {
    expect(Object.keys(byKey(after)).sort()).toEqual(Object.keys(byKey(before)).sort());
    expect(byKey(after)).toEqual(byKey(before));
  });

  test('no object carries a construct-path label', () => {
    expect(JSON.stringify(before)).not.toContain('cdk8s.io/metadata.addr');
  });

  test.each(before.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet').map((o) => [key(o), o] as const))(
    '%s selects on app.kubernetes.io/name, instance and component, and its Service and PDB select the same pods', (_k, w) => {
      expect(Object.keys(w.spec.selector.matchLabels).sort())
        .toEqual(['app.kubernetes.io/component', 'app.kubernetes.io/instance', 'app.kubernetes.io/name']);
      for (const [k, v] of Object.entries(w.spec.selector.matchLabels)) expect(w.spec.template.metadata.labels[k]).toBe(v);
      const selectsTheseLabels = (o: Manifest) => Object.entries(o.spec.selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v);
      for (const s of before.filter((o) => o.kind === 'Service' && o.spec.selector && selectsTheseLabels(o))) {
        expect(s.spec.selector).toEqual(w.spec.selector.matchLabels);
      }
    });

  test('selectors are unique per workload within the namespace', () => {
    const selectors = before.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
      .map((o) => JSON.stringify(o.spec.selector.matchLabels));
    expect(new Set(selectors).size).toBe(selectors.length);
  });

  test.each(Object.keys(ENVIRONMENTS))('%s: no construct path in any label or selector', (name) => {
    const objs = renderFiles(buildEnvironment(ENVIRONMENTS[name]).charts).flatMap((f) => f.objects);
    expect(JSON.stringify(objs)).not.toContain('cdk8s.io/metadata.addr');
  });
});
