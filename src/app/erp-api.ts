import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ServiceMonitor } from '../../imports/servicemonitor-monitoring.coreos.com';
import { VerticalPodAutoscaler } from '../../imports/vpa-autoscaling.k8s.io';
import { checkAppObjects } from '../internal/app-objects';
import { ERP_API_PROPS, checkShape } from '../internal/props-shape';
import { ErpApiProps, VpaMode } from './erp-api-props';
import { AppEnv } from '../data/app-env';
import { IErpApp } from './erp-app';
import { ResolvedErpApi, resolveErpApi } from './erp-api-resolve';
import { MigrationJob } from '../migrations/migration-job';
import { Migrations } from '../migrations/migrations';
import { stablePods, TEMPLATE_HASH_LENGTH } from '../internal/pod-helpers';
import { setClaimSize } from '../internal/storage';
import { checkDerivedName, checkDns1035Label, CRONJOB_NAME_MAX, fail, JOB_NAME_MAX } from '../internal/validate';
import { dnsEgressRule, peerOf, tcpPorts } from '../internal/network-policies';
import { addWebIngress, addWebMigrationJob, addWebPdb, addWebService, addWebWorkload, WebDependencies } from './web-service';
import { softSpread } from './web-service-parts';

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
export class ErpApi extends Construct implements IErpApp {
  /** The Deployment (id 'Resource'). */
  public readonly deployment: kplus.Deployment;
  /** The Service. */
  public readonly service: kplus.Service;
  /** The ServiceAccount (a `kplus.ServiceAccount`, typed as cdk8s-plus types `Deployment.serviceAccount`). */
  public readonly serviceAccount: kplus.IServiceAccount;
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
  /** Labels of every object. */
  private readonly labels: Record<string, string>;

  constructor(scope: Construct, id: string, props: ErpApiProps) {
    super(scope, id);
    checkAppObjects(this);
    checkShape(this, props, ERP_API_PROPS);
    if (!props || props.image === undefined) fail(this, 'image', props?.image, "is required, e.g. 'registry.example.com/erp/api:1.4.2'");
    this.name = checkErpApiName(this, 'name', props.name ?? 'erp-api');
    const r = resolveErpApi(this, props, this.name);
    const c = r.web;
    this.image = c.image;
    this.migrations = c.migrations.framework;
    this.user = c.user;
    this.labels = c.labels;

    this.appEnv = new AppEnv(this, 'Env', r.env);
    const deps: WebDependencies = { env: this.appEnv, database: r.database, podLabels: this.appEnv.podLabels };
    const workload = addWebWorkload(this, c, deps, () => this.migrationJob);
    this.serviceAccount = workload.serviceAccount;
    this.deployment = workload.deployment;
    this.mediaClaim = r.media && this.addMedia(r.media, workload.app);
    // ReadWriteOnce media: every replica must run on the node that mounted the volume.
    const pinned = r.media?.accessMode === kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE && c.maxReplicas > 1;
    if (pinned) this.deployment.scheduling.colocate(stablePods(this.deployment), { topology: kplus.Topology.HOSTNAME });
    if (c.spread && !pinned && c.maxReplicas > 1) softSpread(this.deployment);
    this.service = addWebService(this, c, this.deployment);
    this.migrationJob = addWebMigrationJob(this, c, deps);
    if (r.scaling) this.autoscaler = this.addAutoscaler(r.scaling);
    if (r.vpaMode) this.vpa = this.addVpa(r.vpaMode);
    this.pdb = addWebPdb(this, c, this.deployment);
    this.ingress = addWebIngress(this, c, this.service);
    if (r.networkPolicy) this.addNetworkPolicies(r.networkPolicy, c.port, r.metrics?.port);
    if (r.metrics) this.serviceMonitor = this.addServiceMonitor(r.metrics);
  }

  private addMedia(m: NonNullable<ResolvedErpApi['media']>, app: kplus.Container): kplus.PersistentVolumeClaim {
    const claim = new kplus.PersistentVolumeClaim(this, 'Media', {
      metadata: { name: `${this.name}-media`, labels: this.labels, annotations: { 'helm.sh/resource-policy': 'keep' } },
      accessModes: [m.accessMode],
      storageClassName: m.storageClassName,
      volumeMode: kplus.PersistentVolumeMode.FILE_SYSTEM,
    });
    setClaimSize(claim, m.size);
    app.mount(m.mountPath, kplus.Volume.fromPersistentVolumeClaim(this, 'MediaVolume', claim));
    return claim;
  }

  private addAutoscaler(scaling: NonNullable<ResolvedErpApi['scaling']>): kplus.HorizontalPodAutoscaler {
    return new kplus.HorizontalPodAutoscaler(this, 'Autoscaler', {
      metadata: { name: this.name, labels: this.labels },
      target: this.deployment,
      minReplicas: scaling.min,
      maxReplicas: scaling.max,
      metrics: [
        kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(scaling.cpu)),
        kplus.Metric.resourceMemory(kplus.MetricTarget.averageUtilization(scaling.memory)),
      ],
    });
  }

  private addVpa(mode: VpaMode): VerticalPodAutoscaler {
    return new VerticalPodAutoscaler(this, 'Vpa', {
      metadata: { name: this.name, labels: this.labels },
      spec: {
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.deployment.name },
        updatePolicy: { updateMode: mode },
        resourcePolicy: { containerPolicies: [{ containerName: 'app', controlledResources: ['cpu', 'memory'] }] },
      },
    });
  }

  private addServiceMonitor(metrics: NonNullable<ResolvedErpApi['metrics']>): ServiceMonitor {
    return new ServiceMonitor(this, 'ServiceMonitor', {
      metadata: { name: this.name, labels: { ...this.labels, ...metrics.serviceMonitorLabels } },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/name': this.name, 'app.kubernetes.io/component': 'api' } },
        endpoints: [{ port: 'metrics', path: metrics.path, interval: `${metrics.interval.toSeconds()}s` }],
      },
    });
  }

  private addNetworkPolicies(np: NonNullable<ResolvedErpApi['networkPolicy']>, port: number, metricsPort: number | undefined): void {
    const labels = this.labels;
    const ingress: kplus.k8s.NetworkPolicyIngressRule[] = [{
      from: np.ingressFrom.map((s, i) => peerOf(s, this, `networkPolicy.ingressFrom[${i}]`)),
      ports: tcpPorts(this, 'port', [port]),
    }];
    if (metricsPort !== undefined) {
      ingress.push({
        from: np.metricsFrom.map((s, i) => peerOf(s, this, `networkPolicy.metricsFrom[${i}]`)),
        ports: tcpPorts(this, 'metrics.port', [metricsPort]),
      });
    }
    this.networkPolicies.push(new kplus.k8s.KubeNetworkPolicy(this, 'IngressPolicy', {
      metadata: { name: `${this.name}-ingress`, labels },
      spec: { podSelector: { matchLabels: this.deployment.matchLabels }, policyTypes: ['Ingress'], ingress },
    }));
    const egress = [dnsEgressRule(), { ports: tcpPorts(this, 'networkPolicy.egressPorts', np.egressPorts) }];
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
}
