import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { IDatabase } from '../data/database';
import { INGRESS_NGINX, PROMETHEUS, TrafficSource } from '../internal/network-policies';
import { standardLabels } from '../internal/pod-helpers';
import { checkResources, resources } from '../internal/resources';
import { DEFAULT_USER } from '../internal/security';
import { checkDnsSubdomain, checkHostname, checkImage, checkInt, checkLabels, checkPort, fail } from '../internal/validate';
import { Migrations } from '../migrations/migrations';
import { AppEnvOptions } from '../data/app-env';
import { ErpApiIngress, ErpApiProps, VpaMode } from './erp-api-props';
import { httpProbes } from './probes';
import { enabledOptions } from '../internal/dialect';
import { volumeStorage } from '../internal/storage';
import { ResolvedIngress, ResolvedWebService } from './web-service';
import { bodySize, checkTermination } from './web-service-parts';

/** {@link ErpApiProps} resolved: validated, defaults applied, deprecated forms mapped. */
export interface ResolvedErpApi {
  /** The web service every ERP server is. */
  readonly web: ResolvedWebService;
  /** The environment of every container. */
  readonly env: AppEnvOptions;
  /** The database, if any (its backups make the pre-migration dump). */
  readonly database?: IDatabase;
  /** The HPA, if on. */
  readonly scaling?: { readonly min: number; readonly max: number; readonly cpu: number; readonly memory: number };
  /** The VPA's update mode, if on. */
  readonly vpaMode?: VpaMode;
  /** The media volume, if on. */
  readonly media?: {
    readonly size: string; readonly storageClassName: string; readonly mountPath: string; readonly accessMode: kplus.PersistentVolumeAccessMode;
  };
  /** Prometheus scraping, if on. */
  readonly metrics?: {
    readonly port: number; readonly path: string; readonly interval: Duration; readonly serviceMonitorLabels: Record<string, string>;
  };
  /** The NetworkPolicies, if on. */
  readonly networkPolicy?: { readonly ingressFrom: TrafficSource[]; readonly metricsFrom: TrafficSource[]; readonly egressPorts: number[] };
}

/** Resolves the HPA: `undefined` when off. */
function resolveScaling(scope: Construct, props: ErpApiProps): ResolvedErpApi['scaling'] {
  const a = enabledOptions(scope, 'autoscaling', props.autoscaling, true);
  if (!a) return undefined;
  const scaling = {
    min: checkInt(scope, 'autoscaling.minReplicas', a.minReplicas ?? 1, 1, 1000),
    max: checkInt(scope, 'autoscaling.maxReplicas', a.maxReplicas ?? 6, 1, 1000),
    cpu: checkInt(scope, 'autoscaling.cpuUtilization', a.cpuUtilization ?? 70, 1, 100),
    memory: checkInt(scope, 'autoscaling.memoryUtilization', a.memoryUtilization ?? 75, 1, 100),
  };
  if (scaling.min > scaling.max) fail(scope, 'autoscaling.minReplicas', scaling.min, `must be at most 'autoscaling.maxReplicas' (${scaling.max})`);
  if (props.replicas !== undefined) {
    fail(scope, 'replicas', props.replicas, "cannot be combined with 'autoscaling' (the HPA owns the replica count); set 'autoscaling: { enabled: " +
      "false }' or use 'autoscaling.minReplicas'");
  }
  return scaling;
}

/** Resolves the VPA: its update mode, `undefined` when off. */
function resolveVpa(scope: Construct, props: ErpApiProps, hpa: boolean): VpaMode | undefined {
  const v = enabledOptions(scope, 'vpa', props.vpa, true);
  if (!v) return undefined;
  const mode = v.updateMode ?? (hpa ? VpaMode.OFF : VpaMode.RECREATE);
  if (hpa && mode !== VpaMode.OFF) {
    fail(scope, 'vpa.updateMode', mode, "must be 'Off' while 'autoscaling' is on: the HPA scales on CPU and memory, and a VPA changing the same " +
      "requests would fight it. Set 'autoscaling: { enabled: false }' to let the VPA act, or keep 'Off' for recommendations only");
  }
  return mode;
}

/** Resolves the media volume: `undefined` when off. */
function resolveMedia(scope: Construct, props: ErpApiProps): ResolvedErpApi['media'] {
  const m = enabledOptions(scope, 'media', props.media, true);
  if (!m) return undefined;
  const storageClassName = m.storageClassName ?? 'local-path';
  // checks both; the deprecated 'media.size' may be a Size or a quantity string
  const storage = volumeStorage(scope, 'media.', { volumeSize: m.volumeSize, storageClassName }, 'size', m.size, Size.gibibytes(20));
  return {
    size: storage.size,
    storageClassName,
    mountPath: m.mountPath ?? '/app/media',
    accessMode: m.accessMode ?? kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE,
  };
}

/** Resolves Prometheus scraping: `undefined` when off. */
function resolveMetrics(scope: Construct, props: ErpApiProps, port: number): ResolvedErpApi['metrics'] {
  const m = enabledOptions(scope, 'metrics', props.metrics, true);
  if (!m) return undefined;
  const metricsPort = checkPort(scope, 'metrics.port', m.port ?? 8001);
  if (metricsPort === port) fail(scope, 'metrics.port', metricsPort, `must differ from 'port' (${port})`);
  return {
    port: metricsPort,
    path: m.path ?? '/metrics',
    interval: m.interval ?? Duration.seconds(30),
    serviceMonitorLabels: checkLabels(scope, 'metrics.serviceMonitorLabels', m.serviceMonitorLabels ?? {}),
  };
}

