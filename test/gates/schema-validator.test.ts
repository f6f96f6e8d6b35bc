import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { ApiObject, Chart, Cron, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Certificate } from '../../imports/certmanager-cert-manager.io';
import { ServiceMonitor } from '../../imports/servicemonitor-monitoring.coreos.com';
import { VerticalPodAutoscaler, VerticalPodAutoscalerSpecUpdatePolicyUpdateMode } from '../../imports/vpa-autoscaling.k8s.io';
import { assertValidManifests, formatSchemaErrors, hasSchema, ManifestSchemaError, SchemaError,
  validateManifests } from '../../src/gates/schema-validator';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures read and edited field by field
type Obj = Record<string, any>;

/** A pinned, non-root app: Deployment, Service, Ingress, HPA, PDB, VPA, ServiceMonitor, Certificate, ... */
function typicalChart(ns = 'erp'): Chart {
  const chart = new Chart(Testing.app(), 'test', { namespace: ns });
  new kplus.Namespace(chart, 'Ns', { metadata: { name: ns } });
  const config = new kplus.ConfigMap(chart, 'Config', { data: { DEBUG: 'False' } });
  const secret = new kplus.Secret(chart, 'Env', { stringData: { DATABASE_URL: 'postgres://x' } });
  const sa = new kplus.ServiceAccount(chart, 'Sa', { automountToken: false });
  const role = new kplus.Role(chart, 'Role');
  role.allowRead(config);
  new kplus.RoleBinding(chart, 'Binding', { role }).addSubjects(sa);
  const pvc = new kplus.PersistentVolumeClaim(chart, 'Media', { storage: Size.gibibytes(20),
    accessModes: [kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE] });
  const resources = {
    cpu: { request: kplus.Cpu.millis(300), limit: kplus.Cpu.millis(2000) },
    memory: { request: Size.gibibytes(1), limit: Size.gibibytes(3) },
  };
  const api = new kplus.Deployment(chart, 'Api', {
    serviceAccount: sa,
    strategy: kplus.DeploymentStrategy.rollingUpdate({ maxUnavailable: kplus.PercentOrAbsolute.absolute(0) }),
    containers: [{
      name: 'api', image: 'registry.example.com/erp/api:1.0.0', portNumber: 8000, resources,
      envFrom: [kplus.Env.fromSecret(secret), kplus.Env.fromConfigMap(config)],
      readiness: kplus.Probe.fromHttpGet('/api/v1/core/health/', { initialDelaySeconds: Duration.seconds(30) }),
      liveness: kplus.Probe.fromHttpGet('/api/v1/core/health/', { initialDelaySeconds: Duration.seconds(60) }),
      volumeMounts: [{ path: '/app/media', volume: kplus.Volume.fromPersistentVolumeClaim(chart, 'MediaVol', pvc) }],
    }],
    initContainers: [{ name: 'migrate', image: 'registry.example.com/erp/api:1.0.0', command: ['python', 'manage.py', 'migrate'], resources }],
  });
  const svc = api.exposeViaService({ ports: [{ port: 80, targetPort: 8000, name: 'http' }] });
  new kplus.Ingress(chart, 'Ingress', { rules: [{ host: 'erp.example.com', path: '/', backend: kplus.IngressBackend.fromService(svc) }],
    tls: [{ hosts: ['erp.example.com'], secret: kplus.Secret.fromSecretName(chart, 'Tls', 'erp-tls') }] });
  new kplus.HorizontalPodAutoscaler(chart, 'Hpa', { target: api, minReplicas: 2, maxReplicas: 6,
    metrics: [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(70))] });
  new kplus.Job(chart, 'Migrate', { containers: [{ name: 'migrate', image: 'registry.example.com/erp/api:1.0.0', resources }] });
  new kplus.CronJob(chart, 'Backup', { schedule: Cron.daily(), containers: [{ name: 'dump', image: 'postgres:13.14', resources }] });
  const dbSvc = new kplus.Service(chart, 'DbSvc', { clusterIP: 'None', ports: [{ port: 5432, name: 'pg', targetPort: 5432 }] });
  new kplus.StatefulSet(chart, 'Db', { service: dbSvc, containers: [{ name: 'postgres', image: 'quay.io/sclorg/postgresql-13-c9s:20240101',
    portNumber: 5432, resources }] });
  new kplus.NetworkPolicy(chart, 'Deny', { selector: kplus.Pods.all(chart, 'AllPods') });
  new ApiObject(chart, 'Pdb', {
    apiVersion: 'policy/v1', kind: 'PodDisruptionBudget',
    metadata: { name: 'api' }, spec: { maxUnavailable: '25%', selector: { matchLabels: { app: 'api' } } },
  });
  new VerticalPodAutoscaler(chart, 'Vpa', {
    spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: api.name },
      updatePolicy: { updateMode: VerticalPodAutoscalerSpecUpdatePolicyUpdateMode.RECREATE } },
  });
  new ServiceMonitor(chart, 'Monitor', { spec: { selector: { matchLabels: { app: 'api' } }, endpoints: [{ port: 'http', path: '/metrics',
    interval: '30s' }] } });
  new Certificate(chart, 'Cert', { spec: { secretName: 'erp-tls', dnsNames: ['erp.example.com'], issuerRef: { name: 'letsencrypt',
    kind: 'ClusterIssuer' } } });
  return chart;
}

