import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { ErpApi, ErpApiProps, ExternalDatabase, MigrationDelivery, Migrations, VpaMode } from '../../src';
import { all, container, containers, Manifest, one, podSpec, RESTRICTED, synth, testChart } from '../util';

const IMAGE = 'registry.example.com/erp/api:1.4.2';

function synthApi(props: Partial<ErpApiProps> = {}): { objs: Manifest[]; api: ErpApi } {
  const chart = testChart();
  const api = new ErpApi(chart, 'Api', { image: IMAGE, ...props });
  return { objs: synth(chart), api };
}

describe('ErpApi defaults', () => {
  // GIVEN an ErpApi with only an image and a host
  const { objs } = synthApi({
    database: ExternalDatabase.of({ host: 'postgres' }),
    ingress: { host: 'erpapi.masterspace.co.ke', clusterIssuer: 'letsencrypt-prod' },
  });
  const dep = one(objs, 'Deployment', 'erp-api-app');
  const job = one(objs, 'Job');

  test('the Deployment, Service and ServiceAccount carry the seed names', () => {
    expect(one(objs, 'Service').metadata.name).toBe('erp-api');
    expect(one(objs, 'ServiceAccount').metadata.name).toBe('erp-api');
    expect(podSpec(dep).serviceAccountName).toBe('erp-api');
    expect(podSpec(dep).automountServiceAccountToken).toBe(false);
  });

  test('init containers: wait for the database, then migrate', () => {
    const init = podSpec(dep).initContainers.map((c: Manifest) => c.name);
    expect(init).toEqual(['wait-for-db', 'migrate']);
    const wait = container(dep, 'wait-for-db').command.join(' ');
    expect(wait).toContain('python manage.py check --database default');
    expect(wait).toContain('-lt 60');
    expect(wait).toContain('sleep 2');
    expect(wait).toContain('exit 1');
  });

  test('migrate uses --fake-initial with a fallback, under an advisory lock released in finally', () => {
    const script = container(dep, 'migrate').command.join('\n');
    expect(container(dep, 'migrate').command.slice(0, 4)).toEqual(['python', 'manage.py', 'shell', '--command']);
    expect(script).toMatch(/pg_advisory_lock\(%s\)/);
    expect(script).toMatch(/call_command\("migrate", fake_initial=True, interactive=False\)/);
    expect(script).toMatch(/except Exception[\s\S]*call_command\("migrate", interactive=False\)/);
    expect(script).toMatch(/finally:\n\s+connection\.cursor\(\)\.execute\("SELECT pg_advisory_unlock/);
    // the Job runs the very same command
    expect(container(job, 'migrate').command).toEqual(container(dep, 'migrate').command);
  });

  test('every container gets exactly the same environment', () => {
    const envs = [...containers(dep), ...containers(job)].map((c) => JSON.stringify([c.env, c.envFrom]));
    expect(new Set(envs).size).toBe(1);
    const app = container(dep, 'app');
    expect(app.envFrom).toEqual([{ secretRef: { name: 'erp-api-env' } }]);
    // ExternalDatabase.of: TLS required by default
    expect(app.env.map((e: Manifest) => e.name)).toEqual(['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_PASSWORD', 'PGSSLMODE', 'DB_SSLMODE']);
    expect(app.env.find((e: Manifest) => e.name === 'DB_PASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'postgres-credentials', key: 'password' });
  });

  test('probes: readiness 30s/10s, liveness 60s/20s on the health path, plus a startup probe', () => {
    const app = container(dep, 'app');
    expect(app.readinessProbe).toMatchObject({ httpGet: { path: '/api/v1/core/health/', port: 8000 }, initialDelaySeconds: 30, periodSeconds: 10 });
    expect(app.livenessProbe).toMatchObject({ httpGet: { path: '/api/v1/core/health/', port: 8000 }, initialDelaySeconds: 60, periodSeconds: 20 });
    expect(app.startupProbe).toMatchObject({ httpGet: { path: '/api/v1/core/health/' }, periodSeconds: 10, failureThreshold: 30 });
  });

  test('resources of every container', () => {
    // seed 2000m: canonical form
    expect(container(dep, 'app').resources).toEqual({ requests: { cpu: '300m', memory: '1Gi' }, limits: { cpu: '2', memory: '3Gi' } });
    const mig = { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '2Gi' } };
    expect(container(dep, 'wait-for-db').resources).toEqual(mig);
    expect(container(dep, 'migrate').resources).toEqual(mig);
    for (const c of containers(job)) expect(c.resources).toEqual(mig);
  });

  test('security context of every container is restricted', () => {
    for (const c of [...containers(dep), ...containers(job)]) {
      expect(c.securityContext).toMatchObject({ ...RESTRICTED, runAsUser: 1000 });
    }
    expect(podSpec(dep).securityContext).toMatchObject({ runAsNonRoot: true, fsGroup: 1000 });
  });

  test('migration Job is a Helm pre-install/pre-upgrade hook, weight 0, and an Argo CD PreSync hook', () => {
    expect(job.metadata.annotations).toEqual({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '0',
      'helm.sh/hook-delete-policy': 'before-hook-creation',
      'argocd.argoproj.io/hook': 'PreSync',
      'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
      'argocd.argoproj.io/sync-wave': '0',
    });
    expect(job.metadata.name).toMatch(/^erp-api-migrate-[0-9a-f]{10}$/);
    expect(job.spec).toMatchObject({ backoffLimit: 3, activeDeadlineSeconds: 1800, ttlSecondsAfterFinished: 86400 });
    expect(podSpec(job).initContainers.map((c: Manifest) => c.name)).toEqual(['wait-for-db']);
    expect(podSpec(job).restartPolicy).toBe('Never');
    // a pre-install hook runs before the release's ServiceAccount exists
    expect(podSpec(job).serviceAccountName).toBeUndefined();
    expect(podSpec(job).automountServiceAccountToken).toBe(false);
  });

  test('HPA: 1-6 replicas, CPU 70 %, memory 75 %; the VPA only recommends (Off)', () => {
    const hpa = one(objs, 'HorizontalPodAutoscaler');
    expect(hpa.spec).toMatchObject({ minReplicas: 1, maxReplicas: 6, scaleTargetRef: { kind: 'Deployment', name: 'erp-api-app' } });
    const targets = hpa.spec.metrics.map((m: Manifest) => [m.resource.name, m.resource.target.averageUtilization]);
    expect(targets).toEqual([['cpu', 70], ['memory', 75]]);
    const vpa = one(objs, 'VerticalPodAutoscaler');
    expect(vpa.spec.updatePolicy.updateMode).toBe('Off');
    expect(vpa.spec.targetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'erp-api-app' });
    expect(dep.spec.replicas).toBeUndefined();
  });

  test('rolling update never drops below capacity; PDB because up to 6 replicas', () => {
    expect(dep.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(dep.spec.progressDeadlineSeconds).toBe(600);
    const pdb = one(objs, 'PodDisruptionBudget');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(dep.spec.selector.matchLabels);
  });

  test('media PVC: 20Gi RWO local-path at /app/media, kept on uninstall; RWO pins replicas to one node', () => {
    const pvc = one(objs, 'PersistentVolumeClaim');
    expect(pvc.metadata.name).toBe('erp-api-media');
    expect(pvc.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    expect(pvc.spec).toMatchObject({ accessModes: ['ReadWriteOnce'], storageClassName: 'local-path', resources: { requests: { storage: '20Gi' } } });
    expect(container(dep, 'app').volumeMounts).toContainEqual(expect.objectContaining({ mountPath: '/app/media' }));
    const aff = podSpec(dep).affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
    expect(aff.topologyKey).toBe('kubernetes.io/hostname');
  });

  test('ingress: TLS through cert-manager, WebSocket timeouts, class nginx', () => {
    const ing = one(objs, 'Ingress');
    expect(ing.metadata.annotations).toMatchObject({
      'cert-manager.io/cluster-issuer': 'letsencrypt-prod',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
    });
    expect(ing.spec.ingressClassName).toBe('nginx');
    expect(ing.spec.tls).toEqual([{ hosts: ['erpapi.masterspace.co.ke'], secretName: 'erp-api-tls' }]);
    expect(ing.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'erp-api', port: { number: 80 } });
  });

  test('ServiceMonitor selects the Service and scrapes its named metrics port', () => {
    const sm = one(objs, 'ServiceMonitor');
    const svc = one(objs, 'Service');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    expect(sm.spec.endpoints[0].port).toBe('metrics');
    expect(svc.spec.ports.map((p: Manifest) => p.name)).toContain('metrics');
    expect(container(dep, 'app').ports).toContainEqual({ containerPort: 8001, name: 'metrics' });
  });

  test('escape hatch: the Deployment is the default child and takes JSON patches', () => {
    const chart = testChart();
    const api = new ErpApi(chart, 'Api', { image: IMAGE });
    ApiObject.of(api).addJsonPatch(JsonPatch.add('/metadata/annotations', { patched: 'yes' }));
    expect(one(synth(chart), 'Deployment', 'erp-api-app').metadata.annotations).toEqual({ patched: 'yes' });
    expect(api.deployment.node.id).toBe('Resource');
  });
});

describe('ErpApi migration Job name', () => {
  const jobName = (props: Partial<ErpApiProps>) => one(synthApi(props).objs, 'Job').metadata.name;

  test('is stable for the same input and changes with a new image', () => {
    expect(jobName({})).toBe(jobName({}));
    expect(jobName({ image: 'registry.example.com/erp/api:1.4.3' })).not.toBe(jobName({}));
  });

  test('carries the commit hash when given', () => {
    expect(jobName({ releaseId: '3f2a9c1' })).toBe('erp-api-migrate-3f2a9c1');
  });

  test('delivery choices: plain Job has no hook annotations; Argo CD only has no Helm hook', () => {
    expect(one(synthApi({ migrationDelivery: MigrationDelivery.plain() }).objs, 'Job').metadata.annotations).toBeUndefined();
    const argo = one(synthApi({ migrationDelivery: MigrationDelivery.argoCd() }).objs, 'Job').metadata.annotations;
    expect(argo['argocd.argoproj.io/hook']).toBe('PreSync');
    expect(argo['helm.sh/hook']).toBeUndefined();
  });

  test('switches: no Job, no migrate init container', () => {
    const { objs } = synthApi({ migrationJob: false, runMigrationsOnStartup: false });
    expect(all(objs, 'Job')).toHaveLength(0);
    expect(podSpec(one(objs, 'Deployment')).initContainers.map((c: Manifest) => c.name)).toEqual(['wait-for-db']);
  });
});

describe('ErpApi with Alembic (FastAPI, seed 002)', () => {
  test('runs alembic upgrade head under a lock and serves with uvicorn, 4 workers', () => {
    const { objs } = synthApi({ migrations: Migrations.alembic() });
    const dep = one(objs, 'Deployment');
    expect(container(dep, 'app').command).toEqual(['uvicorn', 'app.main:app', '--host', '0.0.0.0', '--port', '8000', '--workers', '4']);
    const migrate = container(dep, 'migrate').command.join('\n');
    expect(migrate).toContain('command.upgrade(Config("alembic.ini"), "head")');
    expect(migrate).toContain('pg_advisory_lock');
    expect(container(dep, 'wait-for-db').command.join(' ')).toContain('alembic -c alembic.ini current');
  });

  test('workers are configurable', () => {
    const dep = one(synthApi({ migrations: Migrations.alembic({ workers: 2 }) }).objs, 'Deployment');
    expect(container(dep, 'app').command.slice(-2)).toEqual(['--workers', '2']);
  });
});

describe('ErpApi VPA and HPA', () => {
  test('without the HPA the VPA applies recommendations (Recreate), fixed replicas', () => {
    const { objs } = synthApi({ autoscaling: false, replicas: 1 });
    expect(all(objs, 'HorizontalPodAutoscaler')).toHaveLength(0);
    expect(one(objs, 'VerticalPodAutoscaler').spec.updatePolicy.updateMode).toBe('Recreate');
    expect(all(objs, 'PodDisruptionBudget')).toHaveLength(0);
  });

  test('fails when the VPA would act on the metrics the HPA scales on', () => {
    expect(() => synthApi({ vpa: { updateMode: VpaMode.RECREATE } })).toThrow(
      /test\/Api: 'vpa.updateMode' \("Recreate"\) must be 'Off' while 'autoscaling' is on/);
  });
});

describe('ErpApi validation', () => {
  test.each<[string, Partial<ErpApiProps>, RegExp]>([
    ['HPA min > max', { autoscaling: { minReplicas: 7, maxReplicas: 6 } }, /'autoscaling.minReplicas' \(7\) must be at most 'autoscaling.maxReplicas' \(6\)/],
    ['memory "2 GB"', { resources: { requests: { cpu: '300m', memory: '2 GB' }, limits: { cpu: '1', memory: '3Gi' } } }, /'resources.requests.memory' \("2 GB"\) must be a Kubernetes byte quantity/],
    ['cpu "abc"', { resources: { requests: { cpu: 'abc', memory: '1Gi' }, limits: { cpu: '1', memory: '3Gi' } } }, /'resources.requests.cpu' \("abc"\) must be a CPU quantity/],
    ['request above limit', { resources: { requests: { cpu: '3', memory: '1Gi' }, limits: { cpu: '2', memory: '3Gi' } } }, /'resources.requests.cpu' \("3"\) must not exceed/],
    ['upper-case name', { name: 'ERP-Api' }, /'name' \("ERP-Api"\) must be a DNS-1035 label/],
    ['name starting with a digit (the Service would be refused)', { name: '9erp' }, /test\/Api: 'name' \("9erp"\) must be a DNS-1035 label \(it names a Service\): .*starting with a letter/],
    ['name of 32 characters (pre-migration dump Job over 63)', { name: 'a'.repeat(32) },
      /'name' \("a{32}"\) is too long: the pre-migration dump Job 'a{32}-pre-migration-backup-0{10}' would have 64 characters and Kubernetes allows 63; use at most 31 characters/],
    ['name of 47 characters, the old documented maximum', { name: 'a'.repeat(47) }, /'name' \("a{47}"\) is too long: .* use at most 31 characters/],
    ['label value with a space', { labels: { team: 'erp core' } }, /test\/Api: 'labels.team' \("erp core"\) must be a Kubernetes label/],
    ['label value over 63 characters', { labels: { team: 'a'.repeat(64) } }, /'labels.team' \("a{64}"\) must be a Kubernetes label/],
    ['password in a DATABASE_URL', { env: { DATABASE_URL: 'postgres://koku:s3cr3t@db.example.com:5432/koku' } },
      /test\/Api: 'env.DATABASE_URL' \("postgres:\/\/koku:\*\*\*@db.example.com:5432\/koku"\) holds a password in a URL, which would be written in plain text to dist\/; put the variable in the Secret 'erp-api-env' \(loaded with envFrom\), or pass the database as 'database'/],
    ['password in a REDIS_URL', { env: { REDIS_URL: 'redis://:pw@redis:6379/0' } }, /'env.REDIS_URL' \("redis:\/\/:\*\*\*@redis:6379\/0"\) holds a password in a URL/],
    ['latest image', { image: 'erp/api:latest' }, /'image' \("erp\/api:latest"\) must be pinned/],
    ['untagged image', { image: 'erp/api' }, /'image' \("erp\/api"\) must be pinned/],
    ['port 0', { port: 0 }, /'port' \(0\) must be an integer from 1 to 65535/],
    ['port 70000', { port: 70000 }, /'port' \(70000\) must be an integer from 1 to 65535/],
    ['bad host', { ingress: { host: 'https://erp.example.com' } }, /'ingress.host' \("https:\/\/erp.example.com"\) must be a fully qualified/],
    ['storage "20 Gigs"', { media: { size: '20 Gigs' } }, /'media.size' \("20 Gigs"\) must be a Kubernetes byte quantity/],
    ['replicas with HPA', { replicas: 3 }, /'replicas' \(3\) cannot be combined with 'autoscaling'/],
    ['zero replicas', { autoscaling: false, replicas: 0 }, /'replicas' \(0\) must be an integer from 1 to 1000/],
    ['invalid env name', { env: { 'BAD-NAME': 'x' } }, /'env.BAD-NAME' \("BAD-NAME"\) must be a C identifier/],
    ['liveness window shorter than start budget',
      { probes: { startupProbe: false, livenessInitialDelay: Duration.seconds(10), livenessPeriod: Duration.seconds(10) } },
      /'probes.livenessInitialDelay' \("window 40s"\) gives the server less time than 'probes.startupTimeout' \(300s\)/],
    ['progress deadline shorter than wait + start', { progressDeadline: Duration.minutes(5) }, /'progressDeadline' \("300s"\) must exceed the wait-for-database budget \(120s\)/],
    ['metrics port equals app port', { metrics: { port: 8000 } }, /'metrics.port' \(8000\) must differ from 'port' \(8000\)/],
  ])('fails when %s', (_name, props, message) => {
    expect(() => synthApi(props)).toThrow(message);
  });

  test('errors name the construct path', () => {
    expect(() => synthApi({ name: 'Bad' })).toThrow(/^test\/Api: 'name'/);
  });

  test('a name of 31 characters, the maximum, yields names Kubernetes accepts', () => {
    const name = 'a'.repeat(31);
    const { objs } = synthApi({ name, database: ExternalDatabase.of({ host: 'postgres' }) });
    expect(one(objs, 'Service').metadata.name).toBe(name);
    expect(one(objs, 'Job').metadata.name.length).toBeLessThanOrEqual(63);
  });

  test('the secret is never in the message, and a URL with a user but no password is accepted', () => {
    expect(() => synthApi({ env: { DATABASE_URL: 'postgres://koku:s3cr3t@db/koku' } })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('s3cr3t') }));
    expect(() => synthApi({ env: { SENTRY_DSN: 'https://public@sentry.example.com/1', SITE_URL: 'https://erp.example.com/a:b@c' } })).not.toThrow();
  });

  test('fails when two ErpApi of one namespace have the same name, naming both construct paths', () => {
    // GIVEN two ErpApi named alike in one chart
    const chart = testChart();
    new ErpApi(chart, 'Api', { image: IMAGE });
    new ErpApi(chart, 'Api2', { image: IMAGE });
    // THEN synth refuses the duplicate objects
    expect(() => synth(chart)).toThrow(/test\/Api2\/Resource\/Resource: 'metadata.name' \("erp-api-app"\) is already the name of test\/Api\/Resource\/Resource: two Deployment objects named "erp-api-app" in namespace "erp"/);
  });
});

describe('ErpApi media choices', () => {
  test('ReadWriteMany lets replicas spread: a soft anti-affinity over nodes and zones, no required term', () => {
    const dep = one(synthApi({ media: { accessMode: kplus.PersistentVolumeAccessMode.READ_WRITE_MANY } }).objs, 'Deployment');
    const affinity = podSpec(dep).affinity;
    expect(affinity.podAffinity).toBeUndefined();
    expect(affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    const terms = affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
    expect(terms.map((t: Manifest) => [t.weight, t.podAffinityTerm.topologyKey]))
      .toEqual([[100, 'kubernetes.io/hostname'], [50, 'topology.kubernetes.io/zone']]);
    expect(terms[0].podAffinityTerm.labelSelector.matchLabels).toEqual(dep.spec.selector.matchLabels);
  });

  test('spread: false, or one replica, means no anti-affinity', () => {
    const rwx = { accessMode: kplus.PersistentVolumeAccessMode.READ_WRITE_MANY };
    expect(podSpec(one(synthApi({ media: rwx, spread: false }).objs, 'Deployment')).affinity).toBeUndefined();
    expect(podSpec(one(synthApi({ media: rwx, autoscaling: false, replicas: 1 }).objs, 'Deployment')).affinity).toBeUndefined();
  });
});

describe('ErpApi on a real node (runtime defects found by the e2e suite)', () => {
  test('HTTP probes send the Ingress host as Host header (Django with DEBUG off refuses the pod IP)', () => {
    // GIVEN an API behind an Ingress
    const dep = one(synthApi({ ingress: { host: 'erp.example.com' } }).objs, 'Deployment');
    // THEN every HTTP probe of the app carries that host
    const app = container(dep, 'app');
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      expect(app[probe].httpGet.httpHeaders).toEqual([{ name: 'Host', value: 'erp.example.com' }]);
    }
  });

  test('without an Ingress the probes send the Service name; probes.host overrides both', () => {
    expect(container(one(synthApi().objs, 'Deployment'), 'app').readinessProbe.httpGet.httpHeaders).toEqual([{ name: 'Host', value: 'erp-api' }]);
    const { objs } = synthApi({ ingress: { host: 'erp.example.com' }, probes: { host: 'internal.example.com' } });
    const custom = container(one(objs, 'Deployment'), 'app');
    expect(custom.livenessProbe.httpGet.httpHeaders).toEqual([{ name: 'Host', value: 'internal.example.com' }]);
  });

  test('the http port is named on the app container, whatever the container order', () => {
    const app = container(one(synthApi().objs, 'Deployment'), 'app');
    expect(app.ports[0]).toEqual({ containerPort: 8000, name: 'http' });
  });

  test('no service links: REDIS_PORT=tcp://... never shadows the app settings (API and migration Job)', () => {
    const { objs } = synthApi();
    expect(podSpec(one(objs, 'Deployment')).enableServiceLinks).toBe(false);
    expect(podSpec(one(objs, 'Job')).enableServiceLinks).toBe(false);
  });

  test('rollouts drain: a preStop sleep of 10s, then 2 minutes for in-flight requests and WebSockets', () => {
    const dep = one(synthApi().objs, 'Deployment');
    expect(container(dep, 'app').lifecycle).toEqual({ preStop: { exec: { command: ['sleep', '10'] } } });
    expect(podSpec(dep).terminationGracePeriodSeconds).toBe(120);
    const custom = one(synthApi({ preStopDelay: Duration.seconds(5), terminationGracePeriod: Duration.minutes(10) }).objs, 'Deployment');
    expect(container(custom, 'app').lifecycle.preStop.exec.command).toEqual(['sleep', '5']);
    expect(podSpec(custom).terminationGracePeriodSeconds).toBe(600);
  });

  test('the Ingress accepts uploads up to 100m by default (ingress-nginx: 1m)', () => {
    const ing = one(synthApi({ ingress: { host: 'erp.example.com' } }).objs, 'Ingress');
    expect(ing.metadata.annotations['nginx.ingress.kubernetes.io/proxy-body-size']).toBe('100m');
    const big = one(synthApi({ ingress: { host: 'erp.example.com', maxBodySize: Size.gibibytes(1) } }).objs, 'Ingress');
    expect(big.metadata.annotations['nginx.ingress.kubernetes.io/proxy-body-size']).toBe('1024m');
  });

  test('the ServiceMonitor takes extra labels for the Prometheus that selects it', () => {
    const sm = one(synthApi({ metrics: { serviceMonitorLabels: { release: 'kube-prometheus-stack' } } }).objs, 'ServiceMonitor');
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(sm.metadata.labels['app.kubernetes.io/name']).toBe('erp-api');
  });

  test.each([
    ['terminationGracePeriod does not exceed preStopDelay', { preStopDelay: Duration.seconds(30), terminationGracePeriod: Duration.seconds(30) },
      /'terminationGracePeriod' \("30s"\) must be whole seconds and exceed 'preStopDelay' \(30s\)/],
    ['preStopDelay is under a second', { preStopDelay: Duration.millis(500) }, /'preStopDelay' \("0.5s"\) must be a whole number of seconds/],
    ['the body size is not whole mebibytes', { ingress: { host: 'erp.example.com', maxBodySize: Size.kibibytes(1500) } },
      /'ingress.maxBodySize' \("1.46484375Mi"\) must be a whole number of mebibytes/],
    ['a ServiceMonitor label is invalid', { metrics: { serviceMonitorLabels: { release: 'has space' } } },
      /'metrics.serviceMonitorLabels.release' \("has space"\) must be a Kubernetes label/],
    ['the probe host has a scheme', { probes: { host: 'https://erp.example.com' } }, /'probes.host' \("https:\/\/erp.example.com"\) must be a host name/],
  ] as Array<[string, Partial<ErpApiProps>, RegExp]>)('fails when %s', (_what, props, message) => {
    expect(() => synthApi(props)).toThrow(message);
  });
});
