import { Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkAppObjects } from '../synth/app-objects';
import { API_GATEWAY_CHART_PROPS, checkShape } from '../internal/props-shape';
import { gatewayNetworkPolicies } from './api-gateway-network-policy';
import { gatewayEnvSecret } from './api-gateway-secrets';
import {
  ApiGatewayChartProps, ApiGatewayIngress, checkAllowedHost, checkSemver, djangoAllows, probeHost,
} from './api-gateway-values';
import { AppEnv } from '../app/app-env';
import { CostMgmtPostgres } from '../data/cost-mgmt-postgres';
import { DATABASE_ENV_NAMES, databaseTlsEnv, IDatabase } from '../data/database';
import { addDatabaseInitContainers, MigrationJob, releaseEnv } from '../migrations/migration-job';
import { ArgoCdHook, HelmHook, MigrationDelivery, Migrations } from '../migrations/migrations';
import { addContainer, addPodLabels, addProbeHostHeader, disableServiceLinks, nameFirstPort, stableIdentity, stablePods, standardLabels, TEMPLATE_HASH_LENGTH } from '../internal/pod-helpers';
import { checkProbeBudget, httpProbes } from '../app/probes';
import { checkTermination, softSpread } from '../app/web-service';
import { checkResources, resources } from '../internal/resources';
import { Redis } from '../data/redis';
import { DEFAULT_USER, restrictedPod } from '../internal/security';
import {
  checkDerivedName, checkDns1035Label, checkLabelValue, checkDnsSubdomain, checkHostname, checkImage, checkInt, checkNamespace, checkNoUrlCredentials, checkPort, checkUnique,
  fail, JOB_NAME_MAX,
} from '../internal/validate';

export { SECRET_POLICY_EXEMPTION } from './api-gateway-secrets';

/** Name of the chart (Chart.yaml `name`), in `helm.sh/chart` and `app.kubernetes.io/name`. */
export const API_GATEWAY_CHART_NAME = 'api-gateway';

const DEFAULT_ENV = { DEBUG: 'False', DJANGO_SETTINGS_MODULE: 'config.settings.production' };

/**
 * The gateway's default migration advisory-lock key: not ErpApi's default
 * (7245501), so each application migrates its own database under its own lock.
 */
export const API_GATEWAY_LOCK_KEY = 7245502;
const PROGRESS_DEADLINE = Duration.minutes(10);

/**
 * The API gateway (seed 003) as a typed Chart: the props are the Helm
 * values, validated at synth time (what `required` did in _helpers.tpl).
 * Deployment, Service, Ingress, ServiceAccount, an env Secret (created from
 * synth-time values, or referenced), migrations (init containers + hook
 * Job, the same pieces as ErpApi), NetworkPolicies, and optionally
 * in-cluster PostgreSQL and Redis for development.
 */
export class ApiGatewayChart extends Chart {
  /** The Deployment (id 'Deployment'). */
  public readonly deployment: kplus.Deployment;
  /** The Service. */
  public readonly service: kplus.Service;
  /** The Ingress, unless `ingress.enabled` is false. */
  public readonly ingress?: kplus.Ingress;
  /** The env Secret: created from `secretValues`, or a reference to `existingSecret`. */
  public readonly secret: kplus.ISecret;
  /** The ServiceAccount. */
  public readonly serviceAccount: kplus.ServiceAccount;
  /** The environment every container shares. */
  public readonly appEnv: AppEnv;
  /** The migration Job, unless `migrations.job` is false. */
  public readonly migrationJob?: MigrationJob;
  /** The allow policy (ingress from the controller, egress to DNS and the database), unless disabled. */
  public readonly networkPolicy?: kplus.k8s.KubeNetworkPolicy;
  /** The deny-all policy of the chart's pods, unless disabled. */
  public readonly defaultDenyPolicy?: kplus.k8s.KubeNetworkPolicy;
  /** The PodDisruptionBudget (more than one replica). */
  public readonly pdb?: kplus.k8s.KubePodDisruptionBudget;
  /** The database: `database`, or the in-chart PostgreSQL. */
  public readonly database?: IDatabase;
  /** The in-chart Redis, when `redis.enabled`. */
  public readonly redis?: Redis;
  /** Base name (release name). */
  public readonly name: string;
  /** The image reference. */
  public readonly image: string;
  /** Chart version (semver). */
  public readonly chartVersion: string;
  /** App version. */
  public readonly appVersion: string;
  /** Labels of every object of the gateway. */
  public readonly objectLabels: Record<string, string>;

