import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ServiceMonitor } from '../../imports/servicemonitor-monitoring.coreos.com';
import { VerticalPodAutoscaler } from '../../imports/vpa-autoscaling.k8s.io';
import { checkAppObjects } from '../synth/app-objects';
import { ERP_API_PROPS, checkShape } from '../internal/props-shape';
import { ErpApiIngress, ErpApiNetworkPolicy, ErpApiProps, VpaMode } from './erp-api-props';
import { AppEnv } from './app-env';
import { addDatabaseInitContainers, MigrationJob, releaseEnv } from '../migrations/migration-job';
import { Migrations } from '../migrations/migrations';
import { addContainer, addPodLabels, addProbeHostHeader, disableServiceLinks, mountWritableDirectories, nameFirstPort, stableIdentity, stablePods, standardLabels, TEMPLATE_HASH_LENGTH } from '../internal/pod-helpers';
import { checkResources, parseBytes, quantity, resources } from '../internal/resources';
import { DEFAULT_USER, restrictedPod } from '../internal/security';
import { checkDerivedName, checkDns1035Label, checkDnsSubdomain, checkHostname, checkImage, checkInt, checkLabels, checkPort, CRONJOB_NAME_MAX, fail, JOB_NAME_MAX } from '../internal/validate';
import { dnsEgressRule, INGRESS_NGINX, peerOf, PROMETHEUS, tcpPorts } from '../internal/network-policies';
import { checkProbeBudget, httpProbes } from './probes';
import { bodySize, checkTermination, softSpread } from './web-service';

/**
 * The longest suffixes the library appends to an ErpApi `name`, each with the
 * object it names and that object's limit: the pre-migration dump Job
 * `<name>-pre-migration-backup-<10 hex>` (a Job name is its pods' `job-name`
 * label: 63) and the maintenance CronJob `<name>-data-integrity` (52: the
 * CronJob controller appends 11 characters to name each Job). Together they
 * make the maximum {@link ERP_API_NAME_MAX}.
 */
const ERP_API_NAME_SUFFIXES: ReadonlyArray<readonly [suffix: string, kind: string, max: number]> = [
  [`-pre-migration-backup-${'0'.repeat(TEMPLATE_HASH_LENGTH)}`, 'pre-migration dump Job', JOB_NAME_MAX],
  ['-data-integrity', 'maintenance CronJob', CRONJOB_NAME_MAX],
];

/** Longest ErpApi `name`: 31 characters, so that every name derived from it is one Kubernetes accepts. */
export const ERP_API_NAME_MAX = Math.min(...ERP_API_NAME_SUFFIXES.map(([suffix, , max]) => max - suffix.length));

/**
 * An ErpApi `name`: a DNS-1035 label (the API's Service carries it, and
 * Service names start with a letter) short enough for every derived name.
 */
export function checkErpApiName(scope: Construct | string, field: string, name: string): string {
  checkDns1035Label(scope, field, name);
  for (const [suffix, kind, max] of ERP_API_NAME_SUFFIXES) checkDerivedName(scope, field, name, suffix, kind, max);
  return name;
}

/**
 * The ERP API (seed 000): Deployment `<name>-app`, Service, ServiceAccount,
 * dual migrations (hook Job + init container, serialised by an advisory
 * lock), HPA, VPA, PodDisruptionBudget, media PVC, Ingress and ServiceMonitor.
 */
