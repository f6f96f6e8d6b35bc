import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';

/**
 * Celery liveness by heartbeat file.
 *
 * Celery runs under a small Python wrapper, `python -c <wrapper> <celery
 * argv...>`: exec form, so Python is PID 1 and Celery itself receives SIGTERM
 * (warm shutdown). Before handing over to Celery's own entry point the wrapper
 * arranges for the heartbeat file to be touched from Celery's main loop:
 *
 * - beat: after every scheduler tick (the scheduler returned by
 *   `celery.beat.Service.get_scheduler` gets its `tick` wrapped, so any
 *   scheduler class is covered, DatabaseScheduler included, which inherits
 *   `Scheduler.tick`); `--max-interval` bounds the time between two ticks;
 * - worker: a consumer bootstep (added to `app.steps['consumer']` on
 *   `worker_init`) that touches the file every interval with
 *   `consumer.timer.call_repeatedly`, i.e. on the worker's event loop. A
 *   bootstep, not a `worker_ready` handler: the consumer clears its timer on
 *   every broker reconnection (`Consumer.on_close`), and `worker_ready` is
 *   sent only once, whereas bootsteps are stopped and started again.
 *
 * The probes run `python -c <check>`, which imports nothing but `os`, `sys`
 * and `time` and exits 1 when the file is missing or older than a threshold:
 * a few tens of milliseconds, where `celery inspect ping` booted Django and
 * Celery every time.
 */

/** The variable naming the heartbeat file, read by the wrapper and the check. */
export const HEARTBEAT_ENV = 'ERP_K8S_HEARTBEAT_FILE';

/** The heartbeat file (under /tmp, an emptyDir). */
export const DEFAULT_HEARTBEAT_FILE = '/tmp/celery-heartbeat';

/** Which Celery program the wrapper runs. */
export type CeleryRole = 'worker' | 'beat';

const py = (s: string) => JSON.stringify(s);

/**
 * The wrapper's Python source. It removes a heartbeat left by an earlier
 * container of the same pod (/tmp outlives a container restart), installs the
 * heartbeat for `role`, sets `sys.argv = ['celery', *sys.argv[1:]]` (with
 * `python -c`, `sys.argv[0]` is `'-c'` and the rest are the arguments after
 * the script) and calls `celery.__main__.main`.
 */
export function celeryWrapperScript(role: CeleryRole, intervalSeconds: number): string {
  const common = [
    'import os, sys',
    `HEARTBEAT = os.environ.get(${py(HEARTBEAT_ENV)}) or ${py(DEFAULT_HEARTBEAT_FILE)}`,
    `INTERVAL = ${intervalSeconds}`,
    'def touch():',
    '    try:',
    '        with open(HEARTBEAT, "a"):',
    '            pass',
    '        os.utime(HEARTBEAT, None)',
    '    except OSError as exc:',
    '        print("heartbeat: cannot touch %s: %s" % (HEARTBEAT, exc), file=sys.stderr, flush=True)',
    'try:',
    '    os.remove(HEARTBEAT)',
    'except FileNotFoundError:',
    '    pass',
  ];
  const beat = [
    'import celery.beat',
    '_get_scheduler = celery.beat.Service.get_scheduler',
    'def get_scheduler(self, *args, **kwargs):',
    '    scheduler = _get_scheduler(self, *args, **kwargs)',
    '    tick = scheduler.tick',
    '    def beating_tick(*a, **kw):',
    '        interval = tick(*a, **kw)',
    '        touch()',
    '        return interval',
    '    scheduler.tick = beating_tick',
    '    return scheduler',
    'celery.beat.Service.get_scheduler = get_scheduler',
  ];
  const worker = [
    'from celery import signals',
    'def add_heartbeat_step(sender=None, **kwargs):',
    '    from celery import bootsteps',
    '    class Heartbeat(bootsteps.StartStopStep):',
    '        requires = ("celery.worker.consumer.tasks:Tasks",)',
    '        tref = None',
    '        def start(self, c):',
    '            touch()',
    '            self.tref = c.timer.call_repeatedly(INTERVAL, touch)',
    '        def stop(self, c):',
    '            if self.tref is not None:',
    '                self.tref.cancel()',
    '                self.tref = None',
    '        shutdown = stop',
    '    sender.app.steps["consumer"].add(Heartbeat)',
    'signals.worker_init.connect(add_heartbeat_step, weak=False)',
  ];
  return [
    ...common,
    ...(role === 'beat' ? beat : worker),
    'sys.argv = ["celery"] + sys.argv[1:]',
    'from celery.__main__ import main',
    'main()',
  ].join('\n');
}

