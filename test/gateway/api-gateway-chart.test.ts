import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing, Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { API_GATEWAY_LOCK_KEY } from '../../src/gateway/api-gateway-resolve';
import { ApiGatewayChart } from '../../src/gateway/api-gateway-chart';
import { ApiGatewayChartProps } from '../../src/gateway/api-gateway-values';
import { DATABASE_CA_DIR, ExternalDatabase, PostgresSslMode } from '../../src/data/database';
import { MigrationDelivery } from '../../src/migrations/delivery';
import { Migrations } from '../../src/migrations/migrations';
import { defaultDeny } from '../../src/internal/network-policies';
import { checkPolicy } from '../../src/gates/policy';
import { validateManifests } from '../../src/gates/schema-validator';
import { loadSecretValues } from '../../deploy/secret-values';
import { all, container, containers, Manifest, one, podSpec, RESTRICTED } from '../util';

const HOST = 'api-gateway.statushawk.internal';
const EXAMPLE_FILE = path.join(__dirname, '..', '..', 'secrets.example.yaml');
const EXAMPLE_VALUES: Record<string, string> = Yaml.load(EXAMPLE_FILE)[0];

function synthGateway(props: Partial<ApiGatewayChartProps> = {}): { objs: Manifest[]; chart: ApiGatewayChart } {
  const chart = new ApiGatewayChart(Testing.app(), 'api-gateway', { allowedHosts: [HOST], ...props });
  return { objs: Testing.synth(chart) as Manifest[], chart };
}

function envOf(c: Manifest): Record<string, string> {
  return Object.fromEntries((c.env ?? []).filter((e: Manifest) => e.value !== undefined).map((e: Manifest) => [e.name, e.value]));
}

describe('ApiGatewayChart: every default of the seed values.yaml', () => {
  // GIVEN only the required value
  // WHEN the chart is synthesized
  const { objs } = synthGateway();
  const dep = one(objs, 'Deployment', 'api-gateway');
  const app = container(dep, 'app');

  test('replicaCount: 2', () => {
    // THEN
    expect(dep.spec.replicas).toBe(2);
  });

  test('image: repository devyusupov/statushawk-api-gateway, tag pinned (the seed says latest)', () => {
    for (const c of containers(dep)) expect(c.image).toBe('devyusupov/statushawk-api-gateway:1.0.0');
  });

  test('service: ClusterIP on port 8000, to the container port 8000', () => {
    const svc = one(objs, 'Service', 'api-gateway');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 8000, targetPort: 8000 }]);
    expect(app.ports).toEqual([{ containerPort: 8000, name: 'http' }]);
  });

  test('ingress: enabled, api-gateway.statushawk.internal with paths ["/"], class nginx, no TLS', () => {
    const ing = one(objs, 'Ingress', 'api-gateway');
    expect(ing.spec.ingressClassName).toBe('nginx');
    expect(ing.spec.rules).toEqual([{
      host: HOST,
      http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'api-gateway', port: { number: 8000 } } } }] },
    }]);
    expect(ing.spec.tls).toBeUndefined();
  });

  test('resources: limits 500m / 512Mi, requests 100m / 256Mi', () => {
    expect(app.resources).toEqual({ limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '100m', memory: '256Mi' } });
  });

  test('env: DEBUG "False", DJANGO_SETTINGS_MODULE config.settings.production, ALLOWED_HOSTS, in every container', () => {
    for (const c of containers(dep)) {
      expect(envOf(c)).toEqual({ DEBUG: 'False', DJANGO_SETTINGS_MODULE: 'config.settings.production', ALLOWED_HOSTS: HOST });
    }
  });

  test('the objects: Deployment, Service, Ingress, ServiceAccount, migration Job, NetworkPolicies, PDB; no Secret', () => {
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/api-gateway', 'Ingress/api-gateway', expect.stringMatching(/^Job\/api-gateway-migrate-[0-9a-f]{10}$/),
      'NetworkPolicy/api-gateway', 'NetworkPolicy/api-gateway-default-deny', 'NetworkPolicy/api-gateway-migrate-egress',
      'PodDisruptionBudget/api-gateway',
      'Service/api-gateway', 'ServiceAccount/api-gateway',
    ]);
    expect(podSpec(dep).serviceAccountName).toBe('api-gateway');
    expect(podSpec(dep).automountServiceAccountToken).toBe(false);
  });

  test('chart metadata: helm.sh/chart and app.kubernetes.io/* labels on every object', () => {
    for (const o of objs) {
      expect(o.metadata.labels).toMatchObject({
        'helm.sh/chart': 'api-gateway-0.1.0',
        'app.kubernetes.io/name': 'api-gateway',
        'app.kubernetes.io/instance': 'api-gateway',
        'app.kubernetes.io/version': '1.0.0',
        'app.kubernetes.io/managed-by': 'cdk8s',
      });
    }
    expect(dep.spec.template.metadata.labels['helm.sh/chart']).toBe('api-gateway-0.1.0');
  });

  test('every object is valid against the Kubernetes 1.28 schema', () => {
    expect(validateManifests(objs)).toEqual([]);
  });

  test('the policy gate passes (with the namespace default-deny the environment adds); only the dev Secret is exempt', () => {
    // GIVEN the chart with synth-time secret values and dev dependencies, beside a namespace chart
    const app = Testing.app();
    const ns = new Chart(app, 'ns');
    defaultDeny(ns, 'DefaultDeny', 'gw');
    const gw = new ApiGatewayChart(app, 'api-gateway', {
      allowedHosts: [HOST], namespace: 'gw', secretValues: { SECRET_KEY: 'k'.repeat(50) }, postgresql: { enabled: true }, redis: { enabled: true },
    });
    // WHEN
    const result = checkPolicy([...Testing.synth(ns), ...Testing.synth(gw)], { defaultNamespace: 'gw' });
    // THEN
    expect(result.violations).toEqual([]);
    expect(result.exemptions.map((e) => `${e.ruleId} ${e.kind}/${e.name}`)).toEqual(['SEC-NO-LITERAL-SECRET Secret/api-gateway-env']);
  });

  test('fixed construct ids', () => {
    const { chart } = synthGateway();
    expect(chart.deployment.node.id).toBe('Deployment');
    expect(chart.service.node.id).toBe('Service');
    expect(chart.networkPolicy?.node.id).toBe('NetworkPolicy');
    expect(chart.migrationJob?.node.id).toBe('MigrationJob');
  });
});