function typical(ns = 'erp'): Obj[] {
  return Testing.synth(typicalChart(ns)) as Obj[];
}

function deployment(): Obj {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'erp' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'api' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } },
      template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image: 'api:1.0.0',
        resources: { requests: { cpu: '300m', memory: '1Gi' }, limits: { cpu: 2, memory: '3Gi' } } }] } },
    },
  };
}

function messages(errors: SchemaError[]): string[] {
  return errors.map((e) => `${e.kind} ${e.path}: ${e.message}`);
}

describe('validateManifests', () => {
  test('accepts every typical kind synthesized with cdk8s-plus and the CRD imports', () => {
    // GIVEN
    const objects = typical();
    const kinds = new Set(objects.map((o) => o.kind));

    // WHEN
    const errors = validateManifests(objects);

    // THEN
    expect(messages(errors)).toEqual([]);
    for (const kind of ['Namespace', 'ConfigMap', 'Secret', 'ServiceAccount', 'Role', 'RoleBinding', 'PersistentVolumeClaim', 'Deployment', 'Service',
      'Ingress', 'HorizontalPodAutoscaler', 'Job', 'CronJob', 'StatefulSet', 'NetworkPolicy', 'PodDisruptionBudget', 'VerticalPodAutoscaler',
      'ServiceMonitor', 'Certificate']) {
      expect(kinds).toContain(kind);
    }
  });

  test('accepts a hand-written Deployment with int-or-string and Quantity values', () => {
    expect(validateManifests([deployment()])).toEqual([]);
  });

  test.each([
    ['named', 'http'],
    ['numbered', 8000],
  ])('accepts a %s Service targetPort', (_label, targetPort) => {
    // GIVEN
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ port: 80,
      targetPort }] } };

    // THEN
    expect(validateManifests([svc])).toEqual([]);
  });

  test.each(['25%', 0])('accepts a PodDisruptionBudget with maxUnavailable %p', (maxUnavailable) => {
    const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'api' }, spec: { maxUnavailable,
      selector: { matchLabels: { app: 'api' } } } };
    expect(validateManifests([pdb])).toEqual([]);
  });

  test('reports an unknown field in a container, with the object and path', () => {
    // GIVEN
    const d = deployment();
    d.spec.template.spec.containers[0].nme = 'typo';

    // WHEN
    const errors = validateManifests([d]);

    // THEN
    expect(errors).toEqual([{
      apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', namespace: 'erp',
      path: '/spec/template/spec/containers/0/nme', message: "unknown field 'nme'",
    }]);
  });

  test('reports replicas: "two"', () => {
    const d = deployment();
    d.spec.replicas = 'two';
    expect(messages(validateManifests([d]))).toEqual(['Deployment /spec/replicas: must be integer (got "two")']);
  });

  test('reports a container without a name', () => {
    const d = deployment();
    delete d.spec.template.spec.containers[0].name;
    expect(messages(validateManifests([d]))).toEqual(["Deployment /spec/template/spec/containers/0: missing required field 'name'"]);
  });

  test('reports a boolean where int-or-string is expected, and an int32 out of range', () => {
    const d = deployment();
    d.spec.strategy.rollingUpdate.maxSurge = true;
    d.spec.template.spec.containers[0].ports = [{ containerPort: 2 ** 31 }];
    expect(messages(validateManifests([d]))).toEqual([
      'Deployment /spec/strategy/rollingUpdate/maxSurge: must be string or integer (got true)',
      'Deployment /spec/template/spec/containers/0/ports/0/containerPort: must be <= 2147483647 (got 2147483648)',
    ]);
  });

  test('reports unknown top-level and metadata fields, but allows apiVersion/kind/metadata', () => {
    const d = deployment();
    d.metadata.lables = { a: 'b' };
    d.extra = 1;
    expect(messages(validateManifests([d]))).toEqual([
      "Deployment /metadata/lables: unknown field 'lables'",
      "Deployment /extra: unknown field 'extra'",
    ]);
  });

  test('escapes "/" in paths (annotation keys)', () => {
    const d = deployment();
    d.metadata.annotations = { 'helm.sh/hook': 1 };
    expect(messages(validateManifests([d]))).toEqual(['Deployment /metadata/annotations/helm.sh~1hook: must be string (got 1)']);
  });

  test('reports a ServiceMonitor field its CRD does not allow', () => {
    // GIVEN
    const sm = typical().find((o) => o.kind === 'ServiceMonitor')!;
    sm.spec.endpoints[0].scrapeEvery = '30s';

    // THEN
    expect(messages(validateManifests([sm]))).toEqual(["ServiceMonitor /spec/endpoints/0/scrapeEvery: unknown field 'scrapeEvery'"]);
  });

  test('reports a VPA with a bad update mode and a missing targetRef name', () => {
    const vpa = typical().find((o) => o.kind === 'VerticalPodAutoscaler')!;
    vpa.spec.updatePolicy.updateMode = 'Sometimes';
    delete vpa.spec.targetRef.name;
    expect(messages(validateManifests([vpa]))).toEqual([
      "VerticalPodAutoscaler /spec/targetRef: missing required field 'name'",
      expect.stringMatching(/^VerticalPodAutoscaler \/spec\/updatePolicy\/updateMode: must be one of .*"Recreate".* \(got "Sometimes"\)$/),
    ]);
  });

  test('checks the metadata of custom resources against ObjectMeta', () => {
    const cert = typical().find((o) => o.kind === 'Certificate')!;
    cert.metadata.labels = { ok: 'yes', bad: 3 };
    cert.metadata.owner = 'me';
    expect(messages(validateManifests([cert]))).toEqual([
      'Certificate /metadata/labels/bad: must be string (got 3)',
      "Certificate /metadata/owner: unknown field 'owner'",
    ]);
  });

  test('reports an unknown apiVersion/kind and an object without them', () => {
    const errors = validateManifests([
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } },
      { apiVersion: 'apps/v1beta1', kind: 'Deployment', metadata: { name: 'old' } },
      'not an object',
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      'no schema for apiVersion example.com/v1 kind Widget',
      'no schema for apiVersion apps/v1beta1 kind Deployment',
      'object #2 has no apiVersion/kind',
    ]);
    expect(hasSchema('autoscaling.k8s.io/v1', 'VerticalPodAutoscaler')).toBe(true);
    expect(hasSchema('autoscaling.k8s.io/v1beta2', 'VerticalPodAutoscaler')).toBe(false);
  });

  test('reports what a JSON patch breaks in the synthesized output', () => {
    // GIVEN
    const chart = typicalChart();
    const dep = chart.node.findAll().find((c) => c instanceof ApiObject && c.kind === 'Deployment') as ApiObject;
    dep.addJsonPatch(JsonPatch.add('/spec/replicas', 'two'), JsonPatch.add('/spec/paused', 'yes'));

    // WHEN
    const errors = validateManifests(Testing.synth(chart));

    // THEN
    expect(messages(errors)).toEqual([
      'Deployment /spec/paused: must be boolean (got "yes")',
      'Deployment /spec/replicas: must be integer (got "two")',
    ]);
  });
});

