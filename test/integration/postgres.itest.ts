/**
 * Issue 7, parts 3-5, against a throwaway PostgreSQL, all taken from a
 * synthesized CostMgmtPostgres and run in the order the cluster runs them:
 *
 *   5. the credentials Job (`python3 -c <program>`, run as synthesized
 *      against an in-process fake Kubernetes API, see fake-kube-api.ts)
 *      creates postgres-credentials and postgres-hive-credentials;
 *   3. the server starts with the generated config (pg_stat_statements
 *      preloaded) and the start hook runs the init SQL, reading the hive
 *      password from the Secret volume the Job's Secret fills;
 *   4. the backup CronJob dumps the application database with the generated
 *      password, the dump is restored, old dumps are pruned.
 *
 * Absolute paths in the hooks are the pod's mount paths; each volume is laid
 * out under a temp root exactly as the manifest mounts it (ConfigMap items,
 * Secret items, emptyDirs, PVCs) and only those mount paths are re-rooted in
 * the script text: the rest of every script runs byte for byte as synthesized.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { CostMgmtPostgres } from '../../src/cost-mgmt-postgres';
import { rolePasswordEnv } from '../../src/postgres-sql';
import { FakeKubeApi, KubeCall } from './fake-kube-api';
import {
  container, containerEnv, expectSuccess, killChildren, Manifest, one, PgCluster, podSpec, record, run, RunResult, say, Secrets,
} from './harness';

const NAMESPACE = 'erp';
let pg: PgCluster;
let work: string;
/** The in-cluster CostMgmtPostgres (defaults), synthesized. */
let inCluster: Manifest[];
/** The same construct with `enabled: false` pointed at the test server: the backup CronJob with a reachable PGHOST. */
let external: Manifest[];
/** The fake Kubernetes API the credentials Job talks to; its Secrets feed parts 3 and 4. */
let kubeApi: FakeKubeApi;
/** The ServiceAccount token the fake API accepts. */
const SA_TOKEN = 'erp-it-serviceaccount-token';
/** What ERP_K8S_SERVICEACCOUNT_DIR points at: `token` only (POD_NAMESPACE comes from the downward API, plain HTTP reads no ca.crt). */
let saDir: string;

function synth(props: ConstructorParameters<typeof CostMgmtPostgres>[2]): Manifest[] {
  const chart = new Chart(Testing.app(), 'pg', { namespace: NAMESPACE });
  new CostMgmtPostgres(chart, 'Postgres', props);
  return Testing.synth(chart) as Manifest[];
}

/** Secrets created so far by the credentials Job (the fake API's store, decoded). */
function clusterSecrets(): Secrets {
  return kubeApi.namespaceSecrets(NAMESPACE);
}

/**
 * Lays out a container's volumes under `root` as the kubelet would mount
 * them, and returns the mount paths. ConfigMap data comes from the manifests,
 * Secret data from the fake API's store; emptyDirs and PVCs are empty dirs.
 */
function mountVolumes(objs: Manifest[], workload: Manifest, containerName: string, root: string): string[] {
  const spec = podSpec(workload);
  const c = container(workload, containerName);
  const secrets = clusterSecrets();
  for (const m of c.volumeMounts ?? []) {
    const dest = path.join(root, m.mountPath);
    fs.mkdirSync(dest, { recursive: true });
    const v = (spec.volumes ?? []).find((x: Manifest) => x.name === m.name);
    let data: Record<string, string> | undefined;
    let items: Array<{ key: string; path: string }> | undefined;
    if (v?.configMap) {
      data = one(objs, 'ConfigMap', v.configMap.name).data;
      items = v.configMap.items;
    } else if (v?.secret) {
      data = secrets[v.secret.secretName];
      if (!data) throw new Error(`volume ${m.name}: Secret ${v.secret.secretName} does not exist yet (the kubelet would not start the pod)`);
      items = v.secret.items;
    }
    if (!data) continue; // emptyDir, PVC (volumeClaimTemplates or persistentVolumeClaim)
    for (const { key, path: rel } of items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
      if (data[key] === undefined) throw new Error(`volume ${m.name}: key ${key} missing`);
      fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
      fs.writeFileSync(path.join(dest, rel), data[key]);
    }
  }
  for (const d of walkDirs(root)) fs.chmodSync(d, 0o755); // the server (user postgres) reads the config
  return (c.volumeMounts ?? []).map((m: Manifest) => m.mountPath as string);
}

