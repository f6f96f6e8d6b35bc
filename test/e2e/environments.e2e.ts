/**
 * `npm run test:e2e`: deploys every environment (dev, staging, prod) as the
 * README says — `kubectl apply -f dist/<env>/` after creating the Secrets a
 * user creates — plus a FastAPI app, to the cluster in KUBECONFIG (kind,
 * minikube, a real one; CI: ../shared/k8s), and asserts what a user sees:
 * Deployments Available, StatefulSets ready, Jobs Complete, every CronJob run
 * once on demand and Complete, 0 container restarts, migrations applied
 * exactly once, credentials generated once and kept, the init SQL applied.
 *
 * No cluster: it fails with a message, it never skips. Images: with
 * ERP_K8S_CLUSTER_SH (../shared/k8s/cluster.sh) set, the stand-in images are
 * built first (global-setup.ts, test/e2e/images/build.sh); otherwise they must already be
 * pullable by the cluster (see README, Testing).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { synthesizeApp } from '../../deploy/app-synth';
import { EnvironmentConfig } from '../../deploy/environments';
import { buildEnvironment } from '../../deploy/environments/erp-environment';
import { renderFiles } from '../../deploy/synth';
import {
  e2eEnvironments, EXTERNAL_NS, externalServers, FASTAPI_HOST, FASTAPI_NS, fastApiApp, v2,
} from './apps';
import {
  createNamespace, createSecret, diagnose, getObj, jobLogs, kubectl, kubectlAsync, list, Obj, restarts, say, secondsToReady, secretValue,
  useBundledTools, waitFor, writeTemp,
} from './kube';
import { createS3CredentialsSecret } from './s3';
import { createDatabaseServerTls, handOutExternalDatabases } from './tls';

jest.setTimeout(40 * 60 * 1000);

const ENVS = e2eEnvironments();
const WAIT_MS = 10 * 60 * 1000;
let work: string;
let outdir: string;
const started = Date.now();
/** Per namespace: workload -> seconds to Ready / Complete, for the report. */
const report: Array<{ ns: string; kind: string; name: string; result: string; restarts: number; seconds?: number }> = [];



/** Waits until every Deployment is Available, every StatefulSet ready and every Job Complete. */
async function waitForWorkloads(ns: string): Promise<void> {
  await waitFor(`${ns}: Deployments Available, StatefulSets ready, Jobs Complete`, WAIT_MS, () => {
    const pending: string[] = [];
    for (const d of list(ns, 'deployments')) {
      const ok = (d.status?.conditions ?? []).some((c: Obj) => c.type === 'Available' && c.status === 'True')
        && (d.status?.updatedReplicas ?? 0) === d.spec.replicas && (d.status?.readyReplicas ?? 0) === d.spec.replicas;
      if (!ok) pending.push(`deployment/${d.metadata.name}`);
    }
    for (const s of list(ns, 'statefulsets')) if ((s.status?.readyReplicas ?? 0) !== s.spec.replicas) pending.push(`statefulset/${s.metadata.name}`);
    for (const j of list(ns, 'jobs')) {
      const failed = (j.status?.conditions ?? []).find((c: Obj) => c.type === 'Failed' && c.status === 'True');
      if (failed) throw new FatalError(`job/${j.metadata.name} failed (${failed.reason}: ${failed.message})\n${jobLogs(ns, j.metadata.name)}`);
      if (!(j.status?.conditions ?? []).some((c: Obj) => c.type === 'Complete' && c.status === 'True')) pending.push(`job/${j.metadata.name}`);
    }
    return pending.length === 0 ? true : undefined;
  }, () => diagnose(ns)).catch((e) => {
    throw e;
  });
}

/** An error that stops the polling at once (a failed Job will not complete). */
class FatalError extends Error {}

/** Runs each CronJob once (`kubectl create job --from=cronjob/...`) and waits for it to Complete. */
async function runCronJobsOnce(ns: string): Promise<string[]> {
  const names: string[] = [];
  // the restore template replaces the data: backup.e2e.ts runs it in its drill
  for (const cj of list(ns, 'cronjobs').filter((x) => !x.metadata.name.endsWith('-restore'))) {
    const job = `${cj.metadata.name}-e2e`;
    await kubectlAsync(['create', 'job', job, '-n', ns, `--from=cronjob/${cj.metadata.name}`]);
    names.push(job);
  }
  for (const job of names) {
    await waitFor(`${ns}: job/${job} (from its CronJob) Complete`, WAIT_MS, () => {
      const j = getObj(ns, 'job', job);
      const failed = (j?.status?.conditions ?? []).find((c: Obj) => c.type === 'Failed' && c.status === 'True');
      if (failed) throw new Error(`job/${job} failed: ${failed.message}\n${jobLogs(ns, job)}`);
      return (j?.status?.conditions ?? []).some((c: Obj) => c.type === 'Complete' && c.status === 'True') ? true : undefined;
    }, () => `${jobLogs(ns, job)}\n${diagnose(ns)}`);
  }
  return names;
}

