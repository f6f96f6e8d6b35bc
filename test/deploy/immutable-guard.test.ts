import { buildEnvironment, ENVIRONMENTS } from '../../deploy/environments';
import { compareQuantities } from '../../deploy/immutable/quantities';
import { findImmutableChanges, formatImmutableChange, objectKey } from '../../deploy/immutable-guard';
import { KubeObject } from '../../deploy/immutable/types';
import { renderFiles } from '../../deploy/synth';

const NS = 'erp-prod';

/** The guard's messages for a change from `before` to `after`, as synth prints them for prod. */
function refusals(before: KubeObject[], after: KubeObject[]): string[] {
  return findImmutableChanges(before, after).map((c) => formatImmutableChange(c, 'prod'));
}

/** A deep copy changed by `edit`. */
function changed<T extends KubeObject>(o: T, edit: (copy: KubeObject) => void): T {
  const copy = structuredClone(o);
  edit(copy);
  return copy;
}

const labels = { 'app.kubernetes.io/name': 'erp-api', 'app.kubernetes.io/component': 'app' };
const podTemplate = (image = 'registry.example.com/erp/api:1.0.0') => ({
  metadata: { labels },
  spec: { containers: [{ name: 'app', image, env: [{ name: 'DEBUG', value: 'False' }] }] },
});

const deployment: KubeObject = {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'erp-api-app', namespace: NS },
  spec: { replicas: 2, selector: { matchLabels: labels }, template: podTemplate() },
};
const daemonSet: KubeObject = {
  apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'node-agent', namespace: NS },
  spec: { selector: { matchLabels: { app: 'node-agent' } }, template: podTemplate() },
};
const claimTemplate = (storage: string, storageClassName = 'nfs-client') => ({
  metadata: { name: 'postgresql-data' },
  spec: { accessModes: ['ReadWriteOnce'], storageClassName, resources: { requests: { storage } } },
});
const statefulSet: KubeObject = {
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'postgres', namespace: NS },
  spec: {
    replicas: 1, serviceName: 'postgres-headless', podManagementPolicy: 'OrderedReady',
    selector: { matchLabels: { 'app.kubernetes.io/name': 'postgres' } },
    template: podTemplate('quay.io/sclorg/postgresql-13-c9s:latest'),
    volumeClaimTemplates: [claimTemplate('20Gi')],
  },
};
const job = (annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'erp-api-bootstrap', namespace: NS, ...(annotations ? { annotations } : {}) },
  spec: { backoffLimit: 2, template: { ...podTemplate(), spec: { ...podTemplate().spec, restartPolicy: 'Never' } } },
});
const pvc: KubeObject = {
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'erp-api-media', namespace: NS },
  spec: { accessModes: ['ReadWriteMany'], storageClassName: 'nfs-client', resources: { requests: { storage: '20Gi' } } },
};
const service: KubeObject = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'erp-api', namespace: NS },
  spec: { type: 'ClusterIP', clusterIP: '10.96.0.50', ports: [{ port: 8000, targetPort: 8000 }], selector: labels },
};
const objects = [deployment, daemonSet, statefulSet, job(), pvc, service];

