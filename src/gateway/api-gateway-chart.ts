import { Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkAppObjects } from '../internal/app-objects';
import { API_GATEWAY_CHART_PROPS, checkShape } from '../internal/props-shape';
import { gatewayNetworkPolicies, ResolvedGatewayNetworkPolicy, resolveGatewayNetworkPolicy } from './api-gateway-network-policy';
import { API_GATEWAY_CHART_NAME, API_GATEWAY_LOCK_KEY, resolveGatewayWebService } from './api-gateway-resolve';
import { gatewayEnvSecret } from './api-gateway-secrets';
import { checkAllowedHost, checkSemver } from './api-gateway-hosts';
import { ApiGatewayChartProps } from './api-gateway-values';
import { AppEnv } from '../data/app-env';
import { addWebIngress, addWebMigrationJob, addWebPdb, addWebService, addWebWorkload, ResolvedWebService, WebDependencies } from '../app/web-service';
import { softSpread } from '../app/web-service-parts';
import { CostMgmtPostgres } from '../data/cost-mgmt-postgres';
import { DATABASE_ENV_NAMES, databaseTlsEnv, IDatabase } from '../data/database';
import { MigrationJob } from '../migrations/migration-job';
import { TEMPLATE_HASH_LENGTH } from '../internal/pod-helpers';
import { Redis } from '../data/redis';
import {
  checkDerivedName, checkDns1035Label, checkImage, checkLabelValue, checkNamespace, checkNoUrlCredentials, checkUnique, fail, JOB_NAME_MAX,
} from '../internal/validate';


const DEFAULT_ENV = { DEBUG: 'False', DJANGO_SETTINGS_MODULE: 'config.settings.production' };

/**
 * The API gateway (seed 003) as a typed Chart: the props are the Helm
 * values, validated at synth time (what `required` did in _helpers.tpl).
 * Deployment, Service, Ingress, ServiceAccount, an env Secret (created from
 * synth-time values, or referenced), migrations (init containers + hook
 * Job, the same pieces as ErpApi), NetworkPolicies, and optionally
 * in-cluster PostgreSQL and Redis for development.
 */
export class ApiGatewayChart extends Chart {
  /**
   * The gateway's default migration advisory-lock key (7245502): not ErpApi's
   * default (7245501), so each application migrates its own database under
   * its own lock.
   */
  public static readonly LOCK_KEY: number = API_GATEWAY_LOCK_KEY;

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
    this.name = checkGatewayName(this, props.name ?? 'api-gateway');
    if (props.namespace !== undefined) checkNamespace(this, 'namespace', props.namespace);
    this.chartVersion = checkSemver(this, 'chartVersion', props.chartVersion ?? '0.1.0');
    const pinned = gatewayImage(props.image?.repository ?? 'devyusupov/statushawk-api-gateway', props.image?.tag);
    if (production && pinned.tag === 'latest') {
      fail(this, 'image.tag', pinned.tag, "must be a pinned version when 'production' is true (e.g. '1.2.0'): 'latest' moves under running pods, " +
        "so replicas run different code and rollbacks are impossible");
    }
    this.image = checkImage(this, 'image', pinned.image, false);
    this.appVersion = checkLabelValue(this, 'appVersion', props.appVersion ?? pinned.version);
    const allowedHosts = this.checkAllowedHosts(props.allowedHosts, production);
    const c = resolveGatewayWebService(this, props, {
      name: this.name, image: this.image, chartVersion: this.chartVersion, appVersion: this.appVersion, allowedHosts,
    });
    const env = this.resolveEnv(props, production);
    const networkPolicy = resolveGatewayNetworkPolicy(props.networkPolicy);
    this.objectLabels = c.labels;

    const dev = devDependencies(this, props, env);
    this.database = dev.database;
    this.redis = dev.redis;
    env.ALLOWED_HOSTS = allowedHosts.join(',');
    this.secret = gatewayEnvSecret(this, {
      name: this.name, secretValues: props.secretValues, existingSecret: props.existingSecret, production, labels: c.labels,
      shadowing: [...Object.keys(env), ...(this.database ? [...DATABASE_ENV_NAMES, ...Object.keys(databaseTlsEnv(this.database.connection))] : [])],
    });
    this.appEnv = new AppEnv(this, 'Env', {
      secretName: this.secret.name, database: this.database?.connection, env, shareDatabase: props.shareDatabase ?? false,
    });

