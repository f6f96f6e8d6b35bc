import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkAppObjects } from '../internal/app-objects';
import { CELERY_PAIR_PROPS, checkShape } from '../internal/props-shape';
import { celeryCommand, DEFAULT_HEARTBEAT_FILE, HEARTBEAT_ENV, heartbeatProbes } from './celery-heartbeat';
import { IErpApp } from './erp-app';
import { addWaitForMigrations } from '../migrations/db-steps';
import { addContainer, addPodLabels, disableServiceLinks, mountWritableDirectories, stableIdentity, standardLabels } from '../internal/pod-helpers';
import { ComputeResources } from '../internal/resources';
import { restrictedPod } from '../internal/security';
import { fail } from '../internal/validate';
import { ResolvedCeleryPair, ResolvedCeleryProcess, resolveCeleryPair } from './celery-resolve';

/** The Celery worker. */
export interface CeleryWorkerOptions {
  /** `--concurrency`. @default 4 */
  readonly concurrency?: number;
  /** @default 1 */
  readonly replicas?: number;
  /** @default 200m/768Mi requests, 1000m/2Gi limits */
  readonly resources?: ComputeResources;
  /** Hard task time limit (`--time-limit`). @default Duration.minutes(5) */
  readonly taskTimeLimit?: Duration;
  /**
   * Time Kubernetes waits after SIGTERM before SIGKILL: running tasks finish
   * (Celery warm shutdown) within it. Must exceed `taskTimeLimit`.
   * @default taskTimeLimit + 30s
   */
  readonly terminationGracePeriod?: Duration;
  /** `--queues`. @default - Celery's default queue */
  readonly queues?: string[];
  /** `--loglevel`. @default 'INFO' */
  readonly logLevel?: string;
  /**
   * How often the worker touches its heartbeat file (from its event loop).
   * At least 1s.
   * @default Duration.seconds(15)
   */
  readonly heartbeatInterval?: Duration;
  /**
   * Age beyond which the heartbeat counts as stopped: liveness restarts the
   * worker and readiness drops it. Must exceed `heartbeatInterval`.
   * @default - 4 x heartbeatInterval, at least 60s
   */
  readonly heartbeatMaxAge?: Duration;
  /**
   * Time from container start (after the init containers) to the first
   * heartbeat before the kubelet restarts the container (startup probe).
   * @default Duration.minutes(5)
   */
  readonly startupTimeout?: Duration;
}

/** The Celery beat scheduler. */
export interface CeleryBeatOptions {
  /** Must be 1: two beats send every periodic task twice. @default 1 */
  readonly replicas?: number;
  /** @default 'django_celery_beat.schedulers:DatabaseScheduler' */
  readonly scheduler?: string;
  /** @default 100m/256Mi requests, 500m/512Mi limits */
  readonly resources?: ComputeResources;
  /** `--loglevel`. @default 'INFO' */
  readonly logLevel?: string;
  /**
   * Longest time between two scheduler ticks (`--max-interval`); beat touches
   * its heartbeat file after every tick. At least 1s. DatabaseScheduler's own
   * default, kept: schedule edits are picked up within it.
   * @default Duration.seconds(5)
   */
  readonly heartbeatInterval?: Duration;
  /**
   * Age beyond which the heartbeat counts as stopped (liveness restarts beat).
   * Must exceed `heartbeatInterval`.
   * @default - 4 x heartbeatInterval, at least 60s
   */
  readonly heartbeatMaxAge?: Duration;
  /**
   * Time from container start to the first tick before the kubelet restarts
   * the container (startup probe).
   * @default Duration.minutes(5)
   */
  readonly startupTimeout?: Duration;
}

/** Properties of {@link CeleryPair}. */
export interface CeleryPairProps {
  /** The application (an ErpApi) whose image, environment, database and framework the pair shares. */
  readonly api: IErpApp;
  /** Celery application (`celery -A <app>`). @default 'config' */
  readonly celeryApp?: string;
  /** @default - see CeleryWorkerOptions */
  readonly worker?: CeleryWorkerOptions;
  /** @default - see CeleryBeatOptions */
  readonly beat?: CeleryBeatOptions;
  /** Resources of the wait init containers. @default 50m/128Mi requests, 500m/512Mi limits */
  readonly initResources?: ComputeResources;
  /** How long the pods wait for migrations before failing (and being restarted). @default Duration.minutes(10) */
  readonly migrationWaitTimeout?: Duration;
}