function walkDirs(dir: string): string[] {
  return [dir, ...fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => walkDirs(path.join(dir, e.name)))];
}

/** Re-roots the quoted mount paths in a script: `'/backups'` -> `'<root>/backups'`. Returns the script and how many paths moved. */
function reroot(script: string, mounts: string[], root: string): { script: string; moved: number } {
  let moved = 0;
  const alternatives = [...mounts].sort((a, b) => b.length - a.length).map((mp) => mp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  // one pass, so a re-rooted path (the root may itself be under /tmp) is never re-rooted again
  const re = new RegExp(`'(${alternatives.join('|')})(?=[/'])`, 'g');
  const out = script.replace(re, (_m, mp: string) => { moved++; return `'${root}${mp}`; });
  return { script: out, moved };
}

/** The credentials Job (the in-cluster server also has an initial backup Job). */
function credentialsJob(): Manifest {
  const jobs = inCluster.filter((o: Manifest) => o.kind === 'Job' && o.metadata.name.startsWith('postgres-credentials-init-'));
  if (jobs.length !== 1) throw new Error(`expected one credentials Job, found ${jobs.length}`);
  return jobs[0];
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-it-postgres-'));
  fs.chmodSync(work, 0o755);
  inCluster = synth({});
  // The generated server config goes into the test cluster's postgresql.conf.
  const conf = path.join(work, 'erp-k8s.conf');
  fs.writeFileSync(conf, one(inCluster, 'ConfigMap', 'postgres-config').data['erp-k8s.conf']);
  pg = await PgCluster.create('postgres', conf);
  pg.start();
  external = synth({ enabled: false, host: '127.0.0.1', port: pg.port });
  kubeApi = await FakeKubeApi.start(SA_TOKEN);
  saDir = path.join(work, 'serviceaccount');
  fs.mkdirSync(saDir);
  fs.writeFileSync(path.join(saDir, 'token'), SA_TOKEN + '\n');
  say('pg', `throwaway cluster ${pg.dataDir} on 127.0.0.1:${pg.port}, started with the generated erp-k8s.conf ` +
    `(${one(inCluster, 'ConfigMap', 'postgres-config').data['erp-k8s.conf'].split('\n').filter((l: string) => l && !l.startsWith('#')).join('; ')})`);
});

afterAll(async () => {
  killChildren();
  await kubeApi?.close();
  pg?.destroy();
  if (work) fs.rmSync(work, { recursive: true, force: true });
  say('pg', 'cluster stopped and deleted');
});

// ------------------------------------------------------------------ part 5

/** Every result of the credentials Job and every password it generated (sent in a POST), to check that no run printed one. */
const credentialRuns: RunResult[] = [];
const generatedPasswords = new Set<string>();

/**
 * Runs the credentials Job's container exactly as synthesized (`python3 -c
 * <program>`, the container's env) against a fake Kubernetes API.
 */
async function runCredentialsJob(api: FakeKubeApi, label: string): Promise<{ r: RunResult; leftovers: string[] }> {
  const job = credentialsJob();
  const c = container(job, 'create-secrets');
  const env = containerEnv(c, {}, { 'metadata.namespace': NAMESPACE });
  // /tmp is an emptyDir in the pod (HOME points there): a fresh dir per run.
  const tmp = fs.mkdtempSync(path.join(work, 'pod-tmp-'));
  const r = await run(c.command, {
    cwd: tmp, label, env: { ...env, HOME: tmp, TMPDIR: tmp, ERP_K8S_API_URL: api.url, ERP_K8S_SERVICEACCOUNT_DIR: saDir },
  });
  credentialRuns.push(r);
  for (const call of api.calls) if (call.body?.stringData?.password) generatedPasswords.add(call.body.stringData.password);
  return { r, leftovers: fs.readdirSync(tmp) };
}

/** `GET secrets/x` / `POST secrets` -> status, for compact assertions. */
const callLine = (c: KubeCall) => `${c.method} ${c.path.replace(`/api/v1/namespaces/${NAMESPACE}/`, '')} ${c.status}`;

