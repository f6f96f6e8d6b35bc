import { Duration } from 'cdk8s';
import { CeleryPair, CeleryPairProps, ErpApi, ExternalDatabase, Migrations } from '../../src';
import { DEFAULT_HEARTBEAT_FILE, HEARTBEAT_ENV, celeryWrapperScript, heartbeatCheckCommand } from '../../src/app/celery-heartbeat';
import { all, container, containers, Manifest, one, podSpec, RESTRICTED, synth, testChart } from '../util';

function synthPair(props: Partial<CeleryPairProps> = {}, migrations?: Migrations): Manifest[] {
  const chart = testChart();
  const api = new ErpApi(chart, 'Api', { image: 'erp/api:1.4.2', database: ExternalDatabase.of({ host: 'postgres' }), migrations });
  new CeleryPair(chart, 'Celery', { api, ...props });
  return synth(chart);
}

/** A container's env without the heartbeat variable. */
const appEnvOf = (c: Manifest) => (c.env ?? []).filter((e: Manifest) => e.name !== HEARTBEAT_ENV);

describe('CeleryPair defaults', () => {
  // GIVEN the pair next to an API
  const objs = synthPair();
  const worker = one(objs, 'Deployment', 'erp-api-celery-worker');
  const beat = one(objs, 'Deployment', 'erp-api-celery-beat');
  const app = one(objs, 'Deployment', 'erp-api-app');

  test('worker: celery through the heartbeat wrapper (exec form), concurrency 4 and a task time limit', () => {
    const c = container(worker, 'worker');
    expect(c.command).toEqual(['python', '-c', celeryWrapperScript('worker', 15),
      '-A', 'config', 'worker', '--concurrency', '4', '--loglevel', 'INFO', '--time-limit', '300']);
    // seed 1000m, as the API server stores it
    expect(c.resources).toEqual({ requests: { cpu: '200m', memory: '768Mi' }, limits: { cpu: '1', memory: '2Gi' } });
  });

  test('worker shuts down gracefully: grace period exceeds the task time limit', () => {
    expect(podSpec(worker).terminationGracePeriodSeconds).toBe(330);
  });

  test('worker probes read the heartbeat file (at most 60s old), after a startup probe of up to 5 minutes; no shell', () => {
    const c = container(worker, 'worker');
    const check = heartbeatCheckCommand(60);
    expect(c.livenessProbe).toMatchObject({ exec: { command: check }, periodSeconds: 30, failureThreshold: 2, timeoutSeconds: 10 });
    expect(c.readinessProbe).toMatchObject({ exec: { command: check }, periodSeconds: 15, failureThreshold: 2 });
    expect(c.startupProbe).toMatchObject({ exec: { command: check }, periodSeconds: 10, failureThreshold: 30 });
    expect(c.env).toContainEqual({ name: HEARTBEAT_ENV, value: DEFAULT_HEARTBEAT_FILE });
    expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  });

  test('beat: DatabaseScheduler through the heartbeat wrapper, a tick every 5s at most, no pidfile; one replica, Recreate, singleton', () => {
    const c = container(beat, 'beat');
    expect(c.command).toEqual(['python', '-c', celeryWrapperScript('beat', 5),
      '-A', 'config', 'beat', '--scheduler', 'django_celery_beat.schedulers:DatabaseScheduler', '--loglevel', 'INFO', '--max-interval', '5']);
    expect(c.command).not.toContain('--pidfile');
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
    expect(beat.spec.replicas).toBe(1);
    expect(beat.spec.strategy).toEqual({ type: 'Recreate' });
    expect(beat.metadata.labels['erp-k8s.io/singleton']).toBe('true');
  });

  test('beat probes read the heartbeat file (at most 60s old): they can fail, unlike a grep of /proc/1/cmdline', () => {
    const c = container(beat, 'beat');
    const check = heartbeatCheckCommand(60);
    for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) expect(p.exec.command).toEqual(check);
    expect(c.env).toContainEqual({ name: HEARTBEAT_ENV, value: DEFAULT_HEARTBEAT_FILE });
  });

  test('no probe needs a shell', () => {
    for (const d of [worker, beat]) {
      for (const c of containers(d)) {
        for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter(Boolean)) {
          expect(p.exec.command[0]).toBe('python');
        }
      }
    }
  });

  test('a rollout is not reported failed while pods wait for the database (120s), migrations (600s) and boot (300s)', () => {
    expect(worker.spec.progressDeadlineSeconds).toBe(120 + 600 + 300 + 60);
    expect(beat.spec.progressDeadlineSeconds).toBe(1080);
  });

  test('service links are off: no REDIS_PORT=tcp://... from the redis Service', () => {
    expect(podSpec(worker).enableServiceLinks).toBe(false);
    expect(podSpec(beat).enableServiceLinks).toBe(false);
  });

  test('beat is never autoscaled: the only HPA targets the API', () => {
    const hpas = all(objs, 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.spec.scaleTargetRef.name)).toEqual(['erp-api-app']);
  });

  test('same image and environment as the API; wait for db then for migrations', () => {
    for (const d of [worker, beat]) {
      expect(podSpec(d).initContainers.map((c: Manifest) => c.name)).toEqual(['wait-for-db', 'wait-for-migrations']);
      expect(container(d, 'wait-for-migrations').command.join(' ')).toContain('python manage.py migrate --check');
      for (const c of containers(d)) {
        expect(c.image).toBe('erp/api:1.4.2');
        expect(appEnvOf(c)).toEqual(container(app, 'app').env);
        expect(c.envFrom).toEqual(container(app, 'app').envFrom);
      }
    }
  });

  test('Django writes nowhere but /tmp: no extra volumes', () => {
    for (const d of [worker, beat]) {
      expect(podSpec(d).volumes.map((v: Manifest) => v.name)).toEqual(['tmp']);
    }
  });

  test('every container is restricted and has requests and limits', () => {
    for (const d of [worker, beat]) {
      for (const c of containers(d)) {
        expect(c.securityContext).toMatchObject(RESTRICTED);
        expect(c.resources.requests.cpu).toBeDefined();
        expect(c.resources.limits.memory).toBeDefined();
      }
    }
  });
});

