import { Duration } from 'cdk8s';
import { CeleryPair, CeleryPairProps, ErpApi, ExternalDatabase } from '../src';
import { all, container, containers, Manifest, one, podSpec, RESTRICTED, synth, testChart } from './util';

function synthPair(props: Partial<CeleryPairProps> = {}): Manifest[] {
  const chart = testChart();
  const api = new ErpApi(chart, 'Api', { image: 'erp/api:1.4.2', database: ExternalDatabase.of({ host: 'postgres' }) });
  new CeleryPair(chart, 'Celery', { api, ...props });
  return synth(chart);
}

describe('CeleryPair defaults', () => {
  // GIVEN the pair next to an API
  const objs = synthPair();
  const worker = one(objs, 'Deployment', 'erp-api-celery-worker');
  const beat = one(objs, 'Deployment', 'erp-api-celery-beat');
  const app = one(objs, 'Deployment', 'erp-api-app');

  test('worker: exec-form celery with concurrency 4 and a task time limit', () => {
    const c = container(worker, 'worker');
    expect(c.command).toEqual(['celery', '-A', 'config', 'worker', '--concurrency', '4', '--loglevel', 'INFO', '--time-limit', '300']);
    expect(c.resources).toEqual({ requests: { cpu: '200m', memory: '768Mi' }, limits: { cpu: '1000m', memory: '2Gi' } });
  });

  test('worker shuts down gracefully: grace period exceeds the task time limit', () => {
    expect(podSpec(worker).terminationGracePeriodSeconds).toBe(330);
  });

  test('worker liveness pings its own node through the broker', () => {
    const probe = container(worker, 'worker').livenessProbe;
    expect(probe.exec.command.join(' ')).toContain('inspect ping --destination "celery@$HOSTNAME" --timeout 10');
    expect(probe.timeoutSeconds).toBeGreaterThan(10);
    expect(container(worker, 'worker').readinessProbe.exec).toBeDefined();
  });

  test('beat: DatabaseScheduler, one replica, Recreate, labelled singleton', () => {
    const c = container(beat, 'beat');
    expect(c.command.slice(0, 6)).toEqual(['celery', '-A', 'config', 'beat', '--scheduler', 'django_celery_beat.schedulers:DatabaseScheduler']);
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
    expect(beat.spec.replicas).toBe(1);
    expect(beat.spec.strategy).toEqual({ type: 'Recreate' });
    expect(beat.metadata.labels['erp-k8s.io/singleton']).toBe('true');
    expect(c.livenessProbe).toBeDefined();
    expect(c.readinessProbe).toBeDefined();
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
        expect(c.env).toEqual(container(app, 'app').env);
        expect(c.envFrom).toEqual(container(app, 'app').envFrom);
      }
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
  ])('fails when %s', (_n, props, message) => {
    expect(() => synthPair(props)).toThrow(message);
  });
});