  constructor(scope: Construct, id: string, props: ApiGatewayChartProps) {
    super(scope, id, props);
    checkAppObjects(this);
    checkShape(this, props, API_GATEWAY_CHART_PROPS);
    if (!props) fail(this, 'allowedHosts', undefined, 'is required');
    const production = props.production ?? false;
    // the Service is called <name> (DNS-1035); the longest derived name is the pre-migration dump Job's
    this.name = checkDns1035Label(this, 'name', props.name ?? 'api-gateway');
    checkDerivedName(this, 'name', this.name, `-pre-migration-backup-${'0'.repeat(TEMPLATE_HASH_LENGTH)}`, 'pre-migration dump Job', JOB_NAME_MAX);
    if (props.namespace !== undefined) checkNamespace(this, 'namespace', props.namespace);
    this.chartVersion = checkSemver(this, 'chartVersion', props.chartVersion ?? '0.1.0');
    const repository = props.image?.repository ?? 'devyusupov/statushawk-api-gateway';
    const pinned = gatewayImage(repository, props.image?.tag);
    const tag = pinned.tag;
    if (production && tag === 'latest') {
      fail(this, 'image.tag', tag, "must be a pinned version when 'production' is true (e.g. '1.2.0'): 'latest' moves under running pods, so replicas run different code and rollbacks are impossible");
    }
    this.image = checkImage(this, 'image', pinned.image, false);
    this.appVersion = checkLabelValue(this, 'appVersion', props.appVersion ?? pinned.version);
    const replicas = props.replicaCount ?? 2;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1 || replicas > 1000) {
      fail(this, 'replicaCount', replicas, 'must be an integer from 1 to 1000: without a replica nothing serves the Ingress; set replicaCount: 1 or more (2 keeps the gateway up during rollouts and node drains)');
    }
    const allowedHosts = this.checkAllowedHosts(props.allowedHosts, production);
    const serviceType = props.service?.type ?? kplus.ServiceType.CLUSTER_IP;
    if (![kplus.ServiceType.CLUSTER_IP, kplus.ServiceType.NODE_PORT, kplus.ServiceType.LOAD_BALANCER].includes(serviceType)) {
      fail(this, 'service.type', serviceType, "must be 'ClusterIP', 'NodePort' or 'LoadBalancer'");
    }
    const port = checkPort(this, 'service.port', props.service?.port ?? 8000);
    const user = checkInt(this, 'user', props.user ?? DEFAULT_USER, 1, 2147483647);
    const appResources = checkResources(this, 'resources', props.resources ?? resources('100m', '256Mi', '500m', '512Mi'));
    const mig = props.migrations ?? {};
    const shareDatabase = props.shareDatabase ?? false;
    const migrations = mig.framework ?? (shareDatabase ? Migrations.django() : Migrations.django({ lockKey: API_GATEWAY_LOCK_KEY }));
    const migrationResources = checkResources(this, 'migrations.resources', mig.resources ?? appResources);
    const probes = httpProbes(this, props.probes, '/api/health/', probeHost(allowedHosts));
    const { preStopDelay, grace } = checkTermination(this, props.preStopDelay, props.terminationGracePeriod);
    const env: Record<string, string> = { ...DEFAULT_ENV, ...(props.env ?? {}) };
    for (const [k, v] of Object.entries(env)) {
      checkNoUrlCredentials(this, `env.${k}`, v, "put the URL in the env Secret (secretValues / existingSecret), or pass the database as 'database'");
    }
    if (env.ALLOWED_HOSTS !== undefined) fail(this, 'env.ALLOWED_HOSTS', env.ALLOWED_HOSTS, "is set from 'allowedHosts'; remove it from 'env'");
    if (production && /^(true|1|yes|on)$/i.test(env.DEBUG ?? '')) {
      fail(this, 'env.DEBUG', env.DEBUG, "must be \"False\" when 'production' is true: Django's debug pages leak settings and source");
    }
    if (props.postgresql?.enabled && props.database) {
      fail(this, 'postgresql.enabled', true, "cannot be combined with 'database': use the in-chart PostgreSQL (development) or your own database, not both");
    }
    for (const dep of ['postgresql', 'redis'] as const) {
      if (production && props[dep]?.enabled) {
        fail(this, `${dep}.enabled`, true, `is for local development and refused when 'production' is true; pass a managed or infrastructure-chart ${dep === 'redis' ? 'Redis URL in the Secret' : "database as 'database'"}`);
      }
    }

