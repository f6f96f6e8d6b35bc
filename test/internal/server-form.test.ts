/**
 * Zero drift: the output holds only what the API server keeps, so a second
 * `kubectl apply` says `unchanged` and `kubectl diff` is clean (the e2e suite
 * checks that on a real API server; these are the rules it relies on).
 */
import { ENVIRONMENTS } from '../../deploy/environments';
import { buildEnvironment } from '../../deploy/environments/erp-environment';
import { canonicalQuantity, serverForm } from '../../src/internal/server-form';
import { renderFiles } from '../../deploy/synth';

describe('canonical quantities (as the API server stores them)', () => {
  test.each([
    ['1000m', '1'], ['2000m', '2'], ['300m', '300m'], ['1500m', '1500m'], ['0.5', '500m'], ['2', '2'], ['2000', '2k'],
    ['1Gi', '1Gi'], ['1024Mi', '1Gi'], ['768Mi', '768Mi'], ['1536Mi', '1536Mi'], ['1.5Gi', '1536Mi'], ['2048Ki', '2Mi'],
    ['0', '0'], ['1000k', '1M'],
  ])('%s -> %s', (q, want) => expect(canonicalQuantity(q)).toBe(want));

  test('what it does not understand is left as it is', () => {
    expect(canonicalQuantity('0.5m')).toBe('0.5m');
    expect(canonicalQuantity('1e3')).toBe('1e3');
  });
});

describe('serverForm', () => {
  test('drops the zero values the server drops, keeps pointer fields and custom resources', () => {
    const dep = serverForm({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' },
      spec: {
        minReadySeconds: 0,
        template: {
          spec: {
            hostNetwork: false, enableServiceLinks: false, setHostnameAsFQDN: false, automountServiceAccountToken: false,
            containers: [{
              name: 'c', args: [], volumeMounts: [{ name: 'v', mountPath: '/v', readOnly: false }],
              securityContext: { privileged: false, allowPrivilegeEscalation: false },
              startupProbe: { initialDelaySeconds: 0, periodSeconds: 10 },
              resources: { requests: { cpu: '1000m', memory: '1024Mi' }, limits: { cpu: '2000m', memory: '3Gi' } },
            }],
            volumes: [{ name: 'v', emptyDir: {} }, { name: 't', emptyDir: { sizeLimit: '16384Ki' } }],
          },
        },
      },
    });
    expect(dep.spec.minReadySeconds).toBeUndefined();
    const pod = dep.spec.template.spec;
    expect(pod).toMatchObject({ enableServiceLinks: false, setHostnameAsFQDN: false, automountServiceAccountToken: false });
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.containers[0]).toEqual({
      name: 'c', volumeMounts: [{ name: 'v', mountPath: '/v' }], securityContext: { privileged: false, allowPrivilegeEscalation: false },
      startupProbe: { periodSeconds: 10 }, resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '3Gi' } },
    });
    expect(pod.volumes).toEqual([{ name: 'v', emptyDir: {} }, { name: 't', emptyDir: { sizeLimit: '16Mi' } }]);
    const service = { apiVersion: 'v1', kind: 'Service', spec: { externalIPs: [], ports: [{ port: 80 }] } };
    expect(serverForm(service).spec).toEqual({ ports: [{ port: 80 }] });
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', subjects: [{ apiGroup: '', kind: 'ServiceAccount', name: 's' }],
    };
    expect(serverForm(binding).subjects)
      .toEqual([{ kind: 'ServiceAccount', name: 's' }]);
    const job = serverForm({ apiVersion: 'batch/v1', kind: 'Job', spec: { template: { spec: { containers: [{ name: 'c', env: [
      { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }] }] } } } });
    // an atomic struct: the server's default apiVersion must be there, or server-side apply conflicts
    expect(job.spec.template.spec.containers[0].env[0].valueFrom.fieldRef).toEqual({ apiVersion: 'v1', fieldPath: 'metadata.namespace' });
    const cr = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', spec: { endpoints: [], x: false } };
    expect(serverForm(cr)).toBe(cr);
  });

  test.each(Object.keys(ENVIRONMENTS))('%s: no dropped zero value and no non-canonical quantity in the output', (name) => {
    const text = JSON.stringify(renderFiles(buildEnvironment(ENVIRONMENTS[name]).charts).flatMap((f) => f.objects));
    for (const bad of ['"hostNetwork":false', '"minReadySeconds":0', '"initialDelaySeconds":0', '"externalIPs":[]', '"egress":[]',
      '"apiGroup":""', '"readOnly":false', ':[]', '"cpu":"1000m"', '"cpu":"2000m"']) {
      expect(text).not.toContain(bad);
    }
  });
});

describe('StatefulSet claim templates as stored', () => {
  test('apiVersion, kind, volumeMode and status.phase are filled in (the list has no merge key)', () => {
    const sts = serverForm({
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' },
      spec: {
        volumeClaimTemplates: [{
          metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } },
        }],
      },
    });
    expect(sts.spec.volumeClaimTemplates).toEqual([{
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { creationTimestamp: null, name: 'data' },
      spec: { volumeMode: 'Filesystem', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } },
      status: { phase: 'Pending' },
    }]);
  });
});