/** Records every workload of a namespace for the report. */
function recordWorkloads(ns: string): void {
  const pods = list(ns, 'pods');
  const owner = (p: Obj) => p.metadata.ownerReferences?.[0];
  for (const kind of ['deployments', 'statefulsets']) {
    for (const w of list(ns, kind)) {
      const sel = w.spec.selector.matchLabels as Record<string, string>;
      const mine = pods.filter((p) => Object.entries(sel).every(([k, v]) => p.metadata.labels?.[k] === v));
      const times = mine.map(secondsToReady).filter((s): s is number => s !== undefined);
      report.push({
        ns, kind: kind === 'deployments' ? 'Deployment' : 'StatefulSet', name: w.metadata.name,
        result: `${w.status?.readyReplicas ?? 0}/${w.spec.replicas} Ready`, restarts: mine.reduce((n, p) => n + restarts(p), 0),
        seconds: times.length ? Math.max(...times) : undefined,
      });
    }
  }
  for (const j of list(ns, 'jobs')) {
    const mine = pods.filter((p) => owner(p)?.name === j.metadata.name);
    const created = Date.parse(j.metadata.creationTimestamp);
    const done = j.status?.completionTime ? Math.round((Date.parse(j.status.completionTime) - created) / 1000) : undefined;
    report.push({
      ns, kind: 'Job', name: j.metadata.name, result: done !== undefined ? 'Complete' : 'not complete',
      restarts: mine.reduce((n, p) => n + restarts(p), 0), seconds: done,
    });
  }
}

/** Every object the manifests create in a namespace (the kinds they use). */
function listAll(ns: string): Obj[] {
  const kinds = 'serviceaccounts,roles,rolebindings,configmaps,networkpolicies,persistentvolumeclaims,services,deployments,statefulsets,' +
    'jobs,cronjobs,horizontalpodautoscalers,poddisruptionbudgets,ingresses,servicemonitors,verticalpodautoscalers';
  return JSON.parse(kubectl(['get', kinds, '-n', ns, '-o', 'json', '--ignore-not-found'])).items;
}

/**
 * What the server holds for each object: its generation where it has one
 * (status updates do not count), else its resourceVersion. Jobs created from
 * CronJobs by the suite are left out.
 */
function serverVersions(ns: string): string[] {
  return listAll(ns).filter((o) => !o.metadata.name.endsWith('-e2e'))
    .map((o) => `${o.kind}/${o.metadata.name} ${o.metadata.generation ?? o.metadata.resourceVersion}`).sort();
}

/** psql as the superuser inside a sclorg PostgreSQL pod (local socket). */
function psql(ns: string, db: string, sql: string): string {
  return kubectl(['exec', '-n', ns, 'postgres-0', '-c', 'postgres', '--', 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql]).trim();
}

/** The namespace holding an environment's PostgreSQL. */
const dbNamespace = (c: EnvironmentConfig) => (c.database.mode === 'in-cluster' ? c.namespace : EXTERNAL_NS);

function synthesize(): void {
  const secretsDir = fs.mkdtempSync(path.join(work, 'no-secrets-'));
  const result = synthesizeApp({ outdir, environments: ENVS, secretsDir, env: {}, warn: () => undefined });
  say('synth', `${Object.entries(result.objects).map(([e, n]) => `${e}: ${n} objects`).join(', ')} -> ${outdir}`);
  // release v2 of every environment, and v2 again under other chart and construct ids
  const v2Envs = Object.fromEntries(Object.entries(ENVS).map(([k, c]) => [k, v2(c)]));
  synthesizeApp({ outdir: path.join(work, 'dist-v2'), environments: v2Envs, secretsDir, env: {}, warn: () => undefined });
  for (const c of Object.values(ENVS)) {
    const ids = { appChart: 'application', gatewayChart: 'edge', api: 'ErpBackend', celery: 'Workers' };
    const renamed = renderFiles(buildEnvironment(v2(c), {}, ids).charts);
    const dir = path.join(work, 'dist-renamed', c.name);
    fs.mkdirSync(dir, { recursive: true });
    for (const f of renamed) fs.writeFileSync(path.join(dir, f.name), Yaml.stringify(...f.objects));
  }
  fs.writeFileSync(path.join(outdir, 'external.yaml'), Yaml.stringify(...externalServers()));
  fs.writeFileSync(path.join(outdir, 'fastapi.yaml'), Yaml.stringify(...fastApiApp()));
}