    // Helm's standard labels; '+' (semver build metadata) is not allowed in label values.
    const labels = {
      ...standardLabels(API_GATEWAY_CHART_NAME, 'api', 'erp', this.appVersion, this.name),
      'helm.sh/chart': checkLabelValue(this, 'chartVersion', `${API_GATEWAY_CHART_NAME}-${this.chartVersion.replace(/\+/g, '_')}`),
    };
    this.objectLabels = labels;

    // Dev dependencies (seed: "PostgreSQL and Redis if needed for local development").
    if (props.postgresql?.enabled) {
      this.database = new CostMgmtPostgres(this, 'Postgresql', {
        databaseName: 'api_gateway', username: 'api_gateway', roles: [], databases: [], backup: false, storageSize: '1Gi',
        ...definedOnly(props.postgresql),
      });
    } else {
      this.database = props.database;
    }
    if (props.redis?.enabled) {
      this.redis = new Redis(this, 'Redis', definedOnly(props.redis));
      if (env.REDIS_URL !== undefined) fail(this, 'env.REDIS_URL', env.REDIS_URL, "is set from the in-chart Redis ('redis.enabled'); remove it from 'env'");
      env.REDIS_URL = this.redis.connection.url;
    }
    env.ALLOWED_HOSTS = allowedHosts.join(',');