describe('ApiGatewayChart values', () => {
  test('the seed tag "latest" is accepted outside production', () => {
    const dep = one(synthGateway({ image: { tag: 'latest' } }).objs, 'Deployment');
    expect(container(dep, 'app').image).toBe('devyusupov/statushawk-api-gateway:latest');
  });

  test('nested values merge with the defaults, as Helm merges values files', () => {
    // GIVEN only a new tag and an extra variable
    const { objs } = synthGateway({ image: { tag: 'v1.2.0' }, env: { LOG_LEVEL: 'info' } });
    // THEN the repository and the default variables stay; the version label follows the tag
    const dep = one(objs, 'Deployment');
    expect(container(dep, 'app').image).toBe('devyusupov/statushawk-api-gateway:v1.2.0');
    expect(envOf(container(dep, 'app'))).toMatchObject({ DEBUG: 'False', LOG_LEVEL: 'info' });
    expect(dep.metadata.labels['app.kubernetes.io/version']).toBe('v1.2.0');
  });

  test('bumping chartVersion changes helm.sh/chart', () => {
    const dep = one(synthGateway({ chartVersion: '0.1.1', appVersion: '2.0.0' }).objs, 'Deployment');
    expect(dep.metadata.labels).toMatchObject({ 'helm.sh/chart': 'api-gateway-0.1.1', 'app.kubernetes.io/version': '2.0.0' });
  });

  test('ingress: several hosts and paths, TLS through cert-manager', () => {
    const ing = one(synthGateway({
      allowedHosts: ['.statushawk.io'],
      ingress: {
        hosts: [{ host: 'api.statushawk.io', paths: ['/api', '/admin'] }, { host: 'gw.statushawk.io' }],
        tls: { clusterIssuer: 'letsencrypt-prod' },
      },
    }).objs, 'Ingress');
    expect(ing.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt-prod' });
    expect(ing.spec.tls).toEqual([{ hosts: ['api.statushawk.io', 'gw.statushawk.io'], secretName: 'api-gateway-tls' }]);
    expect(ing.spec.rules.map((r: Manifest) => [r.host, r.http.paths.map((p: Manifest) => p.path).sort()])).toEqual([
      ['api.statushawk.io', ['/admin', '/api']], ['gw.statushawk.io', ['/']],
    ]);
  });

  test('ingress disabled: no Ingress, and no hosts needed', () => {
    const { objs, chart } = synthGateway({ ingress: { enabled: false, hosts: [] } });
    expect(all(objs, 'Ingress')).toHaveLength(0);
    expect(chart.ingress).toBeUndefined();
  });

  test('one replica: no PodDisruptionBudget (it would block node drains)', () => {
    expect(all(synthGateway({ replicaCount: 1 }).objs, 'PodDisruptionBudget')).toHaveLength(0);
  });
});

describe('ApiGatewayChart probes and security', () => {
  const dep = one(synthGateway({ allowedHosts: [HOST, 'localhost'] }).objs, 'Deployment');
  const app = container(dep, 'app');

  test('readiness (and liveness, startup) on /api/health/, sent with an allowed Host header', () => {
    // THEN the kubelet would otherwise send the pod IP, which Django rejects with 400
    const httpGet = { path: '/api/health/', port: 8000, scheme: 'HTTP', httpHeaders: [{ name: 'Host', value: HOST }] };
    expect(app.readinessProbe).toMatchObject({ httpGet, initialDelaySeconds: 30, periodSeconds: 10 });
    expect(app.livenessProbe).toMatchObject({ httpGet, initialDelaySeconds: 60, periodSeconds: 20 });
    expect(app.startupProbe).toMatchObject({ httpGet });
  });

  test('ALLOWED_HOSTS "*" in development: no Host header needed', () => {
    const c = container(one(synthGateway({ allowedHosts: ['*'] }).objs, 'Deployment'), 'app');
    expect(c.readinessProbe.httpGet.httpHeaders).toBeUndefined();
  });

  test('runAsUser 1000, non-root and the rest of the restricted profile in every container', () => {
    for (const c of containers(dep)) expect(c.securityContext).toMatchObject({ ...RESTRICTED, runAsUser: 1000, runAsGroup: 1000 });
    expect(podSpec(dep).securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
  });
});

describe('ApiGatewayChart migrations before traffic', () => {
  const { objs } = synthGateway();
  const dep = one(objs, 'Deployment');
  const job = one(objs, 'Job');

  test('init containers wait for the database, then migrate, before the server container starts', () => {
    expect(containers(dep).map((c) => c.name)).toEqual(['wait-for-db', 'migrate', 'app']);
    const wait = container(dep, 'wait-for-db').command.join(' ');
    expect(wait).toContain('python manage.py check --database default');
    expect(wait).toContain('-lt 60');
  });

  test('the Job and the init container run the one Django migrate command, under the gateway\'s own lock key', () => {
    const django = Migrations.django({ lockKey: API_GATEWAY_LOCK_KEY });
    expect(API_GATEWAY_LOCK_KEY).not.toBe(Migrations.django().lockKey);
    expect(container(dep, 'migrate').command).toEqual(django.migrateCommand);
    expect(container(job, 'migrate').command).toEqual(django.migrateCommand);
    expect(podSpec(job).initContainers.map((c: Manifest) => c.name)).toEqual(['wait-for-db']);
    expect(job.metadata.labels['app.kubernetes.io/component']).toBe('migrations');
    // a hook may run before the release's ServiceAccount exists: the Job uses none of its own
    expect(podSpec(job).serviceAccountName).toBeUndefined();
    expect(podSpec(job).automountServiceAccountToken).toBe(false);
  });

  test('Job hooks: post-install (release objects exist by then) and pre-upgrade (before new pods roll out)', () => {
    expect(job.metadata.annotations).toEqual({
      'helm.sh/hook': 'post-install,pre-upgrade',
      'helm.sh/hook-weight': '0',
      'helm.sh/hook-delete-policy': 'before-hook-creation',
      'argocd.argoproj.io/hook': 'Sync',
      'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
      'argocd.argoproj.io/sync-wave': '1',
    });
  });

  test('delivery, release id and switches are values', () => {
    const { objs: o } = synthGateway({ migrations: { delivery: MigrationDelivery.plain(), releaseId: 'ABC1234', runOnStartup: false } });
    expect(one(o, 'Job').metadata).toMatchObject({ name: 'api-gateway-migrate-abc1234' });
    expect(one(o, 'Job').metadata.annotations).toBeUndefined();
    expect(containers(one(o, 'Deployment')).map((c) => c.name)).toEqual(['wait-for-db', 'app']);
    expect(all(synthGateway({ migrations: { job: false } }).objs, 'Job')).toHaveLength(0);
  });
});

describe('ApiGatewayChart NetworkPolicy', () => {
  const { objs } = synthGateway();
  const np = one(objs, 'NetworkPolicy', 'api-gateway');
  const dep = one(objs, 'Deployment');
  const job = one(objs, 'Job');

  test('selects the gateway pods and the migration Job pods', () => {
    const sel = np.spec.podSelector.matchLabels;
    expect(sel).toEqual({ 'app.kubernetes.io/name': 'api-gateway', 'app.kubernetes.io/instance': 'api-gateway' });
    for (const w of [dep, job]) expect(w.spec.template.metadata.labels).toMatchObject(sel);
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  });

  test('ingress only from the ingress-nginx controller pods, on the HTTP port', () => {
    expect(np.spec.ingress).toEqual([{
      from: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } },
      }],
      ports: [{ protocol: 'TCP', port: 8000 }],
    }]);
  });

  test('egress only to kube-dns (UDP/TCP 53) and the database port', () => {
    expect(np.spec.egress).toEqual([
      {
        to: [{
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
          podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        }],
        ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
      },
      { ports: [{ protocol: 'TCP', port: 5432 }] },
    ]);
  });

  test('a default-deny policy for the same pods', () => {
    const deny = one(objs, 'NetworkPolicy', 'api-gateway-default-deny');
    expect(deny.spec).toEqual({ podSelector: np.spec.podSelector, policyTypes: ['Ingress', 'Egress'] });
  });

  test('selectors and allowances are values: another controller, an external database address, HTTPS out', () => {
    const { objs: o } = synthGateway({
      database: ExternalDatabase.of({ host: '10.0.4.7', port: 6432 }),
      networkPolicy: { ingressFrom: [{ namespace: 'traefik', podLabels: { 'app.kubernetes.io/name': 'traefik' } }], egressPorts: [443] },
    });
    const p = one(o, 'NetworkPolicy', 'api-gateway');
    expect(p.spec.ingress[0].from).toEqual([{
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'traefik' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } },
    }]);
    expect(p.spec.egress.slice(1)).toEqual([
      { to: [{ ipBlock: { cidr: '10.0.4.7/32' } }], ports: [{ protocol: 'TCP', port: 6432 }] },
      { ports: [{ protocol: 'TCP', port: 443 }] },
    ]);
  });

  test('disabled: no policies', () => {
    expect(all(synthGateway({ networkPolicy: { enabled: false } }).objs, 'NetworkPolicy')).toHaveLength(0);
  });
});

