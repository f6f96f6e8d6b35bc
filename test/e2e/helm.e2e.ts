/**
 * Helm for real (README, "Helm"): dev and prod rendered as charts by the
 * route users run (`npm run synth -- --format helm`, here its function
 * synthesizeHelmCharts), then `helm lint --strict`, `helm install --wait`,
 * `helm upgrade` to v2 (new image tag) and `helm rollback` to revision 1 on
 * the cluster in KUBECONFIG, with the Secrets created first as a user does.
 * Asserts the hook order (prod: migrations pre-install, before any
 * Deployment; dev: post-install; bootstrap after the workloads), that a
 * hook's own egress policy exists before its Job, a new migration Job on
 * upgrade before the Deployments roll, every Deployment Available on the
 * right image and 0 restarts at each step.
 *
 * Independent of environments.e2e.ts: its own namespaces (labelled
 * erp-k8s.io/e2e=true, deleted and re-created), its own "external"
 * PostgreSQL and Redis for prod.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { renderApp } from '../../deploy/app-synth';
import { EnvironmentConfig } from '../../deploy/environments';
import { synthesizeHelmCharts } from '../../deploy/helm-synth';
import { e2eEnvironments, EXTERNAL_NS, externalServers, v2 } from './apps';
import {
  createNamespace, createSecret, diagnose, E2E_LABEL, getObj, helm, jobLogs, kubectl, kubectlAsync, list, Obj, restarts, say, secretValue,
  useBundledTools, waitFor,
} from './kube';
import { createS3CredentialsSecret } from './s3';
import { createDatabaseServerTls, handOutExternalDatabases } from './tls';

jest.setTimeout(20 * 60 * 1000);

const ROOT = path.resolve(__dirname, '../..');
const EXTERNAL = 'erp-e2e-helm-external';
const RELEASE = 'erp';
const WAIT_MS = 10 * 60 * 1000;
const started = Date.now();

const base = e2eEnvironments();
/** dev and prod in namespaces of their own; prod's servers in {@link EXTERNAL}. */
const ENVS: Record<string, EnvironmentConfig> = {
  dev: { ...base.dev, namespace: 'erp-e2e-helm-dev' },
  prod: {
    ...base.prod,
    namespace: 'erp-e2e-helm-prod',
    database: { ...base.prod.database, host: `postgres.${EXTERNAL}.svc.cluster.local` } as EnvironmentConfig['database'],
    gateway: { ...base.prod.gateway, database: { ...base.prod.gateway.database!, host: `postgres.${EXTERNAL}.svc.cluster.local` } },
    redis: { mode: 'external', host: `redis.${EXTERNAL}.svc.cluster.local`, port: 6379 },
  },
};
let work: string;
const report: string[] = [];

const millis = (t: string | number) => (typeof t === 'string' ? Date.parse(t) : t);
const seconds = (from: string | number, to: string | number) => Math.round((millis(to) - millis(from)) / 1000);


const conditionTrue = (o: Obj | undefined, type: string) => (o?.status?.conditions ?? []).some((c: Obj) => c.type === type && c.status === 'True');

/** Every Deployment Available with all replicas updated and ready, on images ending in `suffix`; 0 restarts. */
async function deploymentsAvailable(ns: string, suffix: (image: string) => boolean): Promise<Obj[]> {
  const deps = await waitFor(`${ns}: every Deployment Available on the expected image`, WAIT_MS, () => {
    const all = list(ns, 'deployments');
    return all.length > 0 && all.every((d) => conditionTrue(d, 'Available') && d.status.updatedReplicas === d.spec.replicas
      && d.status.readyReplicas === d.spec.replicas && (d.status.replicas ?? 0) === d.spec.replicas
      && (!d.metadata.name.startsWith('erp-api-') || suffix(d.spec.template.spec.containers[0].image))) ? all : undefined;
  }, () => diagnose(ns));
  const restarted = list(ns, 'pods').filter((p) => restarts(p) > 0).map((p) => `${p.metadata.name} (${restarts(p)})`);
  expect(restarted).toEqual([]);
  return deps;
}

/** The Jobs of a namespace by name prefix, oldest first. */
const jobs = (ns: string, prefix: string) => list(ns, 'jobs').filter((j) => j.metadata.name.startsWith(prefix))
  .sort((a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp));

