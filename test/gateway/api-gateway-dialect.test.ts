/**
 * One props dialect (issue 15 step 4): the gateway's deprecated aliases give
 * the same manifests as the canonical props, and old and new for one
 * setting is a synth error naming both.
 */
import { App, Chart, Size, Testing } from 'cdk8s';
import { ApiGatewayChart } from '../../src/gateway/api-gateway-chart';
import { ApiGatewayChartProps } from '../../src/gateway/api-gateway-values';
import { CostMgmtPostgres } from '../../src/data/cost-mgmt-postgres';
import { MigrationDelivery } from '../../src/migrations/delivery';
import { Migrations } from '../../src/migrations/migrations';
import { resources } from '../../src/internal/resources';
import { all, Manifest, one } from '../util';

const HOST = 'api-gateway.statushawk.internal';

/** The gateway's manifests, next to a database with backups (so the pre-migration dump is on). */
function manifests(props: (app: App) => Partial<ApiGatewayChartProps>): Manifest[] {
  const app = Testing.app();
  const database = new CostMgmtPostgres(new Chart(app, 'db', { namespace: 'erp' }), 'Db');
  const chart = new ApiGatewayChart(app, 'api-gateway', { allowedHosts: [HOST], database, ...props(app) });
  return Testing.synth(chart) as Manifest[];
}

const delivery = () => MigrationDelivery.helm();
const migrationResources = resources('50m', '64Mi', '200m', '256Mi');

describe('ApiGatewayChart: deprecated aliases give the same manifests', () => {
  test.each<[string, Partial<ApiGatewayChartProps>, Partial<ApiGatewayChartProps>]>([
    ['replicaCount → replicas', { replicaCount: 3 }, { replicas: 3 }],
    ['migrations.framework → migrations', { migrations: { framework: Migrations.django({ lockKey: 42 }) } },
      { migrations: Migrations.django({ lockKey: 42 }) }],
    ['migrations.runOnStartup → runMigrationsOnStartup', { migrations: { runOnStartup: false } }, { runMigrationsOnStartup: false }],
    ['migrations.job → migrationJob', { migrations: { job: false } }, { migrationJob: false }],
    ['migrations.preMigrationBackup → preMigrationBackup', { migrations: { preMigrationBackup: false } }, { preMigrationBackup: false }],
    ['migrations.delivery → migrationDelivery', { migrations: { delivery: delivery() } }, { migrationDelivery: delivery() }],
    ['migrations.releaseId → releaseId', { migrations: { releaseId: 'abc123' } }, { releaseId: 'abc123' }],
    ['migrations.resources → migrationResources', { migrations: { resources: migrationResources } }, { migrationResources }],
    ['ingress.tls.clusterIssuer → ingress.clusterIssuer', { ingress: { tls: { clusterIssuer: 'letsencrypt' } } },
      { ingress: { clusterIssuer: 'letsencrypt' } }],
    ['ingress.tls.secretName → ingress.tlsSecretName', { ingress: { tls: { secretName: 'gw-cert' } } }, { ingress: { tlsSecretName: 'gw-cert' } }],
    ['ingress.tls: {} → ingress.tlsSecretName: <name>-tls', { ingress: { tls: {} } }, { ingress: { tlsSecretName: 'api-gateway-tls' } }],
    ["postgresql.storageSize: '2Gi' → postgresql.volumeSize", { database: undefined, postgresql: { enabled: true, storageSize: '2Gi' } },
      { database: undefined, postgresql: { enabled: true, volumeSize: Size.gibibytes(2) } }],
  ])('%s', (_name, old, canonical) => {
    // GIVEN the same setting in its deprecated and its canonical form
    // WHEN both are synthesized
    const before = manifests(() => old);
    const after = manifests(() => canonical);
    // THEN the manifests are identical, and the setting took effect (they differ from the defaults)
    expect(after).toEqual(before);
    expect(after).not.toEqual(manifests(() => ({})));
  });

  test('postgresql.backup: false, { enabled: false } and the default give the same manifests: no backups of development data', () => {
    const dev = (backup?: false | { enabled: false }) => manifests(() => ({ database: undefined, postgresql: { enabled: true, backup } }));
    expect(dev(false)).toEqual(dev());
    expect(dev({ enabled: false })).toEqual(dev());
    expect(all(dev(), 'CronJob').map((c) => c.metadata.name)).not.toContain('postgres-backup');
  });

  test('postgresql: volumeSize and its deprecated alias storageSize together fail, naming both', () => {
    expect(() => manifests(() => ({ database: undefined, postgresql: { enabled: true, storageSize: '2Gi', volumeSize: Size.gibibytes(2) } })))
      .toThrow(/'volumeSize' .*cannot be combined with its deprecated alias 'storageSize'/);
  });

  test('the nested migrations form still reaches the Job (releaseId in its name)', () => {
    const objs = manifests(() => ({ migrations: { releaseId: 'abc123' } }));
    expect(all(objs, 'Job').map((j) => j.metadata.name)).toContain('api-gateway-migrate-abc123');
  });

  test('ingress.clusterIssuer: one certificate for every host, issued by cert-manager', () => {
    const objs = manifests(() => ({
      allowedHosts: [HOST, 'gw.example.com'],
      ingress: { hosts: [{ host: HOST }, { host: 'gw.example.com' }], clusterIssuer: 'letsencrypt' },
    }));
    const ing = one(objs, 'Ingress');
    expect(ing.metadata.annotations['cert-manager.io/cluster-issuer']).toBe('letsencrypt');
    expect(ing.spec.tls).toEqual([{ hosts: [HOST, 'gw.example.com'], secretName: 'api-gateway-tls' }]);
  });
});

