import {
  assertPolicy, checkPolicy, formatExemptions, formatViolations, PolicyError, PolicyOptions, PolicyResult, Violation,
} from '../../src/gates/policy';
import { POLICY_RULES, Severity } from '../../src/gates/policy-rules';
import { validateManifests } from '../../src/gates/schema-validator';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures read and edited field by field
type Obj = Record<string, any>;

const RESOURCES = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } };
const HTTP_PROBE = { httpGet: { path: '/health', port: 8000 } };

function container(name: string, probes = true): Obj {
  return {
    name, image: `registry.example.com/erp/${name}:1.0.0`, resources: structuredClone(RESOURCES),
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    ...(probes ? { readinessProbe: structuredClone(HTTP_PROBE), livenessProbe: structuredClone(HTTP_PROBE) } : {}),
  };
}

function podSpec(app: string, probes = true): Obj {
  return {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    initContainers: [container(`${app}-init`, false)],
    containers: [container(app, probes)],
    volumes: [{ name: 'tmp', emptyDir: {} }],
  };
}

function workload(kind: string, app: string, spec: Obj = {}, labels: Record<string, string> = {}): Obj {
  const template = { metadata: { labels: { app } }, spec: podSpec(app, kind !== 'CronJob') };
  const apiVersion = kind === 'CronJob' ? 'batch/v1' : 'apps/v1';
  const body = kind === 'CronJob'
    ? { schedule: '0 3 * * *', jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'OnFailure' } } } } }
    : { selector: { matchLabels: { app } }, template, ...spec };
  return { apiVersion, kind, metadata: { name: app, namespace: 'erp', labels: { app, ...labels } }, spec: body };
}

function allow(app: string): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `${app}-allow`, namespace: 'erp' },
    spec: { podSelector: { matchLabels: { app } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] },
  };
}

/** A compliant set: API (2 replicas, HPA, PDB), singleton beat, backup CronJob, Postgres StatefulSet, PVC, policies. */
function good(): Obj[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'erp' } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'erp-api', namespace: 'erp' }, automountServiceAccountToken: false },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'placeholder', namespace: 'erp' }, type: 'Opaque' },
    {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny-all', namespace: 'erp' },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'api-allow', namespace: 'erp' },
      spec: { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['api'] }] }, policyTypes: ['Ingress'],
        ingress: [{ ports: [{ port: 8000 }] }] },
    },
    allow('beat'), allow('backup'), allow('postgres'),
    workload('Deployment', 'api', { replicas: 2 }),
    {
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'api', namespace: 'erp' },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'api' } } },
    },
    {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'api', namespace: 'erp' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, minReplicas: 2, maxReplicas: 6 },
    },
    workload('Deployment', 'beat', { replicas: 1, strategy: { type: 'Recreate' } }, { 'erp-k8s.io/singleton': 'true' }),
    workload('CronJob', 'backup'),
    workload('StatefulSet', 'postgres', {
      serviceName: 'postgres', replicas: 1,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } } }],
    }),
    {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'media', namespace: 'erp',
        annotations: { 'helm.sh/resource-policy': 'keep' } },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } },
    },
  ];
}

