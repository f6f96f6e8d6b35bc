import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { ApiGatewayChart } from '../../src/gateway/api-gateway-chart';
import { CeleryPair } from '../../src/app/celery-pair';
import { ErpApi } from '../../src/app/erp-api';
import { ErpOperations } from '../../src/app/erp-operations';
import { ArgoCdHook, HelmHook, MigrationDelivery } from '../../src/migrations/delivery';
import { defaultDeny } from '../../src/internal/network-policies';
import { applicationPhase, migrationJobs, Phase, PhasedChart } from '../synth';
import { checkEnvironment } from './check-environment';
import { EnvironmentConfig } from './config';
import { API_NAME, buildInfrastructure, Infrastructure } from './infrastructure';

/** Values given at synth time from git-ignored files or the environment, never from committed code. */
export interface SynthSecrets {
  /** The app's `.env.<env>` values: validated only, never written to dist/. */
  readonly app?: Record<string, string>;
  /** The gateway's `secrets.<env>.yaml` values. */
  readonly gateway?: Record<string, string>;
}

/**
 * Whether an environment takes the API gateway's secret values at synth time
 * (`secrets.<env>.yaml`, `API_GATEWAY_*`): a development aid; production
 * always references an existing Secret.
 */
export function takesGatewaySecretValues(config: EnvironmentConfig): boolean {
  return !config.production;
}

/** An environment's charts, in apply order. */
export interface ErpEnvironment {
  readonly config: EnvironmentConfig;
  readonly app: App;
  readonly charts: PhasedChart[];
  readonly api: ErpApi;
}

/** `registry/repo:tag` -> [`registry/repo`, `tag`]. */
function splitImage(image: string): [string, string | undefined] {
  const i = image.lastIndexOf(':');
  return i > image.lastIndexOf('/') ? [image.slice(0, i), image.slice(i + 1)] : [image, undefined];
}

/**
 * Construct ids of an environment's charts and constructs. They are not part
 * of any object's identity (names and selectors come from props): changing
 * them changes no manifest, which the tests check on a real cluster.
 */
export interface EnvironmentIds {
  /** Chart ids, suffixed to the environment name. @default 'app' and 'gateway' */
  readonly appChart?: string;
  readonly gatewayChart?: string;
  /** Construct ids in the application chart. @default 'Api' and 'Celery' */
  readonly api?: string;
  readonly celery?: string;
}

/** The namespace chart: the restricted-PSS namespace and its default-deny policy. */
function namespaceChart(app: App, config: EnvironmentConfig): Chart {
  const chart = new Chart(app, `${config.name}-namespace`);
  new kplus.Namespace(chart, 'Namespace', {
    metadata: {
      name: config.namespace,
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'v1.28',
        'pod-security.kubernetes.io/warn': 'restricted',
        'app.kubernetes.io/part-of': 'erp',
      },
    },
  });
  defaultDeny(chart, 'DefaultDeny', config.namespace);
  return chart;
}

/**
 * How migrations are delivered. With the database in the same release, a
 * pre-install hook would run before PostgreSQL exists, and Argo CD maps
 * pre-install and pre-upgrade both to PreSync; so migrate after install
 * (Helm) / in the Sync phase after the infrastructure wave (Argo CD). The
 * init containers migrate anyway, so the first install works under every tool.
 */
function migrationDelivery(config: EnvironmentConfig): MigrationDelivery {
  return config.database.mode === 'in-cluster'
    ? MigrationDelivery.all({ helmHooks: [HelmHook.POST_INSTALL, HelmHook.PRE_UPGRADE], argoCdHook: ArgoCdHook.SYNC, syncWave: -1 })
    : MigrationDelivery.all();
}