describe('the guard refuses what Kubernetes rejects on apply', () => {
  test('fails when a Deployment\'s selector changes', () => {
    const after = changed(deployment, (d) => { d.spec.selector.matchLabels = { app: 'erp-api' }; });
    expect(refusals([deployment], [after])).toEqual([
      '[prod] Deployment/erp-api-app (namespace erp-prod): \'spec.selector\' '
        + '({"matchLabels":{"app.kubernetes.io/name":"erp-api","app.kubernetes.io/component":"app"}} -> {"matchLabels":{"app":"erp-api"}})'
      + ' is immutable, Kubernetes rejects this apply. Way out: delete the Deployment (`kubectl -n erp-prod delete deployment erp-api-app`; its '
        + 'pods go with it) and apply again, or keep the old selector',
    ]);
  });

  test('fails when a DaemonSet\'s selector changes', () => {
    const after = changed(daemonSet, (d) => { d.spec.selector.matchLabels.app = 'agent'; });
    expect(refusals([daemonSet], [after])).toEqual([expect.stringMatching(
      /^\[prod\] DaemonSet\/node-agent \(namespace erp-prod\): 'spec\.selector' \(\{"matchLabels":\{"app":"node-agent"\}\} -> \{"matchLabels":\{"app":"agent"\}\}\) is immutable.*Way out: delete the DaemonSet \(`kubectl -n erp-prod delete daemonset node-agent`/,
    )]);
  });

  test('fails when a StatefulSet\'s selector changes', () => {
    const after = changed(statefulSet, (s) => { s.spec.selector.matchLabels['app.kubernetes.io/instance'] = 'postgres'; });
    expect(refusals([statefulSet], [after])).toEqual([expect.stringMatching(
      /StatefulSet\/postgres .*'spec\.selector' .* is immutable.*Way out: delete the StatefulSet \(`kubectl -n erp-prod delete statefulset postgres`; its PVCs stay\) and apply again, or keep the old selector$/,
    )]);
  });

  test('fails when a Job\'s selector changes', () => {
    const before = changed(job(), (j) => { j.spec.manualSelector = true; j.spec.selector = { matchLabels: { job: 'a' } }; });
    const after = changed(before, (j) => { j.spec.selector.matchLabels.job = 'b'; });
    expect(refusals([before], [after])).toEqual([expect.stringMatching(
      /Job\/erp-api-bootstrap .*'spec\.selector' \(\{"matchLabels":\{"job":"a"\}\} -> \{"matchLabels":\{"job":"b"\}\}\) is immutable.*Way out: delete the Job \(`kubectl -n erp-prod delete job erp-api-bootstrap`\) or give it a new name/,
    )]);
  });

  test('fails when a StatefulSet\'s volume claim template grows: expand the PVC, then orphan-delete the StatefulSet', () => {
    const after = changed(statefulSet, (s) => { s.spec.volumeClaimTemplates = [claimTemplate('50Gi')]; });
    expect(refusals([statefulSet], [after])).toEqual([
      '[prod] StatefulSet/postgres (namespace erp-prod): \'spec.volumeClaimTemplates[postgresql-data].spec.resources.requests.storage\' ("20Gi" '
        + '-> "50Gi")'
      + ' is immutable, Kubernetes rejects this apply. Way out: expand the PVC'
      + ' (`kubectl -n erp-prod patch pvc postgresql-data-postgres-0 -p \'{"spec":{"resources":{"requests":{"storage":"50Gi"}}}}\'`, if the '
        + 'storage class allows expansion),'
      + ' then `kubectl -n erp-prod delete statefulset postgres --cascade=orphan` (its pods and PVCs stay) and apply again',
    ]);
    // one claim per replica
    const three = changed(statefulSet, (s) => { s.spec.replicas = 3; });
    const grown = changed(three, (s) => { s.spec.volumeClaimTemplates = [claimTemplate('50Gi')]; });
    expect(refusals([three], [grown])[0]).toContain(
      'expand the PVC (`for i in $(seq 0 2); do kubectl -n erp-prod patch pvc postgresql-data-postgres-$i -p '
        + '\'{"spec":{"resources":{"requests":{"storage":"50Gi"}}}}\'; done`',
    );
  });

  test('fails when a StatefulSet\'s volume claim template shrinks', () => {
    const after = changed(statefulSet, (s) => { s.spec.volumeClaimTemplates = [claimTemplate('10Gi')]; });
    expect(refusals([statefulSet], [after])).toEqual([expect.stringMatching(
      /'spec\.volumeClaimTemplates\[postgresql-data\]\.spec\.resources\.requests\.storage' \("20Gi" -> "10Gi"\) is immutable.*Way out: a PVC never shrinks: keep the old size; or `kubectl -n erp-prod delete statefulset postgres --cascade=orphan`/,
    )]);
  });

  test('fails when a StatefulSet\'s volume claim template changes otherwise (storage class, labels, a new template)', () => {
    const classChange = changed(statefulSet, (s) => { s.spec.volumeClaimTemplates = [claimTemplate('20Gi', 'fast-ssd')]; });
    expect(refusals([statefulSet], [classChange])).toEqual([expect.stringMatching(
      /'spec\.volumeClaimTemplates\[postgresql-data\]\.spec\.storageClassName' \("nfs-client" -> "fast-ssd"\) is immutable.*`kubectl -n erp-prod delete statefulset postgres --cascade=orphan` \(its pods and PVCs stay\) and apply again: existing PVCs keep their old spec/,
    )]);
    const added = changed(statefulSet, (s) => { s.spec.volumeClaimTemplates.push({ ...claimTemplate('1Gi'), metadata: { name: 'wal' } }); });
    expect(refusals([statefulSet], [added])).toEqual([expect.stringMatching(/'spec\.volumeClaimTemplates\[1\]' \(\(unset\) -> \{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":\{"name":"wal"\}.*\) is immutable/)]);
  });

  test('fails when a StatefulSet\'s serviceName changes', () => {
    const after = changed(statefulSet, (s) => { s.spec.serviceName = 'postgres'; });
    expect(refusals([statefulSet], [after])).toEqual([
      '[prod] StatefulSet/postgres (namespace erp-prod): \'spec.serviceName\' ("postgres-headless" -> "postgres") is immutable, Kubernetes '
        + 'rejects this apply.'
      + ' Way out: `kubectl -n erp-prod delete statefulset postgres --cascade=orphan` (its pods and PVCs stay) and apply again, or keep the old '
        + 'value',
    ]);
  });

  test('fails when a StatefulSet\'s podManagementPolicy changes', () => {
    const after = changed(statefulSet, (s) => { s.spec.podManagementPolicy = 'Parallel'; });
    expect(refusals([statefulSet], [after])).toEqual([expect.stringMatching(
      /StatefulSet\/postgres .*'spec\.podManagementPolicy' \("OrderedReady" -> "Parallel"\) is immutable.*--cascade=orphan/,
    )]);
  });

  test('fails when a Job\'s pod template changes under the same name', () => {
    const after = changed(job(), (j) => {
      j.spec.template.spec.containers[0].image = 'registry.example.com/erp/api:1.1.0';
      j.spec.template.spec.containers[0].env[0].value = 'True';
    });
    expect(refusals([job()], [after])).toEqual([
      '[prod] Job/erp-api-bootstrap (namespace erp-prod): \'spec.template\' (spec.template.spec.containers[app].image: '
        + '"registry.example.com/erp/api:1.0.0" -> "registry.example.com/erp/api:1.1.0";'
      + ' spec.template.spec.containers[app].env[DEBUG].value: "False" -> "True") is immutable, Kubernetes rejects this apply.'
      + ' Way out: delete the Job (`kubectl -n erp-prod delete job erp-api-bootstrap`) or give it a new name (e.g. after a hash of its pod template)',
    ]);
  });

  test('fails when a Helm/Argo CD hook Job\'s template changes: the message says the hook tool deletes it first', () => {
    const hook = job({ 'helm.sh/hook': 'post-install,post-upgrade', 'argocd.argoproj.io/hook': 'PostSync' });
    const after = changed(hook, (j) => { j.spec.template.spec.containers[0].image = 'registry.example.com/erp/api:1.1.0'; });
    expect(refusals([hook], [after])).toEqual([expect.stringMatching(
      /Job\/erp-api-bootstrap .*'spec\.template\.spec\.containers\[app\]\.image' .* is immutable.*delete the Job .*; as a Helm\/Argo CD hook it is deleted first by that tool, but a plain `kubectl apply` still fails$/,
    )]);
  });

  test('fails when a PVC\'s storageClassName changes', () => {
    const after = changed(pvc, (p) => { p.spec.storageClassName = 'local-path'; });
    expect(refusals([pvc], [after])).toEqual([
      '[prod] PersistentVolumeClaim/erp-api-media (namespace erp-prod): \'spec.storageClassName\' ("nfs-client" -> "local-path") is immutable, '
        + 'Kubernetes rejects this apply.'
      + ' Way out: a PVC\'s spec is fixed at creation (only its size can grow): keep the old value, or create a PVC under a new name and copy the '
        + 'data over'
      + ' (deleting and re-creating this one loses its data unless its PersistentVolume is Retain)',
    ]);
  });

  test('fails when a PVC\'s accessModes change', () => {
    const after = changed(pvc, (p) => { p.spec.accessModes = ['ReadWriteOnce']; });
    expect(refusals([pvc], [after])).toEqual([expect.stringMatching(
      /PersistentVolumeClaim\/erp-api-media .*'spec\.accessModes' \(\["ReadWriteMany"\] -> \["ReadWriteOnce"\]\) is immutable.*create a PVC under a new name/,
    )]);
  });

  test('fails when a PVC shrinks (20Gi -> 10Gi)', () => {
    const after = changed(pvc, (p) => { p.spec.resources.requests.storage = '10Gi'; });
    expect(refusals([pvc], [after])).toEqual([
      '[prod] PersistentVolumeClaim/erp-api-media (namespace erp-prod): \'spec.resources.requests.storage\' ("20Gi" -> "10Gi") is immutable, '
        + 'Kubernetes rejects this apply.'
      + ' Way out: a PVC never shrinks: keep "20Gi" (or more), or create a smaller PVC under a new name and copy the data over',
    ]);
  });

  test('fails when a Service\'s clusterIP changes (or becomes headless)', () => {
    const after = changed(service, (s) => { s.spec.clusterIP = '10.96.0.51'; });
    expect(refusals([service], [after])).toEqual([
      '[prod] Service/erp-api (namespace erp-prod): \'spec.clusterIP\' ("10.96.0.50" -> "10.96.0.51") is immutable, Kubernetes rejects this apply.'
      + ' Way out: delete the Service (`kubectl -n erp-prod delete service erp-api`; clients briefly lose it) and apply again, or keep the old '
        + 'clusterIP (or leave it unset)',
    ]);
    const allocated = changed(service, (s) => { delete s.spec.clusterIP; });
    const headless = changed(service, (s) => { s.spec.clusterIP = 'None'; });
    expect(refusals([allocated], [headless])).toEqual([expect.stringMatching(/'spec\.clusterIP' \(\(unset\) -> "None"\) is immutable/)]);
  });

  test('fails when a Service switches to or from type ExternalName', () => {
    const external = changed(service, (s) => { s.spec = { type: 'ExternalName', externalName: 'erp-db.prod.example.com' }; });
    expect(refusals([service], [external])).toEqual([expect.stringMatching(
      /^\[prod\] Service\/erp-api \(namespace erp-prod\): 'spec\.type' \("ClusterIP" -> "ExternalName"\) is immutable.*Way out: delete the Service \(`kubectl -n erp-prod delete service erp-api`/,
    )]);
    const implicit = changed(service, (s) => { delete s.spec.type; delete s.spec.clusterIP; });
    expect(refusals([external], [implicit])).toEqual([expect.stringMatching(/'spec\.type' \("ExternalName" -> "ClusterIP"\) is immutable/)]);
  });

  test('lists every refusal of every object, and says when there are more differences than shown', () => {
    const manyEnv = changed(job(), (j) => {
      j.spec.template.spec.containers[0].env = ['A', 'B', 'C', 'D', 'E'].map((name) => ({ name, value: name }));
    });
    const after = [
      changed(deployment, (d) => { d.spec.selector = { matchLabels: { a: 'b' } }; }),
      changed(statefulSet, (s) => { s.spec.serviceName = 'x'; s.spec.podManagementPolicy = 'Parallel'; }),
      manyEnv,
    ];
    const found = refusals(objects, after);
    expect(found).toHaveLength(4);
    expect(found[3]).toMatch(/'spec\.template' \(spec\.template\.spec\.containers\[app\]\.env\[0\]\.name: "DEBUG" -> "A"; .*; \.\.\.\)/);
  });
});

describe('the guard lets through what Kubernetes applies', () => {
  const environments = Object.fromEntries(Object.entries(ENVIRONMENTS)
    .map(([name, config]) => [name, renderFiles(buildEnvironment(config).charts).flatMap((f) => f.objects)]));

  test.each(Object.keys(ENVIRONMENTS))('%s: unchanged output', (name) => {
    expect(findImmutableChanges(environments[name], structuredClone(environments[name]))).toEqual([]);
  });

  test('added and removed objects', () => {
    const prod = environments.prod;
    expect(findImmutableChanges(prod.slice(0, prod.length - 5), prod)).toEqual([]);
    expect(findImmutableChanges(prod, prod.slice(5))).toEqual([]);
    expect(findImmutableChanges([], prod)).toEqual([]);
  });

  test('image, env and replicas of every workload (Deployments, StatefulSets)', () => {
    const before = environments.prod;
    const after = before.map((o) => changed(o, (c) => {
      if (!['Deployment', 'StatefulSet'].includes(c.kind)) return;
      c.spec.replicas = (c.spec.replicas ?? 1) + 1;
      for (const container of c.spec.template.spec.containers) {
        container.image = `${container.image.split(':')[0]}:9.9.9`;
        container.env = [...(container.env ?? []), { name: 'NEW_SETTING', value: '1' }];
      }
    }));
    expect(after.filter((o) => o.kind === 'Deployment').length).toBeGreaterThan(0);
    expect(findImmutableChanges(before, after)).toEqual([]);
  });

  test('a PVC that grows, or the same size written another way (20Gi -> 21474836480)', () => {
    const grown = changed(pvc, (p) => { p.spec.resources.requests.storage = '30Gi'; });
    const sameSize = changed(pvc, (p) => { p.spec.resources.requests.storage = '21474836480'; });
    expect(findImmutableChanges([pvc], [grown])).toEqual([]);
    expect(findImmutableChanges([pvc], [sameSize])).toEqual([]);
    const template = changed(statefulSet, (s) => { s.spec.volumeClaimTemplates[0].spec.resources.requests.storage = '20480Mi'; });
    expect(findImmutableChanges([statefulSet], [template])).toEqual([]);
  });

  test('what the API server stores as unset: plain zero values, empty lists and maps, defaults, canonical quantities', () => {
    // GIVEN a Job and a StatefulSet as an earlier release wrote them, with values the API server drops or fills in
    const verbose = (o: KubeObject) => changed(o, (c) => {
      const pod = c.spec.template.spec;
      Object.assign(pod, { hostNetwork: false, hostPID: false, dnsPolicy: 'ClusterFirst', enableServiceLinks: true, volumes: [], tolerations: [] });
      Object.assign(pod.containers[0], {
        ports: [{ containerPort: 8000, protocol: 'TCP', hostPort: 0 }],
        readinessProbe: {
          httpGet: { path: '/health', port: 8000 }, initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, failureThreshold: 3,
        },
        resources: { limits: { cpu: '1000m', memory: '1024Mi' } }, securityContext: {}, envFrom: [],
      });
      if (c.spec.volumeClaimTemplates) c.spec.volumeClaimTemplates[0].spec.volumeMode = 'Filesystem';
      c.spec.template.metadata.annotations = {};
    });
    const terse = (o: KubeObject) => changed(o, (c) => {
      Object.assign(c.spec.template.spec.containers[0], {
        ports: [{ containerPort: 8000 }], readinessProbe: { httpGet: { path: '/health', port: 8000 } },
        resources: { limits: { cpu: '1', memory: '1Gi' } },
      });
    });
    // THEN the same objects without them apply cleanly
    expect(findImmutableChanges([verbose(job()), verbose(statefulSet)], [terse(job()), terse(statefulSet)])).toEqual([]);
    // BUT a pointer field's false is not unset (automountServiceAccountToken: false -> unset mounts the token)
    const noToken = changed(job(), (j) => { j.spec.template.spec.automountServiceAccountToken = false; });
    expect(refusals([noToken], [job()])).toEqual([expect.stringMatching(/'spec\.template\.spec\.automountServiceAccountToken' \(false -> \(unset\)\) is immutable/)]);
  });

  test('a Job under a new name, a Service\'s ports, a clusterIP left to the API server', () => {
    const renamed = changed(job(), (j) => { j.metadata.name = 'erp-api-bootstrap-2'; j.spec.template.spec.containers[0].image = 'x:2'; });
    const ports = changed(service, (s) => { s.spec.ports = [{ port: 80, targetPort: 8000 }]; delete s.spec.clusterIP; });
    expect(findImmutableChanges([job(), service], [renamed, ports])).toEqual([]);
  });

  test('objects are matched by API group, kind, namespace and name (not version)', () => {
    const otherNamespace = changed(deployment, (d) => { d.metadata.namespace = 'erp-staging'; d.spec.selector = { matchLabels: { a: 'b' } }; });
    const otherGroup = changed(job(), (j) => { j.apiVersion = 'example.com/v1'; j.spec.template = {}; });
    expect(findImmutableChanges([deployment, job()], [otherNamespace, otherGroup])).toEqual([]);
    const olderVersion = changed(deployment, (d) => { d.apiVersion = 'apps/v1beta2'; });
    const newSelector = changed(deployment, (d) => { d.spec.selector = { matchLabels: { a: 'b' } }; });
    expect(findImmutableChanges([olderVersion], [newSelector])).toHaveLength(1);
    expect(objectKey(deployment)).toBe(objectKey(olderVersion));
  });

  test('thousands of objects: each is compared with its own counterpart (by kind, namespace and name), tenants never mix', () => {
    // (its speed is measured by `npm run bench`, not asserted here)
    const tenant = (i: number) => environments.prod.map((o) => changed(o, (c) => { c.metadata.namespace = `tenant-${i}`; }));
    const many = Array.from({ length: 100 }, (_, i) => tenant(i)).flat();
    expect(findImmutableChanges(many, structuredClone(many))).toEqual([]);
    const after = structuredClone(many);
    const victim = after.find((o) => o.kind === 'StatefulSet' && o.metadata.namespace === 'tenant-57')
      ?? after.find((o) => o.kind === 'Job' && o.metadata.namespace === 'tenant-57')!;
    if (victim.kind === 'StatefulSet') victim.spec.serviceName = 'renamed';
    else victim.spec.template.spec.containers[0].image = 'registry.example.com/other:1';
    const found = findImmutableChanges(many, after);
    expect(found.map((c) => [c.namespace, c.object])).toEqual([['tenant-57', `${victim.kind}/${victim.metadata.name}`]]);
  });
});

describe('compareQuantities', () => {
  test.each([
    ['20Gi', '21474836480', 0], ['20Gi', '10Gi', 1], ['10Gi', '20Gi', -1], ['1', '1000m', 0], ['500m', '0.5', 0], ['1k', '1000', 0],
    ['1Ki', '1024', 0], ['1e3', '1k', 0], ['1.5Gi', '1536Mi', 0], ['100M', '100Mi', -1], ['2E', '2e18', 0], ['.5', '500m', 0], [1, '1', 0],
  ] as Array<[unknown, unknown, number]>)('%s vs %s', (a, b, expected) => {
    expect(compareQuantities(a, b)).toBe(expected);
  });

  test('not a quantity: undefined', () => {
    expect(compareQuantities('20 GB', '1Gi')).toBeUndefined();
    expect(compareQuantities(undefined, '1Gi')).toBeUndefined();
  });
});
