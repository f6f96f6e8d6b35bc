import { ApiObject, Chart, Testing } from 'cdk8s';
import { defaultDeny } from '../../src/internal/network-policies';
import { checkPolicy } from '../../src/gates/policy';
import { Redis, RedisProps } from '../../src/data/redis';
import { validateManifests } from '../../src/gates/schema-validator';
import { all, container, Manifest, one, podSpec, RESTRICTED } from '../util';

function synthRedis(props: RedisProps = {}): { redis: Redis; objs: Manifest[] } {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'erp' });
  const redis = new Redis(chart, 'Redis', props);
  return { redis, objs: Testing.synth(chart) as Manifest[] };
}

describe('Redis (in-cluster)', () => {
  test.each<[string, RedisProps]>([
    ['defaults', {}],
    ['persistent', { persistence: { size: '2Gi', storageClassName: 'ssd' } }],
    ['external', { enabled: false, host: 'redis.example.com' }],
  ])('%s: valid against the Kubernetes 1.28 schema and the policy gate', (_name, props) => {
    // GIVEN
    const chart = new Chart(Testing.app(), 'test', { namespace: 'erp' });
    defaultDeny(chart, 'DefaultDeny', 'erp');
    // WHEN
    new Redis(chart, 'Redis', props);
    const objs = Testing.synth(chart);
    // THEN
    expect(validateManifests(objs)).toEqual([]);
    expect(checkPolicy(objs).violations).toEqual([]);
  });

  test('StatefulSet and Service redis on 6379; connection with a redis:// URL', () => {
    // GIVEN / WHEN
    const { redis, objs } = synthRedis();
    // THEN
    const sts = one(objs, 'StatefulSet', 'redis');
    expect(sts.spec.replicas).toBe(1);
    const svc = one(objs, 'Service', 'redis');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports).toEqual([{ name: 'redis', port: 6379, targetPort: 6379 }]);
    expect(svc.spec.selector).toEqual(sts.spec.selector.matchLabels);
    expect(redis.connection).toEqual({
      host: 'redis', port: 6379, database: 0, url: 'redis://redis:6379/0', clientLabels: { 'erp-k8s.io/redis-client': 'true' },
    });
    expect(ApiObject.of(redis).kind).toBe('StatefulSet');
  });

  test('non-root, restricted, pinned image, probes, requests and limits', () => {
    // GIVEN / WHEN
    const { objs } = synthRedis();
    // THEN
    const sts = one(objs, 'StatefulSet');
    const c = container(sts, 'redis');
    expect(c.securityContext).toMatchObject({ ...RESTRICTED, runAsUser: 999 });
    expect(podSpec(sts).automountServiceAccountToken).toBe(false);
    expect(c.image).toMatch(/^docker\.io\/library\/redis:\d+\.\d+\.\d+-alpine$/);
    for (const p of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      expect(p.exec.command).toEqual(['sh', '-c', 'redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG']);
    }
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
  });

  test('without persistence: in memory only (no RDB/AOF), /data an emptyDir, no PVC', () => {
    // GIVEN / WHEN
    const { objs } = synthRedis();
    // THEN
    const sts = one(objs, 'StatefulSet');
    const c = container(sts, 'redis');
    expect(c.command).toEqual(['redis-server', '--port', '6379', '--bind', '0.0.0.0', '--protected-mode', 'no', '--dir', '/data', '--save', '',
      '--appendonly', 'no']);
    expect(podSpec(sts).volumes).toContainEqual({ name: 'data', emptyDir: {} });
    expect(sts.spec.volumeClaimTemplates).toBeUndefined();
  });

  test('with persistence: AOF on a kept, retained redis-data claim', () => {
    // GIVEN / WHEN
    const { objs } = synthRedis({ persistence: { size: '2Gi', storageClassName: 'ssd' } });
    // THEN
    const sts = one(objs, 'StatefulSet');
    const c = container(sts, 'redis');
    expect(c.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(c.volumeMounts).toContainEqual({ name: 'redis-data', mountPath: '/data' });
    const t = sts.spec.volumeClaimTemplates[0];
    expect(t.metadata.name).toBe('redis-data');
    expect(t.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    expect(t.spec)
      .toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'ssd', resources: { requests: { storage: '2Gi' } }, volumeMode: 'Filesystem' });
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
  });

  test('NetworkPolicy: only client pods reach 6379', () => {
    // GIVEN / WHEN
    const { objs } = synthRedis({ clientLabels: { 'example.com/cache': 'yes' } });
    // THEN
    const np = one(objs, 'NetworkPolicy', 'redis');
    const labels = one(objs, 'StatefulSet').spec.template.metadata.labels;
    for (const [k, v] of Object.entries(np.spec.podSelector.matchLabels)) expect(labels[k]).toBe(v);
    expect(np.spec.podSelector.matchLabels['app.kubernetes.io/name']).toBe('redis');
    expect(np.spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: { 'example.com/cache': 'yes' } } }], ports: [{ protocol: 'TCP', port: 6379 }] },
    ]);
    expect(np.spec.egress).toEqual([]);
    expect(all(synthRedis({ networkPolicy: false }).objs, 'NetworkPolicy')).toEqual([]);
  });
});

describe('Redis (external)', () => {
  test('no objects, the same connection shape', () => {
    // GIVEN / WHEN
    const { redis, objs } = synthRedis({ enabled: false, host: 'erp-redis.prod.example.com', database: 2 });
    // THEN
    expect(objs).toEqual([]);
    expect(redis.statefulSet).toBeUndefined();
    expect(redis.connection.url).toBe('redis://erp-redis.prod.example.com:6379/2');
    expect(redis.connection.clientLabels).toEqual({ 'erp-k8s.io/redis-client': 'true' });
  });
});

describe('Redis validation', () => {
  test.each<[string, RedisProps, string]>([
    ['the database index is out of range', { database: 16 }, "test/Redis: 'database' (16) must be an integer from 0 to 15"],
    ['the port is 0', { port: 0 }, "test/Redis: 'port' (0) must be an integer from 1 to 65535"],
    ['the persistence size is not a quantity', { persistence: { size: '1 GB' } },
      "test/Redis: 'persistence.size' (\"1 GB\") must be a Kubernetes byte quantity"],
    ['the image is latest', { image: 'redis:latest' }, "test/Redis: 'image' (\"redis:latest\") must be pinned"],
    ['host is given for the in-cluster Redis', { host: 'redis.example.com' },
      "test/Redis: 'host' (\"redis.example.com\") only applies with 'enabled: false'"],
    ['host is missing for an external Redis', { enabled: false }, "test/Redis: 'host' (undefined) is required when 'enabled' is false"],
    ['persistence is given for an external Redis', { enabled: false, host: 'r', persistence: {} },
      "test/Redis: 'persistence' ({}) only applies to the in-cluster Redis"],
    ['a client label is invalid', { clientLabels: { 'bad key!': 'x' } }, "test/Redis: 'clientLabels.bad key!' (\"x\") must be a Kubernetes label"],
  ])('fails when %s', (_name, props, message) => {
    expect(() => synthRedis(props)).toThrow(message);
  });
});