describe('CeleryPair with a FastAPI (alembic) API', () => {
  test('every container, init containers included, gets a 100Mi emptyDir at the log directory /var/log/erp', () => {
    // GIVEN an alembic app (seed 002 logs to /var/log/erp/app.log) on a read-only root filesystem
    const objs = synthPair({}, Migrations.alembic());
    // THEN
    for (const name of ['erp-api-celery-worker', 'erp-api-celery-beat']) {
      const d = one(objs, 'Deployment', name);
      const vol = podSpec(d).volumes.find((v: Manifest) => v.emptyDir?.sizeLimit === '100Mi');
      expect(vol).toBeDefined();
      for (const c of containers(d)) {
        expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
        expect(c.volumeMounts).toContainEqual({ name: vol.name, mountPath: '/var/log/erp' });
      }
    }
  });

  test('logDirectory is configurable, and "" mounts nothing', () => {
    const custom = one(synthPair({}, Migrations.alembic({ logDirectory: '/app/logs' })), 'Deployment', 'erp-api-celery-worker');
    expect(container(custom, 'worker').volumeMounts.map((m: Manifest) => m.mountPath)).toEqual(['/tmp', '/app/logs']);
    const none = one(synthPair({}, Migrations.alembic({ logDirectory: '' })), 'Deployment', 'erp-api-celery-worker');
    expect(container(none, 'worker').volumeMounts.map((m: Manifest) => m.mountPath)).toEqual(['/tmp']);
  });

  test('the heartbeat settings drive the wrapper, --max-interval and the probe threshold', () => {
    const objs = synthPair({
      worker: { heartbeatInterval: Duration.seconds(30) },
      beat: { heartbeatInterval: Duration.seconds(20), heartbeatMaxAge: Duration.seconds(90) },
    });
    const w = container(one(objs, 'Deployment', 'erp-api-celery-worker'), 'worker');
    expect(w.command[2]).toBe(celeryWrapperScript('worker', 30));
    expect(w.livenessProbe.exec.command).toEqual(heartbeatCheckCommand(120));
    const b = container(one(objs, 'Deployment', 'erp-api-celery-beat'), 'beat');
    expect(b.command.slice(-2)).toEqual(['--max-interval', '20']);
    expect(b.livenessProbe.exec.command).toEqual(heartbeatCheckCommand(90));
  });
});

