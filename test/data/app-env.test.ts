import { App, Chart, Testing } from 'cdk8s';
import {
  API_GATEWAY_LOCK_KEY, ApiGatewayChart, CeleryPair, CostMgmtPostgres, DATABASE_CA_DIR, ErpApi, ErpOperations, ExternalDatabase,
  Migrations, PostgresSslMode,
} from '../../src';
import { AppEnv } from '../../src/data/app-env';
import { IDatabase, mountDatabaseCa } from '../../src/data/database';
import { synthesizeCharts } from '../../deploy/synth';
import { containers, Manifest, podSpec, synth, testChart } from '../util';

const IMAGE = 'registry.example.com/erp/api:1.4.2';
const CA_PATH = `${DATABASE_CA_DIR}/ca.crt`;

/** Every workload of the objects. */
const workloads = (objs: Manifest[]) => objs.filter((o) => ['Deployment', 'StatefulSet', 'Job', 'CronJob'].includes(o.kind));
/** Containers that carry the app's database environment (DB_HOST), with their workload. */
const appContainers = (objs: Manifest[]) => workloads(objs).flatMap((w) => containers(w)
  .filter((c) => (c.env ?? []).some((e: Manifest) => e.name === 'DB_HOST')).map((c) => ({ w, c })));
const value = (c: Manifest, name: string) => (c.env ?? []).find((e: Manifest) => e.name === name)?.value;

/** ErpApi, Celery and the operations Jobs on `database`. */
function synthApp(database: IDatabase): Manifest[] {
  const chart = testChart();
  const api = new ErpApi(chart, 'Api', { image: IMAGE, database });
  new CeleryPair(chart, 'Celery', { api });
  new ErpOperations(chart, 'Operations', { api, bootstrap: { adminEmail: 'admin@example.com' } });
  return synth(chart);
}