describe('5. credentials bootstrap (the credentials Job)', () => {
  const secret = (name: string) => kubeApi.secretData(NAMESPACE, name)!;

  test('first run creates the Secrets with generated passwords; the second run leaves them unchanged', async () => {
    const job = credentialsJob();
    expect(podSpec(job).containers.map((c: Manifest) => c.name)).toEqual(['create-secrets']);
    const c = container(job, 'create-secrets');
    expect(c.command.slice(0, 2)).toEqual(['python3', '-c']);
    expect(c.command).toHaveLength(3);
    expect(c.image).toBe(container(one(inCluster, 'StatefulSet', 'postgres'), 'postgres').image); // the PostgreSQL server image
    const first = await runCredentialsJob(kubeApi, 'credentials Job (1st)');
    expectSuccess(first.r);
    expect(first.r.stdout).toContain('secret/postgres-credentials created');
    expect(first.r.stdout).toContain('secret/postgres-hive-credentials created');
    expect(first.leftovers).toEqual([]); // nothing written to the pod's /tmp
    expect(kubeApi.calls.map(callLine)).toEqual([
      'GET secrets/postgres-credentials 404', 'POST secrets 201',
      'GET secrets/postgres-hive-credentials 404', 'POST secrets 201',
    ]);
    // what the program sent: stringData, which the API stored as base64 data
    const posted = kubeApi.calls.filter((x) => x.method === 'POST').map((x) => x.body);
    expect(posted.map((b) => [b.metadata.name, b.metadata.namespace, Object.keys(b.stringData).sort()])).toEqual([
      ['postgres-credentials', NAMESPACE, ['database', 'password', 'username']],
      ['postgres-hive-credentials', NAMESPACE, ['password', 'username']],
    ]);
    const stored = kubeApi.secrets.get(`${NAMESPACE}/postgres-credentials`)!;
    expect(stored.stringData).toBeUndefined();
    expect(Buffer.from(stored.data.password, 'base64').toString()).toBe(posted[0].stringData.password);
    const pw1 = secret('postgres-credentials').password;
    const hive1 = secret('postgres-hive-credentials').password;
    expect(pw1).toMatch(/^[0-9a-f]{48}$/);
    expect(hive1).toMatch(/^[0-9a-f]{48}$/);
    expect(hive1).not.toBe(pw1);
    expect([secret('postgres-credentials').username, secret('postgres-credentials').database]).toEqual(['koku', 'koku']);
    expect(secret('postgres-hive-credentials').username).toBe('hive');

    const second = await runCredentialsJob(kubeApi, 'credentials Job (2nd)');
    expectSuccess(second.r);
    expect(second.r.stdout).toContain('secret/postgres-credentials exists: left unchanged');
    expect(second.r.stdout).toContain('secret/postgres-hive-credentials exists: left unchanged');
    expect(secret('postgres-credentials').password).toBe(pw1);
    expect(secret('postgres-hive-credentials').password).toBe(hive1);
    expect(kubeApi.calls.slice(4).map(callLine)).toEqual(['GET secrets/postgres-credentials 200', 'GET secrets/postgres-hive-credentials 200']);
    expect(kubeApi.calls.filter((x) => x.method === 'POST')).toHaveLength(2); // both by the first run
    expect(kubeApi.calls.every((x) => x.authorized && x.path.startsWith(`/api/v1/namespaces/${NAMESPACE}/secrets`))).toBe(true);
    say('credentials', 'Job create-secrets (python3 -c, as synthesized, in the server image) against a fake Kubernetes API ' +
      `(${kubeApi.url}, Bearer token checked): run 1 GET 404 + POST 201 for postgres-credentials and postgres-hive-credentials ` +
      '(48 hex chars each, stringData stored as base64 data, nothing left in /tmp); run 2 GET 200 "exists: left unchanged", ' +
      `no POST, passwords identical (${pw1.slice(0, 6)}..., ${hive1.slice(0, 6)}... both times)`);
    record('credentials bootstrap', 'Secrets created once; 2nd run: same passwords, no create; AlreadyExists tolerated; Forbidden fails');
  });

  test('a concurrent creator (AlreadyExists) is success; Forbidden fails the pod so the Job retries', async () => {
    const other = await FakeKubeApi.start(SA_TOKEN);
    try {
      // another run created both Secrets between our GET (404, `race`) and our POST (409)
      other.put(NAMESPACE, 'postgres-credentials', { username: 'koku', database: 'koku', password: 'a'.repeat(48) });
      other.put(NAMESPACE, 'postgres-hive-credentials', { username: 'hive', password: 'b'.repeat(48) });
      other.race = true;
      const race = await runCredentialsJob(other, 'credentials Job (race)');
      expectSuccess(race.r);
      expect(race.r.stdout).toContain('secret/postgres-credentials was created concurrently: left unchanged');
      expect(race.r.stdout).toContain('secret/postgres-hive-credentials was created concurrently: left unchanged');
      expect(other.calls.map(callLine)).toEqual([
        'GET secrets/postgres-credentials 404', 'POST secrets 409',
        'GET secrets/postgres-hive-credentials 404', 'POST secrets 409',
      ]);
      expect(other.secretData(NAMESPACE, 'postgres-credentials')!.password).toBe('a'.repeat(48)); // the other run's Secret stands
      other.race = false;
      other.forbidden = true;
      const before = other.calls.length;
      const denied = await runCredentialsJob(other, 'credentials Job (forbidden)');
      expect(denied.r.code).not.toBe(0);
      expect(denied.r.stderr).toContain('403');
      expect(denied.r.stderr).toContain('Forbidden');
      expect(other.calls.slice(before).map(callLine)).toEqual(['GET secrets/postgres-credentials 403']); // stops at the first answer
      say('credentials', `409 AlreadyExists on POST (after GET 404) -> exit 0 "created concurrently: left unchanged", the other run's Secrets kept; ` +
        `403 Forbidden on GET -> exit ${denied.r.code}, no POST (stderr: "${/GET answered \d+/.exec(denied.r.stderr)?.[0]}", ` +
        `reason ${/"reason": ?"(\w+)"/.exec(denied.r.stderr)?.[1]})`);
    } finally {
      await other.close();
    }
  });

  test('no run ever prints a password', () => {
    const passwords = generatedPasswords;
    expect(passwords.size).toBe(4); // 2 created by run 1, 2 refused with 409 in the race run
    for (const s of Object.values(clusterSecrets())) expect(passwords.has(s.password)).toBe(true);
    expect(credentialRuns.length).toBe(4);
    for (const r of credentialRuns) {
      for (const pw of passwords) {
        expect([r.label, r.stdout.includes(pw), r.stderr.includes(pw)]).toEqual([r.label, false, false]);
      }
    }
    say('credentials', `${credentialRuns.length} runs: none of the ${passwords.size} generated passwords (2 stored, 2 refused with 409) ` +
      'appears on their stdout or stderr');
  });
});