/** Resolves the Ingress: one host, WebSocket timeouts, body size; TLS with an issuer or a Secret. */
function resolveIngress(scope: Construct, name: string, opts: ErpApiIngress | undefined): ResolvedIngress | undefined {
  if (!opts || opts.enabled === false) return undefined;
  const host = checkHostname(scope, 'ingress.host', opts.host);
  const timeout = String((opts.websocketTimeout ?? Duration.hours(1)).toSeconds());
  const annotations: Record<string, string> = {
    // WebSocket (Django Channels): ingress-nginx upgrades connections by itself; long proxy timeouts keep idle sockets open.
    'nginx.ingress.kubernetes.io/proxy-read-timeout': timeout,
    'nginx.ingress.kubernetes.io/proxy-send-timeout': timeout,
    'nginx.ingress.kubernetes.io/proxy-http-version': '1.1',
    'nginx.ingress.kubernetes.io/proxy-body-size': bodySize(scope, 'ingress.maxBodySize', opts.maxBodySize ?? Size.mebibytes(100)),
  };
  if (opts.clusterIssuer !== undefined) {
    annotations['cert-manager.io/cluster-issuer'] = checkDnsSubdomain(scope, 'ingress.clusterIssuer', opts.clusterIssuer);
    annotations['nginx.ingress.kubernetes.io/ssl-redirect'] = 'true';
  }
  const tls = opts.clusterIssuer !== undefined || opts.tlsSecretName !== undefined;
  return {
    className: checkDnsSubdomain(scope, 'ingress.className', opts.className ?? 'nginx'),
    rules: [{ host, paths: ['/'] }],
    annotations,
    tlsSecretName: tls ? checkDnsSubdomain(scope, 'ingress.tlsSecretName', opts.tlsSecretName ?? `${name}-tls`) : undefined,
  };
}

/** Resolves and validates {@link ErpApiProps} once, for the constructor to build from. */
export function resolveErpApi(scope: Construct, props: ErpApiProps, name: string): ResolvedErpApi {
  const image = checkImage(scope, 'image', props.image, !props.allowLatestImage);
  const framework = props.migrations ?? Migrations.django();
  const user = checkInt(scope, 'user', props.user ?? DEFAULT_USER, 1, 2147483647);
  const port = checkPort(scope, 'port', props.port ?? 8000);
  const appResources = checkResources(scope, 'resources', props.resources ?? resources('300m', '1Gi', '2000m', '3Gi'));
  const migrationResources = checkResources(scope, 'migrationResources', props.migrationResources ?? resources('250m', '512Mi', '1000m', '2Gi'));
  const scaling = resolveScaling(scope, props);
  const replicas = scaling ? scaling.min : checkInt(scope, 'replicas', props.replicas ?? 1, 1, 1000);
  const ingress = resolveIngress(scope, name, props.ingress);
  const probes = httpProbes(scope, props.probes, undefined, ingress?.rules[0].host ?? name);
  const termination = checkTermination(scope, props.preStopDelay, props.terminationGracePeriod);
  const labels = { ...standardLabels(name, 'api', 'erp'), ...checkLabels(scope, 'labels', props.labels ?? {}) };
  const metrics = resolveMetrics(scope, props, port);
  const np = enabledOptions(scope, 'networkPolicy', props.networkPolicy, true);
  const web: ResolvedWebService = {
    name, deployment: { name: `${name}-app`, id: 'Resource' }, labels, image, user, port, command: props.command,
    extraPorts: metrics ? [{ number: metrics.port, name: 'metrics' }] : [],
    replicas: scaling ? undefined : replicas, maxReplicas: scaling ? scaling.max : replicas,
    progressDeadline: props.progressDeadline ?? Duration.minutes(10), spread: props.spread ?? true, termination, probes, resources: appResources,
    migrations: {
      framework, runOnStartup: props.runMigrationsOnStartup ?? true, job: props.migrationJob ?? true,
      preMigrationBackup: props.preMigrationBackup ?? true,
      delivery: props.migrationDelivery, releaseId: props.releaseId, resources: migrationResources,
    },
    service: {
      type: kplus.ServiceType.CLUSTER_IP, port: 80,
      extraPorts: metrics ? [{ name: 'metrics', port: metrics.port, targetPort: metrics.port }] : [],
    },
    ingress,
  };
  return {
    web,
    database: props.database,
    env: { secretName: props.envSecretName, database: props.database?.connection, redis: props.redis?.connection, env: props.env },
    scaling, vpaMode: resolveVpa(scope, props, scaling !== undefined), media: resolveMedia(scope, props), metrics,
    networkPolicy: np && {
      ingressFrom: np.ingressFrom ?? [INGRESS_NGINX], metricsFrom: np.metricsFrom ?? [PROMETHEUS],
      egressPorts: [...new Set([...(np.egressPorts ?? [5432, 6379]), ...(props.database ? [props.database.connection.port] : [])])],
    },
  };
}
