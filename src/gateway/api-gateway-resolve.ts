import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { httpProbes } from '../app/probes';
import { aliased } from '../internal/dialect';
import { ResolvedIngress, ResolvedMigrations, ResolvedWebService } from '../app/web-service';
import { checkTermination } from '../app/web-service-parts';
import { ArgoCdHook, HelmHook, MigrationDelivery } from '../migrations/delivery';
import { Migrations } from '../migrations/migrations';
import { standardLabels } from '../internal/pod-helpers';
import { checkResources, ComputeResources, resources } from '../internal/resources';
import { DEFAULT_USER } from '../internal/security';
import { checkDnsSubdomain, checkHostname, checkInt, checkLabelValue, checkPort, checkUnique, fail } from '../internal/validate';
import { djangoAllows, probeHost } from './api-gateway-hosts';
import { ApiGatewayChartProps, ApiGatewayIngress, ApiGatewayMigrations } from './api-gateway-values';

/** Name of the chart (Chart.yaml `name`), in `helm.sh/chart` and `app.kubernetes.io/name`. */
export const API_GATEWAY_CHART_NAME = 'api-gateway';

/**
 * The gateway's default migration advisory-lock key: not ErpApi's default
 * (7245501), so each application migrates its own database under its own lock.
 * @deprecated use `ApiGatewayChart.LOCK_KEY`
 */
export const API_GATEWAY_LOCK_KEY = 7245502;
const PROGRESS_DEADLINE = Duration.minutes(10);

/** What the gateway's web service is resolved from besides its props (checked before, in the chart). */
export interface GatewayIdentity {
  readonly name: string;
  readonly image: string;
  readonly chartVersion: string;
  readonly appVersion: string;
  readonly allowedHosts: string[];
}

/** The replica count: `replicas`, or the deprecated `replicaCount`. */
function resolveReplicas(scope: Construct, props: ApiGatewayChartProps): number {
  const replicas = aliased(scope, 'replicas', props.replicas, 'replicaCount', props.replicaCount) ?? 2;
  const field = props.replicaCount !== undefined ? 'replicaCount' : 'replicas';
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1 || replicas > 1000) {
    fail(scope, field, replicas,
      `must be an integer from 1 to 1000: without a replica nothing serves the Ingress; set ${field}: 1 or more (2 keeps the gateway up during ` +
        `rollouts and node drains)`);
  }
  return replicas;
}

/** Flat migration props, or the deprecated nested `migrations: { framework, job, ... }`; both for one setting is an error. */
function resolveMigrations(scope: Construct, props: ApiGatewayChartProps, appResources: ComputeResources): ResolvedMigrations {
  const given = props.migrations;
  const isFramework = given instanceof Migrations;
  const old: ApiGatewayMigrations = (isFramework ? undefined : given) ?? {};
  const pick = <K extends keyof ApiGatewayMigrations, T>(field: string, value: T | undefined, key: K) =>
    aliased(scope, field, value, `migrations.${key}`, old[key] as T | undefined);
  const shareDatabase = props.shareDatabase ?? false;
  const framework = (isFramework ? given : old.framework)
    ?? (shareDatabase ? Migrations.django() : Migrations.django({ lockKey: API_GATEWAY_LOCK_KEY }));
  const migrationResources = pick('migrationResources', props.migrationResources, 'resources');
  return {
    framework,
    runOnStartup: pick('runMigrationsOnStartup', props.runMigrationsOnStartup, 'runOnStartup') ?? true,
    job: pick('migrationJob', props.migrationJob, 'job') ?? true,
    preMigrationBackup: pick('preMigrationBackup', props.preMigrationBackup, 'preMigrationBackup') ?? true,
    delivery: pick('migrationDelivery', props.migrationDelivery, 'delivery')
      ?? MigrationDelivery.all({ helmHooks: [HelmHook.POST_INSTALL, HelmHook.PRE_UPGRADE], argoCdHook: ArgoCdHook.SYNC, syncWave: 1 }),
    releaseId: pick('releaseId', props.releaseId, 'releaseId'),
    resources: checkResources(scope, props.migrationResources === undefined && old.resources !== undefined ? 'migrations.resources'
      : 'migrationResources', migrationResources ?? appResources),
  };
}

