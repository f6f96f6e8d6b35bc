/**
 * What the e2e suite deploys: the committed environments (dev, staging,
 * prod) sized for a small test node, the "external" PostgreSQL and Redis that
 * prod connects to (run elsewhere in the cluster), and a FastAPI app
 * (`Migrations.alembic()`, seed 002's operations).
 */
import { App, Chart, Duration, Size } from 'cdk8s';
import {
  CostMgmtPostgres, ErpApi, ErpOperations, MigrationDelivery, Migrations, PostgresSslMode, Redis, defaultDeny, resources,
} from '../../src';
import { ENVIRONMENTS, EnvironmentConfig, EnvironmentSizing } from '../../deploy/environments';
import { renderFiles, Phase } from '../../deploy/synth';
import type { Obj } from './kube';
import { S3_BUCKET, S3_ENDPOINT } from './s3';

/**
 * Release v2 of an environment: a new image tag, one env var changed,
 * resources changed (what a routine upgrade carries).
 */
export function v2(c: EnvironmentConfig): EnvironmentConfig {
  return {
    ...c,
    images: { ...c.images, api: `${c.images.api}-v2` },
    appSettings: { ...c.appSettings, ALLOW_BOOTSTRAP_WHEN_USERS_EXIST: 'True' },
    sizing: { ...c.sizing, api: resources('60m', '224Mi', '1000m', '1Gi') },
  };
}

/** Namespace of prod's "external" database and Redis. */
export const EXTERNAL_NS = 'erp-e2e-external';
/** Namespace of the FastAPI app. */
export const FASTAPI_NS = 'erp-e2e-fastapi';
/** The FastAPI stand-in image (seed 002: uvicorn, alembic, erp-bootstrap, scripts/prod). */
export const FASTAPI_IMAGE = 'registry.example.com/erp/fastapi:0.1.0';
/** Host of the FastAPI app's Ingress (and so of its probes' Host header). */
export const FASTAPI_HOST = 'erp.fastapi.e2e.internal';

/**
 * Requests for a 2-CPU test node, the way a user sizes an app for kind or
 * minikube: lower requests (what the scheduler reserves), limits that still
 * let the real processes run. The committed environments keep the seeds'
 * figures; only this suite passes these.
 */
export const TEST_NODE_SIZING: EnvironmentSizing = {
  api: resources('50m', '192Mi', '1000m', '1Gi'),
  migrations: resources('20m', '128Mi', '1000m', '512Mi'),
  celeryWorker: resources('20m', '128Mi', '1000m', '768Mi'),
  celeryBeat: resources('10m', '96Mi', '500m', '512Mi'),
  celeryInit: resources('10m', '96Mi', '500m', '512Mi'),
  gateway: resources('20m', '128Mi', '500m', '512Mi'),
  postgres: resources('50m', '128Mi', '1000m', '1Gi'),
  redis: resources('10m', '32Mi', '200m', '128Mi'),
  operations: resources('10m', '96Mi', '500m', '512Mi'),
  backup: resources('10m', '64Mi', '500m', '256Mi'),
  credentials: resources('10m', '32Mi', '200m', '128Mi'),
};

/** ErpApi props of the suite's own small apps: one replica, no HPA/VPA/metrics, a 1Gi media volume, test-node sizing. */
const SMALL_API = {
  autoscaling: { enabled: false }, replicas: 1, vpa: { enabled: false }, metrics: { enabled: false }, media: { volumeSize: Size.gibibytes(1) },
  resources: TEST_NODE_SIZING.api, migrationResources: TEST_NODE_SIZING.migrations,
} as const;

/** The "external" server's kubernetes.io/tls Secret (CostMgmtPostgres `tls.secretName`; tls.ts makes it). */
export const DATABASE_TLS_SECRET = 'postgres-tls';
/** prod's CA Secret (`caSecretName`, key `ca.crt`; tls.ts makes it). */
export const DATABASE_CA_SECRET = 'postgres-ca';

/** Role and database of prod's gateway on the "external" server, and the Secret holding that role's credentials there. */
export const GATEWAY_DB = { role: 'api_gateway', serverSecret: 'postgres-api-gateway-credentials' } as const;

/**
 * The committed environments with test-node sizing; prod's servers point at
 * {@link EXTERNAL_NS}. prod's own database is checked with verify-full (the
 * CA Secret `postgres-ca` in prod's namespace: the CA and the host name),
 * the gateway's with prod's committed `require`: both modes run.
 */
export function e2eEnvironments(): Record<string, EnvironmentConfig> {
  const { dev, staging, prod } = ENVIRONMENTS;
  if (prod.database.mode !== 'external' || !prod.gateway.database) throw new Error('prod is expected to use external databases');
  const dbHost = `postgres.${EXTERNAL_NS}.svc.cluster.local`;
  return {
    dev: { ...dev, sizing: TEST_NODE_SIZING },
    staging: { ...staging, sizing: TEST_NODE_SIZING },
    prod: {
      ...prod,
      sizing: TEST_NODE_SIZING,
      // off-site copies go to the S3 server running in the test cluster (s3.ts)
      backups: {
        ...prod.backups,
        offsite: { ...prod.backups.offsite!, endpoint: S3_ENDPOINT, bucket: S3_BUCKET, provider: 'Other', region: 'us-east-1', forcePathStyle: true },
      },
      database: { ...prod.database, host: dbHost, sslMode: PostgresSslMode.VERIFY_FULL, caSecretName: DATABASE_CA_SECRET },
      gateway: { ...prod.gateway, database: { ...prod.gateway.database, host: dbHost } },
      redis: { mode: 'external', host: `redis.${EXTERNAL_NS}.svc.cluster.local`, port: 6379 },
    },
  };
}

