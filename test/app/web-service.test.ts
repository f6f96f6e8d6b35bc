/**
 * The web-service base (issue 15 steps 3, 5, 6): what ErpApi and
 * ApiGatewayChart share, the IErpApp the companions take, and the IDatabase
 * the gateway's policy asks where the server is.
 */
import { App, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { AppEnv, ApiGatewayChart, CeleryPair, CostMgmtPostgres, ErpApi, ErpOperations, IDatabase, IErpApp, Migrations } from '../../src';
import { all, container, Manifest, one, podSpec, synth, testChart } from '../util';

const IMAGE = 'registry.example.com/erp/api:1.4.2';
const POD_KINDS = ['Deployment', 'StatefulSet', 'Job', 'CronJob'];

describe('service links off on every pod of the app', () => {
  // GIVEN an API with a database that has backups (pre-migration dump Job), Celery, bootstrap and maintenance
  const chart = testChart();
  const database = new CostMgmtPostgres(new Chart(chart.node.scope as App, 'db', { namespace: 'erp' }), 'Db');
  const api = new ErpApi(chart, 'Api', { image: IMAGE, database });
  new CeleryPair(chart, 'Celery', { api });
  new ErpOperations(chart, 'Ops', { api, bootstrap: { adminEmail: 'admin@example.com' } });
  const objs = synth(chart);
  const pods = objs.filter((o) => POD_KINDS.includes(o.kind));

  test('every Deployment, Job and CronJob of ErpApi, CeleryPair and ErpOperations', () => {
    // THEN there are the expected workloads, and none gets `<SERVICE>_PORT=tcp://...` variables
    expect(pods.map((o) => o.kind).sort()).toEqual(['CronJob', 'CronJob', 'CronJob', 'Deployment', 'Deployment', 'Deployment', 'Job', 'Job', 'Job']);
    for (const o of pods) expect([o.kind, o.metadata.name, podSpec(o).enableServiceLinks]).toEqual([o.kind, o.metadata.name, false]);
  });
});

describe('ports named through cdk8s-plus', () => {
  test('ErpApi: http first, then metrics', () => {
    const chart = testChart();
    new ErpApi(chart, 'Api', { image: IMAGE });
    expect(container(one(synth(chart), 'Deployment'), 'app').ports)
      .toEqual([{ containerPort: 8000, name: 'http' }, { containerPort: 8001, name: 'metrics' }]);
  });

  test('ApiGatewayChart: http on the Service port', () => {
    const gw = new ApiGatewayChart(Testing.app(), 'gw', { allowedHosts: ['api-gateway.statushawk.internal'], service: { port: 9000 } });
    const objs = Testing.synth(gw) as Manifest[];
    expect(container(one(objs, 'Deployment'), 'app').ports).toEqual([{ containerPort: 9000, name: 'http' }]);
    expect(one(objs, 'Service').spec.ports).toEqual([{ name: 'http', port: 9000, targetPort: 9000 }]);
  });
});

describe('IErpApp: CeleryPair and ErpOperations take any application, not only an ErpApi', () => {
  test('a hand-made application runs its image, name and user', () => {
    // GIVEN an application that is not an ErpApi
    const chart = testChart();
    const app: IErpApp = {
      name: 'billing', image: 'registry.example.com/billing:2.0.0', migrations: Migrations.django(), user: 1234,
      appEnv: new AppEnv(chart, 'Env', { secretName: 'billing-env' }),
      serviceAccount: kplus.ServiceAccount.fromServiceAccountName(chart, 'Sa', 'billing'),
    };
    // WHEN its companions are made
    new CeleryPair(chart, 'Celery', { api: app });
    new ErpOperations(chart, 'Ops', { api: app });
    const objs = synth(chart);
    // THEN they run its image, as its user and ServiceAccount
    const worker = one(objs, 'Deployment', 'billing-celery-worker');
    expect(container(worker, 'worker').image).toBe('registry.example.com/billing:2.0.0');
    expect(podSpec(worker).securityContext.runAsUser).toBe(1234);
    expect(podSpec(worker).serviceAccountName).toBe('billing');
    expect(all(objs, 'CronJob').map((c) => c.metadata.name).sort()).toEqual(['billing-cleanup', 'billing-data-integrity', 'billing-health-check']);
  });
});

describe('the gateway asks the IDatabase where its server is', () => {
  function egressTo(database: IDatabase): unknown {
    const gw = new ApiGatewayChart(Testing.app(), 'gw', { allowedHosts: ['api-gateway.statushawk.internal'], database });
    const np = one(Testing.synth(gw) as Manifest[], 'NetworkPolicy', 'api-gateway');
    return np.spec.egress[1].to;
  }
  const connection = { host: 'db.internal', port: 5432, databaseName: 'gw', secretName: 'gw-db', clientLabels: {} };

  test('a database that names its peers', () => {
    const peers = [{ podSelector: { matchLabels: { app: 'pg' } } }];
    expect(egressTo({ connection, networkPeers: () => peers })).toEqual(peers);
  });

  test('a database at an IPv4 address, without peers of its own: that address', () => {
    expect(egressTo({ connection: { ...connection, host: '10.0.0.5' } })).toEqual([{ ipBlock: { cidr: '10.0.0.5/32' } }]);
  });

  test('a database by host name, without peers: any address on its port', () => {
    expect(egressTo({ connection })).toBeUndefined();
  });
});