async function deployExternal(): Promise<void> {
  await createNamespace(EXTERNAL_NS);
  await createDatabaseServerTls(EXTERNAL_NS);
  await kubectlAsync(['apply', '-f', path.join(outdir, 'external.yaml')]);
  await waitForWorkloads(EXTERNAL_NS);
  say(EXTERNAL_NS, 'prod\'s "external" PostgreSQL and Redis are ready');
}

async function deployEnvironment(c: EnvironmentConfig): Promise<void> {
  const ns = c.namespace;
  const dir = path.join(outdir, c.name);
  const t0 = Date.now();
  await createNamespace(ns, path.join(dir, '00-namespace.k8s.yaml'));
  // The Secrets a user creates once per namespace (README, "Applying"). ALLOWED_HOSTS
  // is what a real Django needs: the public host, never '*'.
  await createSecret(ns, 'erp-api-env', { SECRET_KEY: secretValue(), ALLOWED_HOSTS: c.api.host });
  await createSecret(ns, 'erp-admin', { password: secretValue() });
  await createSecret(ns, 'api-gateway-env', { SECRET_KEY: secretValue() });
  // off-site backups (prod): the object store's credentials, as README "Backups and restore" says
  if (c.backups.offsite) await createS3CredentialsSecret(ns, c.backups.offsite.credentialsSecretName);
  // external server (prod): the credentials of its two databases and its CA, as its administrator hands them out
  await handOutExternalDatabases(c, EXTERNAL_NS);
  await kubectlAsync(['apply', '-f', `${dir}/`]);
  await waitForWorkloads(ns);
  say(ns, `every Deployment Available, StatefulSet ready, Job Complete after ${Math.round((Date.now() - t0) / 1000)}s`);
}

async function deployFastApi(): Promise<void> {
  await createNamespace(FASTAPI_NS);
  await createSecret(FASTAPI_NS, 'erp-api-env', {
    ALLOWED_HOSTS: FASTAPI_HOST, JWT_SECRET_KEY: secretValue(), BOOTSTRAP_KEY: secretValue(), ALLOW_BOOTSTRAP_WHEN_USERS_EXIST: 'False',
  });
  await createSecret(FASTAPI_NS, 'erp-admin', { password: secretValue() });
  await kubectlAsync(['apply', '-f', path.join(outdir, 'fastapi.yaml')]);
  await waitForWorkloads(FASTAPI_NS);
  say(FASTAPI_NS, 'FastAPI app Available, migration and bootstrap Jobs Complete');
}

beforeAll(async () => {
  useBundledTools(); // the cluster check, the images and the CRDs: global-setup.ts
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-e2e-'));
  outdir = path.join(work, 'dist');
  synthesize();
  await deployExternal();
  const results = await Promise.allSettled([...Object.values(ENVS).map(deployEnvironment), deployFastApi()]);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length) throw new Error(failed.map((f) => String(f.reason?.stack ?? f.reason)).join('\n\n'));
});