/** Objects of one chart in apply order. */
function objectsOf(chart: Chart): Obj[] {
  return renderFiles([{ chart, phase: Phase.WORKLOADS }]).flatMap((f) => f.objects);
}

/**
 * prod's "external" servers: our own CostMgmtPostgres and Redis, in another
 * namespace, open to other namespaces. PostgreSQL 15 (seed 004, prod's
 * `version`), serving TLS with the Secret `postgres-tls` (create it first:
 * tls.ts), with the gateway's own role and database.
 */
export function externalServers(): Obj[] {
  const app = new App({ outdir: 'unused' });
  const chart = new Chart(app, 'external', { namespace: EXTERNAL_NS });
  new CostMgmtPostgres(chart, 'Postgres', {
    image: 'quay.io/sclorg/postgresql-15-c9s:c9s', tls: { secretName: DATABASE_TLS_SECRET },
    backup: { enabled: false }, networkPolicy: false, volumeSize: Size.gibibytes(1),
    roles: [GATEWAY_DB.role], databases: [{ name: GATEWAY_DB.role, owner: GATEWAY_DB.role }],
    resources: TEST_NODE_SIZING.postgres, credentialsResources: TEST_NODE_SIZING.credentials,
  });
  new Redis(chart, 'Redis', { networkPolicy: false, resources: TEST_NODE_SIZING.redis });
  return objectsOf(chart);
}

/** A FastAPI ERP (seed 002) built from the constructs: API, in-namespace PostgreSQL, bootstrap and maintenance. */
export function fastApiApp(): Obj[] {
  const app = new App({ outdir: 'unused' });
  const chart = new Chart(app, 'fastapi', { namespace: FASTAPI_NS });
  defaultDeny(chart, 'DefaultDeny', FASTAPI_NS);
  const database = new CostMgmtPostgres(chart, 'Postgres', {
    roles: [], databases: [], volumeSize: Size.gibibytes(1),
    resources: TEST_NODE_SIZING.postgres, credentialsResources: TEST_NODE_SIZING.credentials,
    backup: { resources: TEST_NODE_SIZING.backup, volumeSize: Size.gibibytes(1) },
  });
  const api = new ErpApi(chart, 'Api', {
    image: FASTAPI_IMAGE,
    database,
    migrations: Migrations.alembic({ workers: 2 }),
    ...SMALL_API,
    ingress: { host: FASTAPI_HOST },
  });
  new ErpOperations(chart, 'Operations', {
    api,
    bootstrap: { adminEmail: 'admin@fastapi.e2e.internal' },
    maintenance: { cleanupExecute: false },
    resources: TEST_NODE_SIZING.operations,
  });
  return objectsOf(chart);
}

/** Every image the objects run (containers and init containers, CronJob templates included). */
export function imagesOf(objects: Obj[]): string[] {
  const out = new Set<string>();
  for (const o of objects) {
    const spec = o.spec?.jobTemplate?.spec?.template?.spec ?? o.spec?.template?.spec;
    for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) out.add(c.image);
  }
  return [...out].sort();
}

/** Namespace of the backup and restore drill (backup.e2e.ts). */
export const DRILL_NS = 'erp-e2e-backup';
/** Host of the drill app's Ingress (its probes' Host header, its ALLOWED_HOSTS). */
export const DRILL_HOST = 'erp.backup.e2e.internal';
/** Key prefix of the drill's sets in the test object store. */
export const DRILL_PREFIX = 'drill';

/**
 * The drill's app: the Django ERP with media, in-namespace PostgreSQL and
 * Redis, backups to the volume and off-site to `offsite` (the in-cluster S3
 * server), media archived with them, plain kubectl delivery.
 */
export function backupDrillApp(offsite: { endpoint: string; bucket: string; credentialsSecretName: string }): Obj[] {
  const app = new App({ outdir: 'unused' });
  const chart = new Chart(app, 'drill', { namespace: DRILL_NS });
  defaultDeny(chart, 'DefaultDeny', DRILL_NS);
  const apiName = 'erp-api';
  const database = new CostMgmtPostgres(chart, 'Postgres', {
    volumeSize: Size.gibibytes(1), resources: TEST_NODE_SIZING.postgres, credentialsResources: TEST_NODE_SIZING.credentials,
    backup: {
      volumeSize: Size.gibibytes(1), resources: TEST_NODE_SIZING.backup, retention: Duration.days(7),
      offsite: { ...offsite, prefix: DRILL_PREFIX, retention: Duration.days(30) },
      archives: [{
        name: 'media', claimName: `${apiName}-media`, user: 1000,
        colocateWith: { 'app.kubernetes.io/name': apiName, 'app.kubernetes.io/instance': apiName, 'app.kubernetes.io/component': 'api' },
      }],
    },
  });
  const redis = new Redis(chart, 'Redis', { resources: TEST_NODE_SIZING.redis });
  new ErpApi(chart, 'Api', {
    name: apiName,
    image: ENVIRONMENTS.dev.images.api,
    database,
    redis,
    migrationDelivery: MigrationDelivery.plain(),
    ...SMALL_API,
    ingress: { host: DRILL_HOST },
  });
  return objectsOf(chart);
}
