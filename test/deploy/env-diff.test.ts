import { diffManifests, formatDiff } from '../../deploy/env-diff';

const dep = (replicas: number, ns: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'erp-api-app', namespace: ns, labels: { 'cdk8s.io/metadata.addr': `${ns}-x` } },
  spec: { replicas, template: { spec: { containers: [{ name: 'app', image: 'erp:1' }] } }, ...extra },
});

describe('diffManifests', () => {
  test('reports changed fields object by object, ignoring namespace and cdk8s address labels', () => {
    // GIVEN two environments that differ in replicas only
    const entries = diffManifests([dep(1, 'erp-dev')], [dep(2, 'erp-prod')]);
    // THEN exactly that field is reported
    expect(entries).toEqual([{ op: '~', object: 'Deployment/erp-api-app', path: 'spec.replicas', from: 1, to: 2 }]);
  });

  test('reports objects only on one side', () => {
    const hpa = { kind: 'HorizontalPodAutoscaler', metadata: { name: 'erp-api' } };
    const sts = { kind: 'StatefulSet', metadata: { name: 'postgres' } };
    const entries = diffManifests([dep(1, 'a'), sts], [dep(1, 'b'), hpa]);
    expect(entries).toEqual([
      { op: '+', object: 'HorizontalPodAutoscaler/erp-api' },
      { op: '-', object: 'StatefulSet/postgres' },
    ]);
    const text = formatDiff('dev', 'prod', entries);
    expect(text).toContain('+ HorizontalPodAutoscaler/erp-api   (only in prod)');
    expect(text).toContain('- StatefulSet/postgres   (only in dev)');
    expect(text.split('\n').pop()).toBe('1 added, 1 removed, 0 changed');
  });

  test('named list items (containers, env) are matched by name, others by index', () => {
    const b = dep(1, 'b');
    b.spec.template.spec.containers[0].image = 'erp:2';
    const text = formatDiff('a', 'b', diffManifests([dep(1, 'a')], [b]));
    expect(text).toContain('    spec.template.spec.containers[app].image: "erp:1" -> "erp:2"');
    const args = (x: string[]) => ({ kind: 'Job', metadata: { name: 'j' }, spec: { args: x } });
    expect(diffManifests([args(['a', 'b'])], [args(['a', 'c'])])).toEqual([{ op: '~', object: 'Job/j', path: 'spec.args[1]', from: 'b', to: 'c' }]);
  });

  test('identical environments have no differences', () => {
    expect(diffManifests([dep(1, 'a')], [dep(1, 'b')])).toEqual([]);
  });
});