/** The Ingress: every host allowed by Django, path prefixes, TLS from `clusterIssuer` / `tlsSecretName` (or the deprecated `tls`). */
function resolveIngress(scope: Construct, name: string, opts: ApiGatewayIngress, allowedHosts: string[]): ResolvedIngress | undefined {
  if (!(opts.enabled ?? true)) return undefined;
  const rules = opts.hosts ?? [{ host: 'api-gateway.statushawk.internal', paths: ['/'] }];
  if (!Array.isArray(rules) || rules.length === 0) {
    fail(scope, 'ingress.hosts', rules, "must list at least one host while 'ingress.enabled' is true, e.g. [{ host: " +
      "'api-gateway.statushawk.internal', paths: ['/'] }]; or set 'ingress.enabled: false'");
  }
  rules.forEach((r, i) => {
    checkHostname(scope, `ingress.hosts[${i}].host`, r?.host);
    if (!djangoAllows(allowedHosts, r.host)) {
      fail(scope, 'allowedHosts', allowedHosts, `does not allow the Ingress host ${JSON.stringify(r.host)}, so Django would answer 400 to every ` +
        `request through the Ingress; add it to 'allowedHosts'`);
    }
    if (r.paths !== undefined && (!Array.isArray(r.paths) || r.paths.length === 0)) {
      fail(scope, `ingress.hosts[${i}].paths`, r.paths, "must list at least one path prefix, e.g. ['/']; omit it for ['/']");
    }
    (r.paths ?? ['/']).forEach((p, j) => {
      if (typeof p !== 'string' || !p.startsWith('/') || /\s/.test(p)) fail(scope, `ingress.hosts[${i}].paths[${j}]`, p, "must be an absolute " +
        "path prefix such as '/' or '/api'");
    });
  });
  checkUnique(scope, 'ingress.hosts', rules.map((r) => r.host));
  const annotations: Record<string, string> = { ...(opts.annotations ?? {}) };
  const issuer = aliased(scope, 'ingress.clusterIssuer', opts.clusterIssuer, 'ingress.tls.clusterIssuer', opts.tls?.clusterIssuer);
  const secretName = aliased(scope, 'ingress.tlsSecretName', opts.tlsSecretName, 'ingress.tls.secretName', opts.tls?.secretName);
  if (issuer !== undefined) annotations['cert-manager.io/cluster-issuer'] = checkDnsSubdomain(scope, 'ingress.clusterIssuer', issuer);
  const tls = opts.tls !== undefined || issuer !== undefined || secretName !== undefined;
  return {
    className: checkDnsSubdomain(scope, 'ingress.className', opts.className ?? 'nginx'),
    rules: rules.map((r) => ({ host: r.host, paths: r.paths ?? ['/'] })),
    annotations,
    tlsSecretName: tls ? checkDnsSubdomain(scope, 'ingress.tlsSecretName', secretName ?? `${name}-tls`) : undefined,
  };
}

/** Resolves the gateway's web service from its props once, for the chart to build from. */
export function resolveGatewayWebService(scope: Construct, props: ApiGatewayChartProps, id: GatewayIdentity): ResolvedWebService {
  const replicas = resolveReplicas(scope, props);
  const serviceType = props.service?.type ?? kplus.ServiceType.CLUSTER_IP;
  if (![kplus.ServiceType.CLUSTER_IP, kplus.ServiceType.NODE_PORT, kplus.ServiceType.LOAD_BALANCER].includes(serviceType)) {
    fail(scope, 'service.type', serviceType, "must be 'ClusterIP', 'NodePort' or 'LoadBalancer'");
  }
  const port = checkPort(scope, 'service.port', props.service?.port ?? 8000);
  const user = checkInt(scope, 'user', props.user ?? DEFAULT_USER, 1, 2147483647);
  const appResources = checkResources(scope, 'resources', props.resources ?? resources('100m', '256Mi', '500m', '512Mi'));
  const migrations = resolveMigrations(scope, props, appResources);
  const probes = httpProbes(scope, props.probes, '/api/health/', probeHost(id.allowedHosts));
  const termination = checkTermination(scope, props.preStopDelay, props.terminationGracePeriod);
  // Helm's standard labels; '+' (semver build metadata) is not allowed in label values.
  const labels = {
    ...standardLabels(API_GATEWAY_CHART_NAME, 'api', 'erp', id.appVersion, id.name),
    'helm.sh/chart': checkLabelValue(scope, 'chartVersion', `${API_GATEWAY_CHART_NAME}-${id.chartVersion.replace(/\+/g, '_')}`),
  };
  return {
    name: id.name, deployment: { name: id.name, id: 'Deployment' }, labels, image: id.image, user, port, extraPorts: [],
    replicas, maxReplicas: replicas, progressDeadline: PROGRESS_DEADLINE, spread: props.spread ?? true,
    termination, probes, resources: appResources, migrations,
    service: { type: serviceType, port, extraPorts: [] },
    ingress: resolveIngress(scope, id.name, props.ingress ?? {}, id.allowedHosts),
  };
}
