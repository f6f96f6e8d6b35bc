import { ArgoCdHook, ErpApi, ExternalDatabase, HelmHook, MigrationDelivery } from '../../src';
import { precedingHookAnnotations } from '../../src/migrations/delivery';
import { all, Manifest, one, synth, testChart } from '../util';

const api = (delivery?: MigrationDelivery, networkPolicy?: false): Manifest[] => {
  const chart = testChart();
  new ErpApi(chart, 'Api', {
    image: 'erp/api:1.4.2', database: ExternalDatabase.of({ host: 'db.example.com' }), migrationDelivery: delivery, networkPolicy,
  });
  return synth(chart);
};

describe('MigrationJob: the hook Job brings its own egress policy', () => {
  test('a pre-install hook: the policy is a hook of the same phases, weight and wave one lower, re-created with it', () => {
    // GIVEN an API whose migration Job is a Helm pre-install/pre-upgrade and Argo CD PreSync hook (the default)
    const objs = api();
    // THEN
    const job = all(objs, 'Job')[0];
    const policy = one(objs, 'NetworkPolicy', 'erp-api-migrate-egress');
    expect(job.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '0', 'argocd.argoproj.io/sync-wave': '0',
    });
    expect(policy.metadata.annotations).toEqual({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '-1',
      'helm.sh/hook-delete-policy': 'before-hook-creation',
      'argocd.argoproj.io/hook': 'PreSync',
      'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
      'argocd.argoproj.io/sync-wave': '-1',
    });
  });

  test("it selects only the migration pods and lets them out as the app's egress policy does (DNS, database, Redis)", () => {
    const objs = api();
    const policy = one(objs, 'NetworkPolicy', 'erp-api-migrate-egress');
    const job = all(objs, 'Job')[0];
    const labels = job.spec.template.metadata.labels;
    expect(policy.spec.podSelector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'erp-api', 'app.kubernetes.io/instance': 'erp-api', 'app.kubernetes.io/component': 'migrations',
    });
    for (const [k, v] of Object.entries(policy.spec.podSelector.matchLabels)) expect(labels[k]).toBe(v);
    const deployment = one(objs, 'Deployment');
    expect(deployment.spec.template.metadata.labels['app.kubernetes.io/component']).not.toBe('migrations');
    expect(policy.spec.egress).toEqual(one(objs, 'NetworkPolicy', 'erp-api-egress').spec.egress);
    expect(policy.spec.policyTypes).toEqual(['Egress']);
  });

  test('follows the delivery: post-install + Argo CD Sync in wave -1 (weight 5) gives post-install weight 4 and wave -2', () => {
    const objs = api(MigrationDelivery.all({
      helmHooks: [HelmHook.POST_INSTALL, HelmHook.PRE_UPGRADE], argoCdHook: ArgoCdHook.SYNC, syncWave: -1, hookWeight: 5,
    }));
    expect(one(objs, 'NetworkPolicy', 'erp-api-migrate-egress').metadata.annotations).toMatchObject({
      'helm.sh/hook': 'post-install,pre-upgrade', 'helm.sh/hook-weight': '4', 'argocd.argoproj.io/hook': 'Sync', 'argocd.argoproj.io/sync-wave': '-2',
    });
  });

  test('a plain Job gets a plain policy (kubectl apply: an earlier file)', () => {
    expect(precedingHookAnnotations(MigrationDelivery.plain())).toEqual({});
    expect(one(api(MigrationDelivery.plain()), 'NetworkPolicy', 'erp-api-migrate-egress').metadata.annotations).toBeUndefined();
  });

  test('networkPolicy: false: no policy at all', () => {
    expect(all(api(undefined, false), 'NetworkPolicy')).toEqual([]);
  });

  test('fails when allowEgress is called twice', () => {
    const chart = testChart();
    const erp = new ErpApi(chart, 'Api', { image: 'erp/api:1.4.2', database: ExternalDatabase.of({ host: 'db.example.com' }) });
    expect(() => erp.migrationJob!.allowEgress([])).toThrow(/'allowEgress' \("a second call"\) is not allowed/);
  });
});