/** A Job's line of the report: created, completed, seconds. */
function jobLine(j: Obj, t0: number): string {
  const done = j.status?.completionTime;
  const created = j.metadata.creationTimestamp;
  const completed = done ? `complete +${seconds(t0, done)}s (${seconds(created, done)}s)` : 'NOT complete';
  return `job/${j.metadata.name}: created +${seconds(t0, created)}s, ${completed}`;
}

/** The hook lines of `helm --debug` output ("creating 1 resource(s)", "Watching for changes to Job ..."), in order. */
function hookTrace(out: string): string[] {
  return out.split('\n').filter((l) => /hook|Watching for changes to Job|Add\/Modify event for|Starting delete for|beginning wait|creating \d+ resource/i.test(l))
    .map((l) => l.replace(/^.*?\.go:\d+: \[debug\] /, '').trim()).slice(0, 60);
}

let externalReady: Promise<void>;

async function deployExternal(): Promise<void> {
  await createNamespace(EXTERNAL);
  await createDatabaseServerTls(EXTERNAL);
  // prod's "external" servers (the same as environments.e2e.ts), in this suite's own namespace
  const text = JSON.stringify(externalServers()).split(`"${EXTERNAL_NS}"`).join(`"${EXTERNAL}"`).split(`.${EXTERNAL_NS}.`).join(`.${EXTERNAL}.`);
  const file = path.join(work, 'external.yaml');
  fs.writeFileSync(file, Yaml.stringify(...JSON.parse(text)));
  await kubectlAsync(['apply', '-f', file]);
  await waitFor(`${EXTERNAL}: PostgreSQL and Redis ready, credentials Job Complete`, WAIT_MS, () => {
    const sts = list(EXTERNAL, 'statefulsets');
    const js = list(EXTERNAL, 'jobs');
    const ready = sts.length >= 2 && sts.every((s) => (s.status?.readyReplicas ?? 0) === s.spec.replicas);
    return ready && js.every((j) => conditionTrue(j, 'Complete')) ? true : undefined;
  }, () => diagnose(EXTERNAL));
}

/** The namespace (its 00-namespace file: Pod Security labels and deny-all) and the Secrets a user creates before `helm install`. */
async function prepareNamespace(c: EnvironmentConfig): Promise<void> {
  const ns = c.namespace;
  const plain = renderApp({ environments: { [c.name]: c }, secretsDir: work, env: {}, warn: () => undefined }).outputs[c.name];
  const file = path.join(work, `${c.name}-00-namespace.yaml`);
  fs.writeFileSync(file, plain.find((f) => f.name.startsWith('00-'))!.text);
  await createNamespace(ns, file);
  await createSecret(ns, 'erp-api-env', { SECRET_KEY: secretValue(), ALLOWED_HOSTS: c.api.host });
  await createSecret(ns, 'erp-admin', { password: secretValue() });
  await createSecret(ns, 'api-gateway-env', { SECRET_KEY: secretValue() });
  if (c.backups.offsite) await createS3CredentialsSecret(ns, c.backups.offsite.credentialsSecretName);
  if (c.database.mode === 'external') {
    await externalReady;
    await handOutExternalDatabases(c, EXTERNAL);
  }
}