describe('CeleryPair worker PDB', () => {
  test('one worker: no PDB; two: a PDB selecting the worker pods', () => {
    expect(all(synthPair(), 'PodDisruptionBudget').map((p) => p.metadata.name)).toEqual(['erp-api']);
    const objs = synthPair({ worker: { replicas: 2 } });
    const pdb = one(objs, 'PodDisruptionBudget', 'erp-api-celery-worker');
    expect(pdb.spec.selector.matchLabels).toEqual(one(objs, 'Deployment', 'erp-api-celery-worker').spec.selector.matchLabels);
    expect(pdb.spec.maxUnavailable).toBe(1);
  });
});

describe('CeleryPair validation', () => {
  test.each<[string, Partial<CeleryPairProps>, RegExp]>([
    ['beat replicas 2', { beat: { replicas: 2 } }, /test\/Celery: 'beat.replicas' \(2\) must be 1: Celery beat is a singleton/],
    ['grace period not above the task limit', { worker: { taskTimeLimit: Duration.minutes(10), terminationGracePeriod: Duration.minutes(5) } },
      /'worker.terminationGracePeriod' \("300s"\) must exceed 'worker.taskTimeLimit' \(600s\)/],
    ['concurrency 0', { worker: { concurrency: 0 } }, /'worker.concurrency' \(0\) must be an integer from 1 to 256/],
    ['memory "2 GB"', { worker: { resources: { requests: { cpu: '1', memory: '2 GB' }, limits: { cpu: '1', memory: '2Gi' } } } }, /'worker.resources.requests.memory' \("2 GB"\)/],
    ['bad log level', { beat: { logLevel: 'LOUD' } }, /'beat.logLevel' \("LOUD"\) must be one of/],
    ['celery app with shell characters', { celeryApp: 'x; rm -rf /' }, /'celeryApp' \("x; rm -rf \/"\) must be a Python module path/],
    ['the worker heartbeat interval is under 1s', { worker: { heartbeatInterval: Duration.millis(500) } },
      /test\/Celery: 'worker.heartbeatInterval' \("0.5s"\) must be a whole number of seconds, at least 1s/],
    ['the beat heartbeat interval is 0', { beat: { heartbeatInterval: Duration.seconds(0) } },
      /'beat.heartbeatInterval' \("0s"\) must be a whole number of seconds, at least 1s/],
    ['the heartbeat threshold does not exceed the interval',
      { worker: { heartbeatInterval: Duration.seconds(30), heartbeatMaxAge: Duration.seconds(30) } },
      /'worker.heartbeatMaxAge' \("30s"\) must be a whole number of seconds greater than 'worker.heartbeatInterval' \(30s\)/],
    ['the startup timeout is under 10s', { beat: { startupTimeout: Duration.seconds(5) } }, /'beat.startupTimeout' \("5s"\) must be at least 10s/],
  ])('fails when %s', (_n, props, message) => {
    expect(() => synthPair(props)).toThrow(message);
  });

  test('fails when logDirectory is not an absolute directory', () => {
    expect(() => Migrations.alembic({ logDirectory: 'var/log' })).toThrow(/Migrations.alembic: 'logDirectory' \("var\/log"\) must be an absolute directory/);
    expect(() => Migrations.alembic({ logDirectory: '/var/../etc' })).toThrow(/'logDirectory' \("\/var\/..\/etc"\)/);
    expect(() => Migrations.alembic({ logDirectory: '/tmp' })).toThrow(/not \/tmp/);
  });
});