describe('ApiGatewayChart: an alias and its canonical prop together', () => {
  test.each<[string, Partial<ApiGatewayChartProps>, RegExp]>([
    ['replicas and replicaCount', { replicas: 2, replicaCount: 3 }, /'replicas' \(2\) cannot be combined with its deprecated alias 'replicaCount' \(3\)/],
    ['runMigrationsOnStartup and migrations.runOnStartup', { runMigrationsOnStartup: true, migrations: { runOnStartup: false } },
      /'runMigrationsOnStartup' \(true\) cannot be combined with its deprecated alias 'migrations.runOnStartup' \(false\)/],
    ['migrationJob and migrations.job', { migrationJob: true, migrations: { job: false } }, /'migrationJob' \(true\) cannot be combined with .*'migrations.job'/],
    ['preMigrationBackup twice', { preMigrationBackup: true, migrations: { preMigrationBackup: false } },
      /'preMigrationBackup' \(true\) cannot be combined with .*'migrations.preMigrationBackup'/],
    ['migrationDelivery and migrations.delivery', { migrationDelivery: delivery(), migrations: { delivery: delivery() } },
      /'migrationDelivery' .* cannot be combined with .*'migrations.delivery'/],
    ['releaseId twice', { releaseId: 'a', migrations: { releaseId: 'b' } }, /'releaseId' \("a"\) cannot be combined with .*'migrations.releaseId' \("b"\)/],
    ['migrationResources and migrations.resources', { migrationResources, migrations: { resources: migrationResources } },
      /'migrationResources' .* cannot be combined with .*'migrations.resources'/],
    ['ingress.clusterIssuer and ingress.tls.clusterIssuer', { ingress: { clusterIssuer: 'a', tls: { clusterIssuer: 'b' } } },
      /'ingress.clusterIssuer' \("a"\) cannot be combined with its deprecated alias 'ingress.tls.clusterIssuer' \("b"\)/],
    ['ingress.tlsSecretName and ingress.tls.secretName', { ingress: { tlsSecretName: 'a', tls: { secretName: 'b' } } },
      /'ingress.tlsSecretName' \("a"\) cannot be combined with its deprecated alias 'ingress.tls.secretName' \("b"\)/],
  ])('fails when %s are given', (_name, props, message) => {
    expect(() => manifests(() => props)).toThrow(message);
  });
});
