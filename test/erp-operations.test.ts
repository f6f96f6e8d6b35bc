import { ErpApi, ErpOperations, ErpOperationsProps, ExternalDatabase } from '../src';
import { all, container, containers, Manifest, one, podSpec, RESTRICTED, synth, testChart } from './util';

function synthOps(props: Partial<ErpOperationsProps> = {}): Manifest[] {
  const chart = testChart();
  const api = new ErpApi(chart, 'Api', { image: 'erp/api:1.4.2', database: ExternalDatabase.of({ host: 'postgres' }) });
  new ErpOperations(chart, 'Ops', { api, bootstrap: { adminEmail: 'admin@example.com' }, ...props });
  return synth(chart);
}

describe('ErpOperations', () => {
  // GIVEN the default operations
  const objs = synthOps();

  test('bootstrap Job runs after migrations (Helm post-install/upgrade, Argo CD PostSync)', () => {
    const job = one(objs, 'Job', 'erp-api-bootstrap');
    expect(job.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'post-install,post-upgrade',
      'argocd.argoproj.io/hook': 'PostSync',
    });
    const script = container(job, 'bootstrap').command.join(' ');
    expect(script).toContain('erp-bootstrap --seed-rbac');
    expect(script).toContain('--bootstrap-admin --username "$ADMIN_USERNAME" --email "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD"');
    // safe to run twice: an existing admin is not a failure
    expect(script).toContain('grep -qi "exist"');
    const pw = container(job, 'bootstrap').env.find((e: Manifest) => e.name === 'ADMIN_PASSWORD');
    expect(pw.valueFrom.secretKeyRef).toEqual({ name: 'erp-admin', key: 'password' });
    expect(podSpec(job).initContainers.map((c: Manifest) => c.name)).toEqual(['wait-for-db']);
  });

  test('maintenance CronJobs: daily health and integrity, monthly cleanup as a dry run', () => {
    const crons: Record<string, Manifest> = Object.fromEntries(all(objs, 'CronJob').map((c) => [c.metadata.name, c]));
    expect(crons['erp-api-health-check'].spec.schedule).toBe('0 6 * * *');
    expect(crons['erp-api-data-integrity'].spec.schedule).toBe('30 6 * * *');
    expect(crons['erp-api-cleanup'].spec.schedule).toBe('0 3 1 * *');
    expect(container(crons['erp-api-cleanup'], 'cleanup').command).toEqual(['python', 'scripts/prod/cleanup_old_data.py']);
    for (const cj of Object.values(crons)) {
      expect(cj.spec).toMatchObject({ concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3 });
      for (const c of containers(cj)) {
        expect(c.securityContext).toMatchObject(RESTRICTED);
        expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
      }
    }
  });

  test('cleanup --execute by a prop', () => {
    const cj = one(synthOps({ maintenance: { cleanupExecute: true } }), 'CronJob', 'erp-api-cleanup');
    expect(container(cj, 'cleanup').command).toEqual(['python', 'scripts/prod/cleanup_old_data.py', '--execute']);
  });

  test.each<[string, Partial<ErpOperationsProps>, RegExp]>([
    ['cron "every day"', { maintenance: { healthCheckSchedule: 'every day' } }, /test\/Ops: 'maintenance.healthCheckSchedule' \("every day"\) must be a five-field cron expression/],
    ['bad admin e-mail', { bootstrap: { adminEmail: 'not-an-email' } }, /'bootstrap.adminEmail' \("not-an-email"\) must be an e-mail address/],
    ['script dir with shell characters', { maintenance: { scriptDir: 'x; rm -rf /' } }, /'maintenance.scriptDir' \("x; rm -rf \/"\)/],
  ])('fails when %s', (_n, props, message) => {
    expect(() => synthOps(props)).toThrow(message);
  });
});
