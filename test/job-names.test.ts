/**
 * A Job's pod template is immutable, so every Job that `kubectl apply` may
 * see twice is named after a hash of its whole pod template: the same
 * template is a no-op, any change (image, env, resources, volumes...) is a
 * new Job.
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import { CostMgmtPostgres, ErpApi, ErpApiProps, ErpOperations, resources } from '../src';
import { ENVIRONMENTS } from '../deploy/environments';
import { buildEnvironment } from '../deploy/environments/erp-environment';
import { renderFiles } from '../deploy/synth';
import { Manifest, synth, testChart } from './util';

const IMAGE = 'registry.example.com/erp/api:1.4.2';

function jobs(props: Partial<ErpApiProps> = {}, patch?: (api: ErpApi) => void): Record<string, string> {
  const chart = testChart();
  const database = new CostMgmtPostgres(chart, 'Db');
  const api = new ErpApi(chart, 'Api', { image: IMAGE, database, ...props });
  new ErpOperations(chart, 'Ops', { api, bootstrap: { adminEmail: 'admin@example.com' }, maintenance: false });
  patch?.(api);
  const out: Record<string, string> = {};
  for (const o of synth(chart).filter((x: Manifest) => x.kind === 'Job')) out[o.metadata.name.replace(/-[0-9a-f]{10}$/, '')] = o.metadata.name;
  return out;
}

describe('Jobs named by everything they run', () => {
  const base = jobs();

  test('names are <prefix>-<10 hex digits>, and the same input gives the same names', () => {
    expect(Object.keys(base).sort()).toEqual([
      'erp-api-bootstrap', 'erp-api-migrate', 'erp-api-pre-migration-backup', 'postgres-backup-initial', 'postgres-credentials-init',
    ]);
    for (const n of Object.values(base)) expect(n).toMatch(/-[0-9a-f]{10}$/);
    expect(jobs()).toEqual(base);
  });

  test.each([
    // a new migration Job is a new release: its pre-migration dump (which records the release) is new too
    ['an image bump', { image: 'registry.example.com/erp/api:1.4.3' }, ['erp-api-migrate', 'erp-api-pre-migration-backup', 'erp-api-bootstrap']],
    ['an env-only change', { env: { FEATURE_X: 'on' } }, ['erp-api-migrate', 'erp-api-pre-migration-backup', 'erp-api-bootstrap']],
    ['a resources-only change', { migrationResources: resources('300m', '512Mi', '1000m', '2Gi') },
      ['erp-api-migrate', 'erp-api-pre-migration-backup']],
    ['another env Secret', { envSecretName: 'erp-api-env-v2' }, ['erp-api-migrate', 'erp-api-pre-migration-backup', 'erp-api-bootstrap']],
  ] as Array<[string, Partial<ErpApiProps>, string[]]>)('%s renames exactly the Jobs it changes', (_what, props, changed) => {
    const after = jobs(props);
    for (const prefix of Object.keys(base)) {
      if (changed.includes(prefix)) expect(after[prefix]).not.toBe(base[prefix]);
      else expect(after[prefix]).toBe(base[prefix]);
    }
  });

  test('a JSON patch on the pod template (escape hatch) is part of the name; the MigrationJob reports the rendered name', () => {
    let jobName = '';
    const patched = jobs({}, (api) => {
      ApiObject.of(api.migrationJob!.job).addJsonPatch(JsonPatch.add('/spec/template/spec/priorityClassName', 'batch-low'));
      jobName = api.migrationJob!.jobName;
    });
    expect(patched['erp-api-migrate']).not.toBe(base['erp-api-migrate']);
    expect(jobName).toBe(patched['erp-api-migrate']);
  });

  test('a releaseId names the migration Job explicitly', () => {
    expect(jobs({ releaseId: 'A1B2C3D' })['erp-api-migrate']).toBeUndefined();
    const chart = testChart();
    const api = new ErpApi(chart, 'Api', { image: IMAGE, releaseId: 'A1B2C3D' });
    expect(api.migrationJob!.jobName).toBe('erp-api-migrate-a1b2c3d');
    expect(api.migrationJob!.releaseId).toBe('a1b2c3d');
  });

  test('staging and prod (same image, different env) get different migration Jobs', () => {
    const name = (env: string) => renderFiles(buildEnvironment(ENVIRONMENTS[env]).charts).flatMap((f) => f.objects)
      .find((o) => o.kind === 'Job' && o.metadata.name.startsWith('erp-api-migrate-'))!.metadata.name;
    expect(ENVIRONMENTS.staging.images.api).toBe(ENVIRONMENTS.prod.images.api);
    expect(name('staging')).not.toBe(name('prod'));
  });

  test('the credentials Job lets Argo CD settle: a Sync hook deleted before the next, in the infrastructure wave', () => {
    const files = renderFiles(buildEnvironment(ENVIRONMENTS.dev).charts);
    const job = files.flatMap((f) => f.objects).find((o) => o.kind === 'Job' && o.metadata.name.startsWith('postgres-credentials-init-'))!;
    const sts = files.flatMap((f) => f.objects).find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'postgres')!;
    expect(job.metadata.annotations)
      .toMatchObject({ 'argocd.argoproj.io/hook': 'Sync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' });
    const wave = (o: Manifest) => Number(o.metadata.annotations['argocd.argoproj.io/sync-wave']);
    expect(wave(job)).toBeLessThanOrEqual(wave(sts));
  });
});