afterAll(() => {
  if (report.length) {
    const lines = report.map((r) => `| ${r.ns} | ${r.kind} ${r.name} | ${r.result} | ${r.restarts} | ${r.seconds ?? '-'} |`);
    say('report', `\n| namespace | workload | Ready/Complete | restarts | seconds to Ready/Complete |\n|---|---|---|---|---|\n${lines.join('\n')}`);
  }
  say('report', `e2e wall time ${Math.round((Date.now() - started) / 1000)}s`);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe.each(Object.values(ENVS).map((c) => [c.name, c] as const))('%s', (_name, c) => {
  const ns = c.namespace;

  test('every CronJob runs once on demand and Completes', async () => {
    const jobs = await runCronJobsOnce(ns);
    expect(jobs.length).toBeGreaterThanOrEqual(4); // backup, health check, integrity, cleanup
    say(ns, `CronJobs run on demand: ${jobs.join(', ')} Complete`);
  });

  test('the API is Ready with a realistic ALLOWED_HOSTS: probes send the public host, no "*"', () => {
    const env = getObj(ns, 'secret', 'erp-api-env')!;
    const allowed = Buffer.from(env.data.ALLOWED_HOSTS, 'base64').toString();
    expect(allowed).not.toContain('*');
    const dep = getObj(ns, 'deployment', 'erp-api-app')!;
    const app = dep.spec.template.spec.containers.find((x: Obj) => x.name === 'app');
    expect(app.readinessProbe.httpGet.httpHeaders).toEqual([{ name: 'Host', value: c.api.host }]);
    expect(dep.status.readyReplicas).toBe(dep.spec.replicas);
  });

  test('migrations were applied exactly once, whoever ran them (Job and init containers)', () => {
    const db = dbNamespace(c);
    expect(psql(db, 'koku', 'SELECT count(*) FROM core_migrationrun')).toBe('1');
    expect(psql(db, 'koku', 'SELECT count(*) FROM (SELECT app, name FROM django_migrations GROUP BY 1, 2 HAVING count(*) > 1) d')).toBe('0');
    expect(Number(psql(db, 'koku', "SELECT count(*) FROM django_migrations WHERE app = 'core'"))).toBe(3);
  });

  test('the init SQL ran: pg_stat_statements, role and database hive', () => {
    if (c.database.mode !== 'in-cluster') return expect(c.database.mode).toBe('external'); // prod: its server is not ours to initialize
    expect(psql(ns, 'koku', "SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'")).toBe('pg_stat_statements');
    expect(psql(ns, 'postgres', "SELECT rolname FROM pg_roles WHERE rolname = 'hive' AND rolcanlogin")).toBe('hive');
    expect(psql(ns, 'postgres', "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'hive'")).toBe('hive');
  });

  test('one database per application: the gateway migrated its own database, as its own role, not koku', () => {
    const db = dbNamespace(c);
    expect(psql(db, 'postgres', "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'api_gateway'")).toBe('api_gateway');
    expect(Number(psql(db, 'api_gateway', "SELECT count(*) FROM django_migrations WHERE app = 'monitors'"))).toBeGreaterThan(0);
    expect(psql(db, 'koku', "SELECT count(*) FROM django_migrations WHERE app = 'monitors'")).toBe('0');
    expect(Number(psql(db, 'koku', "SELECT count(*) FROM django_migrations WHERE app = 'core'"))).toBeGreaterThan(0);
  });

  test('TLS to the database: what the app and the gateway connect with (prod: verify-full and require)', () => {
    // a connection of the running app's own Django, with its own environment
    const probe = (deployment: string) => kubectl(['exec', '-n', ns, `deploy/${deployment}`, '-c', 'app', '--', 'python', 'manage.py', 'shell', '-c',
      'import os\nfrom django.db import connection\nwith connection.cursor() as c:\n' +
      '    c.execute("SELECT s.ssl, current_database(), current_user FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()")\n' +
      '    print("TLS", *c.fetchone(), os.environ.get("PGSSLMODE", "-"))']).trim().split('\n').pop();
    const external = c.database.mode === 'external';
    expect(probe('erp-api-app')).toBe(external ? 'TLS True koku koku verify-full' : 'TLS False koku koku -');
    expect(probe('api-gateway')).toBe(external ? 'TLS True api_gateway api_gateway require' : 'TLS False api_gateway api_gateway -');
    if (external) {
      say(ns, 'the API connects over TLS with verify-full (CA and host name checked), the gateway with require, each to its own database');
    }
  });

  test('credentials are generated once and kept: a second credentials Job changes nothing', async () => {
    if (c.database.mode !== 'in-cluster') return expect(getObj(ns, 'secret', 'postgres-credentials')).toBeDefined();
    const before = getObj(ns, 'secret', 'postgres-credentials')!;
    const job = list(ns, 'jobs').find((j) => j.metadata.name.startsWith('postgres-credentials-init-'))!;
    expect(jobLogs(ns, job.metadata.name)).toContain('secret/postgres-credentials created');
    await kubectlAsync(['delete', 'job', job.metadata.name, '-n', ns, '--wait=true']);
    await kubectlAsync(['apply', '-f', path.join(outdir, c.name, '20-infrastructure.k8s.yaml')]);
    await waitFor(`${ns}: the re-created credentials Job Completes`, WAIT_MS, () => {
      const j = getObj(ns, 'job', job.metadata.name);
      return (j?.status?.conditions ?? []).some((x: Obj) => x.type === 'Complete' && x.status === 'True') ? true : undefined;
    }, () => diagnose(ns));
    const out = jobLogs(ns, job.metadata.name);
    expect(out).toContain('secret/postgres-credentials exists: left unchanged');
    expect(out).toContain('secret/postgres-hive-credentials exists: left unchanged');
    const after = getObj(ns, 'secret', 'postgres-credentials')!;
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.data.password).toBe(before.data.password);
  });

  test('day two: a second kubectl apply changes nothing, kubectl diff is clean, server-side apply twice changes nothing', async () => {
    const dir = `${path.join(outdir, c.name)}/`;
    const versions = () => serverVersions(ns);
    const beforeApply = versions();
    const lines = (await kubectlAsync(['apply', '-f', dir])).trim().split('\n');
    // kubectl always sends a PodDisruptionBudget's selector (a replace-strategy field) and so prints "configured";
    // the server keeps the object as it was (checked below). Anything else must be "unchanged".
    expect(lines.filter((l) => !/ unchanged$/.test(l) && !/^poddisruptionbudget\.policy\/\S+ configured$/.test(l))).toEqual([]);
    expect(versions()).toEqual(beforeApply);
    const diff = await kubectlAsync(['diff', '-f', dir]).then(() => '', (e) => String(e));
    expect(diff).toBe('');
    await kubectlAsync(['apply', '--server-side', '-f', dir]); // takes over from client-side apply: no conflict
    const before = versions();
    await kubectlAsync(['apply', '--server-side', '-f', dir]);
    expect(versions()).toEqual(before);
    say(ns, 'second apply: no object changed on the server (kubectl prints "configured" only for PDBs); kubectl diff: clean; '
      + 'server-side apply twice: no conflict, no change');
  });

  test('upgrade to v2 (image, env var, resources): no unavailability, a new migration Job, never two beats; renamed ids apply cleanly', async () => {
    const beforeJobs = new Set(list(ns, 'jobs').map((j) => j.metadata.name));
    let maxBeats = 0;
    let minAvailable = Number.MAX_SAFE_INTEGER;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const beats = list(ns, 'pods', 'app.kubernetes.io/component=celery-beat').filter((p) => !['Succeeded', 'Failed'].includes(p.status.phase));
        maxBeats = Math.max(maxBeats, beats.length);
        const api = getObj(ns, 'deployment', 'erp-api-app');
        if (api) minAvailable = Math.min(minAvailable, api.status?.availableReplicas ?? 0);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const want = getObj(ns, 'deployment', 'erp-api-app')!.spec.replicas;
    await kubectlAsync(['apply', '-f', `${path.join(work, 'dist-v2', c.name)}/`]);
    try {
      await waitForWorkloads(ns);
      await waitFor(`${ns}: every Deployment on v2`, WAIT_MS, () => list(ns, 'deployments')
        .filter((d) => d.metadata.name.startsWith('erp-api-')).every((d) => d.spec.template.spec.containers[0].image.endsWith('-v2')
          && d.status.updatedReplicas === d.spec.replicas && d.status.readyReplicas === d.spec.replicas
          && (d.status.replicas ?? 0) === d.spec.replicas) ? true : undefined,
      () => diagnose(ns));
    } finally {
      watching = false;
      await watch;
    }
    const newJobs = list(ns, 'jobs').filter((j) => !beforeJobs.has(j.metadata.name)).map((j) => j.metadata.name);
    const migration = newJobs.find((n) => n.startsWith('erp-api-migrate-'))!;
    expect(migration).toBeDefined();
    // the release's pre-migration dump came first: every migrator of v2 found its record before migrating
    const dump = newJobs.find((n) => n.startsWith('erp-api-pre-migration-backup-'))!;
    expect(dump).toBeDefined();
    const recorded = /pre-migration backup of release (\S+) recorded: (\S+)/.exec(jobLogs(ns, dump));
    expect(recorded?.[1]).toBe(migration);
    expect(jobLogs(ns, migration)).toContain(`migrate: pre-migration backup of release ${migration}: ${recorded![2]}`);
    const v2Pods = list(ns, 'pods', 'app.kubernetes.io/name=erp-api,app.kubernetes.io/component=api')
      .filter((p) => !p.metadata.deletionTimestamp && p.spec.containers[0].image.endsWith('-v2'));
    expect(v2Pods.length).toBeGreaterThan(0);
    for (const pod of v2Pods) {
      expect(kubectl(['logs', '-n', ns, pod.metadata.name, '-c', 'migrate'])).toContain(`migrate: pre-migration backup of release ${migration}`);
    }
    expect(maxBeats).toBeLessThanOrEqual(1);
    expect(minAvailable).toBeGreaterThanOrEqual(want);
    // the same release under other chart and construct ids: Kubernetes sees no change at all
    const versions = () => serverVersions(ns);
    const beforeRename = versions();
    const renamed = (await kubectlAsync(['apply', '-f', `${path.join(work, 'dist-renamed', c.name)}/`])).trim().split('\n');
    expect(renamed.filter((l) => !/ unchanged$/.test(l) && !/^poddisruptionbudget\.policy\/\S+ configured$/.test(l))).toEqual([]);
    expect(versions()).toEqual(beforeRename);
    say(ns, `v2 rolled out (new Jobs: ${newJobs.join(', ')}; at most ${maxBeats} beat pod; API available >= ${minAvailable}/${want}); ` +
      `v2 under renamed chart and construct ids: ${renamed.length} objects, all unchanged`);
  });

  test('no container restarted (init containers included)', () => {
    recordWorkloads(ns);
    const restarted = list(ns, 'pods').filter((p) => restarts(p) > 0).map((p) => `${p.metadata.name} (${restarts(p)})`);
    expect(restarted).toEqual([]);
  });
});

describe('FastAPI app (Migrations.alembic(), seed 002 operations)', () => {
  const ns = FASTAPI_NS;

  test('migrated by alembic, bootstrapped once, the admin exists; a second bootstrap run succeeds without a change', async () => {
    expect(psql(ns, 'koku', 'SELECT count(*) FROM migration_runs')).toBe('1');
    expect(psql(ns, 'koku', "SELECT count(*) FROM users WHERE username = 'admin' AND is_admin")).toBe('1');
    const job = list(ns, 'jobs').find((j) => j.metadata.name.includes('bootstrap'))!;
    const spec = JSON.stringify(job.spec.template.spec);
    const password = Buffer.from(getObj(ns, 'secret', 'erp-admin')!.data.password, 'base64').toString();
    expect(spec).not.toContain(password);
    await kubectlAsync(['delete', 'job', job.metadata.name, '-n', ns, '--wait=true']);
    await kubectlAsync(['apply', '-f', writeTemp(work, 'bootstrap.json', JSON.stringify(stripStatus(job)))]);
    await waitFor(`${ns}: the second bootstrap run Completes`, WAIT_MS, () => {
      const j = getObj(ns, 'job', job.metadata.name);
      const failed = (j?.status?.conditions ?? []).find((x: Obj) => x.type === 'Failed' && x.status === 'True');
      if (failed) throw new FatalError(`second bootstrap failed\n${jobLogs(ns, job.metadata.name)}`);
      return (j?.status?.conditions ?? []).some((x: Obj) => x.type === 'Complete' && x.status === 'True') ? true : undefined;
    }, () => diagnose(ns));
    expect(psql(ns, 'koku', 'SELECT count(*) FROM users')).toBe('1');
  });

  test('seed 002 maintenance scripts run from their CronJobs and Complete', async () => {
    const jobs = await runCronJobsOnce(ns);
    expect(jobs.length).toBeGreaterThanOrEqual(4);
  });

  test('no container restarted', () => {
    recordWorkloads(ns);
    expect(list(ns, 'pods').filter((p) => restarts(p) > 0).map((p) => p.metadata.name)).toEqual([]);
  });
});

/** A Job as the API returned it, made applicable again (no status, uid, generated selector labels). */
function stripStatus(job: Obj): Obj {
  const { status: _s, ...rest } = job;
  const meta = { ...job.metadata };
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields']) delete meta[k];
  const labels = { ...(meta.labels ?? {}) };
  for (const k of ['batch.kubernetes.io/controller-uid', 'controller-uid', 'batch.kubernetes.io/job-name', 'job-name']) delete labels[k];
  const tpl = JSON.parse(JSON.stringify(job.spec.template));
  for (const k of ['batch.kubernetes.io/controller-uid', 'controller-uid', 'batch.kubernetes.io/job-name', 'job-name']) delete tpl.metadata.labels[k];
  const spec = { ...job.spec, template: tpl };
  delete spec.selector;
  return { ...rest, metadata: { ...meta, labels }, spec };
}
