import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { celeryCommand, DEFAULT_HEARTBEAT_FILE, HEARTBEAT_ENV, heartbeatCheckCommand } from '../../src/app/celery-heartbeat';

// The wrapper and the check are Python: run them with this machine's python3
// against a fake `celery` package that exposes just what the wrapper uses
// (celery.__main__.main, celery.beat.Service/Scheduler.tick,
// celery.signals.worker_init, celery.bootsteps.StartStopStep) and reports
// what it saw as JSON.
const PY = process.env.PYTHON ?? 'python3';
const hasPython = spawnSync(PY, ['--version']).status === 0;
if (!hasPython && process.env.ERP_K8S_SKIP_PYTHON_TESTS !== '1') {
  throw new Error(`${PY} not found: these tests run the generated Python (set ERP_K8S_SKIP_PYTHON_TESTS=1 to skip them)`);
}
const pyDescribe = hasPython ? describe : describe.skip;

const FAKE_CELERY: Record<string, string> = {
  '__init__.py': '',
  'signals.py': [
    'class Signal:',
    '    def __init__(self):',
    '        self.receivers = []',
    '    def connect(self, fn, weak=True, **kwargs):',
    '        self.receivers.append(fn)',
    '        return fn',
    '    def send(self, sender, **kwargs):',
    '        return [(r, r(sender=sender, signal=self, **kwargs)) for r in self.receivers]',
    'worker_init = Signal()',
    'worker_ready = Signal()',
  ].join('\n'),
  'bootsteps.py': [
    'class StartStopStep:',
    '    requires = ()',
    '    def __init__(self, parent, **kwargs):',
    '        pass',
  ].join('\n'),
  'beat.py': [
    'class Scheduler:',
    '    def tick(self, *args, **kwargs):',
    '        return 5.0',
    'class Service:',
    '    def get_scheduler(self, lazy=False):',
    '        return Scheduler()',
  ].join('\n'),
  '__main__.py': [
    'import json, os, sys',
    'def mtime_recent(path):',
    '    return os.path.exists(path) and os.stat(path).st_mtime > 1000',
    'def main():',
    `    hb = os.environ[${JSON.stringify(HEARTBEAT_ENV)}]`,
    '    report = {"argv": list(sys.argv), "stale_removed": not os.path.exists(hb)}',
    '    if "beat" in sys.argv:',
    '        from celery.beat import Service',
    '        s = Service().get_scheduler()',
    '        report["tick_returns"] = s.tick()',
    '        report["touched_by_tick"] = mtime_recent(hb)',
    '        os.utime(hb, (0, 0))',
    '        s.tick()',
    '        report["touched_by_next_tick"] = mtime_recent(hb)',
    '    elif "worker" in sys.argv:',
    '        from celery import signals',
    '        class App:',
    '            steps = {"consumer": set()}',
    '        class Worker:',
    '            app = App()',
    '        signals.worker_init.send(sender=Worker)',
    '        steps = list(App.steps["consumer"])',
    '        report["steps"] = len(steps)',
    '        class Entry:',
    '            canceled = False',
    '            def cancel(self):',
    '                self.canceled = True',
    '        class Timer:',
    '            def __init__(self):',
    '                self.calls = []',
    '            def call_repeatedly(self, secs, fun, args=(), kwargs=None, priority=0):',
    '                entry = Entry()',
    '                self.calls.append((secs, fun, entry))',
    '                return entry',
    '        class Consumer:',
    '            timer = Timer()',
    '        c = Consumer()',
    '        step = steps[0](c)',
    '        report["requires"] = list(step.requires)',
    '        report["touched_before_start"] = os.path.exists(hb)',
    '        step.start(c)',
    '        report["touched_on_start"] = mtime_recent(hb)',
    '        secs, fun, entry = c.timer.calls[0]',
    '        report["interval"] = secs',
    '        os.utime(hb, (0, 0))',
    '        fun()',
    '        report["touched_by_timer"] = mtime_recent(hb)',
    '        step.stop(c)',
    '        report["cancelled_on_stop"] = entry.canceled',
    '        step.start(c)',
    '        report["rearmed_on_restart"] = len(c.timer.calls) == 2 and c.timer.calls[1][0] == secs',
    '    print(json.dumps(report))',
  ].join('\n'),
};