    this.secret = gatewayEnvSecret(this, {
      name: this.name, secretValues: props.secretValues, existingSecret: props.existingSecret, production,
      shadowing: [...Object.keys(env), ...(this.database ? [...DATABASE_ENV_NAMES, ...Object.keys(databaseTlsEnv(this.database.connection))] : [])], labels,
    });
    this.appEnv = new AppEnv(this, 'Env', { secretName: this.secret.name, database: this.database?.connection, env, shareDatabase });
    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: this.name, labels },
      automountToken: false,
    });

    const tmp = kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp');
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name: this.name, labels },
      podMetadata: { labels },
      replicas,
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.absolute(1),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      progressDeadline: PROGRESS_DEADLINE,
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: restrictedPod(user),
      terminationGracePeriod: grace,
      volumes: [tmp],
      spread: false,
      select: false,
    });
    stableIdentity(this.deployment, labels);
    if ((props.spread ?? true) && replicas > 1) softSpread(this.deployment);
    addPodLabels(this.deployment, { ...this.appEnv.podLabels, ...(this.redis?.connection.clientLabels ?? {}) });
    // No `<SERVICE>_PORT=tcp://...` variables: `redis` and `postgres` Services would shadow the app's settings.
    disableServiceLinks(this.deployment);
    // Database not ready: wait-for-db retries instead of crash-looping; then
    // migrate, before the server starts and long before readiness admits traffic.
    // With a pre-migration dump, the migrate init containers wait for it too (the Job is made below).
    const preMigrationBackup = (mig.job ?? true) && (mig.preMigrationBackup ?? true) ? this.database?.backup : undefined;
    addDatabaseInitContainers(this.deployment, {
      image: this.image, migrations, env: this.appEnv, resources: migrationResources, user, tmp, migrate: mig.runOnStartup ?? true,
      releaseEnv: preMigrationBackup ? releaseEnv(preMigrationBackup, () => this.migrationJob!.jobName) : undefined,
    });
    addContainer(this.deployment, {
      name: 'app',
      image: this.image,
      command: migrations.serverCommand(port),
      portNumber: port,
      ...this.appEnv.containerProps(),
      readiness: probes.readiness(port),
      liveness: probes.liveness(port),
      startup: probes.startup(port),
      lifecycle: { preStop: kplus.Handler.fromCommand(['sleep', String(preStopDelay.toSeconds())]) },
    }, { resources: appResources, user, tmp });
    nameFirstPort(this.deployment, 'app', 'http');
    if (probes.host !== undefined) addProbeHostHeader(this.deployment, 'app', probes.host, probes.kinds);
    checkProbeBudget(this, probes, PROGRESS_DEADLINE, migrations.waitBudget);

    this.service = new kplus.Service(this, 'Service', {
      metadata: { name: this.name, labels },
      type: serviceType,
      selector: stablePods(this.deployment),
      ports: [{ name: 'http', port, targetPort: port }],
    });

    if (mig.job ?? true) {
      this.migrationJob = new MigrationJob(this, 'MigrationJob', {
        name: this.name, image: this.image, migrations, env: this.appEnv, resources: migrationResources,
        // no ServiceAccount of the release: a pre-install hook runs before it exists
        releaseId: mig.releaseId, user,
        delivery: mig.delivery ?? MigrationDelivery.all({ helmHooks: [HelmHook.POST_INSTALL, HelmHook.PRE_UPGRADE], argoCdHook: ArgoCdHook.SYNC, syncWave: 1 }),
        tmp: kplus.Volume.fromEmptyDir(this, 'JobTmp', 'tmp'),
        labels: { ...labels, 'app.kubernetes.io/component': 'migrations' },
        preMigrationBackup,
      });
    }

    if (replicas > 1) {
      this.pdb = new kplus.k8s.KubePodDisruptionBudget(this, 'Pdb', {
        metadata: { name: this.name, labels },
        spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: this.deployment.matchLabels } },
      });
    }

    const ing = props.ingress ?? {};
    if (ing.enabled ?? true) this.ingress = this.addIngress(ing, allowedHosts, port, labels);

    const np = props.networkPolicy ?? {};
    if (np.enabled ?? true) {
      const policies = gatewayNetworkPolicies(this, {
        name: this.name, values: np, port, labels, database: this.database, redis: this.redis,
        pods: { 'app.kubernetes.io/name': API_GATEWAY_CHART_NAME, 'app.kubernetes.io/instance': this.name },
      });
      this.networkPolicy = policies.allow;
      this.defaultDenyPolicy = policies.deny;
      // the migration hook may run before the allow policy exists (pre-install): its own, delivered with it
      this.migrationJob?.allowEgress(policies.egress);
    }
  }

  private checkAllowedHosts(hosts: string[] | undefined, production: boolean): string[] {
    if (!Array.isArray(hosts) || hosts.length === 0) {
      fail(this, 'allowedHosts', hosts, "is required (Django ALLOWED_HOSTS): list the host names the gateway answers to, e.g. allowedHosts: ['api-gateway.statushawk.internal']; without it Django answers 400 Bad Request to every request");
    }
    hosts.forEach((h, i) => checkAllowedHost(this, `allowedHosts[${i}]`, h, production));
    checkUnique(this, 'allowedHosts', hosts);
    return hosts;
  }

  private addIngress(opts: ApiGatewayIngress, allowedHosts: string[], port: number, labels: Record<string, string>): kplus.Ingress {
    const rules = opts.hosts ?? [{ host: 'api-gateway.statushawk.internal', paths: ['/'] }];
    if (!Array.isArray(rules) || rules.length === 0) {
      fail(this, 'ingress.hosts', rules, "must list at least one host while 'ingress.enabled' is true, e.g. [{ host: 'api-gateway.statushawk.internal', paths: ['/'] }]; or set 'ingress.enabled: false'");
    }
    rules.forEach((r, i) => {
      checkHostname(this, `ingress.hosts[${i}].host`, r?.host);
      if (!djangoAllows(allowedHosts, r.host)) {
        fail(this, 'allowedHosts', allowedHosts, `does not allow the Ingress host ${JSON.stringify(r.host)}, so Django would answer 400 to every request through the Ingress; add it to 'allowedHosts'`);
      }
      if (r.paths !== undefined && (!Array.isArray(r.paths) || r.paths.length === 0)) {
        fail(this, `ingress.hosts[${i}].paths`, r.paths, "must list at least one path prefix, e.g. ['/']; omit it for ['/']");
      }
      (r.paths ?? ['/']).forEach((p, j) => {
        if (typeof p !== 'string' || !p.startsWith('/') || /\s/.test(p)) fail(this, `ingress.hosts[${i}].paths[${j}]`, p, "must be an absolute path prefix such as '/' or '/api'");
      });
    });
    checkUnique(this, 'ingress.hosts', rules.map((r) => r.host));
    const annotations: Record<string, string> = { ...(opts.annotations ?? {}) };
    const tls: kplus.IngressTls[] = [];
    if (opts.tls) {
      if (opts.tls.clusterIssuer !== undefined) {
        annotations['cert-manager.io/cluster-issuer'] = checkDnsSubdomain(this, 'ingress.tls.clusterIssuer', opts.tls.clusterIssuer);
      }
      const secretName = checkDnsSubdomain(this, 'ingress.tls.secretName', opts.tls.secretName ?? `${this.name}-tls`);
      tls.push({ hosts: rules.map((r) => r.host), secret: kplus.Secret.fromSecretName(this, 'TlsSecret', secretName) });
    }
    const ingress = new kplus.Ingress(this, 'Ingress', {
      metadata: { name: this.name, labels, annotations: Object.keys(annotations).length ? annotations : undefined },
      className: checkDnsSubdomain(this, 'ingress.className', opts.className ?? 'nginx'),
      tls: tls.length ? tls : undefined,
    });
    for (const r of rules) {
      for (const p of r.paths ?? ['/']) {
        ingress.addHostRule(r.host, p, kplus.IngressBackend.fromService(this.service, { port }), kplus.HttpIngressPathType.PREFIX);
      }
    }
    return ingress;
  }
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * The gateway's image from `image.repository` and `image.tag`, a digest
 * pin accepted in either (`repo@sha256:<64 hex>`, `tag: 'sha256:<64 hex>'`,
 * `tag: '1.2.0@sha256:<64 hex>'`), and the default app version: the tag, or
 * for a bare digest its first 12 hex digits (a label value, at most 63
 * characters, cannot hold the whole digest).
 */
export function gatewayImage(repository: string, tag?: string): { image: string; tag: string; version: string } {
  const at = typeof repository === 'string' ? repository.indexOf('@') : -1;
  const base = at < 0 ? repository : repository.slice(0, at);
  let digest = at < 0 ? undefined : repository.slice(at + 1);
  let version = tag ?? (digest === undefined ? '1.0.0' : undefined);
  if (typeof version === 'string' && DIGEST.test(version)) [digest, version] = [version, undefined];
  else if (typeof version === 'string' && version.includes('@')) [version, digest] = version.split('@', 2);
  const image = `${base}${version === undefined ? '' : `:${version}`}${digest === undefined ? '' : `@${digest}`}`;
  return { image, tag: version ?? digest!, version: version ?? (digest ?? '').replace(/^sha256:/, '').slice(0, 12) };
}

/** A dev-dependency's props without `enabled` and without undefined values (so the chart's defaults stay). */
function definedOnly<T extends { readonly enabled?: boolean }>(values: T): Omit<T, 'enabled'> {
  return Object.fromEntries(Object.entries(values).filter(([k, v]) => k !== 'enabled' && v !== undefined)) as Omit<T, 'enabled'>;
}
