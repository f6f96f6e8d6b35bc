import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { IDatabase, IDatabaseBackup } from '../data/database';
import { addDatabaseInitContainers, releaseEnv } from '../migrations/db-steps';
import { MigrationJob } from '../migrations/migration-job';
import { MigrationDelivery } from '../migrations/delivery';
import { Migrations } from '../migrations/migrations';
import {
  addContainer, addPodLabels, addProbeHostHeader, disableServiceLinks, mountWritableDirectories, stableIdentity, stablePods,
} from '../internal/pod-helpers';
import { ComputeResources } from '../internal/resources';
import { restrictedPod } from '../internal/security';
import { AppEnv } from '../data/app-env';
import { checkProbeBudget, ResolvedProbes } from './probes';
import { Termination } from './web-service-parts';

/**
 * The HTTP web service every ERP server is (ErpApi, ApiGatewayChart), in
 * the manner of aws-cdk's ecs-patterns `ApplicationLoadBalancedServiceBase`:
 * each construct resolves and validates its own props into a
 * {@link ResolvedWebService}, then builds from it with the functions below,
 * in this order (the order of the objects in the output):
 * {@link addWebWorkload} (ServiceAccount, hardened Deployment, database init
 * containers, the `http` container with probes and a preStop sleep),
 * {@link addWebService}, {@link addWebMigrationJob}, {@link addWebPdb} and
 * {@link addWebIngress}. What differs (ErpApi's media volume, HPA, VPA,
 * metrics; the gateway's Secret and dev dependencies; each one's
 * NetworkPolicies) stays in the construct.
 */

/** Resolved migrations of a web service: flat, validated, defaults applied. */
export interface ResolvedMigrations {
  /** The framework. */
  readonly framework: Migrations;
  /** Migrate in an init container of every pod. */
  readonly runOnStartup: boolean;
  /** Make the migration Job. */
  readonly job: boolean;
  /** Dump the database (when it has backups) before each release migrates; only with a Job. */
  readonly preMigrationBackup: boolean;
  /** How the Job is delivered (the MigrationJob's default when undefined). */
  readonly delivery?: MigrationDelivery;
  /** Release id in the Job name. */
  readonly releaseId?: string;
  /** Resources of the Job and the init containers. */
  readonly resources: ComputeResources;
}

/** A resolved Ingress: every host routed to the Service, one certificate for all. */
export interface ResolvedIngress {
  readonly className: string;
  /** Hosts and their path prefixes. */
  readonly rules: ReadonlyArray<{ readonly host: string; readonly paths: readonly string[] }>;
  readonly annotations: Record<string, string>;
  /** The certificate's Secret; no TLS when undefined. */
  readonly tlsSecretName?: string;
}

/** Everything a web service is built from: resolved once, at the top of the constructor. */
export interface ResolvedWebService {
  /** Name of the ServiceAccount, Service, PDB and Ingress. */
  readonly name: string;
  /** Name and construct id of the Deployment. */
  readonly deployment: { readonly name: string; readonly id: string };
  /** Labels of every object and pod. */
  readonly labels: Record<string, string>;
  readonly image: string;
  readonly user: number;
  /** The container port named `http`. */
  readonly port: number;
  /** Further container ports (e.g. `metrics`). */
  readonly extraPorts: readonly kplus.ContainerPort[];
  /** Server command; the framework's when undefined. */
  readonly command?: string[];
  /** Fixed replica count; undefined when an HPA owns it. */
  readonly replicas?: number;
  /** The most replicas there can be (PDB, spread). */
  readonly maxReplicas: number;
  readonly progressDeadline: Duration;
  /** Prefer different nodes and zones for the replicas (unless something pins them). */
  readonly spread: boolean;
  readonly termination: Termination;
  readonly probes: ResolvedProbes;
  readonly resources: ComputeResources;
  readonly migrations: ResolvedMigrations;
  /** The Service: its type and its `http` port (to the container's). */
  readonly service: { readonly type: kplus.ServiceType; readonly port: number; readonly extraPorts: readonly kplus.ServicePort[] };
  /** The Ingress, if any. */
  readonly ingress?: ResolvedIngress;
}

/** What a web service is built with besides its configuration: objects made by the construct. */
export interface WebDependencies {
  /** The environment every container shares. */
  readonly env: AppEnv;
  /** The database (its backups make the pre-migration dump). */
  readonly database?: IDatabase;
  /** Labels of the pods besides the object labels (database and Redis client labels). */
  readonly podLabels: Record<string, string>;
}

/** The backups that dump the database before each release migrates, if any. */
function preMigrationDump(c: ResolvedWebService, deps: WebDependencies): IDatabaseBackup | undefined {
  return c.migrations.job && c.migrations.preMigrationBackup ? deps.database?.backup : undefined;
}

/** What {@link addWebWorkload} makes. */
export interface WebWorkload {
  readonly serviceAccount: kplus.ServiceAccount;
  readonly deployment: kplus.Deployment;
  /** The server container (`app`). */
  readonly app: kplus.Container;
}

/**
 * The ServiceAccount (no token) and the Deployment: rolling update one at a
 * time, restricted pod, no service links (`redis` and `postgres` Services
 * would inject `REDIS_PORT=tcp://...` over the app's settings), wait-for-db
 * and migrate init containers (waiting for the pre-migration dump of the
 * release, if any: `migrationJob` gives the Job made later), and the `app`
 * container serving `http` with its probes and preStop sleep.
 */