describe('ApiGatewayChart database TLS', () => {
  test('every container that connects (app, wait-for-db, migrate, the Job) gets the TLS mode and the mounted CA', () => {
    // GIVEN a database checked against a CA
    const { objs } = synthGateway({
      database: ExternalDatabase.of({
        host: 'db.example.com', databaseName: 'api_gateway', sslMode: PostgresSslMode.VERIFY_FULL, caSecretName: 'db-ca',
      }),
    });
    // THEN
    const pods = [one(objs, 'Deployment'), one(objs, 'Job')];
    for (const w of pods) {
      expect(podSpec(w).volumes).toContainEqual({ name: 'postgres-ca', secret: { secretName: 'db-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
      for (const c of containers(w)) {
        expect(envOf(c)).toMatchObject({
          DB_NAME: 'api_gateway', PGSSLMODE: 'verify-full', DB_SSLMODE: 'verify-full', PGSSLROOTCERT: `${DATABASE_CA_DIR}/ca.crt`,
        });
        expect(c.volumeMounts).toContainEqual({ name: 'postgres-ca', mountPath: DATABASE_CA_DIR, readOnly: true });
      }
    }
  });
});

describe('ApiGatewayChart secrets', () => {
  const repoValues = Object.values(EXAMPLE_VALUES);

  test('without values: no Secret; every container loads the existing Secret api-gateway-env', () => {
    const { objs } = synthGateway();
    expect(all(objs, 'Secret')).toHaveLength(0);
    for (const c of containers(one(objs, 'Deployment'))) expect(c.envFrom).toEqual([{ secretRef: { name: 'api-gateway-env' } }]);
  });

  test('existingSecret names the Secret to reference', () => {
    const c = container(one(synthGateway({ existingSecret: 'gw-prod-env' }).objs, 'Deployment'), 'app');
    expect(c.envFrom).toEqual([{ secretRef: { name: 'gw-prod-env' } }]);
  });

  test('with synth-time values: the Secret api-gateway-env, marked for the policy gate', () => {
    const { objs } = synthGateway({ secretValues: { SECRET_KEY: 's3cr3t-from-a-git-ignored-file' } });
    const secret = one(objs, 'Secret', 'api-gateway-env');
    expect(secret.stringData).toEqual({ SECRET_KEY: 's3cr3t-from-a-git-ignored-file' });
    expect(secret.metadata.annotations)
      .toEqual({ 'erp-k8s.io/policy-exempt.SEC-NO-LITERAL-SECRET': 'values supplied at synth time from a git-ignored file' });
    expect(container(one(objs, 'Deployment'), 'app').envFrom).toEqual([{ secretRef: { name: 'api-gateway-env' } }]);
  });

  test('no synthesized object ever contains a value taken from the repository', () => {
    // GIVEN the committed example values
    expect(repoValues.length).toBeGreaterThan(0);
    // WHEN synthesized without values, and with values from elsewhere
    for (const props of [{}, { secretValues: { SECRET_KEY: 'x'.repeat(50) } }]) {
      const text = JSON.stringify(synthGateway(props).objs);
      // THEN none of the committed values is in the output
      for (const v of repoValues) expect(text).not.toContain(v);
    }
    // AND the committed values themselves are refused
    expect(() => synthGateway({ secretValues: EXAMPLE_VALUES })).toThrow(
      /^api-gateway: 'secretValues.SECRET_KEY' \("<redacted>"\) is a placeholder from secrets.example.yaml/);
  });

  test.each<[string, Partial<ApiGatewayChartProps>, RegExp]>([
    ['values in production', { production: true, secretValues: { SECRET_KEY: 'x'.repeat(50) } }, /'secretValues' \("<redacted>"\) are refused when 'production' is true: no secret value may be written to dist\/; create the Secret out of band and set 'existingSecret'/],
    ['values and existingSecret', { existingSecret: 'mine', secretValues: { SECRET_KEY: 'x'.repeat(50) } }, /'existingSecret' \("mine"\) cannot be combined with 'secretValues'/],
    ['a key shadowed by a plain variable', { secretValues: { DEBUG: 'True' } }, /'secretValues.DEBUG' \("<redacted>"\) is also set as a plain variable/],
    ['an empty value', { secretValues: { SECRET_KEY: '' } }, /'secretValues.SECRET_KEY' \("<empty>"\) must not be empty/],
    ['a key shadowed by the database TLS mode', { database: ExternalDatabase.of({ host: 'db.example.com' }), secretValues: { PGSSLMODE: 'disable' } },
      /'secretValues.PGSSLMODE' \("<redacted>"\) is also set as a plain variable/],
  ])('fails with %s', (_n, props, message) => {
    expect(() => synthGateway(props)).toThrow(message);
  });
});

describe('loadSecretValues (the app side: files and environment)', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-secrets-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => { const f = path.join(dir, name); fs.writeFileSync(f, text); return f; };

  test('reads a git-ignored file; API_GATEWAY_* variables win over it', () => {
    // GIVEN a secrets file and the environment
    const file = write('secrets.dev.yaml', 'SECRET_KEY: "from-file-1"\nDB_PASSWORD: "from-file-2"\n');
    const env = { API_GATEWAY_DB_PASSWORD: 'from-env', PATH: '/usr/bin', OTHER_SECRET: 'not mine' };
    // WHEN
    const values = loadSecretValues({ file, env });
    // THEN
    expect(values).toEqual({ SECRET_KEY: 'from-file-1', DB_PASSWORD: 'from-env' });
  });

  test('nothing given: undefined, so the chart references the existing Secret', () => {
    expect(loadSecretValues({ file: path.join(dir, 'secrets.prod.yaml'), env: { PATH: '/usr/bin' } })).toBeUndefined();
    expect(loadSecretValues()).toBeUndefined();
  });

  test('a custom prefix', () => {
    expect(loadSecretValues({ env: { GW_SECRET_KEY: 'abc' }, prefix: 'GW_' })).toEqual({ SECRET_KEY: 'abc' });
  });

  test('fails on the committed example file', () => {
    expect(() => loadSecretValues({ file: EXAMPLE_FILE })).toThrow(/'file' \(".*secrets.example.yaml"\) is the committed example/);
  });

  test('fails on a file tracked by git', () => {
    // GIVEN a repository where the secrets file was added by mistake
    const file = write('secrets.dev.yaml', 'SECRET_KEY: "abc"\n');
    execFileSync('git', ['init', '-q', dir]);
    execFileSync('git', ['add', '-f', 'secrets.dev.yaml'], { cwd: dir });
    // THEN
    expect(() => loadSecretValues({ file })).toThrow(/'file' \(.*\) is tracked by git: secret values must never be committed/);
  });

  test('fails on unquoted non-strings and placeholders, without printing the value', () => {
    const file = write('secrets.dev.yaml', 'DB_PORT: 5432\n');
    expect(() => loadSecretValues({ file })).toThrow(/'DB_PORT' \("<number>"\) must be a quoted string/);
    const placeholder = write('secrets.staging.yaml', 'SECRET_KEY: "CHANGE_ME-x"\n');
    expect(() => loadSecretValues({ file: placeholder })).toThrow(/'SECRET_KEY' \("<redacted>"\) is a placeholder/);
    expect(() => loadSecretValues({ env: { 'API_GATEWAY_BAD-KEY': 'topsecret' } })).toThrow(/^environment: 'API_GATEWAY_BAD-KEY' \("BAD-KEY"\) must be a C identifier/);
  });

  test('fails on a file that is not one mapping', () => {
    const file = write('secrets.dev.yaml', '- a\n- b\n');
    expect(() => loadSecretValues({ file })).toThrow(/must hold one YAML mapping/);
  });
});

describe('ApiGatewayChart required values (what _helpers.tpl `required` did)', () => {
  test.each<[string, Partial<ApiGatewayChartProps>, RegExp]>([
    ['ALLOWED_HOSTS is missing', { allowedHosts: undefined }, /^api-gateway: 'allowedHosts' \(undefined\) is required \(Django ALLOWED_HOSTS\): list the host names the gateway answers to, e.g. allowedHosts: \['api-gateway.statushawk.internal'\]/],
    ['ALLOWED_HOSTS is empty', { allowedHosts: [] }, /^api-gateway: 'allowedHosts' \(\[\]\) is required \(Django ALLOWED_HOSTS\)/],
    ['replicaCount is 0', { replicaCount: 0 }, /^api-gateway: 'replicaCount' \(0\) must be an integer from 1 to 1000: without a replica nothing serves the Ingress; set replicaCount: 1 or more/],
    ['the tag is latest in production', { production: true, image: { tag: 'latest' } }, /^api-gateway: 'image.tag' \("latest"\) must be a pinned version when 'production' is true \(e.g. '1.2.0'\)/],
    ['the ingress has no hosts', { ingress: { hosts: [] } }, /^api-gateway: 'ingress.hosts' \(\[\]\) must list at least one host while 'ingress.enabled' is true, e.g. \[\{ host: 'api-gateway.statushawk.internal', paths: \['\/'\] \}\]; or set 'ingress.enabled: false'/],
  ])('fails when %s', (_n, props, message) => {
    expect(() => synthGateway(props)).toThrow(message);
  });

  test.each<[string, Partial<ApiGatewayChartProps>, RegExp]>([
    ['ALLOWED_HOSTS is "*" in production', { production: true, allowedHosts: ['*'] }, /'allowedHosts\[0\]' \("\*"\) accepts any Host header and is refused when 'production' is true/],
    ['an ALLOWED_HOSTS entry has a scheme', { allowedHosts: ['https://gw.example.com'] }, /'allowedHosts\[0\]' \("https:\/\/gw.example.com"\) must be a host name/],
    ['an Ingress host is not allowed by ALLOWED_HOSTS', { allowedHosts: ['localhost'] }, /'allowedHosts' \(\["localhost"\]\) does not allow the Ingress host "api-gateway.statushawk.internal", so Django would answer 400/],
    ['ALLOWED_HOSTS is also in env', { env: { ALLOWED_HOSTS: '*' } }, /'env.ALLOWED_HOSTS' \("\*"\) is set from 'allowedHosts'/],
    ['DEBUG is on in production', { production: true, env: { DEBUG: 'True' } }, /'env.DEBUG' \("True"\) must be "False" when 'production' is true/],
    ['replicaCount is 1.5', { replicaCount: 1.5 }, /'replicaCount' \(1.5\) must be an integer from 1 to 1000/],
    ['the chart version is not semver', { chartVersion: '0.1' }, /'chartVersion' \("0.1"\) must be a semantic version such as '0.1.0'/],
    ['an ingress host has no paths', { ingress: { hosts: [{ host: HOST, paths: [] }] } }, /'ingress.hosts\[0\].paths' \(\[\]\) must list at least one path prefix/],
    ['an ingress path is relative', { ingress: { hosts: [{ host: HOST, paths: ['api'] }] } }, /'ingress.hosts\[0\].paths\[0\]' \("api"\) must be an absolute path prefix/],
    ['the service type is ExternalName', { service: { type: kplus.ServiceType.EXTERNAL_NAME } }, /'service.type' \("ExternalName"\) must be 'ClusterIP', 'NodePort' or 'LoadBalancer'/],
    ['the port is 0', { service: { port: 0 } }, /'service.port' \(0\) must be an integer from 1 to 65535/],
    ['limits are below requests', { resources: { requests: { cpu: '1', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } } }, /'resources.requests.cpu' \("1"\) must not exceed 'resources.limits.cpu' \(500m\)/],
    ['the namespace has capitals', { namespace: 'Prod' }, /^api-gateway: 'namespace' \("Prod"\) must be a namespace name \(DNS-1123 label\): lower-case letters/],
    ['the namespace has 64 characters', { namespace: 'a'.repeat(64) }, /^api-gateway: 'namespace' \("a{64}"\) must be a namespace name \(DNS-1123 label\).* at most 63 characters/],
    ['the name starts with a digit (the Service would be refused)', { name: '9gw' }, /^api-gateway: 'name' \("9gw"\) must be a DNS-1035 label \(it names a Service\)/],
    ['the name has 32 characters (pre-migration dump Job over 63)', { name: 'g'.repeat(32) }, /'name' \("g{32}"\) is too long: the pre-migration dump Job .* use at most 31 characters/],
    ['a setting holds a database password', { env: { DATABASE_URL: 'postgres://gw:s3cr3t@db:5432/gw' } },
      /^api-gateway: 'env.DATABASE_URL' \("postgres:\/\/gw:\*\*\*@db:5432\/gw"\) holds a password in a URL, which would be written in plain text to dist\/; put the URL in the env Secret/],
    ['a setting holds a Redis password', { env: { REDIS_URL: 'redis://:pw@redis:6379/0' } }, /'env.REDIS_URL' \("redis:\/\/:\*\*\*@redis:6379\/0"\) holds a password in a URL/],
  ])('fails when %s', (_n, props, message) => {
    expect(() => synthGateway(props)).toThrow(message);
  });

  const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
  test.each<[string, ApiGatewayChartProps['image'], string, string]>([
    ['a digest as the tag', { tag: DIGEST }, `devyusupov/statushawk-api-gateway@${DIGEST}`, '0123456789ab'],
    ['a tag and a digest', { tag: `1.2.0@${DIGEST}` }, `devyusupov/statushawk-api-gateway:1.2.0@${DIGEST}`, '1.2.0'],
    ['a repository pinned by digest', { repository: `registry.example.com/gw@${DIGEST}` }, `registry.example.com/gw@${DIGEST}`, '0123456789ab'],
  ])('accepts an image pinned by digest: %s', (_n, image, ref, version) => {
    // GIVEN an image pinned by digest, in production
    const { objs, chart } = synthGateway({ image, production: true });
    // THEN the pod runs exactly that image and appVersion is a valid label value
    expect(container(one(objs, 'Deployment', 'api-gateway'), 'app').image).toBe(ref);
    expect(chart.appVersion).toBe(version);
    expect(one(objs, 'Deployment', 'api-gateway').metadata.labels['app.kubernetes.io/version']).toBe(version);
  });

  test('errors carry the chart path when nested', () => {
    const app = Testing.app();
    expect(() => new ApiGatewayChart(app, 'gw-dev', { allowedHosts: [] })).toThrow(/^gw-dev: 'allowedHosts'/);
  });
});

describe('ApiGatewayChart dev dependencies (postgresql.enabled / redis.enabled)', () => {
  test('off by default: no PostgreSQL, no Redis', () => {
    const { objs, chart } = synthGateway();
    expect(all(objs, 'StatefulSet')).toHaveLength(0);
    expect(chart.database).toBeUndefined();
    expect(chart.redis).toBeUndefined();
    expect(envOf(container(one(objs, 'Deployment'), 'app')).REDIS_URL).toBeUndefined();
  });

  describe('on', () => {
    // GIVEN both dev dependencies
    const { objs, chart } = synthGateway({ postgresql: { enabled: true }, redis: { enabled: true } });
    const dep = one(objs, 'Deployment', 'api-gateway');

    test('the in-cluster PostgreSQL and Redis are in the chart', () => {
      expect(one(objs, 'StatefulSet', 'postgres')).toBeDefined();
      expect(one(objs, 'StatefulSet', 'redis')).toBeDefined();
      expect(chart.database?.connection).toMatchObject({ host: 'postgres', port: 5432, databaseName: 'api_gateway' });
      expect(chart.redis?.connection.url).toBe('redis://redis:6379/0');
    });

    test('every container gets the database and REDIS_URL; the pods are their clients', () => {
      for (const c of containers(dep)) {
        expect(envOf(c)).toMatchObject({ DB_HOST: 'postgres', DB_PORT: '5432', DB_NAME: 'api_gateway', REDIS_URL: 'redis://redis:6379/0' });
        expect(c.env.find((e: Manifest) => e.name === 'DB_PASSWORD').valueFrom.secretKeyRef)
          .toEqual({ name: 'postgres-credentials', key: 'password' });
      }
      expect(dep.spec.template.metadata.labels).toMatchObject({ 'erp-k8s.io/postgres-client': 'true', 'erp-k8s.io/redis-client': 'true' });
      const job = one(objs, 'Job', chart.migrationJob?.jobName);
      expect(job.spec.template.metadata.labels).toMatchObject({ 'erp-k8s.io/postgres-client': 'true' });
    });

    test('egress goes to the PostgreSQL and Redis pods only', () => {
      const np = one(objs, 'NetworkPolicy', 'api-gateway');
      const pgPods = one(objs, 'StatefulSet', 'postgres').spec.template.metadata.labels;
      const redisPods = one(objs, 'StatefulSet', 'redis').spec.template.metadata.labels;
      const [, db, redis] = np.spec.egress;
      expect(db.ports).toEqual([{ protocol: 'TCP', port: 5432 }]);
      expect(pgPods).toMatchObject(db.to[0].podSelector.matchLabels);
      expect(redis.ports).toEqual([{ protocol: 'TCP', port: 6379 }]);
      expect(redisPods).toMatchObject(redis.to[0].podSelector.matchLabels);
    });

    test('every object is valid against the Kubernetes 1.28 schema', () => {
      expect(validateManifests(objs)).toEqual([]);
    });
  });

  test.each<[string, Partial<ApiGatewayChartProps>, RegExp]>([
    ['PostgreSQL in production', { production: true, postgresql: { enabled: true } }, /^api-gateway: 'postgresql.enabled' \(true\) is for local development and refused when 'production' is true/],
    ['Redis in production', { production: true, redis: { enabled: true } }, /^api-gateway: 'redis.enabled' \(true\) is for local development and refused when 'production' is true/],
    ['PostgreSQL and a database', { postgresql: { enabled: true }, database: ExternalDatabase.of({ host: 'db.example.com' }) }, /'postgresql.enabled' \(true\) cannot be combined with 'database'/],
    ['Redis and REDIS_URL', { redis: { enabled: true }, env: { REDIS_URL: 'redis://x:6379/0' } }, /'env.REDIS_URL' \("redis:\/\/x:6379\/0"\) is set from the in-chart Redis/],
  ])('fails with %s', (_n, props, message) => {
    expect(() => synthGateway(props)).toThrow(message);
  });
});
