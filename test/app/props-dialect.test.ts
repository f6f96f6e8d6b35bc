/**
 * One props dialect (issue 15 step 4): ErpApi turns a feature off with
 * `enabled: false` (the deprecated `false` gives the same manifests), takes a
 * Size for the media volume (the deprecated string gives the same
 * manifests), and both forms for one setting is a synth error.
 */
import { Size } from 'cdk8s';
import { ErpApi, ErpApiProps, ErpOperations } from '../../src';
import { all, Manifest, one, synth, testChart } from '../util';

const IMAGE = 'registry.example.com/erp/api:1.4.2';
const js = (props: Record<string, unknown>) => props as unknown as Partial<ErpApiProps>;

function manifests(props: Partial<ErpApiProps>): Manifest[] {
  const chart = testChart();
  new ErpApi(chart, 'Api', { image: IMAGE, ...props });
  return synth(chart);
}

describe('ErpApi: deprecated forms give the same manifests', () => {
  test.each<[string, Partial<ErpApiProps>, Partial<ErpApiProps>, (objs: Manifest[]) => void]>([
    ['autoscaling: false → { enabled: false }', { autoscaling: false }, { autoscaling: { enabled: false } },
      (objs) => expect(all(objs, 'HorizontalPodAutoscaler')).toHaveLength(0)],
    ['vpa: false → { enabled: false }', { vpa: false }, { vpa: { enabled: false } },
      (objs) => expect(all(objs, 'VerticalPodAutoscaler')).toHaveLength(0)],
    ['media: false → { enabled: false }', { media: false }, { media: { enabled: false } },
      (objs) => expect(all(objs, 'PersistentVolumeClaim')).toHaveLength(0)],
    ['metrics: false → { enabled: false }', { metrics: false }, { metrics: { enabled: false } },
      (objs) => expect(all(objs, 'ServiceMonitor')).toHaveLength(0)],
    ['networkPolicy: false → { enabled: false }', { networkPolicy: false }, { networkPolicy: { enabled: false } },
      (objs) => expect(all(objs, 'NetworkPolicy')).toHaveLength(0)],
    ["media.size: '50Gi' → volumeSize: Size.gibibytes(50)", { media: { size: '50Gi' } }, { media: { volumeSize: Size.gibibytes(50) } },
      (objs) => expect(one(objs, 'PersistentVolumeClaim').spec.resources.requests.storage).toBe('50Gi')],
  ])('%s', (_name, old, canonical, check) => {
    // GIVEN one setting in its deprecated and in its canonical form
    const before = manifests(old);
    const after = manifests(canonical);
    // THEN the manifests are identical, and the setting took effect
    expect(after).toEqual(before);
    check(after);
  });

  test('the default media size is 20Gi, written as before', () => {
    expect(one(manifests({}), 'PersistentVolumeClaim').spec.resources.requests.storage).toBe('20Gi');
  });

  test('ingress: { enabled: false } makes no Ingress', () => {
    expect(all(manifests({ ingress: { enabled: false, host: 'erp.example.com' } }), 'Ingress')).toHaveLength(0);
  });

  test('ingress.tlsSecretName alone serves TLS from that Secret (no issuer, no redirect)', () => {
    const ing = one(manifests({ ingress: { host: 'erp.example.com', tlsSecretName: 'erp-cert' } }), 'Ingress');
    expect(ing.spec.tls).toEqual([{ hosts: ['erp.example.com'], secretName: 'erp-cert' }]);
    expect(ing.metadata.annotations['cert-manager.io/cluster-issuer']).toBeUndefined();
  });
});

describe('ErpApi: fails when', () => {
  test.each<[string, Partial<ErpApiProps>, RegExp]>([
    ['media.volumeSize is zero', { media: { volumeSize: Size.kibibytes(0) } }, /'media.volumeSize' \("0Ki"\) must be greater than zero/],
    ['media.volumeSize is a number', js({ media: { volumeSize: 20 } }), /'media.volumeSize' .*must be a cdk8s Size/],
    ['media.size and media.volumeSize', { media: { size: '1Gi', volumeSize: Size.gibibytes(1) } },
      /'media.volumeSize' .*cannot be combined with its deprecated alias 'media.size' \("1Gi"\)/],
    ['replicas with autoscaling on', { replicas: 2 }, /'replicas' \(2\) cannot be combined with 'autoscaling'.*'autoscaling: \{ enabled: false \}'/],
  ])('%s', (_name, props, message) => {
    expect(() => manifests(props)).toThrow(message);
  });
});

describe('ErpOperations: maintenance: false → { enabled: false }', () => {
  function operations(maintenance: false | { enabled: false }): Manifest[] {
    const chart = testChart();
    new ErpOperations(chart, 'Ops', { api: new ErpApi(chart, 'Api', { image: IMAGE }), maintenance });
    return synth(chart);
  }

  test('the same manifests, no CronJob', () => {
    const before = operations(false);
    const after = operations({ enabled: false });
    expect(after).toEqual(before);
    expect(all(after, 'CronJob')).toHaveLength(0);
  });
});