/**
 * The container command: `['python', '-c', <wrapper>, ...celeryArgs]`, where
 * `celeryArgs` is Celery's argv without the program name
 * (`['-A', 'config', 'worker', ...]`).
 */
export function celeryCommand(role: CeleryRole, intervalSeconds: number, celeryArgs: readonly string[]): string[] {
  return ['python', '-c', celeryWrapperScript(role, intervalSeconds), ...celeryArgs];
}

/** The check's Python source: exit 1 when the heartbeat is missing or older than `maxAgeSeconds`. */
export function heartbeatCheckScript(maxAgeSeconds: number): string {
  return [
    'import os, sys, time',
    `path = os.environ.get(${py(HEARTBEAT_ENV)}) or ${py(DEFAULT_HEARTBEAT_FILE)}`,
    'try:',
    '    age = time.time() - os.stat(path).st_mtime',
    'except OSError:',
    '    print("heartbeat: %s missing" % path)',
    '    sys.exit(1)',
    `if age > ${maxAgeSeconds}:`,
    `    print("heartbeat: %s is %ds old (at most ${maxAgeSeconds}s)" % (path, age))`,
    '    sys.exit(1)',
  ].join('\n');
}

/**
 * The probe command. `-I` (isolated: neither the working directory nor
 * PYTHON* variables reach `sys.path`) and `-S` (no `site`: no scan of
 * site-packages) keep it fast and independent of the app.
 */
export function heartbeatCheckCommand(maxAgeSeconds: number): string[] {
  return ['python', '-I', '-S', '-c', heartbeatCheckScript(maxAgeSeconds)];
}

/** Options of {@link heartbeatProbes}. */
export interface HeartbeatProbeOptions {
  /** Age beyond which the heartbeat counts as stopped. */
  readonly maxAge: Duration;
  /** Time from container start to the first heartbeat before the kubelet restarts it. */
  readonly startupTimeout: Duration;
}

/** Startup, liveness and readiness probes of a heartbeat. */
export interface HeartbeatProbes {
  readonly startup: kplus.Probe;
  readonly liveness: kplus.Probe;
  readonly readiness: kplus.Probe;
}

/** Period of the startup probe. */
const STARTUP_PERIOD = 10;

/**
 * Probes on the heartbeat file. The startup probe holds the others off until
 * the first heartbeat (Django + Celery boot) for up to `startupTimeout`; after
 * it, liveness restarts a container whose heartbeat is older than `maxAge`
 * twice in a row, 30 s apart.
 */
export function heartbeatProbes(options: HeartbeatProbeOptions): HeartbeatProbes {
  const command = heartbeatCheckCommand(options.maxAge.toSeconds());
  const timeoutSeconds = Duration.seconds(10);
  return {
    startup: kplus.Probe.fromCommand(command, {
      periodSeconds: Duration.seconds(STARTUP_PERIOD),
      failureThreshold: Math.max(1, Math.ceil(options.startupTimeout.toSeconds({ integral: false }) / STARTUP_PERIOD)),
      timeoutSeconds,
    }),
    liveness: kplus.Probe.fromCommand(command, { periodSeconds: Duration.seconds(30), failureThreshold: 2, timeoutSeconds }),
    readiness: kplus.Probe.fromCommand(command, { periodSeconds: Duration.seconds(15), failureThreshold: 2, timeoutSeconds }),
  };
}