export class ErpApi extends Construct {
  /** The Deployment (id 'Resource'). */
  public readonly deployment: kplus.Deployment;
  /** The Service. */
  public readonly service: kplus.Service;
  /** The ServiceAccount. */
  public readonly serviceAccount: kplus.ServiceAccount;
  /** The single environment definition, shared with CeleryPair. */
  public readonly appEnv: AppEnv;
  /** The migration Job, if any. */
  public readonly migrationJob?: MigrationJob;
  /** The HPA, if any. */
  public readonly autoscaler?: kplus.HorizontalPodAutoscaler;
  /** The VPA, if any. */
  public readonly vpa?: VerticalPodAutoscaler;
  /** The media PVC, if any. */
  public readonly mediaClaim?: kplus.PersistentVolumeClaim;
  /** The Ingress, if any. */
  public readonly ingress?: kplus.Ingress;
  /** The ServiceMonitor, if any. */
  public readonly serviceMonitor?: ServiceMonitor;
  /** NetworkPolicies (ingress to the API, egress of every app pod). */
  public readonly networkPolicies: kplus.k8s.KubeNetworkPolicy[] = [];
  /** The PodDisruptionBudget, if any. */
  public readonly pdb?: kplus.k8s.KubePodDisruptionBudget;
  /** Image, name, framework: what CeleryPair reuses. */
  public readonly image: string;
  /** Base name. */
  public readonly name: string;
  /** Framework. */
  public readonly migrations: Migrations;
  /** UID. */
  public readonly user: number;