/** install -> upgrade to v2 -> rollback to 1, with the assertions of each step. */
async function lifecycle(c: EnvironmentConfig): Promise<void> {
  const ns = c.namespace;
  const chart = path.join(work, 'charts', c.name);
  const chartV2 = path.join(work, 'charts-v2', c.name);
  const preInstall = c.database.mode === 'external';
  const log = (line: string) => {
    say(`helm ${c.name}`, line);
    report.push(`[${c.name}] ${line}`);
  };

  // lint
  const lint = await helm(['lint', '--strict', chart]);
  expect(lint).toContain('0 chart(s) failed');
  await helm(['lint', '--strict', chartV2]);
  log('helm lint --strict: v1 and v2 charts pass');

  await prepareNamespace(c);

  // install
  const t0 = Date.now();
  const install = await helm(['install', RELEASE, chart, '-n', ns, '--wait', '--timeout', '10m', '--debug']);
  log(`helm install --wait: ${seconds(t0, Date.now())}s`);
  for (const l of hookTrace(install)) log(`  install: ${l}`);
  await deploymentsAvailable(ns, (i) => !i.endsWith('-v2'));
  const migrations = [...jobs(ns, 'erp-api-migrate-'), ...jobs(ns, 'api-gateway-migrate-')];
  const bootstrap = jobs(ns, 'erp-api-bootstrap-');
  const deps = list(ns, 'deployments');
  expect(migrations).toHaveLength(2);
  expect(bootstrap).toHaveLength(1);
  const hookJobs = () => [...jobs(ns, 'erp-api-migrate-'), ...jobs(ns, 'api-gateway-migrate-'), ...jobs(ns, 'erp-api-bootstrap-')];
  await waitFor(`${ns}: migration and bootstrap Jobs Complete`, WAIT_MS,
    () => (hookJobs().every((j) => conditionTrue(j, 'Complete')) ? true : undefined), () => diagnose(ns));
  const done = (j: Obj) => getObj(ns, 'job', j.metadata.name)!;
  for (const j of [...migrations, ...bootstrap]) log(jobLine(done(j), t0));
  const firstDeployment = Math.min(...deps.map((d) => Date.parse(d.metadata.creationTimestamp)));
  log(`Deployments created +${seconds(t0, firstDeployment)}s`);
  for (const j of migrations.map(done)) {
    // the hook's own egress policy exists before its Job
    const policy = getObj(ns, 'networkpolicy', `${j.metadata.labels['app.kubernetes.io/name']}-migrate-egress`)!;
    expect(Date.parse(policy.metadata.creationTimestamp)).toBeLessThanOrEqual(Date.parse(j.metadata.creationTimestamp));
    if (preInstall) {
      // pre-install: complete before any Deployment exists
      expect(Date.parse(j.status.completionTime)).toBeLessThanOrEqual(firstDeployment);
    } else {
      // post-install: after the workloads (its database is in the release)
      expect(Date.parse(j.metadata.creationTimestamp)).toBeGreaterThanOrEqual(firstDeployment);
    }
  }
  expect(Date.parse(done(bootstrap[0]).metadata.creationTimestamp)).toBeGreaterThanOrEqual(firstDeployment);

  // upgrade to v2
  const t1 = Date.now();
  const before = new Set(list(ns, 'jobs').map((j) => j.metadata.name));
  const upgrade = await helm(['upgrade', RELEASE, chartV2, '-n', ns, '--wait', '--timeout', '10m', '--debug']);
  log(`helm upgrade to v2 --wait: ${seconds(t1, Date.now())}s`);
  for (const l of hookTrace(upgrade)) log(`  upgrade: ${l}`);
  await deploymentsAvailable(ns, (i) => i.endsWith('-v2'));
  const newMigration = jobs(ns, 'erp-api-migrate-').filter((j) => !before.has(j.metadata.name));
  expect(newMigration).toHaveLength(1);
  const m = await waitFor(`${ns}: v2 migration Job Complete`, WAIT_MS, () => {
    const j = getObj(ns, 'job', newMigration[0].metadata.name);
    return conditionTrue(j, 'Complete') ? j : undefined;
  }, () => `${jobLogs(ns, newMigration[0].metadata.name)}\n${diagnose(ns)}`);
  log(jobLine(m, t1));
  // the pre-upgrade dump: a hook that completed before the migration Job was created, and recorded its release
  const dumps = jobs(ns, 'erp-api-pre-migration-backup-').filter((j) => !before.has(j.metadata.name));
  expect(dumps).toHaveLength(1);
  const dump = getObj(ns, 'job', dumps[0].metadata.name)!;
  log(jobLine(dump, t1));
  expect(Date.parse(dump.status.completionTime)).toBeLessThanOrEqual(Date.parse(m.metadata.creationTimestamp));
  expect(jobLogs(ns, dump.metadata.name)).toContain(`pre-migration backup of release ${m.metadata.name} recorded`);
  // pre-upgrade: complete before the API's v2 ReplicaSet exists
  const v2Sets = list(ns, 'replicasets', 'app.kubernetes.io/name=erp-api').filter((r) => r.spec.template.spec.containers[0].image.endsWith('-v2'));
  expect(v2Sets.length).toBeGreaterThan(0);
  const firstRoll = Math.min(...v2Sets.map((r) => Date.parse(r.metadata.creationTimestamp)));
  log(`v2 ReplicaSets created +${seconds(t1, firstRoll)}s`);
  expect(Date.parse(m.status.completionTime)).toBeLessThanOrEqual(firstRoll);

  // rollback to revision 1
  const t2 = Date.now();
  await helm(['rollback', RELEASE, '1', '-n', ns, '--wait', '--timeout', '10m']);
  log(`helm rollback to 1 --wait: ${seconds(t2, Date.now())}s`);
  const back = await deploymentsAvailable(ns, (i) => !i.endsWith('-v2'));
  for (const d of back.filter((x) => x.metadata.name.startsWith('erp-api-'))) expect(d.spec.template.spec.containers[0].image).toBe(c.images.api);
  const history = await helm(['history', RELEASE, '-n', ns]);
  log(`helm history:\n${history.trim()}`);
  expect(history).toMatch(/3\s+.*deployed\s+erp-\w+-[\d.]+\s+.*Rollback to 1/);
}