describe('AppEnv: TLS to the database in every container that connects', () => {
  // GIVEN an external server checked against a CA (verify-full)
  const objs = synthApp(ExternalDatabase.of({ host: 'db.example.com', version: 15, sslMode: PostgresSslMode.VERIFY_FULL, caSecretName: 'db-ca' }));
  const found = appContainers(objs);

  test('the app, its init containers, the migration Job, Celery, bootstrap and the maintenance CronJobs all connect', () => {
    const names = new Set(found.map(({ w, c }) => `${w.kind}/${w.metadata.name.replace(/-[0-9a-f]{10}$/, '')}:${c.name}`));
    for (const n of ['Deployment/erp-api-app:app', 'Deployment/erp-api-app:wait-for-db', 'Deployment/erp-api-app:migrate',
      'Job/erp-api-migrate:migrate', 'Deployment/erp-api-celery-worker:worker', 'Deployment/erp-api-celery-beat:beat',
      'Deployment/erp-api-celery-worker:wait-for-migrations', 'Job/erp-api-bootstrap:bootstrap', 'CronJob/erp-api-health-check:health-check']) {
      expect(names).toContain(n);
    }
  });

  test('each gets PGSSLMODE and DB_SSLMODE, and PGSSLROOTCERT pointing at the mounted CA', () => {
    for (const { c } of found) {
      expect([c.name, value(c, 'PGSSLMODE'), value(c, 'DB_SSLMODE'), value(c, 'PGSSLROOTCERT')])
        .toEqual([c.name, 'verify-full', 'verify-full', CA_PATH]);
      expect(c.volumeMounts).toContainEqual({ name: 'postgres-ca', mountPath: DATABASE_CA_DIR, readOnly: true });
    }
  });

  test('each pod has the CA volume once: only the ca.crt key of the Secret', () => {
    const pods = new Set(found.map(({ w }) => w));
    for (const w of pods) {
      const cas = (podSpec(w).volumes ?? []).filter((v: Manifest) => v.name === 'postgres-ca');
      expect(cas).toEqual([{ name: 'postgres-ca', secret: { secretName: 'db-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }]);
    }
  });

  test('no CA, no mount: require sets the mode only', () => {
    const plain = appContainers(synthApp(ExternalDatabase.of({ host: 'db.example.com' })));
    for (const { c } of plain) {
      expect(value(c, 'PGSSLMODE')).toBe('require');
      expect(value(c, 'PGSSLROOTCERT')).toBeUndefined();
      expect((c.volumeMounts ?? []).some((m: Manifest) => m.name === 'postgres-ca')).toBe(false);
    }
  });

  test('a container added later with mountDatabaseCa (e.g. a backup step) shares the same volume', () => {
    // GIVEN
    const chart = testChart();
    const database = ExternalDatabase.of({ host: 'db.example.com', sslMode: PostgresSslMode.VERIFY_CA, caSecretName: 'db-ca' });
    const api = new ErpApi(chart, 'Api', { image: IMAGE, database, migrationJob: false });
    // WHEN
    const extra = api.deployment.addInitContainer({ name: 'extra', image: 'postgres:15.6' });
    mountDatabaseCa(chart, api.deployment, extra, database.connection);
    mountDatabaseCa(chart, api.deployment, extra, database.connection);
    // THEN
    const dep = synth(chart).find((o) => o.kind === 'Deployment')!;
    expect(podSpec(dep).volumes.filter((v: Manifest) => v.name === 'postgres-ca')).toHaveLength(1);
    expect(containers(dep).find((c) => c.name === 'extra')!.volumeMounts)
      .toEqual([{ name: 'postgres-ca', mountPath: DATABASE_CA_DIR, readOnly: true }]);
  });

  test('fails when env sets a TLS variable the database sets', () => {
    const chart = testChart();
    const database = ExternalDatabase.of({ host: 'db.example.com' });
    expect(() => new ErpApi(chart, 'Api', { image: IMAGE, database, env: { PGSSLMODE: 'disable' } })).toThrow(
      "test/Api: 'env.PGSSLMODE' (\"disable\") is set from the database's 'sslMode' / 'caSecretName'; remove it from 'env' and set those instead");
  });
});

describe('AppEnv: one database per application', () => {
  /** An ERP and a gateway in one App; the gateway's database chosen by `gateway`. */
  function build(gateway: (db: CostMgmtPostgres) => { database: IDatabase; shareDatabase?: boolean }, gatewayNamespace = 'erp'): ApiGatewayChart {
    const app = new App({ outdir: 'unused' });
    const data = new Chart(app, 'data', { namespace: 'erp' });
    const db = new CostMgmtPostgres(data, 'Postgres', {
      roles: ['hive', 'api_gateway'], databases: [{ name: 'hive', owner: 'hive' }, { name: 'api_gateway', owner: 'api_gateway' }],
    });
    new ErpApi(new Chart(app, 'web', { namespace: 'erp' }), 'Api', { image: IMAGE, database: db });
    return new ApiGatewayChart(app, 'gateway', {
      namespace: gatewayNamespace,
      allowedHosts: ['gw.example.com'],
      ingress: { hosts: [{ host: 'gw.example.com' }] },
      ...gateway(db),
    });
  }
  const synthAll = (gw: ApiGatewayChart) => synthesizeCharts(App.of(gw).charts);

  test('the gateway on its own database (databaseFor) synthesizes', () => {
    const gw = build((db) => ({ database: db.databaseFor('api_gateway') }));
    expect(() => synthAll(gw)).not.toThrow();
  });

  test('fails when the gateway shares the ERP database without asking: both paths named, and the way out', () => {
    const gw = build((db) => ({ database: db }));
    expect(() => synthAll(gw)).toThrow(
      "gateway: 'database' (\"postgres:5432/koku\") is also the database of web/Api: two applications in one database share its tables " +
      "(django_migrations, auth, sessions) and its owner role, and can read each other's data. Give each its own database " +
      "(e.g. CostMgmtPostgres.databaseFor('api_gateway') for the gateway), " +
      "or share it on purpose with 'shareDatabase: true' (ApiGatewayChart) and one migration lock key");
  });

  test('fails also when the same server is named by its full Service name', () => {
    const gw = build(() => ({ database: ExternalDatabase.of({ host: 'postgres.erp.svc.cluster.local', sslMode: PostgresSslMode.DISABLE }) }));
    expect(() => synthAll(gw)).toThrow(/gateway: 'database' \("postgres.erp.svc.cluster.local:5432\/koku"\) is also the database of web\/Api/);
  });

  test('sharing on purpose (shareDatabase: true) synthesizes, and the gateway then takes the ERP\'s migration lock', () => {
    const gw = build((db) => ({ database: db, shareDatabase: true }));
    expect(() => synthAll(gw)).not.toThrow();
    expect(gw.appEnv.shareDatabase).toBe(true);
    const job = Testing.synth(gw).find((o: Manifest) => o.kind === 'Job' && o.metadata.name.startsWith('api-gateway-migrate-'))!;
    const migrate = containers(job).find((c) => c.name === 'migrate')!;
    expect(migrate.command.join(' ')).toContain(`LOCK = ${Migrations.django().lockKey}`);
  });

  test('its own database: its own lock key', () => {
    const gw = build((db) => ({ database: db.databaseFor('api_gateway') }));
    const job = Testing.synth(gw).find((o: Manifest) => o.kind === 'Job' && o.metadata.name.startsWith('api-gateway-migrate-'))!;
    expect(containers(job).find((c) => c.name === 'migrate')!.command.join(' ')).toContain(`LOCK = ${API_GATEWAY_LOCK_KEY}`);
  });

  test('a server of the same name in another namespace is another server', () => {
    const gw = build(() => ({ database: ExternalDatabase.of({ host: 'postgres', sslMode: PostgresSslMode.DISABLE }) }), 'other');
    expect(() => synthAll(gw)).not.toThrow();
  });

  test('an AppEnv without a database is never a conflict', () => {
    const chart = testChart();
    new AppEnv(chart, 'A');
    new AppEnv(chart, 'B');
    expect(() => synth(chart)).not.toThrow();
  });
});