export function addWebWorkload(scope: Construct, c: ResolvedWebService, deps: WebDependencies,
  migrationJob: () => MigrationJob | undefined): WebWorkload {
  const { labels, user } = c;
  const { env } = deps;
  const serviceAccount = new kplus.ServiceAccount(scope, 'ServiceAccount', { metadata: { name: c.name, labels }, automountToken: false });
  const tmp = kplus.Volume.fromEmptyDir(scope, 'Tmp', 'tmp');
  const deployment = new kplus.Deployment(scope, c.deployment.id, {
    metadata: { name: c.deployment.name, labels },
    podMetadata: { labels },
    replicas: c.replicas,
    strategy: kplus.DeploymentStrategy.rollingUpdate({
      maxSurge: kplus.PercentOrAbsolute.absolute(1),
      maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
    }),
    progressDeadline: c.progressDeadline,
    serviceAccount,
    automountServiceAccountToken: false,
    securityContext: restrictedPod(user),
    terminationGracePeriod: c.termination.grace,
    volumes: [tmp],
    spread: false,
    select: false,
  });
  stableIdentity(deployment, labels);
  addPodLabels(deployment, deps.podLabels);
  disableServiceLinks(deployment);
  const m = c.migrations;
  const dump = preMigrationDump(c, deps);
  // Database not ready: wait-for-db retries instead of crash-looping; then migrate, before the server starts.
  addDatabaseInitContainers(deployment, {
    image: c.image, migrations: m.framework, env, resources: m.resources, user, tmp, migrate: m.runOnStartup,
    releaseEnv: dump ? releaseEnv(dump, () => migrationJob()!.jobName) : undefined,
  });
  const app = addContainer(deployment, {
    name: 'app',
    image: c.image,
    command: c.command ?? m.framework.serverCommand(c.port),
    ports: [{ number: c.port, name: 'http' }, ...c.extraPorts],
    ...env.containerProps(),
    readiness: c.probes.readiness(c.port),
    liveness: c.probes.liveness(c.port),
    startup: c.probes.startup(c.port),
    // keep serving while endpoints and the Ingress controller drop the pod
    lifecycle: { preStop: kplus.Handler.fromCommand(['sleep', String(c.termination.preStopDelay.toSeconds())]) },
  }, { resources: c.resources, user, tmp });
  // e.g. the FastAPI app's /var/log/erp (seed 002) on a read-only root filesystem
  mountWritableDirectories(scope, 'App', deployment, m.framework.writableDirectories);
  if (c.probes.host !== undefined) addProbeHostHeader(deployment, 'app', c.probes.host, c.probes.kinds);
  checkProbeBudget(scope, c.probes, c.progressDeadline, m.framework.waitBudget);
  return { serviceAccount, deployment, app };
}

/** The Service of the Deployment's pods: `http` (and the extra ports). */
export function addWebService(scope: Construct, c: ResolvedWebService, deployment: kplus.Deployment): kplus.Service {
  return new kplus.Service(scope, 'Service', {
    metadata: { name: c.name, labels: c.labels },
    type: c.service.type,
    selector: stablePods(deployment),
    ports: [{ name: 'http', port: c.service.port, targetPort: c.port }, ...c.service.extraPorts],
  });
}

/**
 * The migration Job (unless turned off), with the pre-migration dump of the
 * database if any. No ServiceAccount of the release: a pre-install hook runs
 * before it exists.
 */
export function addWebMigrationJob(scope: Construct, c: ResolvedWebService, deps: WebDependencies): MigrationJob | undefined {
  const m = c.migrations;
  if (!m.job) return undefined;
  return new MigrationJob(scope, 'MigrationJob', {
    name: c.name, image: c.image, migrations: m.framework, env: deps.env, resources: m.resources, releaseId: m.releaseId, delivery: m.delivery,
    user: c.user, tmp: kplus.Volume.fromEmptyDir(scope, 'JobTmp', 'tmp'),
    labels: { ...c.labels, 'app.kubernetes.io/component': 'migrations' },
    preMigrationBackup: preMigrationDump(c, deps),
  });
}

/** A PodDisruptionBudget of one pod at a time, when there can be more than one replica. */
export function addWebPdb(scope: Construct, c: ResolvedWebService, deployment: kplus.Deployment): kplus.k8s.KubePodDisruptionBudget | undefined {
  if (c.maxReplicas <= 1) return undefined;
  return new kplus.k8s.KubePodDisruptionBudget(scope, 'Pdb', {
    metadata: { name: c.name, labels: c.labels },
    spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: deployment.matchLabels } },
  });
}

/** The Ingress (if any): every host and path prefix to the Service's `http` port, one certificate for every host. */
export function addWebIngress(scope: Construct, c: ResolvedWebService, service: kplus.Service): kplus.Ingress | undefined {
  const ing = c.ingress;
  if (!ing) return undefined;
  const tls: kplus.IngressTls[] = ing.tlsSecretName === undefined ? []
    : [{ hosts: ing.rules.map((r) => r.host), secret: kplus.Secret.fromSecretName(scope, 'TlsSecret', ing.tlsSecretName) }];
  const ingress = new kplus.Ingress(scope, 'Ingress', {
    metadata: { name: c.name, labels: c.labels, annotations: Object.keys(ing.annotations).length ? ing.annotations : undefined },
    className: ing.className,
    tls: tls.length ? tls : undefined,
  });
  const backend = kplus.IngressBackend.fromService(service, { port: c.service.port });
  for (const r of ing.rules) for (const p of r.paths) ingress.addHostRule(r.host, p, backend, kplus.HttpIngressPathType.PREFIX);
  return ingress;
}
