import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkAppObjects } from '../synth/app-objects';
import { CELERY_PAIR_PROPS, checkShape } from '../internal/props-shape';
import { celeryCommand, DEFAULT_HEARTBEAT_FILE, HEARTBEAT_ENV, heartbeatProbes } from './celery-heartbeat';
import { IErpApp } from './erp-app';
import { addWaitForMigrations } from '../migrations/migration-job';
import { addContainer, addPodLabels, disableServiceLinks, mountWritableDirectories, stableIdentity, standardLabels } from '../internal/pod-helpers';
import { checkResources, ComputeResources, resources } from '../internal/resources';
import { restrictedPod } from '../internal/security';
import { checkDnsLabel, checkInt, fail } from '../internal/validate';

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

/** A resolved heartbeat: interval, threshold and startup budget. */
interface Heartbeat {
  readonly interval: number;
  readonly maxAge: Duration;
  readonly startupTimeout: Duration;
}

/** Resolves and checks the heartbeat props of the worker or beat. */
function resolveHeartbeat(scope: Construct, field: 'worker' | 'beat',
  o: { heartbeatInterval?: Duration; heartbeatMaxAge?: Duration; startupTimeout?: Duration }, defaultInterval: Duration): Heartbeat {
  const interval = (o.heartbeatInterval ?? defaultInterval).toSeconds({ integral: false });
  if (!Number.isInteger(interval) || interval < 1) {
    fail(scope, `${field}.heartbeatInterval`, `${interval}s`, 'must be a whole number of seconds, at least 1s');
  }
  const maxAge = o.heartbeatMaxAge ?? Duration.seconds(Math.max(4 * interval, 60));
  const maxAgeSeconds = maxAge.toSeconds({ integral: false });
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds <= interval) {
    fail(scope, `${field}.heartbeatMaxAge`, `${maxAgeSeconds}s`,
      `must be a whole number of seconds greater than '${field}.heartbeatInterval' (${interval}s), or a healthy ${field} fails its probes; 4 x ` +
        `the interval or more is advised`);
  }
  const startupTimeout = o.startupTimeout ?? Duration.minutes(5);
  const startupSeconds = startupTimeout.toSeconds({ integral: false });
  if (startupSeconds < 10) fail(scope, `${field}.startupTimeout`, `${startupSeconds}s`, 'must be at least 10s');
  return { interval, maxAge, startupTimeout };
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
    const celeryApp = props.celeryApp ?? 'config';
    if (!/^[A-Za-z_][\w.:]*$/.test(celeryApp)) fail(this, 'celeryApp', celeryApp, "must be a Python module path such as 'config' or " +
      "'erp.celery:app'");
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
      if (!['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'].includes(l)) fail(this, field, lvl, 'must be one of DEBUG, INFO, WARNING, ERROR, ' +
        'CRITICAL');
      return l;
    };
    const queues = w.queues ?? [];
    queues.forEach((q, i) => checkDnsLabel(this, `worker.queues[${i}]`, q));
    const workerHeartbeat = resolveHeartbeat(this, 'worker', w, Duration.seconds(15));
    const beatHeartbeat = resolveHeartbeat(this, 'beat', b, Duration.seconds(5));
    const waitTimeout = props.migrationWaitTimeout ?? Duration.minutes(10);
    const interval = Duration.seconds(5);
    const attempts = Math.max(1, Math.ceil(waitTimeout.toSeconds() / interval.toSeconds()));

    // A rollout is not "failed" while its pods still wait for the database and
    // migrations (init containers) and then boot (startup probe).
    const progressDeadline = (hb: Heartbeat) =>
      Duration.seconds(api.migrations.waitBudget.toSeconds() + attempts * interval.toSeconds()
        + hb.startupTimeout.toSeconds({ integral: false }) + 60);

    const make = (cid: string, component: string, replicas: number, strategy: kplus.DeploymentStrategy, extra: Record<string, string>,
      hb: Heartbeat, graceful?: Duration) => {
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
        progressDeadline: progressDeadline(hb),
        volumes: [tmp],
        spread: false,
        select: false,
      });
      stableIdentity(d, labels);
      addPodLabels(d, api.appEnv.podLabels);
      // REDIS_PORT=tcp://... from the `redis` Service breaks settings that read it as a number.
      disableServiceLinks(d);
      addWaitForMigrations(d, {
        image: api.image, migrations: api.migrations, env: api.appEnv, resources: initResources,
        user: api.user, tmp, attempts, interval,
      });
      return { d, tmp };
    };
    // The app's environment plus the heartbeat file the wrapper and the probes share.
    const containerEnv = api.appEnv.containerProps({ [HEARTBEAT_ENV]: kplus.EnvValue.fromValue(DEFAULT_HEARTBEAT_FILE) });

    const worker = make('Resource', 'celery-worker', workerReplicas,
      kplus.DeploymentStrategy.rollingUpdate({ maxSurge: kplus.PercentOrAbsolute.absolute(1), maxUnavailable: kplus.PercentOrAbsolute.absolute(0) }),
      {}, workerHeartbeat, grace);
    this.worker = worker.d;
    const workerArgs = ['-A', celeryApp, 'worker', '--concurrency', String(concurrency),
      '--loglevel', logLevel(w.logLevel, 'worker.logLevel'), '--time-limit', String(timeLimit.toSeconds())];
    if (queues.length) workerArgs.push('--queues', queues.join(','));
    addContainer(this.worker, {
      name: 'worker',
      image: api.image,
      command: celeryCommand('worker', workerHeartbeat.interval, workerArgs),
      ...containerEnv,
      ...heartbeatProbes(workerHeartbeat),
    }, { resources: workerResources, user: api.user, tmp: worker.tmp });
    mountWritableDirectories(this, 'Worker', this.worker, api.migrations.writableDirectories);

    if (workerReplicas > 1) {
      this.workerPdb = new kplus.k8s.KubePodDisruptionBudget(this, 'WorkerPdb', {
        metadata: { name: `${api.name}-celery-worker`, labels: standardLabels(api.name, 'celery-worker', 'erp') },
        spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: this.worker.matchLabels } },
      });
    }

    const beat = make('Beat', 'celery-beat', 1, kplus.DeploymentStrategy.recreate(), { 'erp-k8s.io/singleton': 'true' }, beatHeartbeat);
    this.beat = beat.d;
    // No --pidfile: /tmp outlives a container restart, and Celery before the
    // 2024 fix of celery/celery#8997 (Debian bookworm's 5.2.6 included) takes
    // a pidfile holding its own PID (1, in a container) for a running beat
    // and refuses to start. One replica + Recreate is the singleton guarantee.
    const beatArgs = ['-A', celeryApp, 'beat', '--scheduler', b.scheduler ?? 'django_celery_beat.schedulers:DatabaseScheduler',
      '--loglevel', logLevel(b.logLevel, 'beat.logLevel'), '--max-interval', String(beatHeartbeat.interval)];
    addContainer(this.beat, {
      name: 'beat',
      image: api.image,
      command: celeryCommand('beat', beatHeartbeat.interval, beatArgs),
      ...containerEnv,
      ...heartbeatProbes(beatHeartbeat),
    }, { resources: beatResources, user: api.user, tmp: beat.tmp });
    mountWritableDirectories(this, 'Beat', this.beat, api.migrations.writableDirectories);
  }
}