// ------------------------------------------------------------------ part 3

describe('3. PostgreSQL initialization (ConfigMap hooks + init SQL)', () => {
  let sts: Manifest;
  let root: string;
  let mounts: string[];
  let appPassword: string;

  /** Sources a hook the way the sclorg image's run-postgresql does: `set -eu`, then `source`, as the local superuser. */
  function sourceHook(file: string, label: string, env: Record<string, string> = {}): Promise<RunResult> {
    const serverEnv = containerEnv(container(sts, 'postgres'), clusterSecrets());
    return run(['bash', '-c', 'set -eu; source "$0"', file], {
      cwd: work, label, pathPrefix: [pg.bin],
      // the hooks run while the server listens on its local socket only
      env: { ...serverEnv, PGHOST: pg.socketDir, PGPORT: String(pg.port), PGUSER: 'postgres', ...env },
    });
  }

  /** A hook from the ConfigMap, mount paths re-rooted, written to disk. */
  function hookFile(key: string): { file: string; moved: number } {
    const { script, moved } = reroot(one(inCluster, 'ConfigMap', 'postgres-config').data[key], mounts, root);
    const file = path.join(work, `hook-${key}`);
    fs.writeFileSync(file, script);
    return { file, moved };
  }

  const snapshot = () => pg.psql(`
    SELECT 'role', rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, oid FROM pg_roles WHERE rolname IN ('hive', 'koku', 'postgres') ORDER BY 2;
    SELECT 'db', d.datname, pg_get_userbyid(d.datdba), d.oid FROM pg_database d WHERE datname IN ('hive', 'koku') ORDER BY 2;
    SELECT 'ext', extname, extversion, oid FROM pg_extension ORDER BY 2;`, 'koku');

  beforeAll(() => {
    sts = one(inCluster, 'StatefulSet', 'postgres');
    root = path.join(work, 'server-root');
    mounts = mountVolumes(inCluster, sts, 'postgres', root);
    const env = containerEnv(container(sts, 'postgres'), clusterSecrets());
    appPassword = env.POSTGRESQL_PASSWORD;
    expect(appPassword).toMatch(/^[0-9a-f]{48}$/); // from the Secret the credentials Job generated
    // What the image does on a new data volume from POSTGRESQL_USER/PASSWORD/DATABASE.
    pg.psql(`CREATE ROLE "${env.POSTGRESQL_USER}" LOGIN PASSWORD '${appPassword}'; CREATE DATABASE "${env.POSTGRESQL_DATABASE}" OWNER "${env.POSTGRESQL_USER}";`);
  });

  test('pre-start hook: PGDATA is a sub-directory of the data volume', async () => {
    const { file, moved } = hookFile('pgdata.sh');
    expect(moved).toBeGreaterThan(0);
    const r = await sourceHook(file, 'pre-start hook', {});
    expectSuccess(r);
    const pgdata = path.join(root, container(sts, 'postgres').env.find((e: Manifest) => e.name === 'PGDATA').value);
    expect((fs.statSync(pgdata).mode & 0o777).toString(8)).toBe('700');
    say('init', `pre-start hook (pgdata.sh) sourced: PGDATA created inside the data volume, mode 700`);
  });

  test('start hook runs the init SQL twice: the second run changes nothing; pg_stat_statements, role and database hive exist, owned correctly', async () => {
    const { file, moved } = hookFile('init.sh');
    expect(moved).toBeGreaterThanOrEqual(2); // the SQL file and the hive password file
    const before = snapshot();
    const first = await sourceHook(file, 'start hook (1st)');
    expectSuccess(first);
    expect(first.stdout).toContain('=> erp-k8s: initialization done');
    const afterFirst = snapshot();
    expect(afterFirst).not.toEqual(before);
    const hash1 = pg.value("SELECT rolpassword FROM pg_authid WHERE rolname = 'hive'");

    const second = await sourceHook(file, 'start hook (2nd)');
    expectSuccess(second);
    expect(second.stderr).not.toMatch(/ERROR/);
    expect(second.stderr).toMatch(/extension "pg_stat_statements" already exists, skipping/);
    expect(snapshot()).toEqual(afterFirst);
    const hash2 = pg.value("SELECT rolpassword FROM pg_authid WHERE rolname = 'hive'");

    expect(pg.value("SELECT rolcanlogin AND NOT rolsuper AND NOT rolcreatedb AND NOT rolcreaterole FROM pg_roles WHERE rolname = 'hive'")).toBe('t');
    expect(pg.value("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'hive'")).toBe('hive');
    expect(pg.value("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'koku'")).toBe('koku');
    expect(pg.value("SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'", 'koku')).toBe('pg_stat_statements');
    expect(pg.value('SHOW pg_stat_statements.track')).toBe('all');
    const statements = Number(pg.value('SELECT count(*) FROM pg_stat_statements', 'koku'));
    expect(statements).toBeGreaterThan(0);
    // hive logs in over TCP with the password of the Secret the credentials Job generated, and owns its database
    const hivePassword = clusterSecrets()['postgres-hive-credentials'].password;
    const hiveLogin = await run(['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', 'CREATE TABLE t (x int); SELECT current_user, current_database();'], {
      cwd: work, label: 'psql as hive', pathPrefix: [pg.bin],
      env: { PGHOST: '127.0.0.1', PGPORT: String(pg.port), PGUSER: 'hive', PGPASSWORD: hivePassword, PGDATABASE: 'hive' },
    });
    expectSuccess(hiveLogin);
    expect(hiveLogin.stdout.trim()).toBe('hive|hive');
    // superuserLocalOnly (default): postgres has no password any more, so no TCP login
    const superTcp = await run(['psql', '-X', '-At', '-c', 'SELECT 1'], { cwd: work, label: 'psql as postgres over TCP', pathPrefix: [pg.bin], env: pg.superEnv() });
    expect(superTcp.code).not.toBe(0);
    expect(superTcp.stderr).toMatch(/password authentication failed|no password/);

    say('init', 'start hook (init.sh -> init.sql from the ConfigMap) sourced twice like run-postgresql (set -eu): both exit 0; ' +
      'catalog snapshot (roles, databases, extensions, with oids) identical after run 2; ' +
      `pg_stat_statements in koku, track=all, ${statements} statements recorded; role hive LOGIN, not superuser/createdb/createrole; ` +
      'database hive owned by hive; hive logs in over TCP with its generated Secret password; postgres has no TCP login any more');
    say('init', `note: each run re-sets hive's password from its Secret (same password, ${hash1 === hash2 ? 'same' : 'new'} SCRAM salt): by design, not drift`);
    record('init SQL', 'run twice, 2nd run a no-op (catalog identical); pg_stat_statements, role/db hive, ownership, logins verified');
  });

  test('an empty or short role password stops the hook (set -e) before the server serves clients', async () => {
    const bad = path.join(work, 'bad-root');
    fs.cpSync(root, bad, { recursive: true });
    const hiveDir = mounts.find((m) => m.endsWith('/hive'))!;
    fs.writeFileSync(path.join(bad, hiveDir, 'password'), 'short');
    const { script } = reroot(one(inCluster, 'ConfigMap', 'postgres-config').data['init.sh'], mounts, bad);
    const file = path.join(work, 'hook-bad.sh');
    fs.writeFileSync(file, script);
    const r = await sourceHook(file, 'start hook (short password)');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${rolePasswordEnv('hive')} is empty or shorter than 16 characters`);
    expect(r.stdout).not.toContain('initialization done');
    say('init', `short hive password in the Secret: hook exits ${r.code} ("${rolePasswordEnv('hive')} is empty or shorter than 16 characters"), so run-postgresql stops`);
  });
});

// ------------------------------------------------------------------ part 4

describe('4. backup CronJob (pg_dump + retention)', () => {
  const rows = 2500;
  let cron: Manifest;

  beforeAll(() => {
    cron = one(external, 'CronJob', 'postgres-backup');
    pg.psql(`SET ROLE koku;
      CREATE TABLE invoices (id serial PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL, created timestamptz DEFAULT now());
      INSERT INTO invoices (customer, amount) SELECT 'customer-' || (g % 97), g * 1.25 FROM generate_series(1, ${rows}) g;`, 'koku');
  });

  /** The CronJob's command with its backup volume re-rooted to `root`; asserts it is the in-cluster one too. */
  function backupCommand(root: string): string[] {
    const c = container(cron, 'pg-dump');
    expect(c.command).toEqual(container(one(inCluster, 'CronJob', 'postgres-backup'), 'pg-dump').command);
    const mounts = mountVolumes(external, cron, 'pg-dump', root);
    const { script, moved } = reroot(c.command[2], mounts, root);
    expect(moved).toBe(1);
    return [c.command[0], c.command[1], script];
  }

  function backupDir(root: string): string {
    const m = container(cron, 'pg-dump').volumeMounts.find((x: Manifest) => x.mountPath !== '/tmp');
    return path.join(root, m.mountPath);
  }

  test('dumps a restorable backup, then prunes dumps older than the retention and keeps the rest', async () => {
    const script = container(cron, 'pg-dump').command[2] as string;
    const retention = Number(/retention_days=(\d+)/.exec(script)?.[1]);
    expect(retention).toBe(7); // the default (dev, staging)
    expect(synth({ enabled: false, host: '127.0.0.1', backup: { retentionDays: 30 } })
      .find((o) => o.kind === 'CronJob')!.spec.jobTemplate.spec.template.spec.containers[0].command[2]).toContain('retention_days=30');

    const root = fs.mkdtempSync(path.join(work, 'backup-root-'));
    const command = backupCommand(root);
    const dir = backupDir(root);
    const days = (n: number) => new Date(Date.now() - n * 86_400_000);
    const seed: Array<[string, number, boolean]> = [ // name, age in days, expected to survive
      ['koku-20240101T020000Z.dump', 40, false],
      ['koku-20240110T020000Z.dump', retention + 0.05, false], // just past the window
      ['koku-20240111T020000Z.dump', retention - 0.05, true], // just inside it
      ['koku-20240115T020000Z.dump', 1, true],
      ['koku-20240116T020000Z.dump.partial', 2, false], // an interrupted dump
      ['hive-20240101T020000Z.dump', 40, true], // another database's dumps are not ours
      ['README.txt', 40, true],
    ];
    for (const [name, age] of seed) {
      fs.writeFileSync(path.join(dir, name), 'old');
      fs.utimesSync(path.join(dir, name), days(age), days(age));
    }
    const env = containerEnv(container(cron, 'pg-dump'), clusterSecrets());
    expect([env.PGHOST, env.PGPORT, env.PGUSER, env.PGDATABASE]).toEqual(['127.0.0.1', String(pg.port), 'koku', 'koku']);
    const r = await run(command, { cwd: work, env, label: 'backup CronJob', pathPrefix: [pg.bin] });
    expectSuccess(r);
    const files = fs.readdirSync(dir);
    const made = files.filter((f) => /^koku-\d{8}T\d{6}Z\.dump$/.test(f) && !seed.some(([n]) => n === f));
    expect(made).toHaveLength(1);
    for (const [name, , keep] of seed) expect([name, files.includes(name)]).toEqual([name, keep]);
    const pruned = seed.filter(([, , keep]) => !keep).map(([n]) => n);
    for (const n of pruned) expect(r.stdout).toContain(path.join(dir, n));
    expect((fs.statSync(path.join(dir, made[0])).mode & 0o777).toString(8)).toBe('600'); // umask 077

    // Restore into a new database and compare, as an operator would: as the
    // superuser (`kubectl exec postgres-0 -- pg_restore ...`).
    const local = { PGHOST: pg.socketDir, PGPORT: String(pg.port), PGUSER: 'postgres' };
    pg.psql('CREATE DATABASE koku_restore OWNER koku');
    const restore = await run(['pg_restore', '--exit-on-error', '-d', 'koku_restore', path.join(dir, made[0])], {
      cwd: work, label: 'pg_restore (superuser)', pathPrefix: [pg.bin], env: local,
    });
    expectSuccess(restore);
    const q = 'SELECT count(*), sum(amount) FROM invoices';
    expect(pg.value(q, 'koku_restore')).toBe(pg.value(q, 'koku'));
    expect(pg.value('SELECT count(*) FROM invoices', 'koku_restore')).toBe(String(rows));
    expect(pg.value("SELECT tableowner FROM pg_tables WHERE tablename = 'invoices'", 'koku_restore')).toBe('koku');
    // The same restore as the application role stops at CREATE EXTENSION pg_stat_statements (superuser only).
    pg.psql('CREATE DATABASE koku_restore_app OWNER koku');
    const asApp = await run(['pg_restore', '--exit-on-error', '-d', 'koku_restore_app', path.join(dir, made[0])], {
      cwd: work, label: 'pg_restore (app role)', pathPrefix: [pg.bin],
      env: { PGHOST: '127.0.0.1', PGPORT: String(pg.port), PGUSER: 'koku', PGPASSWORD: env.PGPASSWORD },
    });
    const appNote = asApp.code === 0 ? 'it also restores as the app role'
      : `as the app role pg_restore stops: ${(asApp.stderr.match(/ERROR: .*/) ?? ['?'])[0].replace(/\s+/g, ' ').trim()}`;

    const size = fs.statSync(path.join(dir, made[0])).size;
    say('backup', `CronJob pg-dump (retention ${retention} d, generated koku password): exit 0, wrote ${made[0]} (${size} bytes, mode 600, ` +
      `pg_restore --list ok); restored as postgres into koku_restore: ${rows} rows, same count and sum, owner koku; ${appNote}`);
    say('backup', `retention: pruned ${pruned.length} (${pruned.join(', ')}); kept ${seed.length - pruned.length} ` +
      `(${seed.filter(([, , k]) => k).map(([n]) => n).join(', ')})`);
    record('backups', `1 made, restored (${rows} rows match); ${pruned.length} pruned, ${seed.length - pruned.length} kept; failed dump prunes nothing`);
  });

  test('a failing dump (wrong password) exits non-zero and prunes nothing', async () => {
    const root = fs.mkdtempSync(path.join(work, 'backup-fail-'));
    const command = backupCommand(root);
    const old = path.join(backupDir(root), 'koku-20240101T020000Z.dump');
    fs.writeFileSync(old, 'old');
    fs.utimesSync(old, new Date(Date.now() - 40 * 86_400_000), new Date(Date.now() - 40 * 86_400_000));
    const env = containerEnv(container(cron, 'pg-dump'), { 'postgres-credentials': { ...clusterSecrets()['postgres-credentials'], password: 'wrong-password' } });
    const r = await run(command, { cwd: work, env, label: 'backup CronJob (bad password)', pathPrefix: [pg.bin] });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/password authentication failed/);
    expect(fs.existsSync(old)).toBe(true);
    expect(fs.readdirSync(path.dirname(old)).filter((f) => f.endsWith('.dump'))).toEqual([path.basename(old)]);
    say('backup', `wrong password: exit ${r.code} ("password authentication failed"), the 40-day-old dump is still there: a failed backup never prunes`);
  });
});
