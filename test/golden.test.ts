import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { renderApp } from '../deploy/app-synth';
import { ENVIRONMENTS } from '../deploy/environments';
import {
  ApiGatewayChart, AppEnv, CeleryPair, CostMgmtPostgres, ErpApi, ErpOperations, ExternalDatabase, MigrationJob, Migrations,
  PostgresBackup, PostgresCredentials, Redis, resources,
} from '../src';

/*
 * Golden output: the output contract the CHANGELOG's versioning policy
 * promises (same input, same manifests). The snapshots in
 * __snapshots__/golden.test.ts.snap are the files `npm run synth` writes to
 * dist/<env>/, byte for byte, and each public construct with only its
 * required props. `npm test` runs `jest --ci`, which never writes a snapshot:
 * a changed or missing one fails. To change the output on purpose:
 * `npx jest -u test/golden.test.ts`, and say in the commit why it changed.
 */

describe('golden output: the files of dist/<env>/', () => {
  // the route of `npm run synth` (scripts/synth.js -> main() -> synthesizeApp -> renderApp),
  // with no .env.<env> or secrets.<env>.yaml and no API_GATEWAY_* variables
  const secretsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-golden-'));
  const rendered = renderApp({ secretsDir, env: {}, warn: () => undefined });

  test.each(Object.keys(ENVIRONMENTS))('%s', (env) => {
    const files = Object.fromEntries(rendered.outputs[env].map((f) => [f.name, f.text]));
    expect(files).toMatchSnapshot();
  });
});

/** A fresh chart in namespace `golden`. */
function goldenChart(): Chart {
  return new Chart(Testing.app(), 'golden', { namespace: 'golden' });
}

/** A fresh chart in namespace `golden`, beside one holding an ErpApi with only its image. */
function besideApi(): { chart: Chart; api: ErpApi } {
  const app = Testing.app();
  const api = new ErpApi(new Chart(app, 'golden-api', { namespace: 'golden' }), 'Api', { image: IMAGE });
  return { chart: new Chart(app, 'golden', { namespace: 'golden' }), api };
}

const IMAGE = 'registry.example.com/erp/api:1.4.2';

/** Each public construct of src/index.ts, built with only its required props. */
const CONSTRUCTS: Array<[string, () => Construct]> = [
  ['ErpApi', () => new ErpApi(goldenChart(), 'Api', { image: IMAGE })],
  ['CeleryPair', () => {
    const { chart, api } = besideApi();
    return new CeleryPair(chart, 'Celery', { api });
  }],
  ['CostMgmtPostgres', () => new CostMgmtPostgres(goldenChart(), 'Postgres')],
  ['Redis', () => new Redis(goldenChart(), 'Redis')],
  // its default Ingress host must be allowed
  ['ApiGatewayChart', () => new ApiGatewayChart(Testing.app(), 'golden', { allowedHosts: ['api-gateway.statushawk.internal'] })],
  ['ErpOperations', () => {
    const { chart, api } = besideApi();
    return new ErpOperations(chart, 'Operations', { api });
  }],
  ['MigrationJob', () => {
    const chart = goldenChart();
    return new MigrationJob(chart, 'MigrationJob', {
      name: 'erp-api', image: IMAGE, migrations: Migrations.django(), env: new AppEnv(chart, 'Env'),
      resources: resources('250m', '512Mi', '1000m', '2Gi'),
    });
  }],
  ['PostgresBackup', () => new PostgresBackup(goldenChart(), 'Backup', {
    // an external server's backups need its major version (the client must be as new)
    name: 'postgres', connection: ExternalDatabase.of({ host: 'db.example.com', version: 15 }).connection,
    labels: { 'app.kubernetes.io/name': 'erp-api' },
  })],
  ['PostgresCredentials', () => new PostgresCredentials(goldenChart(), 'Credentials', {
    name: 'postgres-credentials-init', image: 'quay.io/sclorg/postgresql-13-c9s:c9s',
    secrets: [{ name: 'postgres-credentials', literals: { username: 'koku', database: 'koku' } }],
  })],
  ['AppEnv', () => new AppEnv(goldenChart(), 'Env')],
];

describe('golden output: each public construct with only its required props', () => {
  test.each(CONSTRUCTS)('%s', (_name, build) => {
    // the construct's own chart (the ErpApi a CeleryPair or ErpOperations takes is in another one)
    expect(Testing.synth(Chart.of(build()))).toMatchSnapshot();
  });
});