  constructor(scope: Construct, id: string, props: ErpApiProps) {
    super(scope, id);
    checkAppObjects(this);
    checkShape(this, props, ERP_API_PROPS);
    if (!props || props.image === undefined) fail(this, 'image', props?.image, "is required, e.g. 'registry.example.com/erp/api:1.4.2'");
    this.image = checkImage(this, 'image', props.image, !props.allowLatestImage);
    this.name = checkErpApiName(this, 'name', props.name ?? 'erp-api');
    this.migrations = props.migrations ?? Migrations.django();
    this.user = checkInt(this, 'user', props.user ?? DEFAULT_USER, 1, 2147483647);
    const port = checkPort(this, 'port', props.port ?? 8000);
    const appResources = checkResources(this, 'resources', props.resources ?? resources('300m', '1Gi', '2000m', '3Gi'));
    const migrationResources = checkResources(this, 'migrationResources', props.migrationResources ?? resources('250m', '512Mi', '1000m', '2Gi'));
    const runOnStartup = props.runMigrationsOnStartup ?? true;
    const scaling = props.autoscaling === false ? undefined : {
      min: checkInt(this, 'autoscaling.minReplicas', props.autoscaling?.minReplicas ?? 1, 1, 1000),
      max: checkInt(this, 'autoscaling.maxReplicas', props.autoscaling?.maxReplicas ?? 6, 1, 1000),
      cpu: checkInt(this, 'autoscaling.cpuUtilization', props.autoscaling?.cpuUtilization ?? 70, 1, 100),
      memory: checkInt(this, 'autoscaling.memoryUtilization', props.autoscaling?.memoryUtilization ?? 75, 1, 100),
    };
    if (scaling && scaling.min > scaling.max) {
      fail(this, 'autoscaling.minReplicas', scaling.min, `must be at most 'autoscaling.maxReplicas' (${scaling.max})`);
    }
    if (scaling && props.replicas !== undefined) {
      fail(this, 'replicas', props.replicas, "cannot be combined with 'autoscaling' (the HPA owns the replica count); set 'autoscaling: false' or use 'autoscaling.minReplicas'");
    }
    const replicas = scaling ? scaling.min : checkInt(this, 'replicas', props.replicas ?? 1, 1, 1000);
    const maxReplicas = scaling ? scaling.max : replicas;
    const ingressHost = props.ingress ? checkHostname(this, 'ingress.host', props.ingress.host) : undefined;
    const probes = httpProbes(this, props.probes, undefined, ingressHost ?? this.name);
    const { preStopDelay, grace } = checkTermination(this, props.preStopDelay, props.terminationGracePeriod);
    const labels = { ...standardLabels(this.name, 'api', 'erp'), ...checkLabels(this, 'labels', props.labels ?? {}) };

    this.appEnv = new AppEnv(this, 'Env', { secretName: props.envSecretName, database: props.database?.connection, redis: props.redis?.connection, env: props.env });
    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: this.name, labels },
      automountToken: false,
    });
    const tmp = kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp');

    this.deployment = new kplus.Deployment(this, 'Resource', {
      metadata: { name: `${this.name}-app`, labels },
      podMetadata: { labels },
      replicas: scaling ? undefined : replicas,
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.absolute(1),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      progressDeadline: props.progressDeadline ?? Duration.minutes(10),
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: restrictedPod(this.user),
      terminationGracePeriod: grace,
      volumes: [tmp],
      spread: false,
      select: false,
    });
    stableIdentity(this.deployment, labels);
    addPodLabels(this.deployment, this.appEnv.podLabels);
    disableServiceLinks(this.deployment);
    // With a pre-migration dump, the migrate init containers wait for it too (the Job is made below).
    const preMigrationBackup = (props.migrationJob ?? true) && (props.preMigrationBackup ?? true) ? props.database?.backup : undefined;
    addDatabaseInitContainers(this.deployment, {
      image: this.image, migrations: this.migrations, env: this.appEnv, resources: migrationResources,
      user: this.user, tmp, migrate: runOnStartup,
      releaseEnv: preMigrationBackup ? releaseEnv(preMigrationBackup, () => this.migrationJob!.jobName) : undefined,
    });
    const metrics = props.metrics === false ? undefined : {
      port: checkPort(this, 'metrics.port', props.metrics?.port ?? 8001),
      path: props.metrics?.path ?? '/metrics',
      interval: props.metrics?.interval ?? Duration.seconds(30),
      serviceMonitorLabels: props.metrics?.serviceMonitorLabels ?? {},
    };
    if (metrics && metrics.port === port) fail(this, 'metrics.port', metrics.port, `must differ from 'port' (${port})`);
    const app = addContainer(this.deployment, {
      name: 'app',
      image: this.image,
      command: props.command ?? this.migrations.serverCommand(port),
      portNumber: port,
      ports: metrics ? [{ number: metrics.port, name: 'metrics' }] : undefined,
      ...this.appEnv.containerProps(),
      readiness: probes.readiness(port),
      liveness: probes.liveness(port),
      startup: probes.startup(port),
      // keep serving while endpoints and the Ingress controller drop the pod
      lifecycle: { preStop: kplus.Handler.fromCommand(['sleep', String(preStopDelay.toSeconds())]) },
    }, { resources: appResources, user: this.user, tmp });
    nameFirstPort(this.deployment, 'app', 'http');
    // e.g. the FastAPI app's /var/log/erp (seed 002) on a read-only root filesystem
    mountWritableDirectories(this, 'App', this.deployment, this.migrations.writableDirectories);
    if (probes.host !== undefined) addProbeHostHeader(this.deployment, 'app', probes.host, probes.kinds);

    let pinned = false;
    if (props.media !== false) {
      const m = props.media ?? {};
      const size = m.size ?? '20Gi';
      parseBytes(this, 'media.size', size);
      const accessMode = m.accessMode ?? kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE;
      this.mediaClaim = new kplus.PersistentVolumeClaim(this, 'Media', {
        metadata: { name: `${this.name}-media`, labels, annotations: { 'helm.sh/resource-policy': 'keep' } },
        accessModes: [accessMode],
        storageClassName: checkDnsSubdomain(this, 'media.storageClassName', m.storageClassName ?? 'local-path'),
        volumeMode: kplus.PersistentVolumeMode.FILE_SYSTEM,
      });
      ApiObject.of(this.mediaClaim).addJsonPatch(JsonPatch.add('/spec/resources', { requests: { storage: quantity(size) } }));
      app.mount(m.mountPath ?? '/app/media', kplus.Volume.fromPersistentVolumeClaim(this, 'MediaVolume', this.mediaClaim));
      if (accessMode === kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE && maxReplicas > 1) {
        // RWO: every replica must run on the node that mounted the volume.
        this.deployment.scheduling.colocate(stablePods(this.deployment), { topology: kplus.Topology.HOSTNAME });
        pinned = true;
      }
    }
    if ((props.spread ?? true) && !pinned && maxReplicas > 1) softSpread(this.deployment);

    const servicePorts: kplus.ServicePort[] = [{ name: 'http', port: 80, targetPort: port }];
    if (metrics) servicePorts.push({ name: 'metrics', port: metrics.port, targetPort: metrics.port });
    this.service = new kplus.Service(this, 'Service', {
      metadata: { name: this.name, labels },
      type: kplus.ServiceType.CLUSTER_IP,
      selector: stablePods(this.deployment),
      ports: servicePorts,
    });

    if (props.migrationJob ?? true) {
      this.migrationJob = new MigrationJob(this, 'MigrationJob', {
        name: this.name, image: this.image, migrations: this.migrations, env: this.appEnv,
        resources: migrationResources, releaseId: props.releaseId, delivery: props.migrationDelivery,
        // no ServiceAccount of the release: a pre-install hook runs before it exists
        user: this.user, tmp: kplus.Volume.fromEmptyDir(this, 'JobTmp', 'tmp'),
        labels: { ...labels, 'app.kubernetes.io/component': 'migrations' },
        preMigrationBackup,
      });
    }

    checkProbeBudget(this, probes, props.progressDeadline ?? Duration.minutes(10), this.migrations.waitBudget);

    if (scaling) {
      this.autoscaler = new kplus.HorizontalPodAutoscaler(this, 'Autoscaler', {
        metadata: { name: this.name, labels },
        target: this.deployment,
        minReplicas: scaling.min,
        maxReplicas: scaling.max,
        metrics: [
          kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(scaling.cpu)),
          kplus.Metric.resourceMemory(kplus.MetricTarget.averageUtilization(scaling.memory)),
        ],
      });
    }

    if (props.vpa !== false) {
      const mode = props.vpa?.updateMode ?? (scaling ? VpaMode.OFF : VpaMode.RECREATE);
      if (scaling && mode !== VpaMode.OFF) {
        fail(this, 'vpa.updateMode', mode, "must be 'Off' while 'autoscaling' is on: the HPA scales on CPU and memory, and a VPA changing the same requests would fight it. Set 'autoscaling: false' to let the VPA act, or keep 'Off' for recommendations only");
      }
      this.vpa = new VerticalPodAutoscaler(this, 'Vpa', {
        metadata: { name: this.name, labels },
        spec: {
          targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.deployment.name },
          updatePolicy: { updateMode: mode },
          resourcePolicy: {
            containerPolicies: [{ containerName: 'app', controlledResources: ['cpu', 'memory'] }],
          },
        },
      });
    }

    if (maxReplicas > 1) {
      this.pdb = new kplus.k8s.KubePodDisruptionBudget(this, 'Pdb', {
        metadata: { name: this.name, labels },
        spec: {
          maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
          selector: { matchLabels: this.deployment.matchLabels },
        },
      });
    }

    if (props.ingress) {
      this.ingress = this.addIngress(props.ingress, labels);
    }

    if (props.networkPolicy !== false) {
      this.addNetworkPolicies(props.networkPolicy ?? {}, port, metrics?.port, props.database?.connection.port, labels);
    }

    if (metrics) {
      this.serviceMonitor = new ServiceMonitor(this, 'ServiceMonitor', {
        metadata: { name: this.name, labels: { ...labels, ...checkLabels(this, 'metrics.serviceMonitorLabels', metrics.serviceMonitorLabels) } },
        spec: {
          selector: { matchLabels: { 'app.kubernetes.io/name': this.name, 'app.kubernetes.io/component': 'api' } },
          endpoints: [{ port: 'metrics', path: metrics.path, interval: `${metrics.interval.toSeconds()}s` }],
        },
      });
    }
  }

  private addNetworkPolicies(np: ErpApiNetworkPolicy, port: number, metricsPort: number | undefined, dbPort: number | undefined, labels: Record<string, string>): void {
    const ingress: kplus.k8s.NetworkPolicyIngressRule[] = [{
      from: (np.ingressFrom ?? [INGRESS_NGINX]).map((s, i) => peerOf(s, this, `networkPolicy.ingressFrom[${i}]`)),
      ports: tcpPorts(this, 'port', [port]),
    }];
    if (metricsPort !== undefined) {
      ingress.push({
        from: (np.metricsFrom ?? [PROMETHEUS]).map((s, i) => peerOf(s, this, `networkPolicy.metricsFrom[${i}]`)),
        ports: tcpPorts(this, 'metrics.port', [metricsPort]),
      });
    }
    this.networkPolicies.push(new kplus.k8s.KubeNetworkPolicy(this, 'IngressPolicy', {
      metadata: { name: `${this.name}-ingress`, labels },
      spec: { podSelector: { matchLabels: this.deployment.matchLabels }, policyTypes: ['Ingress'], ingress },
    }));
    const egressPorts = [...new Set([...(np.egressPorts ?? [5432, 6379]), ...(dbPort ? [dbPort] : [])])];
    const egress = [dnsEgressRule(), { ports: tcpPorts(this, 'networkPolicy.egressPorts', egressPorts) }];
    this.networkPolicies.push(new kplus.k8s.KubeNetworkPolicy(this, 'EgressPolicy', {
      metadata: { name: `${this.name}-egress`, labels },
      spec: {
        // every pod of the app: API, migration Job, Celery worker and beat
        podSelector: { matchLabels: { 'app.kubernetes.io/name': this.name, 'app.kubernetes.io/part-of': 'erp' } },
        policyTypes: ['Egress'],
        egress,
      },
    }));
    // the migration hook runs before the policy above exists (Helm pre-install, Argo CD PreSync): its own, delivered with it
    if (this.migrationJob) this.networkPolicies.push(this.migrationJob.allowEgress(egress));
  }

  private addIngress(opts: ErpApiIngress, labels: Record<string, string>): kplus.Ingress {
    const host = opts.host;
    const timeout = String((opts.websocketTimeout ?? Duration.hours(1)).toSeconds());
    const annotations: Record<string, string> = {
      // WebSocket (Django Channels): ingress-nginx upgrades connections by
      // itself; long proxy timeouts keep idle sockets open.
      'nginx.ingress.kubernetes.io/proxy-read-timeout': timeout,
      'nginx.ingress.kubernetes.io/proxy-send-timeout': timeout,
      'nginx.ingress.kubernetes.io/proxy-http-version': '1.1',
      'nginx.ingress.kubernetes.io/proxy-body-size': bodySize(this, 'ingress.maxBodySize', opts.maxBodySize ?? Size.mebibytes(100)),
    };
    const tls: kplus.IngressTls[] = [];
    if (opts.clusterIssuer !== undefined) {
      annotations['cert-manager.io/cluster-issuer'] = checkDnsSubdomain(this, 'ingress.clusterIssuer', opts.clusterIssuer);
      annotations['nginx.ingress.kubernetes.io/ssl-redirect'] = 'true';
      const secretName = checkDnsSubdomain(this, 'ingress.tlsSecretName', opts.tlsSecretName ?? `${this.name}-tls`);
      tls.push({ hosts: [host], secret: kplus.Secret.fromSecretName(this, 'TlsSecret', secretName) });
    }
    const ingress = new kplus.Ingress(this, 'Ingress', {
      metadata: { name: this.name, labels, annotations },
      className: checkDnsSubdomain(this, 'ingress.className', opts.className ?? 'nginx'),
      tls: tls.length ? tls : undefined,
    });
    ingress.addHostRule(host, '/', kplus.IngressBackend.fromService(this.service, { port: 80 }), kplus.HttpIngressPathType.PREFIX);
    return ingress;
  }
}