let dir: string;
let hb: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'erp-k8s-heartbeat-'));
  mkdirSync(join(dir, 'lib', 'celery'), { recursive: true });
  for (const [name, text] of Object.entries(FAKE_CELERY)) writeFileSync(join(dir, 'lib', 'celery', name), text + '\n');
  hb = join(dir, 'celery-heartbeat');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs an exec-form `python ...` command with python3, the heartbeat file in the temp dir. */
function run(command: string[], env: Record<string, string> = {}) {
  expect(command[0]).toBe('python');
  const r = spawnSync(PY, command.slice(1), {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', PYTHONPATH: join(dir, 'lib'), [HEARTBEAT_ENV]: hb, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Leaves an old heartbeat behind, as an earlier container of the pod would. */
function staleHeartbeat(ageSeconds = 3600) {
  writeFileSync(hb, '');
  const t = Date.now() / 1000 - ageSeconds;
  utimesSync(hb, t, t);
}

pyDescribe('celery wrapper (run against a fake celery)', () => {
  test('beat: argv reaches celery unchanged; every tick touches the heartbeat; a stale heartbeat is removed first', () => {
    // GIVEN a stale heartbeat and the beat command
    staleHeartbeat();
    const args = [
      '-A', 'config', 'beat', '--scheduler', 'django_celery_beat.schedulers:DatabaseScheduler',
      '--max-interval', '5', '-c', 'odd arg with spaces',
    ];
    // WHEN it runs
    const r = run(celeryCommand('beat', 5, args));
    // THEN
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.argv).toEqual(['celery', ...args]);
    expect(report.stale_removed).toBe(true);
    expect(report.tick_returns).toBe(5.0);
    expect(report.touched_by_tick).toBe(true);
    expect(report.touched_by_next_tick).toBe(true);
  });

  test('worker: a consumer bootstep touches the heartbeat on start and on a repeating timer, re-armed after a reconnect', () => {
    // GIVEN a stale heartbeat and the worker command
    staleHeartbeat();
    const args = ['-A', 'config', 'worker', '--concurrency', '4', '--loglevel', 'INFO', '--time-limit', '300'];
    // WHEN it runs
    const r = run(celeryCommand('worker', 15, args));
    // THEN
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.argv).toEqual(['celery', ...args]);
    expect(report.stale_removed).toBe(true);
    expect(report.steps).toBe(1);
    expect(report.requires).toEqual(['celery.worker.consumer.tasks:Tasks']);
    expect(report.touched_before_start).toBe(false);
    expect(report.touched_on_start).toBe(true);
    expect(report.interval).toBe(15);
    expect(report.touched_by_timer).toBe(true);
    expect(report.cancelled_on_stop).toBe(true);
    expect(report.rearmed_on_restart).toBe(true);
  });

  test('the heartbeat file defaults to /tmp/celery-heartbeat', () => {
    expect(DEFAULT_HEARTBEAT_FILE).toBe('/tmp/celery-heartbeat');
    expect(celeryCommand('worker', 15, [])[2]).toContain(`os.environ.get("${HEARTBEAT_ENV}") or "/tmp/celery-heartbeat"`);
  });
});

pyDescribe('heartbeat check', () => {
  const check = heartbeatCheckCommand(60);

  test('is python -I -S -c: no shell, no site-packages, no Django or Celery import', () => {
    expect(check.slice(0, 4)).toEqual(['python', '-I', '-S', '-c']);
    expect(check[4]).toMatch(/^import os, sys, time\n/);
    expect(check[4].split('\n').filter((l) => /^\s*(import|from) /.test(l))).toEqual(['import os, sys, time']);
  });

  test('fails when the heartbeat is missing', () => {
    rmSync(hb, { force: true });
    expect(existsSync(hb)).toBe(false);
    const r = run(check);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('missing');
  });

  test('fails when the heartbeat is older than the threshold', () => {
    staleHeartbeat(61);
    const r = run(check);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/is \d+s old \(at most 60s\)/);
  });

  test('passes when the heartbeat is fresh', () => {
    staleHeartbeat(5);
    const r = run(check);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});