/** The good set after `mutate` changed it. */
function bad(mutate: (find: (kind: string, name: string) => Obj, objects: Obj[]) => void): Obj[] {
  const objects = good();
  const find = (kind: string, name: string): Obj => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name}`);
    return found;
  };
  mutate(find, objects);
  return objects;
}

const api = (find: (kind: string, name: string) => Obj): Obj => find('Deployment', 'api').spec.template.spec;
const API = '/spec/template/spec';

function found(result: PolicyResult): string[] {
  return result.violations.map((v) => `${v.ruleId} ${v.kind}/${v.name} ${v.path}`);
}

function severityOf(ruleId: string): string | undefined {
  return POLICY_RULES.find((r) => r.id === ruleId)?.severity;
}

describe('checkPolicy', () => {
  test('is quiet on a compliant set, which is also schema-valid', () => {
    expect(checkPolicy(good()).violations).toEqual([]);
    expect(validateManifests(good())).toEqual([]);
  });

  test.each<[string, Parameters<typeof bad>[0], string[], PolicyOptions?]>([
    ['PSS-RUN-AS-NON-ROOT', (f) => { delete api(f).securityContext.runAsNonRoot; api(f).containers[0].securityContext.runAsNonRoot = true; },
      [`PSS-RUN-AS-NON-ROOT Deployment/api ${API}/initContainers/0/securityContext/runAsNonRoot`]],
    ['PSS-RUN-AS-NON-ROOT', (f) => { api(f).containers[0].securityContext.runAsNonRoot = false; api(f).securityContext.runAsUser = 0; },
      [`PSS-RUN-AS-NON-ROOT Deployment/api ${API}/securityContext/runAsUser`,
        `PSS-RUN-AS-NON-ROOT Deployment/api ${API}/containers/0/securityContext/runAsNonRoot`]],
    ['PSS-PRIVILEGE-ESCALATION', (f) => { delete api(f).containers[0].securityContext.allowPrivilegeEscalation; },
      [`PSS-PRIVILEGE-ESCALATION Deployment/api ${API}/containers/0/securityContext/allowPrivilegeEscalation`]],
    ['PSS-CAPABILITIES', (f) => { api(f).initContainers[0].securityContext.capabilities = { drop: ['NET_RAW'], add: ['NET_BIND_SERVICE',
      'NET_ADMIN'] }; },
      [`PSS-CAPABILITIES Deployment/api ${API}/initContainers/0/securityContext/capabilities/drop`,
        `PSS-CAPABILITIES Deployment/api ${API}/initContainers/0/securityContext/capabilities/add`]],
    ['PSS-SECCOMP',
      (f) => { delete api(f).securityContext.seccompProfile; api(f).containers[0].securityContext.seccompProfile = { type: 'Unconfined' }; },
      [`PSS-SECCOMP Deployment/api ${API}/initContainers/0/securityContext/seccompProfile/type`,
        `PSS-SECCOMP Deployment/api ${API}/containers/0/securityContext/seccompProfile/type`]],
    ['PSS-PRIVILEGED', (f) => { api(f).containers[0].securityContext.privileged = true; },
      [`PSS-PRIVILEGED Deployment/api ${API}/containers/0/securityContext/privileged`]],
    ['PSS-HOST-NAMESPACES', (f) => { api(f).hostNetwork = true; api(f).hostPID = false; },
      [`PSS-HOST-NAMESPACES Deployment/api ${API}/hostNetwork`]],
    ['PSS-HOST-PORTS', (f) => { api(f).containers[0].ports = [{ containerPort: 8000, hostPort: 8000 }]; },
      [`PSS-HOST-PORTS Deployment/api ${API}/containers/0/ports/0/hostPort`]],
    ['PSS-HOST-PATH', (f) => { api(f).volumes.push({ name: 'host', hostPath: { path: '/var/run' } }); },
      [`PSS-HOST-PATH Deployment/api ${API}/volumes/1/hostPath`]],
    ['PSS-VOLUME-TYPES', (f) => { api(f).volumes.push({ name: 'nfs', nfs: { server: 'nfs', path: '/' } }); },
      [`PSS-VOLUME-TYPES Deployment/api ${API}/volumes/1/nfs`]],
    ['REL-RESOURCES', (f) => { delete f('CronJob', 'backup').spec.jobTemplate.spec.template.spec.initContainers[0].resources.limits.memory; },
      ['REL-RESOURCES CronJob/backup /spec/jobTemplate/spec/template/spec/initContainers/0/resources']],
    ['REL-PROBES', (f) => { delete f('StatefulSet', 'postgres').spec.template.spec.containers[0].livenessProbe; },
      ['REL-PROBES StatefulSet/postgres /spec/template/spec/containers/0/livenessProbe']],
    ['REL-PDB', (_f, objects) => { objects.splice(objects.findIndex((o) => o.kind === 'PodDisruptionBudget'), 1); },
      ['REL-PDB Deployment/api ']],
    ['REL-PDB', (f) => { f('Deployment', 'api').spec.replicas = 1; f('PodDisruptionBudget', 'api').metadata.namespace = 'other'; },
      ['REL-PDB Deployment/api ']],
    ['REL-IMAGE-TAG', (f) => { api(f).containers[0].image = 'api:latest'; api(f).initContainers[0].image = 'registry:5000/erp/api'; },
      [`REL-IMAGE-TAG Deployment/api ${API}/initContainers/0/image`, `REL-IMAGE-TAG Deployment/api ${API}/containers/0/image`]],
    ['REL-SINGLETON', (f) => { f('Deployment', 'beat').spec.strategy = { type: 'RollingUpdate' }; f('HorizontalPodAutoscaler',
      'api').spec = { scaleTargetRef: { kind: 'Deployment', name: 'beat' }, maxReplicas: 1 }; },
      ['REL-SINGLETON Deployment/beat /spec/strategy/type', 'REL-SINGLETON Deployment/beat ']],
    ['SEC-NO-LITERAL-SECRET', (f) => { f('Secret', 'placeholder').stringData = { PASSWORD: 'hunter2' }; },
      ['SEC-NO-LITERAL-SECRET Secret/placeholder /stringData']],
    ['SEC-AUTOMOUNT-TOKEN', (f) => { f('CronJob', 'backup').spec.jobTemplate.spec.template.spec.automountServiceAccountToken = true; },
      ['SEC-AUTOMOUNT-TOKEN CronJob/backup /spec/jobTemplate/spec/template/spec/automountServiceAccountToken']],
    ['SEC-AUTOMOUNT-TOKEN', (f) => { delete api(f).automountServiceAccountToken; f('Deployment',
      'api').metadata.annotations = { 'erp-k8s.io/needs-api-access': ' ' }; },
      [`SEC-AUTOMOUNT-TOKEN Deployment/api ${API}/automountServiceAccountToken`]],
    ['SEC-DEFAULT-DENY', (f) => { f('NetworkPolicy', 'default-deny-all').spec.ingress = [{}]; },
      ['SEC-DEFAULT-DENY Namespace/erp ']],
    ['SEC-NETWORK-ALLOW', (f) => { f('NetworkPolicy', 'api-allow').spec.podSelector.matchExpressions[0].operator = 'NotIn'; },
      ['SEC-NETWORK-ALLOW Deployment/api ']],
    ['DATA-PVC-KEEP', (f) => { delete f('PersistentVolumeClaim', 'media').metadata.annotations; },
      ['DATA-PVC-KEEP PersistentVolumeClaim/media /metadata/annotations']],
    ['DATA-STS-RETENTION', (f) => { f('StatefulSet', 'postgres').spec.persistentVolumeClaimRetentionPolicy.whenScaled = 'Delete'; },
      ['DATA-STS-RETENTION StatefulSet/postgres /spec/persistentVolumeClaimRetentionPolicy']],
  ])('%s fires on a bad object', (ruleId, mutate, expected, options: PolicyOptions = {}) => {
    // GIVEN
    const objects = bad(mutate);

    // WHEN
    const result = checkPolicy(objects, options);

    // THEN
    expect(found(result)).toEqual(expected);
    expect(result.violations.every((v) => v.severity === severityOf(ruleId))).toBe(true);
  });

  test.each<[string, Parameters<typeof bad>[0], PolicyOptions?]>([
    ['runAsNonRoot on every container instead of the pod', (f) => {
      delete api(f).securityContext.runAsNonRoot;
      for (const c of [...api(f).containers, ...api(f).initContainers]) c.securityContext.runAsNonRoot = true;
    }],
    ['seccomp on every container instead of the pod', (f) => {
      delete api(f).securityContext.seccompProfile;
      for (const c of [...api(f).containers, ...api(f).initContainers]) c.securityContext.seccompProfile = { type: 'Localhost',
        localhostProfile: 'p.json' };
    }],
    ['NET_BIND_SERVICE added', (f) => { api(f).containers[0].securityContext.capabilities.add = ['NET_BIND_SERVICE']; }],
    [':latest images in dev', (f) => { api(f).containers[0].image = 'api:latest'; api(f).initContainers[0].image = 'api'; }, { allowLatest: true }],
    ['an image pinned by digest', (f) => { api(f).containers[0].image = `api@sha256:${'a'.repeat(64)}`; }],
    ['one replica and no HPA without a PDB', (f, objects) => {
      f('Deployment', 'api').spec.replicas = 1;
      objects.splice(objects.findIndex((o) => o.kind === 'HorizontalPodAutoscaler'), 1);
      objects.splice(objects.findIndex((o) => o.kind === 'PodDisruptionBudget'), 1);
    }],
    ['a token disabled on the ServiceAccount', (f) => { delete api(f).automountServiceAccountToken; api(f).serviceAccountName = 'erp-api'; }],
    ['a token with a reason', (f) => { api(f).automountServiceAccountToken = true; f('Deployment',
      'api').metadata.annotations = { 'erp-k8s.io/needs-api-access': 'reads leases' }; }],
    ['an empty Secret data', (f) => { f('Secret', 'placeholder').data = {}; }],
  ])('is quiet on %s', (_label, mutate, options: PolicyOptions = {}) => {
    expect(found(checkPolicy(bad(mutate), options))).toEqual([]);
  });

  test('treats objects without a namespace as in defaultNamespace', () => {
    // GIVEN
    const objects = good();
    for (const o of objects.filter((x) => x.kind !== 'NetworkPolicy')) delete o.metadata.namespace;

    // THEN
    expect(found(checkPolicy(objects, { defaultNamespace: 'erp' }))).toEqual([]);
    expect(found(checkPolicy(objects))).toEqual([
      'SEC-DEFAULT-DENY Namespace/default ',
      ...['Deployment/api', 'Deployment/beat', 'CronJob/backup', 'StatefulSet/postgres'].map((w) => `SEC-NETWORK-ALLOW ${w} `),
    ]);
  });
});

describe('exemptions', () => {
  const exempt = (reason: string) => bad((f) => {
    f('Secret', 'placeholder').stringData = { PASSWORD: 'from-values' };
    f('Secret', 'placeholder').metadata.annotations = { 'erp-k8s.io/policy-exempt.SEC-NO-LITERAL-SECRET': reason };
  });

  test('an exemption with a reason skips the rule and is reported', () => {
    // WHEN
    const result = checkPolicy(exempt('values supplied at synth time from a git-ignored file'));

    // THEN
    expect(result.violations).toEqual([]);
    expect(result.exemptions).toEqual([{
      ruleId: 'SEC-NO-LITERAL-SECRET', kind: 'Secret', name: 'placeholder', namespace: 'erp',
      reason: 'values supplied at synth time from a git-ignored file', suppressed: 1,
    }]);
    expect(formatExemptions(result.exemptions)).toBe('  exempt  SEC-NO-LITERAL-SECRET Secret erp/placeholder: values supplied at synth time from '
      + 'a git-ignored file');
  });

  test('fails when an exemption gives no reason, and the rule still applies', () => {
    const result = checkPolicy(exempt('  '));
    expect(found(result)).toEqual([
      'SEC-NO-LITERAL-SECRET Secret/placeholder /stringData',
      'POLICY-EXEMPTION Secret/placeholder /metadata/annotations/erp-k8s.io~1policy-exempt.SEC-NO-LITERAL-SECRET',
    ]);
    expect(result.violations[1]).toMatchObject({ severity: 'error', message: expect.stringMatching(/gives no reason/) });
    expect(result.exemptions).toEqual([]);
  });

  test('fails when an exemption names an unknown rule', () => {
    const objects = good();
    objects[0].metadata.annotations = { 'erp-k8s.io/policy-exempt.PSS-TYPO': 'because' };
    expect(checkPolicy(objects).violations).toEqual([expect.objectContaining({ ruleId: 'POLICY-EXEMPTION', kind: 'Namespace', message: expect.stringMatching(/unknown rule 'PSS-TYPO'/) })]);
  });

  test('an exemption on a workload covers its pod template', () => {
    const objects = bad((f) => {
      api(f).hostNetwork = true;
      f('Deployment', 'api').metadata.annotations = { 'erp-k8s.io/policy-exempt.PSS-HOST-NAMESPACES': 'node exporter' };
    });
    expect(checkPolicy(objects).exemptions).toEqual([expect.objectContaining({ ruleId: 'PSS-HOST-NAMESPACES', name: 'api', suppressed: 1 })]);
  });
});

describe('POLICY_RULES', () => {
  test('lists unique ids with the declared severities', () => {
    const ids = POLICY_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(POLICY_RULES.filter((r) => r.severity === 'warning').map((r) => r.id)).toEqual(['DATA-PVC-KEEP']);
    expect(POLICY_RULES.every((r) => /^(PSS|REL|SEC|DATA|POLICY)-[A-Z-]+$/.test(r.id) && r.description.length > 10)).toBe(true);
  });
});

describe('assertPolicy / formatViolations', () => {
  const violations: Violation[] = [
    { ruleId: 'PSS-PRIVILEGED', severity: Severity.ERROR, message: "container 'api' is privileged", kind: 'Deployment', name: 'api', namespace: 'erp',
      path: '/spec/x' },
    { ruleId: 'DATA-PVC-KEEP', severity: Severity.WARNING, message: 'no keep', kind: 'PersistentVolumeClaim', name: 'media', namespace: 'erp',
      path: '' },
  ];

  test('formats one violation per line with severity, rule, object and path', () => {
    expect(formatViolations(violations)).toBe([
      '2 policy violations (1 error, 1 warning):',
      "  error   PSS-PRIVILEGED Deployment erp/api /spec/x: container 'api' is privileged",
      '  warning DATA-PVC-KEEP PersistentVolumeClaim erp/media: no keep',
    ].join('\n'));
  });

  test('fails when there is an error, naming the rule and the object', () => {
    const objects = bad((f) => { api(f).containers[0].securityContext.privileged = true; });
    expect(() => assertPolicy(objects)).toThrow(PolicyError);
    expect(() => assertPolicy(objects)).toThrow(/error +PSS-PRIVILEGED Deployment erp\/api \/spec\/template\/spec\/containers\/0\/securityContext\/privileged/);
  });

  test('returns warnings without throwing', () => {
    const objects = bad((f) => { delete f('PersistentVolumeClaim', 'media').metadata.annotations; });
    expect(assertPolicy(objects).violations.map((v) => v.ruleId)).toEqual(['DATA-PVC-KEEP']);
  });
});