beforeAll(async () => {
  useBundledTools();
  try {
    kubectl(['get', '--raw', '/readyz', '--request-timeout=15s']);
  } catch (e) {
    const kubeconfig = process.env.KUBECONFIG ?? '~/.kube/config';
    throw new Error(`the Helm e2e needs a reachable Kubernetes cluster (KUBECONFIG=${kubeconfig}): ${String(e).split('\n')[0]}`, { cause: e });
  }
  say('helm', (await helm(['version', '--short'])).trim());
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-helm-e2e-'));
  const options = { secretsDir: work, env: {}, warn: () => undefined };
  synthesizeHelmCharts(path.join(work, 'charts'), '0.1.0', { ...options, environments: ENVS });
  const environmentsV2 = Object.fromEntries(Object.entries(ENVS).map(([k, c]) => [k, v2(c)]));
  synthesizeHelmCharts(path.join(work, 'charts-v2'), '0.1.1', { ...options, environments: environmentsV2 });
  // prerequisites of prod (monitoring: true): the CRDs, as README "Cluster prerequisites" says
  for (const f of ['monitoring.coreos.com_servicemonitors.yaml', 'vpa-v1-crd-gen.yaml']) {
    await kubectlAsync(['apply', '--server-side', '--force-conflicts', '-f', path.join(ROOT, 'imports/crds', f)]);
  }
  externalReady = deployExternal();
  externalReady.catch(() => undefined);
});

afterAll(async () => {
  say('helm', `report:\n${report.join('\n')}`);
  say('helm', `wall time ${seconds(started, Date.now())}s`);
  // free the node for the next suite: delete what this one made (no wait)
  for (const ns of [...Object.values(ENVS).map((c) => c.namespace), EXTERNAL]) {
    if (getObj('', 'namespace', ns)?.metadata.labels?.[E2E_LABEL] === 'true' && !process.env.ERP_E2E_KEEP) {
      await kubectlAsync(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
    }
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the charts: named erp-<env>, no crds/, no Namespace, no {{ in templates', () => {
  for (const env of Object.keys(ENVS)) {
    const chart = path.join(work, 'charts', env);
    expect(fs.readdirSync(chart).sort()).toEqual(['Chart.yaml', 'templates']);
    expect(fs.readFileSync(path.join(chart, 'Chart.yaml'), 'utf8')).toMatch(new RegExp(`^name: erp-${env}$`, 'm'));
    for (const f of fs.readdirSync(path.join(chart, 'templates'))) {
      const text = fs.readFileSync(path.join(chart, 'templates', f), 'utf8');
      expect(text).not.toContain('{{');
      expect(text).not.toMatch(/^kind: Namespace$/m);
    }
  }
});

test('dev and prod: helm lint --strict, install (hooks in order), upgrade to v2 (pre-upgrade migration before the roll), rollback to 1', async () => {
  const results = await Promise.allSettled(Object.values(ENVS).map(lifecycle));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length) throw new Error(failed.map((f) => String(f.reason?.stack ?? f.reason)).join('\n\n'));
});
