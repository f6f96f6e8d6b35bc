import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ErpApi } from './erp-api';
import { addWaitForMigrations } from './migration-job';
import { addContainer, addPodLabels, standardLabels } from './pod-helpers';
import { checkResources, ComputeResources, resources } from './resources';
import { restrictedPod } from './security';
import { checkDnsLabel, checkInt, fail } from './validate';

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
}

/** Properties of {@link CeleryPair}. */
export interface CeleryPairProps {
  /** The API whose image, environment, database and framework the pair shares. */
  readonly api: ErpApi;
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
 * Both wait for the database and for migrations before starting.
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
    const api = props.api;
    if (!api) fail(this, 'api', api, 'is required: the ErpApi whose image, environment and database the workers share');
    const celeryApp = props.celeryApp ?? 'config';
    if (!/^[A-Za-z_][\w.:]*$/.test(celeryApp)) fail(this, 'celeryApp', celeryApp, "must be a Python module path such as 'config' or 'erp.celery:app'");
    const w = props.worker ?? {};
    const b = props.beat ?? {};
    const concurrency = checkInt(this, 'worker.concurrency', w.concurrency ?? 4, 1, 256);
    const workerReplicas = checkInt(this, 'worker.replicas', w.replicas ?? 1, 1, 1000);
    const beatReplicas = b.replicas ?? 1;
    if (beatReplicas !== 1) {
      fail(this, 'beat.replicas', beatReplicas, 'must be 1: Celery beat is a singleton, a second replica sends every periodic task twice');
    }
    const workerResources = checkResources(this, 'worker.resources', w.resources ?? resources('200m', '768Mi', '1000m', '2Gi'));
    const beatResources = checkResources(this, 'beat.resources', b.resources ?? resources('100m', '256Mi', '500m', '512Mi'));
    const initResources = checkResources(this, 'initResources', props.initResources ?? resources('50m', '128Mi', '500m', '512Mi'));
    const timeLimit = w.taskTimeLimit ?? Duration.minutes(5);
    if (timeLimit.toSeconds() < 1) fail(this, 'worker.taskTimeLimit', `${timeLimit.toSeconds()}s`, 'must be at least 1s');
    const grace = w.terminationGracePeriod ?? Duration.seconds(timeLimit.toSeconds() + 30);
    if (grace.toSeconds() <= timeLimit.toSeconds()) {
      fail(this, 'worker.terminationGracePeriod', `${grace.toSeconds()}s`,
        `must exceed 'worker.taskTimeLimit' (${timeLimit.toSeconds()}s), or running tasks are killed mid-way on every rollout`);
    }
    const logLevel = (lvl: string | undefined, field: string) => {
      const l = (lvl ?? 'INFO').toUpperCase();
      if (!['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'].includes(l)) fail(this, field, lvl, 'must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL');
      return l;
    };
    const queues = w.queues ?? [];
    queues.forEach((q, i) => checkDnsLabel(this, `worker.queues[${i}]`, q));
    const waitTimeout = props.migrationWaitTimeout ?? Duration.minutes(10);
    const interval = Duration.seconds(5);
    const attempts = Math.max(1, Math.ceil(waitTimeout.toSeconds() / interval.toSeconds()));

    const make = (cid: string, component: string, replicas: number, strategy: kplus.DeploymentStrategy, extra: Record<string, string>, graceful?: Duration) => {
      const labels = { ...standardLabels(api.name, component, 'erp'), ...extra };
      const tmp = kplus.Volume.fromEmptyDir(this, `${cid}Tmp`, 'tmp');
      const d = new kplus.Deployment(this, cid, {
        metadata: { name: `${api.name}-${component}`, labels },
        podMetadata: { labels },
        replicas,
        strategy,
        serviceAccount: api.serviceAccount,
        automountServiceAccountToken: false,
        securityContext: restrictedPod(api.user),
        terminationGracePeriod: graceful,
        volumes: [tmp],
        spread: false,
      });
      addPodLabels(d, api.appEnv.podLabels);
      addWaitForMigrations(d, {
        image: api.image, migrations: api.migrations, env: api.appEnv, resources: initResources,
        user: api.user, tmp, attempts, interval,
      });
      return { d, tmp };
    };

    const worker = make('Resource', 'celery-worker', workerReplicas,
      kplus.DeploymentStrategy.rollingUpdate({ maxSurge: kplus.PercentOrAbsolute.absolute(1), maxUnavailable: kplus.PercentOrAbsolute.absolute(0) }), {}, grace);
    this.worker = worker.d;
    // exec form: celery is PID 1 and receives SIGTERM itself (warm shutdown).
    const workerCmd = ['celery', '-A', celeryApp, 'worker', '--concurrency', String(concurrency),
      '--loglevel', logLevel(w.logLevel, 'worker.logLevel'), '--time-limit', String(timeLimit.toSeconds())];
    if (queues.length) workerCmd.push('--queues', queues.join(','));
    // Pings this very worker (its node name is celery@<pod name>) through the
    // broker: a hung worker, or one cut off from the broker, fails it.
    const ping = ['sh', '-c', `exec celery -A ${celeryApp} inspect ping --destination "celery@$HOSTNAME" --timeout 10`];
    addContainer(this.worker, {
      name: 'worker',
      image: api.image,
      command: workerCmd,
      ...api.appEnv.containerProps(),
      liveness: kplus.Probe.fromCommand(ping, { initialDelaySeconds: Duration.seconds(30), periodSeconds: Duration.seconds(60), timeoutSeconds: Duration.seconds(20), failureThreshold: 3 }),
      readiness: kplus.Probe.fromCommand(ping, { initialDelaySeconds: Duration.seconds(15), periodSeconds: Duration.seconds(30), timeoutSeconds: Duration.seconds(20), failureThreshold: 3 }),
    }, { resources: workerResources, user: api.user, tmp: worker.tmp });

    if (workerReplicas > 1) {
      this.workerPdb = new kplus.k8s.KubePodDisruptionBudget(this, 'WorkerPdb', {
        metadata: { name: `${api.name}-celery-worker`, labels: standardLabels(api.name, 'celery-worker', 'erp') },
        spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: this.worker.matchLabels } },
      });
    }

    const beat = make('Beat', 'celery-beat', 1, kplus.DeploymentStrategy.recreate(), { 'erp-k8s.io/singleton': 'true' });
    this.beat = beat.d;
    // Beat has no port to probe: check that PID 1 is still the beat process.
    const alive = kplus.Probe.fromCommand(['sh', '-c', 'tr "\\0" " " </proc/1/cmdline | grep -q " beat "'],
      { initialDelaySeconds: Duration.seconds(10), periodSeconds: Duration.seconds(30), timeoutSeconds: Duration.seconds(5), failureThreshold: 3 });
    addContainer(this.beat, {
      name: 'beat',
      image: api.image,
      command: ['celery', '-A', celeryApp, 'beat', '--scheduler', b.scheduler ?? 'django_celery_beat.schedulers:DatabaseScheduler',
        '--loglevel', logLevel(b.logLevel, 'beat.logLevel'), '--pidfile', '/tmp/celerybeat.pid'],
      ...api.appEnv.containerProps(),
      liveness: alive,
      readiness: alive,
    }, { resources: beatResources, user: api.user, tmp: beat.tmp });
  }
}