/** The application: ErpApi and CeleryPair. */
function application(chart: Chart, config: EnvironmentConfig, infra: Infrastructure, delivery: MigrationDelivery, ids: EnvironmentIds): ErpApi {
  const api = new ErpApi(chart, ids.api ?? 'Api', {
    name: API_NAME, // the backups archive its media claim (see buildInfrastructure)
    image: config.images.api,
    allowLatestImage: config.allowLatestImages,
    database: infra.database,
    redis: infra.redis,
    env: config.appSettings,
    releaseId: config.releaseId,
    migrationDelivery: delivery,
    autoscaling: config.api.autoscaling === false ? { enabled: false } : config.api.autoscaling,
    replicas: config.api.autoscaling === false ? config.api.replicas : undefined,
    resources: config.api.resources ?? config.sizing?.api,
    migrationResources: config.sizing?.migrations,
    vpa: { enabled: config.monitoring },
    metrics: { enabled: config.monitoring },
    media: {
      storageClassName: config.api.mediaStorageClass,
      accessMode: config.api.mediaAccessMode === 'ReadWriteMany'
        ? kplus.PersistentVolumeAccessMode.READ_WRITE_MANY
        : kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE,
    },
    ingress: { host: config.api.host, clusterIssuer: config.tlsIssuer },
  });
  new CeleryPair(chart, ids.celery ?? 'Celery', {
    api,
    worker: { replicas: config.celery.workerReplicas, concurrency: config.celery.concurrency, resources: config.sizing?.celeryWorker },
    beat: { resources: config.sizing?.celeryBeat },
    initResources: config.sizing?.celeryInit,
  });
  return api;
}

/** The API gateway chart, on its own database and role of the environment's PostgreSQL server (no second StatefulSet). */
function gatewayChart(app: App, config: EnvironmentConfig, infra: Infrastructure, delivery: MigrationDelivery,
  secrets: SynthSecrets, ids: EnvironmentIds): ApiGatewayChart {
  const [repository, tag] = splitImage(config.images.gateway);
  return new ApiGatewayChart(app, `${config.name}-${ids.gatewayChart ?? 'gateway'}`, {
    namespace: config.namespace,
    production: config.production,
    allowedHosts: config.gateway.allowedHosts,
    replicas: config.gateway.replicas,
    resources: config.sizing?.gateway,
    image: { repository, tag },
    ingress: {
      hosts: [{ host: config.gateway.host, paths: ['/'] }],
      clusterIssuer: config.tlsIssuer,
    },
    database: infra.gatewayDatabase,
    secretValues: takesGatewaySecretValues(config) ? secrets.gateway : undefined,
    migrationDelivery: delivery, releaseId: config.releaseId, migrationResources: config.sizing?.migrations,
    networkPolicy: { defaultDeny: false },
  });
}

/**
 * Composes one environment from the constructs: a namespace chart, the
 * infrastructure chart (credentials, PostgreSQL, Redis, backups; seed 001
 * keeps it apart from the application), the application chart (ErpApi,
 * CeleryPair), the API gateway chart and the operations chart.
 */
export function buildEnvironment(config: EnvironmentConfig, secrets: SynthSecrets = {}, ids: EnvironmentIds = {}): ErpEnvironment {
  checkEnvironment(config, secrets.app);
  const app = new App({ outdir: 'unused' });
  const ns = config.namespace;
  const nsChart = namespaceChart(app, config);
  const infraChart = new Chart(app, `${config.name}-infrastructure`, { namespace: ns });
  const infra = buildInfrastructure(infraChart, config);
  const delivery = migrationDelivery(config);
  const appChart = new Chart(app, `${config.name}-${ids.appChart ?? 'app'}`, { namespace: ns });
  const api = application(appChart, config, infra, delivery, ids);
  const gateway = gatewayChart(app, config, infra, delivery, secrets, ids);
  const opsChart = new Chart(app, `${config.name}-operations`, { namespace: ns });
  new ErpOperations(opsChart, 'Operations', {
    api,
    bootstrap: { adminEmail: config.adminEmail },
    maintenance: { cleanupExecute: config.cleanupExecute },
    resources: config.sizing?.operations,
  });
  return {
    config,
    app,
    api,
    charts: [
      { chart: nsChart, phase: Phase.NAMESPACE },
      // its NetworkPolicies with the others (10-config, wave -5): the credentials Job, an Argo CD
      // Sync hook of the infrastructure wave, must not start in the same wave as its egress policy
      { chart: infraChart, phase: (o) => (o.kind === 'NetworkPolicy' ? Phase.CONFIG : Phase.INFRASTRUCTURE) },
      // the migration Jobs (and their pre-migration dumps) to 30-migrations, named by the constructs that own them
      { chart: appChart, phase: applicationPhase(migrationJobs(api)) },
      { chart: gateway, phase: applicationPhase(migrationJobs(gateway)) },
      { chart: opsChart, phase: Phase.OPERATIONS },
    ],
  };
}