describe('assertValidManifests / formatSchemaErrors', () => {
  test('fails when an object is invalid, naming kind, namespace/name, path and problem', () => {
    const d = deployment();
    d.spec.replicas = 'two';
    expect(() => assertValidManifests([d])).toThrow(ManifestSchemaError);
    expect(() => assertValidManifests([d])).toThrow('1 schema error:\n  Deployment erp/api: /spec/replicas: must be integer (got "two")');
  });

  test('formats several errors, one per line', () => {
    const text = formatSchemaErrors([
      { apiVersion: 'v1', kind: 'Service', name: 'a', path: '/spec/x', message: "unknown field 'x'" },
      { apiVersion: '', kind: '', name: '', path: '', message: 'object #1 has no apiVersion/kind' },
    ]);
    expect(text).toBe("2 schema errors:\n  Service a: /spec/x: unknown field 'x'\n  <no kind> <unnamed>: /: object #1 has no apiVersion/kind");
  });
});

describe('strict schemas', () => {
  const root = path.resolve(__dirname, '..', '..');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const gen = require('../../scripts/gen-strict-schemas.js') as {
    toAjvSchema(doc: unknown): object; ajvRootRef(key: string): string; OUTPUT: string;
  };
  const doc = JSON.parse(fs.readFileSync(path.join(root, gen.OUTPUT), 'utf8')) as { roots: Record<string, unknown> };

  test('the generated file is up to date with imports/ and the generator', () => {
    expect(() => execFileSync(process.execPath, ['scripts/gen-strict-schemas.js', '--check'], { cwd: root, stdio: 'pipe' })).not.toThrow();
  });

  test('covers the core kinds and every served CRD version', () => {
    expect(Object.keys(doc.roots)).toEqual(expect.arrayContaining([
      'apps/v1/Deployment', 'v1/Service', 'networking.k8s.io/v1/Ingress', 'batch/v1/CronJob', 'autoscaling/v2/HorizontalPodAutoscaler',
      'monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PodMonitor', 'autoscaling.k8s.io/v1/VerticalPodAutoscaler',
      'cert-manager.io/v1/Certificate', 'cert-manager.io/v1/Issuer', 'cert-manager.io/v1/ClusterIssuer',
    ]));
  });

  test('the interpreter agrees with ajv on valid and invalid objects', () => {
    // GIVEN: ajv compiling the same strict schemas
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addSchema(gen.toAjvSchema(doc), 'strict');
    const bad = typical().map((o) => JSON.parse(JSON.stringify(o)) as Obj);
    for (const o of bad) {
      o.metadata.bogus = true;
      if (o.spec) o.spec.typo = 1;
    }
    const broken = deployment();
    broken.spec.template.spec.containers[0].ports = [{ containerPort: '80' }, { containerPort: 2 ** 31 }];

    // THEN
    for (const o of [...typical(), deployment(), ...bad, broken]) {
      const validate = ajv.getSchema(gen.ajvRootRef(`${o.apiVersion}/${o.kind}`))!;
      const ours = validateManifests([o]);
      expect({ kind: o.kind, valid: ours.length === 0 }).toEqual({ kind: o.kind, valid: validate(o) });
      expect(ours.length).toBe((validate.errors ?? []).length);
    }
  });
});