/**
 * Celery worker + beat (seed 000) from the API's image, env and database.
 * Beat is a singleton: one replica, Recreate strategy, never autoscaled.
 * Both wait for the database and for migrations before starting, and both
 * prove they are alive with a heartbeat file (see celery-heartbeat.ts): no
 * probe boots Django or Celery, none needs a shell.
 */
export class CeleryPair extends Construct {
  /** The worker Deployment (id 'Resource'). */
  public readonly worker: kplus.Deployment;
  /** The beat Deployment. */
  public readonly beat: kplus.Deployment;
  /** PodDisruptionBudget of the worker (when it runs more than one replica). */
  public readonly workerPdb?: kplus.k8s.KubePodDisruptionBudget;

  constructor(scope: Construct, id: string, props: CeleryPairProps) {
    super(scope, id);
    checkAppObjects(this);
    checkShape(this, props, CELERY_PAIR_PROPS);
    const api = props.api;
    if (!api) fail(this, 'api', api, 'is required: the ErpApi whose image, environment and database the workers share');
    const r = resolveCeleryPair(this, props, api.migrations);
    // The app's environment plus the heartbeat file the wrapper and the probes share.
    const env = api.appEnv.containerProps({ [HEARTBEAT_ENV]: kplus.EnvValue.fromValue(DEFAULT_HEARTBEAT_FILE) });

    const rolling = kplus.DeploymentStrategy.rollingUpdate({
      maxSurge: kplus.PercentOrAbsolute.absolute(1), maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
    });
    this.worker = this.addProcess(api, r, env,
      { id: 'Resource', component: 'celery-worker', container: 'worker', strategy: rolling, labels: {} }, r.worker);
    if (r.worker.replicas > 1) {
      this.workerPdb = new kplus.k8s.KubePodDisruptionBudget(this, 'WorkerPdb', {
        metadata: { name: `${api.name}-celery-worker`, labels: standardLabels(api.name, 'celery-worker', 'erp') },
        spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: this.worker.matchLabels } },
      });
    }
    this.beat = this.addProcess(api, r, env, {
      id: 'Beat', component: 'celery-beat', container: 'beat', strategy: kplus.DeploymentStrategy.recreate(),
      labels: { 'erp-k8s.io/singleton': 'true' },
    }, r.beat);
  }

  /**
   * One Celery Deployment: the API's image, user, ServiceAccount and
   * environment; no service links (`REDIS_PORT=tcp://...` from the `redis`
   * Service breaks settings that read it as a number); waits for the database
   * and migrations; the heartbeat wrapper and probes.
   */
  private addProcess(api: IErpApp, r: ResolvedCeleryPair, env: Partial<kplus.ContainerProps>,
    o: { id: string; component: string; container: 'worker' | 'beat'; strategy: kplus.DeploymentStrategy; labels: Record<string, string> },
    p: ResolvedCeleryProcess): kplus.Deployment {
    const labels = { ...standardLabels(api.name, o.component, 'erp'), ...o.labels };
    const tmp = kplus.Volume.fromEmptyDir(this, `${o.id}Tmp`, 'tmp');
    const d = new kplus.Deployment(this, o.id, {
      metadata: { name: `${api.name}-${o.component}`, labels },
      podMetadata: { labels },
      replicas: p.replicas,
      strategy: o.strategy,
      serviceAccount: api.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: restrictedPod(api.user),
      terminationGracePeriod: p.terminationGracePeriod,
      progressDeadline: p.progressDeadline,
      volumes: [tmp],
      spread: false,
      select: false,
    });
    stableIdentity(d, labels);
    addPodLabels(d, api.appEnv.podLabels);
    disableServiceLinks(d);
    addWaitForMigrations(d, {
      image: api.image, migrations: api.migrations, env: api.appEnv, resources: r.initResources, user: api.user, tmp,
      attempts: r.attempts, interval: r.interval,
    });
    addContainer(d, {
      name: o.container,
      image: api.image,
      command: celeryCommand(o.container, p.heartbeat.interval, p.args),
      ...env,
      ...heartbeatProbes(p.heartbeat),
    }, { resources: p.resources, user: api.user, tmp });
    mountWritableDirectories(this, o.container === 'worker' ? 'Worker' : 'Beat', d, api.migrations.writableDirectories);
    return d;
  }
}