    const podLabels = { ...this.appEnv.podLabels, ...(this.redis?.connection.clientLabels ?? {}) };
    const deps: WebDependencies = { env: this.appEnv, database: this.database, podLabels };
    const workload = addWebWorkload(this, c, deps, () => this.migrationJob);
    this.serviceAccount = workload.serviceAccount;
    this.deployment = workload.deployment;
    if (c.spread && c.maxReplicas > 1) softSpread(this.deployment);
    this.service = addWebService(this, c, this.deployment);
    this.migrationJob = addWebMigrationJob(this, c, deps);
    this.pdb = addWebPdb(this, c, this.deployment);
    this.ingress = addWebIngress(this, c, this.service);
    const policies = networkPolicy && this.addNetworkPolicies(c, networkPolicy);
    this.networkPolicy = policies?.allow;
    this.defaultDenyPolicy = policies?.deny;
  }

  /** The allow and deny-all policies; the migration hook gets its own egress. */
  private addNetworkPolicies(c: ResolvedWebService, policy: ResolvedGatewayNetworkPolicy):
    { allow: kplus.k8s.KubeNetworkPolicy; deny?: kplus.k8s.KubeNetworkPolicy } {
    const policies = gatewayNetworkPolicies(this, {
      name: this.name, policy, port: c.port, labels: c.labels, database: this.database, redis: this.redis,
      pods: { 'app.kubernetes.io/name': API_GATEWAY_CHART_NAME, 'app.kubernetes.io/instance': this.name },
    });
    // the migration hook may run before the allow policy exists (pre-install): its own, delivered with it
    this.migrationJob?.allowEgress(policies.egress);
    return policies;
  }

  /** The plain variables: the defaults, then `env`; no credentials in URLs, no ALLOWED_HOSTS, no DEBUG in production. */
  private resolveEnv(props: ApiGatewayChartProps, production: boolean): Record<string, string> {
    const env: Record<string, string> = { ...DEFAULT_ENV, ...(props.env ?? {}) };
    for (const [k, v] of Object.entries(env)) {
      checkNoUrlCredentials(this, `env.${k}`, v, "put the URL in the env Secret (secretValues / existingSecret), or pass the database as 'database'");
    }
    if (env.ALLOWED_HOSTS !== undefined) fail(this, 'env.ALLOWED_HOSTS', env.ALLOWED_HOSTS, "is set from 'allowedHosts'; remove it from 'env'");
    if (production && /^(true|1|yes|on)$/i.test(env.DEBUG ?? '')) {
      fail(this, 'env.DEBUG', env.DEBUG, "must be \"False\" when 'production' is true: Django's debug pages leak settings and source");
    }
    if (props.postgresql?.enabled && props.database) {
      fail(this, 'postgresql.enabled', true, "cannot be combined with 'database': use the in-chart PostgreSQL (development) or your own database, " +
        "not both");
    }
    for (const dep of ['postgresql', 'redis'] as const) {
      if (production && props[dep]?.enabled) {
        fail(this, `${dep}.enabled`, true,
          `is for local development and refused when 'production' is true; pass a managed or infrastructure-chart ` +
            `${dep === 'redis' ? 'Redis URL in the Secret' : "database as 'database'"}`);
      }
    }
    return env;
  }

  private checkAllowedHosts(hosts: string[] | undefined, production: boolean): string[] {
    if (!Array.isArray(hosts) || hosts.length === 0) {
      fail(this, 'allowedHosts', hosts, "is required (Django ALLOWED_HOSTS): list the host names the gateway answers to, e.g. allowedHosts: " +
        "['api-gateway.statushawk.internal']; without it Django answers 400 Bad Request to every request");
    }
    hosts.forEach((h, i) => checkAllowedHost(this, `allowedHosts[${i}]`, h, production));
    checkUnique(this, 'allowedHosts', hosts);
    return hosts;
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

/** The chart's `name`: a DNS-1035 label (the Service is called `<name>`); the longest derived name is the pre-migration dump Job's. */
function checkGatewayName(scope: Construct, name: string): string {
  checkDns1035Label(scope, 'name', name);
  return checkDerivedName(scope, 'name', name, `-pre-migration-backup-${'0'.repeat(TEMPLATE_HASH_LENGTH)}`, 'pre-migration dump Job', JOB_NAME_MAX);
}

/**
 * The dev dependencies (seed: "PostgreSQL and Redis if needed for local
 * development"): the in-chart PostgreSQL (else `database`) and Redis, whose
 * URL goes into `env`.
 */
function devDependencies(scope: Construct, props: ApiGatewayChartProps, env: Record<string, string>): { database?: IDatabase; redis?: Redis } {
  const pg = props.postgresql;
  const database = pg?.enabled ? new CostMgmtPostgres(scope, 'Postgresql', {
    databaseName: 'api_gateway', username: 'api_gateway', roles: [], databases: [], backup: { enabled: false },
    // the default size only when neither the size nor its deprecated alias (storageSize) is given
    ...(pg.volumeSize === undefined && pg.storageSize === undefined ? { volumeSize: Size.gibibytes(1) } : {}),
    ...definedOnly(pg),
  }) : props.database;
  if (!props.redis?.enabled) return { database };
  const redis = new Redis(scope, 'Redis', definedOnly(props.redis));
  if (env.REDIS_URL !== undefined) fail(scope, 'env.REDIS_URL', env.REDIS_URL, "is set from the in-chart Redis ('redis.enabled'); remove it from " +
    "'env'");
  env.REDIS_URL = redis.connection.url;
  return { database, redis };
}
