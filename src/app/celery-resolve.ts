import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { checkResources, ComputeResources, resources } from '../internal/resources';
import { checkDnsLabel, checkInt, fail } from '../internal/validate';
import { Migrations } from '../migrations/migrations';
import type { CeleryPairProps } from './celery-pair';

/** A resolved heartbeat: interval, threshold and startup budget. */
export interface Heartbeat {
  readonly interval: number;
  readonly maxAge: Duration;
  readonly startupTimeout: Duration;
}

/** One resolved Celery Deployment: its replicas, resources, heartbeat, grace period and Celery arguments. */
export interface ResolvedCeleryProcess {
  readonly replicas: number;
  readonly resources: ComputeResources;
  readonly heartbeat: Heartbeat;
  /** Time a rollout may take: waiting for the database and migrations, then booting. */
  readonly progressDeadline: Duration;
  readonly terminationGracePeriod?: Duration;
  /** `celery` arguments after the wrapper. */
  readonly args: string[];
}

/** {@link CeleryPairProps} resolved: validated, defaults applied. */
export interface ResolvedCeleryPair {
  readonly worker: ResolvedCeleryProcess;
  readonly beat: ResolvedCeleryProcess;
  /** Resources of the wait init containers. */
  readonly initResources: ComputeResources;
  /** Wait for migrations: this many attempts, this far apart. */
  readonly attempts: number;
  readonly interval: Duration;
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

/** A `--loglevel`, upper-cased. */
function logLevel(scope: Construct, lvl: string | undefined, field: string): string {
  const l = (lvl ?? 'INFO').toUpperCase();
  if (!['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'].includes(l)) fail(scope, field, lvl, 'must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL');
  return l;
}

/** The worker: concurrency, task time limit and a grace period that lets running tasks finish, queues. */
function resolveWorker(scope: Construct, props: CeleryPairProps, celeryApp: string, deadline: (hb: Heartbeat) => Duration): ResolvedCeleryProcess {
  const w = props.worker ?? {};
  const concurrency = checkInt(scope, 'worker.concurrency', w.concurrency ?? 4, 1, 256);
  const replicas = checkInt(scope, 'worker.replicas', w.replicas ?? 1, 1, 1000);
  const workerResources = checkResources(scope, 'worker.resources', w.resources ?? resources('200m', '768Mi', '1000m', '2Gi'));
  const timeLimit = w.taskTimeLimit ?? Duration.minutes(5);
  if (timeLimit.toSeconds() < 1) fail(scope, 'worker.taskTimeLimit', `${timeLimit.toSeconds()}s`, 'must be at least 1s');
  const grace = w.terminationGracePeriod ?? Duration.seconds(timeLimit.toSeconds() + 30);
  if (grace.toSeconds() <= timeLimit.toSeconds()) {
    fail(scope, 'worker.terminationGracePeriod', `${grace.toSeconds()}s`,
      `must exceed 'worker.taskTimeLimit' (${timeLimit.toSeconds()}s), or running tasks are killed mid-way on every rollout`);
  }
  const level = logLevel(scope, w.logLevel, 'worker.logLevel');
  const queues = w.queues ?? [];
  queues.forEach((q, i) => checkDnsLabel(scope, `worker.queues[${i}]`, q));
  const heartbeat = resolveHeartbeat(scope, 'worker', w, Duration.seconds(15));
  const args = ['-A', celeryApp, 'worker', '--concurrency', String(concurrency), '--loglevel', level, '--time-limit', String(timeLimit.toSeconds())];
  if (queues.length) args.push('--queues', queues.join(','));
  return { replicas, resources: workerResources, heartbeat, progressDeadline: deadline(heartbeat), terminationGracePeriod: grace, args };
}

/** Beat: a singleton (one replica), the scheduler, a tick at least every heartbeat interval. */
function resolveBeat(scope: Construct, props: CeleryPairProps, celeryApp: string, deadline: (hb: Heartbeat) => Duration): ResolvedCeleryProcess {
  const b = props.beat ?? {};
  const replicas = b.replicas ?? 1;
  if (replicas !== 1) {
    fail(scope, 'beat.replicas', replicas, 'must be 1: Celery beat is a singleton, a second replica sends every periodic task twice');
  }
  const beatResources = checkResources(scope, 'beat.resources', b.resources ?? resources('100m', '256Mi', '500m', '512Mi'));
  const level = logLevel(scope, b.logLevel, 'beat.logLevel');
  const heartbeat = resolveHeartbeat(scope, 'beat', b, Duration.seconds(5));
  // No --pidfile: /tmp outlives a container restart, and Celery before the
  // 2024 fix of celery/celery#8997 (Debian bookworm's 5.2.6 included) takes
  // a pidfile holding its own PID (1, in a container) for a running beat
  // and refuses to start. One replica + Recreate is the singleton guarantee.
  const args = ['-A', celeryApp, 'beat', '--scheduler', b.scheduler ?? 'django_celery_beat.schedulers:DatabaseScheduler',
    '--loglevel', level, '--max-interval', String(heartbeat.interval)];
  return { replicas, resources: beatResources, heartbeat, progressDeadline: deadline(heartbeat), args };
}

/** Resolves and validates {@link CeleryPairProps} once, for the constructor to build from. */
export function resolveCeleryPair(scope: Construct, props: CeleryPairProps, migrations: Migrations): ResolvedCeleryPair {
  const celeryApp = props.celeryApp ?? 'config';
  if (!/^[A-Za-z_][\w.:]*$/.test(celeryApp)) fail(scope, 'celeryApp', celeryApp, "must be a Python module path such as 'config' or 'erp.celery:app'");
  const initResources = checkResources(scope, 'initResources', props.initResources ?? resources('50m', '128Mi', '500m', '512Mi'));
  const waitTimeout = props.migrationWaitTimeout ?? Duration.minutes(10);
  const interval = Duration.seconds(5);
  const attempts = Math.max(1, Math.ceil(waitTimeout.toSeconds() / interval.toSeconds()));
  // A rollout is not "failed" while its pods still wait for the database and
  // migrations (init containers) and then boot (startup probe).
  const deadline = (hb: Heartbeat) => Duration.seconds(migrations.waitBudget.toSeconds() + attempts * interval.toSeconds()
    + hb.startupTimeout.toSeconds({ integral: false }) + 60);
  return {
    worker: resolveWorker(scope, props, celeryApp, deadline),
    beat: resolveBeat(scope, props, celeryApp, deadline),
    initResources, attempts, interval,
  };
}
