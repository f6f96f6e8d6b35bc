/**
 * Issue 7, parts 3-5 (part 4 as issue 14 made backups sets), against a
 * throwaway PostgreSQL, all taken from a synthesized CostMgmtPostgres and run
 * in the order the cluster runs them:
 *
 *   5. the credentials Job (`python3 -c <program>`, run as synthesized
 *      against an in-process fake Kubernetes API, see fake-kube-api.ts)
 *      creates postgres-credentials and postgres-hive-credentials;
 *   3. the server starts with the generated config (pg_stat_statements
 *      preloaded) and the start hook runs the init SQL, reading the hive
 *      password from the Secret volume the Job's Secret fills;
 *   4. the pods of the backup CronJob (dump -> archive -> prune) and of the
 *      restore template (restore -> unarchive), for the construct pointed at
 *      this server as an external one (TLS required, koku and hive each as
 *      its owner with the generated passwords, a media volume): a complete
 *      set, retention, a failing dump that stops the pod, a restore of a
 *      damaged database and media volume.
 *
 * Absolute paths in the hooks are the pod's mount paths; each volume is laid
 * out under a temp root exactly as the manifest mounts it (ConfigMap items,
 * Secret items, emptyDirs, PVCs) and only those mount paths are re-rooted in
 * the script text: the rest of every script runs byte for byte as synthesized.
 */
import { execFileSync, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { ARCHIVE_DIR, BACKUP_DIR, STATE_DIR } from '../../src/data/backup-scripts';
import { CostMgmtPostgres } from '../../src/data/cost-mgmt-postgres';
import { PostgresBackupOptions } from '../../src/data/backup-options';
import { rolePasswordEnv } from '../../src/data/postgres-sql';
import { FakeKubeApi, KubeCall, KubeSecret } from './fake-kube-api';
import {
  container, containerEnv, describe_, expectSuccess, killChildren, Manifest, one, PgCluster, podSpec, record, run, RunResult, say, Secrets, sleep,
  treeEntries, volumeFingerprint,
} from './harness';

const NAMESPACE = 'erp';
const AS_ROOT = process.getuid?.() === 0;
/** UID of the PostgreSQL client containers and the pods' fsGroup (CostMgmtPostgres's). */
const PG_UID = 26;
/** UID owning the media files (the API's user): `backup.archives[].user`. */
const MEDIA_UID = 1000;
let pg: PgCluster;
/** The test server's major version (what `version` declares for the external server). */
let serverMajor: number;
let work: string;
/** The in-cluster CostMgmtPostgres (defaults), synthesized. */
let inCluster: Manifest[];
/** The same construct with `enabled: false` pointed at the test server ({@link externalProps}): backup pods with a reachable PGHOST. */
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

/**
 * The external server as production describes it (sslMode defaults to
 * `require`), on the test server, with its declared version, hive as a second
 * database (dumped and restored as its owner) and the API's media volume.
 */
function externalProps(backup: PostgresBackupOptions = {}): ConstructorParameters<typeof CostMgmtPostgres>[2] {
  return {
    enabled: false, host: '127.0.0.1', port: pg.port, version: serverMajor,
    backup: {
      databases: [{ name: 'hive', secretName: 'postgres-hive-credentials' }],
      archives: [{ name: 'media', claimName: 'media', user: MEDIA_UID }],
      ...backup,
    },
  };
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
  serverMajor = Math.floor(Number(pg.value('SHOW server_version_num')) / 10000);
  external = synth(externalProps());
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
    // each POST the fake API answered carried a body (a created Secret)
    const posted = kubeApi.calls.filter((x) => x.method === 'POST').map((x) => x.body as KubeSecret);
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
      say('credentials', '409 AlreadyExists on POST (after GET 404) -> exit 0 "created concurrently: left unchanged", '
        + "the other run's Secrets kept; " +
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
    SELECT 'role', rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, oid FROM pg_roles
      WHERE rolname IN ('hive', 'koku', 'postgres') ORDER BY 2;
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
    pg.psql(`CREATE ROLE "${env.POSTGRESQL_USER}" LOGIN PASSWORD '${appPassword}'; `
      + `CREATE DATABASE "${env.POSTGRESQL_DATABASE}" OWNER "${env.POSTGRESQL_USER}";`);
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

  test('start hook runs the init SQL twice: the second run changes nothing; '
    + 'pg_stat_statements, role and database hive exist, owned correctly', async () => {
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
    const hiveSql = 'CREATE TABLE t (x int); SELECT current_user, current_database();';
    const hiveLogin = await run(['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', hiveSql], {
      cwd: work, label: 'psql as hive', pathPrefix: [pg.bin],
      env: { PGHOST: '127.0.0.1', PGPORT: String(pg.port), PGUSER: 'hive', PGPASSWORD: hivePassword, PGDATABASE: 'hive' },
    });
    expectSuccess(hiveLogin);
    expect(hiveLogin.stdout.trim()).toBe('hive|hive');
    // superuserLocalOnly (default): postgres has no password any more, so no TCP login
    const superTcp = await run(['psql', '-X', '-At', '-c', 'SELECT 1'],
      { cwd: work, label: 'psql as postgres over TCP', pathPrefix: [pg.bin], env: pg.superEnv() });
    expect(superTcp.code).not.toBe(0);
    expect(superTcp.stderr).toMatch(/password authentication failed|no password/);

    say('init', 'start hook (init.sh -> init.sql from the ConfigMap) sourced twice like run-postgresql (set -eu): both exit 0; ' +
      'catalog snapshot (roles, databases, extensions, with oids) identical after run 2; ' +
      `pg_stat_statements in koku, track=all, ${statements} statements recorded; role hive LOGIN, not superuser/createdb/createrole; ` +
      'database hive owned by hive; hive logs in over TCP with its generated Secret password; postgres has no TCP login any more');
    const salt = hash1 === hash2 ? 'same' : 'new';
    say('init', `note: each run re-sets hive's password from its Secret (same password, ${salt} SCRAM salt): by design, not drift`);
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
    say('init', `short hive password in the Secret: hook exits ${r.code} `
      + `("${rolePasswordEnv('hive')} is empty or shorter than 16 characters"), so run-postgresql stops`);
  });
});

// ------------------------------------------------------------------ part 4

/**
 * The pods of the backup CronJob and of the restore template, run as the
 * kubelet runs them: init containers one after the other, the pod stopping
 * at the first that fails; each container with the manifest's env (Secrets
 * from the fake API, i.e. those the credentials Job created), as the
 * manifest's runAsUser/runAsGroup with the pod's fsGroup as supplementary
 * group (setpriv, when the suite runs as root), and its mount paths re-rooted
 * into the pod's directory. emptyDirs (/state, /tmp) are new for each pod and
 * shared by its containers; the PVCs (the backup volume, the media volume)
 * are host directories attached to each pod that mounts them (moved into the
 * pod's directory while it runs, moved back after), so they outlive pods.
 */

/** Storage of the PersistentVolumeClaims, by claim name: host directories that outlive the pods. */
const claims = new Map<string, string>();

/** A claim's storage as the kubelet leaves a fresh volume after applying the pod's fsGroup: root-owned, group fsGroup, setgid. */
function provisionClaim(name: string, mode: number, fsGroup: number): string {
  const dir = path.join(work, 'claims', name);
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(path.dirname(dir), 0o755);
  fs.chmodSync(dir, mode);
  if (AS_ROOT) fs.chownSync(dir, 0, fsGroup);
  claims.set(name, dir);
  return dir;
}

/**
 * What the scripts may name: every mount path of the pod and its parents but
 * `/` (`/archive` for `/archive/media`), and the backup programs' three.
 */
function podPaths(mountPaths: string[]): string[] {
  const out = new Set<string>([BACKUP_DIR, STATE_DIR, ARCHIVE_DIR]);
  for (const mp of mountPaths) for (let p = mp; p !== '/' && p !== '.'; p = path.posix.dirname(p)) out.add(p);
  return [...out].sort((a, b) => b.length - a.length);
}

/**
 * Re-roots the in-pod paths in one argument or env value: each occurrence of
 * a pod path (at a path boundary, in one pass) becomes `<root><path>`. Throws
 * when a pod path appears elsewhere than at a boundary, or when the container
 * names one it does not mount (in the pod it would hit the read-only root
 * filesystem), so nothing escapes the re-rooting unnoticed.
 */
function rerootText(text: string, all: string[], mine: Set<string>, root: string, what: string): { text: string; moved: number } {
  const alt = all.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const raw = (text.match(new RegExp(alt, 'g')) ?? []).length;
  let moved = 0;
  const out = text.replace(new RegExp(`(?<=^|[\\s'"=(:])(${alt})(?=[/'"\\s);]|$)`, 'gm'), (p: string) => {
    if (!mine.has(p)) throw new Error(`${what} uses ${p}, which its container does not mount`);
    moved++;
    return root + p;
  });
  if (moved !== raw) throw new Error(`${what}: re-rooted ${moved} of ${raw} in-pod paths:\n${text}`);
  return { text: out, moved };
}

interface ContainerRun {
  readonly name: string;
  readonly init: boolean;
  readonly uid?: number;
  readonly groups: number[];
  /** In-pod paths re-rooted in its command and env. */
  readonly moved: number;
  readonly r: RunResult;
}

interface PodRun {
  readonly label: string;
  /** The containers that ran, in order. */
  readonly runs: ContainerRun[];
  /** The init container that failed: the pod stopped there, its later containers never started. */
  readonly failedAt?: string;
  /** Where an in-pod path was (is, for emptyDirs) on the host. */
  readonly host: (podPath: string) => string;
}

const ms = (r: RunResult) => r.endedAt - r.startedAt;
const byName = (p: PodRun, name: string) => {
  const c = p.runs.find((x) => x.name === name);
  if (!c) throw new Error(`${p.label}: container ${name} did not run (ran: ${p.runs.map((x) => x.name).join(', ')})`);
  return c.r;
};

/** Runs the pod of a Job or CronJob as described above. */
async function runPod(workload: Manifest, label: string, secrets: Secrets = clusterSecrets()): Promise<PodRun> {
  const spec = podSpec(workload);
  const sc = spec.securityContext ?? {};
  const root = fs.mkdtempSync(path.join(work, 'pod-'));
  fs.chmodSync(root, 0o755);
  const host = (p: string) => root + p;
  const all: Array<{ c: Manifest; init: boolean }> = [
    ...(spec.initContainers ?? []).map((c: Manifest) => ({ c, init: true })),
    ...spec.containers.map((c: Manifest) => ({ c, init: false })),
  ];
  const mountedAt = new Map<string, string>(); // volume -> its one mount path in this pod
  for (const { c } of all) {
    for (const m of c.volumeMounts ?? []) {
      if (m.subPath) throw new Error(`${c.name}: subPath mounts are not laid out here`);
      if ((mountedAt.get(m.name) ?? m.mountPath) !== m.mountPath) throw new Error(`volume ${m.name} mounted at two paths; not laid out here`);
      mountedAt.set(m.name, m.mountPath);
    }
  }
  const paths = podPaths([...mountedAt.values()]);
  const attached: Array<[string, string]> = [];
  try {
    for (const [name, mountPath] of mountedAt) {
      const v = (spec.volumes ?? []).find((x: Manifest) => x.name === name);
      if (!v) throw new Error(`a container mounts ${name}, which the pod does not define`);
      const dest = host(mountPath);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      if (v.emptyDir) {
        fs.mkdirSync(dest);
        fs.chmodSync(dest, 0o2777); // an emptyDir is 0777; with fsGroup: group fsGroup, setgid
        if (AS_ROOT && sc.fsGroup !== undefined) fs.chownSync(dest, 0, sc.fsGroup);
      } else if (v.persistentVolumeClaim) {
        const dir = claims.get(v.persistentVolumeClaim.claimName);
        if (!dir) throw new Error(`PVC ${v.persistentVolumeClaim.claimName} does not exist: the pod would stay Pending`);
        fs.renameSync(dir, dest); // attach
        attached.push([dir, dest]);
      } else throw new Error(`volume ${name}: only emptyDirs and PVCs are laid out here`);
    }

    const runContainer = async ({ c, init }: { c: Manifest; init: boolean }): Promise<ContainerRun> => {
      const mine = new Set(podPaths((c.volumeMounts ?? []).map((m: Manifest) => m.mountPath as string)).filter((p) =>
        (c.volumeMounts ?? []).some((m: Manifest) => m.mountPath === p || m.mountPath.startsWith(p + '/'))));
      let moved = 0;
      const argv = [...c.command, ...(c.args ?? [])].map((a: string, i: number) => {
        const x = rerootText(a, paths, mine, root, `${c.name} argv[${i}]`);
        moved += x.moved;
        return x.text;
      });
      const env = containerEnv(c, secrets);
      for (const [k, val] of Object.entries(env)) {
        const x = rerootText(val, paths, mine, root, `${c.name} env ${k}`);
        moved += x.moved;
        env[k] = x.text;
      }
      if (!mine.has('/tmp')) throw new Error(`${c.name} mounts no /tmp (read-only root filesystem): not run here`);
      const uid: number | undefined = c.securityContext?.runAsUser ?? sc.runAsUser;
      const gid: number | undefined = c.securityContext?.runAsGroup ?? sc.runAsGroup ?? uid;
      const groups = [...new Set([gid, sc.fsGroup, ...(sc.supplementalGroups ?? [])].filter((g) => g !== undefined))] as number[];
      if (AS_ROOT && (uid === undefined || uid === 0)) throw new Error(`${c.name}: no non-root runAsUser`);
      const command = AS_ROOT ? ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, `--groups=${groups.join(',')}`, '--', ...argv] : argv;
      const tmp = host('/tmp'); // HOME and TMPDIR: the pod's /tmp emptyDir (the image's HOME is on the read-only root)
      const r = await run(command,
        { cwd: tmp, label: `${label}: ${c.name}`, pathPrefix: [pg.bin], timeoutMs: 120_000, env: { HOME: tmp, TMPDIR: tmp, ...env } });
      return { name: c.name, init, uid, groups, moved, r };
    };

    const runs: ContainerRun[] = [];
    for (const x of all.filter((y) => y.init)) {
      const cr = await runContainer(x);
      runs.push(cr);
      if (cr.r.code !== 0) return { label, runs, failedAt: cr.name, host };
    }
    runs.push(...await Promise.all(all.filter((y) => !y.init).map(runContainer))); // main containers start together
    return { label, runs, host };
  } finally {
    for (const [dir, dest] of attached.reverse()) fs.renameSync(dest, dir); // detach
  }
}

/** Throws with every container's output unless all of them exited 0. */
function expectPodSuccess(p: PodRun): void {
  if (p.failedAt !== undefined || p.runs.some((c) => c.r.code !== 0)) {
    throw new Error(`pod ${p.label} failed${p.failedAt ? ' at ' + p.failedAt : ''}\n${p.runs.map((c) => describe_(c.r)).join('\n')}`);
  }
}

/** Everything a restore must bring back in a database: tables and owners, every row (digest), sequences, indexes, views, constraints. */
function dbState(db: string): string {
  const catalog = pg.psql(`
    SELECT 'table', schemaname, tablename, tableowner FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 2, 3;
    SELECT 'sequence', schemaname, sequencename, sequenceowner, last_value FROM pg_sequences ORDER BY 2, 3;
    SELECT 'index', schemaname, indexname, indexdef FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 2, 3;
    SELECT 'view', schemaname, viewname, viewowner, definition FROM pg_views
      WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND viewowner <> 'postgres' ORDER BY 2, 3;
    SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
      WHERE connamespace = 'public'::regnamespace ORDER BY 2, 3;`, db);
  return [catalog, ...pg.rowDigests(db)].join('\n');
}


/** Every entry of a volume but lost+found, as JSON lines (see treeEntries). */
const treeState = (dir: string): string[] => treeEntries(dir).map((e) => e.line);

const SET_RE = /^\d{8}T\d{6}Z-[a-z-]+$/;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

describe('4. backup and restore pods (postgres-backup, postgres-restore) as synthesized', () => {
  const invoices = 2500;
  let cron: Manifest;
  let restoreCron: Manifest;
  let fsGroup: number;
  let backups: string;
  let media: string;
  /** The set of test 2 and the state it holds, for the restore. */
  let madeSet: string;
  let atBackup: { koku: string; hive: string; media: string[] };

  /** Writes a media file as the API would (its user, group fsGroup). */
  function mediaFile(rel: string, content: string | Buffer, mode = 0o644): void {
    const f = path.join(media, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, content);
    fs.chmodSync(f, mode);
    if (AS_ROOT) {
      for (let d = path.dirname(rel); d !== '.'; d = path.dirname(d)) fs.chownSync(path.join(media, d), MEDIA_UID, fsGroup);
      fs.chownSync(f, MEDIA_UID, fsGroup);
    }
  }

  /** A directory or file in the backup volume as an earlier run (UID 26) left it, `days` old. */
  function seed(name: string, days: number): void {
    const p = path.join(backups, name);
    const when = new Date(Date.now() - days * 86_400_000);
    if (name.endsWith('.dump') || name.endsWith('.txt')) fs.writeFileSync(p, 'old');
    else {
      fs.mkdirSync(p);
      fs.writeFileSync(path.join(p, 'koku.dump'), 'old');
      if (AS_ROOT) fs.chownSync(path.join(p, 'koku.dump'), PG_UID, fsGroup);
    }
    if (AS_ROOT) fs.chownSync(p, PG_UID, fsGroup);
    fs.utimesSync(p, when, when);
  }

  /** The dump container's libpq session over TCP, as its env says: `ssl|version` of pg_stat_ssl. */
  function clientTls(): string {
    const env = containerEnv(container(cron, 'dump'), clusterSecrets());
    const r = spawnSync(path.join(pg.bin, 'psql'), ['-X', '-At', '-c', 'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()'], {
      encoding: 'utf8',
      env: {
        PATH: '/usr/bin:/bin', PGHOST: env.PGHOST, PGPORT: env.PGPORT, PGSSLMODE: env.PGSSLMODE,
        PGUSER: env.DB_USER_0, PGPASSWORD: env.DB_PASSWORD_0, PGDATABASE: env.DB_NAME_0,
      },
    });
    return r.status === 0 ? r.stdout.trim() : `exit ${r.status}: ${r.stderr.trim()}`;
  }

  beforeAll(async () => {
    cron = one(external, 'CronJob', 'postgres-backup');
    restoreCron = one(external, 'CronJob', 'postgres-restore');
    fsGroup = podSpec(cron).securityContext.fsGroup;
    expect(podSpec(restoreCron).securityContext.fsGroup).toBe(fsGroup);

    // An external server is reached with sslmode=require (the default): give the test server TLS
    // (a self-signed certificate; require does not verify it, verify-full is tls.itest.ts's).
    const tls = path.join(pg.root, 'tls');
    fs.mkdirSync(tls);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=erp-it-postgres',
      '-keyout', path.join(tls, 'server.key'), '-out', path.join(tls, 'server.crt')], { stdio: 'pipe' });
    fs.chmodSync(path.join(tls, 'server.key'), 0o600);
    if (AS_ROOT) execFileSync('chown', ['-R', 'postgres:', tls]);
    pg.psql(`ALTER SYSTEM SET ssl_cert_file = '${path.join(tls, 'server.crt')}';
      ALTER SYSTEM SET ssl_key_file = '${path.join(tls, 'server.key')}';
      ALTER SYSTEM SET ssl = on;`);
    pg.psql('SELECT pg_reload_conf()');
    for (let i = 0; i < 50 && !clientTls().startsWith('t|'); i++) await sleep(100);
    expect(clientTls()).toMatch(/^t\|TLSv1\.[23]$/);

    pg.psql(`SET ROLE koku;
      CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
      CREATE TABLE invoices (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, amount numeric(12,2) NOT NULL,
        created timestamptz NOT NULL);
      INSERT INTO customers (name) SELECT 'customer-' || g FROM generate_series(1, 97) g;
      INSERT INTO invoices (customer_id, amount, created)
        SELECT 1 + g % 97, g * 1.25, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, ${invoices}) g;
      CREATE INDEX invoices_created ON invoices (created);
      CREATE VIEW customer_totals AS SELECT c.name, sum(i.amount) AS total
        FROM customers c JOIN invoices i ON i.customer_id = c.id GROUP BY c.name;`, 'koku');
    pg.psql(`SET ROLE hive;
      CREATE TABLE "TBLS" ("TBL_ID" bigint PRIMARY KEY, "TBL_NAME" varchar(256) NOT NULL, "CREATE_TIME" int);
      INSERT INTO "TBLS" SELECT g, 'table_' || g, 1700000000 + g FROM generate_series(1, 300) g;`, 'hive');

    // the claims the pods mount: the backup volume and the API's media volume (with an ext4 volume's root-only lost+found)
    const claimOf = (w: Manifest, mountPath: string) => {
      const m = [...(podSpec(w).initContainers ?? []), ...podSpec(w).containers].flatMap((c: Manifest) => c.volumeMounts ?? [])
        .find((x: Manifest) => x.mountPath === mountPath);
      return podSpec(w).volumes.find((v: Manifest) => v.name === m.name).persistentVolumeClaim.claimName as string;
    };
    expect([claimOf(cron, BACKUP_DIR), claimOf(cron, `${ARCHIVE_DIR}/media`)]).toEqual(['postgres-backups', 'media']);
    expect([claimOf(restoreCron, BACKUP_DIR), claimOf(restoreCron, `${ARCHIVE_DIR}/media`)]).toEqual(['postgres-backups', 'media']);
    backups = provisionClaim('postgres-backups', 0o2770, fsGroup);
    media = provisionClaim('media', 0o2775, fsGroup);
    if (AS_ROOT) {
      fs.mkdirSync(path.join(media, 'lost+found'), { mode: 0o700 });
      fs.chmodSync(path.join(media, 'lost+found'), 0o700);
    }
    mediaFile('avatars/alice.png', randomBytes(64 * 1024));
    mediaFile('reports/2024/q1.csv', 'id,amount\n1,1.25\n2,2.50\n');
    mediaFile('private.key', randomBytes(32).toString('hex') + '\n', 0o600);
    mediaFile('notes 2024.txt', 'a name with a space\n');
  });

  test('the pods: containers in order, the same programs as in-cluster, users, env (TLS, both databases, retention)', () => {
    const names = (list: Manifest[] | undefined) => (list ?? []).map((c: Manifest) => c.name);
    const order = (w: Manifest) => ({ init: names(podSpec(w).initContainers), main: names(podSpec(w).containers) });
    expect(order(cron)).toEqual({ init: ['dump', 'archive'], main: ['prune'] });
    expect(order(restoreCron)).toEqual({ init: ['restore'], main: ['unarchive'] });
    expect(restoreCron.spec.suspend).toBe(true); // a template: kubectl create job --from=cronjob/postgres-restore
    // the programs are the in-cluster server's (only env, users and mounts differ)
    for (const w of [cron, restoreCron]) {
      const inClusterW = one(inCluster, 'CronJob', w.metadata.name);
      expect(order(inClusterW)).toEqual(order(w));
      for (const c of [...podSpec(w).initContainers, ...podSpec(w).containers]) {
        expect([c.name, container(inClusterW, c.name).command]).toEqual([c.name, c.command]);
      }
    }
    const users = (w: Manifest) => Object.fromEntries([...podSpec(w).initContainers, ...podSpec(w).containers]
      .map((c: Manifest) => [c.name, c.securityContext.runAsUser]));
    expect(users(cron)).toEqual({ dump: PG_UID, archive: MEDIA_UID, prune: PG_UID });
    expect(users(restoreCron)).toEqual({ restore: PG_UID, unarchive: MEDIA_UID });
    expect(fsGroup).toBe(PG_UID);
    // the media volume: read-only while archived, writable to restore
    expect(container(cron, 'archive').volumeMounts.find((m: Manifest) => m.mountPath === `${ARCHIVE_DIR}/media`).readOnly).toBe(true);
    expect(container(restoreCron, 'unarchive').volumeMounts.find((m: Manifest) => m.mountPath === `${ARCHIVE_DIR}/media`).readOnly).toBeFalsy();

    const env = containerEnv(container(cron, 'dump'), clusterSecrets());
    expect([env.PGHOST, env.PGPORT, env.PGSSLMODE, env.SERVER_MAJOR, env.DB_COUNT])
      .toEqual(['127.0.0.1', String(pg.port), 'require', String(serverMajor), '2']);
    expect([env.DB_NAME_0, env.DB_USER_0, env.DB_NAME_1, env.DB_USER_1]).toEqual(['koku', 'koku', 'hive', 'hive']);
    expect(env.DB_PASSWORD_0).toBe(clusterSecrets()['postgres-credentials'].password);
    expect(env.DB_PASSWORD_1).toBe(clusterSecrets()['postgres-hive-credentials'].password);
    expect(env.BACKUP_KIND).toBe('scheduled');
    // the restore reaches the same server and databases as the same owners
    expect(containerEnv(container(restoreCron, 'restore'), clusterSecrets()))
      .toEqual(Object.fromEntries(Object.entries({ ...env, BACKUP: 'latest' }).filter(([k]) => k !== 'BACKUP_KIND')));
    const retention = (objs: Manifest[]) => containerEnv(container(one(objs, 'CronJob', 'postgres-backup'), 'prune'), {}).RETENTION_DAYS;
    expect(retention(external)).toBe('7'); // the default (dev, staging)
    expect(retention(synth(externalProps({ retentionDays: 30 })))).toBe('30'); // production's
    const tls = clientTls();
    say('backup', `postgres-backup: init dump (UID ${PG_UID}) -> archive (UID ${MEDIA_UID}, media read-only) -> prune (UID ${PG_UID}), `
      + `fsGroup ${fsGroup}; ` +
      `postgres-restore (suspended): init restore (UID ${PG_UID}) -> unarchive (UID ${MEDIA_UID}); commands identical to the in-cluster server's; ` +
      `env: DB_COUNT=2 (koku as koku, hive as hive, passwords from the Secrets the credentials Job created), SERVER_MAJOR=${serverMajor}, ` +
      `PGSSLMODE=require (session: ssl ${tls.replace('|', ', ')}), RETENTION_DAYS 7 (default) / 30 (retentionDays: 30)`);
  });

  test('backup pod: dump -> archive -> prune writes one complete set (globals, koku, hive, media, SHA256SUMS) '
    + 'and prunes by RETENTION_DAYS', async () => {
    const retention = Number(containerEnv(container(cron, 'prune'), {}).RETENTION_DAYS);
    const seeds: Array<[string, number, boolean]> = [ // name, age in days, expected to survive
      ['20240101T020000Z-scheduled', 40, false],
      ['20240110T020000Z-scheduled', retention + 0.05, false], // just past the window
      ['20240111T020000Z-pre-migration', retention - 0.05, true], // just inside it
      ['20240115T020000Z-initial', 1, true],
      ['.20240116T020000Z-scheduled.partial', 2, false], // a crashed run's leftover (older than a day)
      ['.20240117T020000Z-scheduled.partial', 0.5, true], // younger: maybe a run in progress
      ['koku-20240101T020000Z.dump', 40, false], // the layout before sets
      ['koku-20240116T020000Z.dump', 1, true],
      ['README.txt', 40, true], // not ours
    ];
    for (const [name, days] of seeds) seed(name, days);
    atBackup = { koku: dbState('koku'), hive: dbState('hive'), media: treeState(media) };

    const pod = await runPod(cron, 'backup pod');
    expectPodSuccess(pod);
    expect(pod.runs.map((c) => [c.name, c.init, c.uid])).toEqual([['dump', true, PG_UID], ['archive', true, MEDIA_UID], ['prune', false, PG_UID]]);
    for (const c of pod.runs) expect([c.name, c.moved > 0]).toEqual([c.name, true]);
    const dump = byName(pod, 'dump');
    const archive = byName(pod, 'archive');
    const prune = byName(pod, 'prune');

    const made = fs.readdirSync(backups).filter((f) => SET_RE.test(f) && !seeds.some(([n]) => n === f));
    expect(made).toHaveLength(1);
    madeSet = made[0];
    expect(madeSet).toMatch(/^\d{8}T\d{6}Z-scheduled$/);
    expect(fs.readFileSync(path.join(pod.host(STATE_DIR), 'set'), 'utf8')).toBe(`${madeSet}\n`); // the pod's state emptyDir
    expect(dump.stdout).toContain(`server PostgreSQL ${serverMajor}, client pg_dump (PostgreSQL) ${serverMajor}.`);
    expect(dump.stderr).not.toMatch(/warning|error/i);
    expect(dump.stdout).toMatch(/ {2}koku\.dump: \d+ bytes \(as koku\)\n {2}hive\.dump: \d+ bytes \(as hive\)\n/);
    expect(archive.stdout).toMatch(/ {2}media\.tar\.gz: 4 files, \d+ bytes\n/);
    expect(archive.stdout).toContain(`backup set written: ${pod.host(BACKUP_DIR)}/${madeSet} (`);

    const dir = path.join(backups, madeSet);
    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual(['SHA256SUMS', 'globals.sql', 'hive.dump', 'koku.dump', 'media.tar.gz']);
    for (const f of ['.', ...files]) expect([f, fs.statSync(path.join(dir, f)).mode & 0o007]).toEqual([f, 0]); // umask 007
    if (AS_ROOT) {
      // written by two users of one group: the set belongs to the dump's user, the archive to the media user, both group fsGroup
      expect(fs.statSync(dir).uid).toBe(PG_UID);
      expect(fs.statSync(path.join(dir, 'media.tar.gz')).uid).toBe(MEDIA_UID);
      for (const f of ['.', ...files]) expect([f, fs.statSync(path.join(dir, f)).gid]).toEqual([f, fsGroup]);
    }
    const globals = fs.readFileSync(path.join(dir, 'globals.sql'), 'utf8');
    for (const role of ['koku', 'hive']) expect(globals).toMatch(new RegExp(`^CREATE ROLE ${role};$`, 'm'));
    expect(globals).not.toMatch(/PASSWORD|SCRAM-SHA-256\$/);
    const list = (db: string) => {
      const l = spawnSync(path.join(pg.bin, 'pg_restore'), ['--list', path.join(dir, `${db}.dump`)], { encoding: 'utf8' });
      expect([db, l.status, l.stderr]).toEqual([db, 0, '']);
      return l.stdout;
    };
    const koku = list('koku');
    const hive = list('hive');
    for (const e of [
      'TABLE public invoices koku', 'TABLE DATA public invoices koku', 'TABLE public customers koku', 'VIEW public customer_totals koku',
    ]) {
      expect([e, koku.includes(` ${e}\n`)]).toEqual([e, true]);
    }
    expect(hive).toContain(' TABLE DATA public TBLS hive\n');
    expect(koku).not.toMatch(/ TABLE public \S+ hive$/m);
    expect(hive).not.toMatch(/ TABLE public \S+ koku$/m);
    const tar = spawnSync('tar', ['-tzf', path.join(dir, 'media.tar.gz')], { encoding: 'utf8' });
    expect([tar.status, tar.stderr]).toEqual([0, '']);
    expect(tar.stdout.split('\n').filter(Boolean).map((l) => l.replace(/^\.\//, '').replace(/\/$/, '')).sort())
      .toEqual(atBackup.media.map((l) => JSON.parse(l)[1]).sort()); // every entry, no lost+found
    const check = spawnSync('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' });
    expect([check.status, check.stderr]).toEqual([0, '']);
    expect(check.stdout.split('\n').filter(Boolean).sort()).toEqual(files.filter((f) => f !== 'SHA256SUMS').map((f) => `${f}: OK`));
    expect(treeState(media)).toEqual(atBackup.media); // the media volume only read

    // retention: RETENTION_DAYS from the manifest, after the set was sealed
    const left = fs.readdirSync(backups);
    for (const [name, , keep] of seeds) expect([name, left.includes(name)]).toEqual([name, keep]);
    const pruned = seeds.filter(([, , keep]) => !keep).map(([n]) => n);
    for (const n of pruned) expect(prune.stdout).toContain(`${pod.host(BACKUP_DIR)}/${n}\n`);
    expect(prune.stdout).toContain(`local retention: ${retention} days (newest set ${madeSet} is always kept)`);
    expect(left.filter((f) => f.endsWith('.partial'))).toEqual(['.20240117T020000Z-scheduled.partial']); // no partial of this run

    const sizes = files.map((f) => `${f} ${kib(fs.statSync(path.join(dir, f)).size)}`).join(', ');
    say('backup', `backup pod (${pod.runs.map((c) => `${c.name} ${c.r.code} in ${ms(c.r)} ms`).join(', ')}; ` +
      `in-pod paths re-rooted: ${pod.runs.map((c) => `${c.name} ${c.moved}`).join(', ')}): set ${madeSet}: ${sizes}; ` +
      `koku.dump as koku (${invoices} invoices), hive.dump as hive, media.tar.gz ${atBackup.media.length} entries without lost+found, ` +
      'sha256sum --check --strict OK, media volume unchanged');
    say('backup', `retention ${retention} d (manifest's RETENTION_DAYS): pruned ${pruned.length} (${pruned.join(', ')}); ` +
      `kept ${seeds.length - pruned.length} seeded (${seeds.filter(([, , k]) => k).map(([n]) => n).join(', ')}) and the new set`);
    record('backup pod (manifest)', `dump+archive+prune exit 0; 1 set (globals, koku, hive, media, SHA256SUMS); ${pruned.length} pruned, ` +
      `${seeds.length - pruned.length} kept by RETENTION_DAYS=${retention}`);
  });

  test('a failing dump (wrong password) stops the pod: archive and prune never run, no set, older sets untouched', async () => {
    seed('20240102T020000Z-scheduled', 40); // what prune would delete, had it run
    const before = volumeFingerprint(backups);
    const secrets = clusterSecrets();
    const cases: Array<[string, string, RegExp]> = [
      ['postgres-credentials', 'koku', /^$/], // fails at the first query: before the set exists
      ['postgres-hive-credentials', 'hive', / {2}koku\.dump: \d+ bytes \(as koku\)\n/], // after koku.dump: the partial set is removed
    ];
    const lines: string[] = [];
    for (const [secret, user, progress] of cases) {
      const wrong = { ...secrets, [secret]: { ...secrets[secret], password: 'wrong-password' } };
      const pod = await runPod(cron, `backup pod (wrong ${user} password)`, wrong);
      expect(pod.failedAt).toBe('dump');
      expect(pod.runs.map((c) => c.name)).toEqual(['dump']); // the pod stopped at its first failing init container
      const dump = byName(pod, 'dump');
      expect(dump.code).not.toBe(0);
      expect(dump.stderr).toContain(`password authentication failed for user "${user}"`);
      expect(dump.stdout.replace(/^(waiting for|server PostgreSQL|backup set) .*\n/gm, '')).toMatch(progress);
      expect(volumeFingerprint(backups)).toEqual(before); // no set, no .partial, nothing pruned
      expect(fs.existsSync(path.join(pod.host(STATE_DIR), 'set'))).toBe(false);
      lines.push(`wrong ${user} password: dump exit ${dump.code} after ${ms(dump)} ms` +
        (user === 'hive' ? ` (koku.dump written, then "${/backup failed \(exit \d+\): \S+ removed/.exec(dump.stderr)?.[0].replace(pod.host(BACKUP_DIR), BACKUP_DIR)}")` : ''));
    }
    say('backup', `${lines.join('; ')}; both times the pod stopped at dump (archive, prune not started), ` +
      `backup volume byte-identical (${before.length} entries, the 40-day-old set kept)`);
    record('failed backup (manifest)', 'pod stops at dump; no set, nothing pruned, older sets untouched');
  });

  test('restore pod: restore -> unarchive brings back the set: rows, dropped table, media; a table added after the backup is gone', async () => {
    // damage: rows deleted, a table dropped, a table added after the backup, media changed, removed and added
    pg.psql('DELETE FROM invoices WHERE id % 3 = 0; DROP TABLE customers CASCADE;', 'koku');
    pg.psql('SET ROLE koku; CREATE TABLE added_after_backup (id int); INSERT INTO added_after_backup VALUES (1);', 'koku');
    pg.psql('DELETE FROM "TBLS" WHERE "TBL_ID" > 100; UPDATE "TBLS" SET "TBL_NAME" = \'broken\';', 'hive');
    mediaFile('reports/2024/q1.csv', 'id,amount\n1,999.99\n');
    fs.rmSync(path.join(media, 'avatars'), { recursive: true });
    mediaFile('uploaded-after-backup.txt', 'must disappear\n');
    const damaged = { koku: dbState('koku'), hive: dbState('hive'), media: treeState(media) };
    expect(damaged.koku).not.toEqual(atBackup.koku);
    expect(damaged.hive).not.toEqual(atBackup.hive);
    expect(damaged.media).not.toEqual(atBackup.media);
    const sets = fs.readdirSync(backups).filter((f) => SET_RE.test(f)).sort();
    expect(sets[sets.length - 1]).toBe(madeSet); // what BACKUP=latest (the manifest's default) resolves to

    const pod = await runPod(restoreCron, 'restore pod');
    expectPodSuccess(pod);
    expect(pod.runs.map((c) => [c.name, c.init, c.uid])).toEqual([['restore', true, PG_UID], ['unarchive', false, MEDIA_UID]]);
    const restore = byName(pod, 'restore');
    const unarchive = byName(pod, 'unarchive');
    expect(restore.stdout).toContain(`restoring ${madeSet}\nchecksums verified\n`);
    expect(restore.stdout).toContain('  koku: restored (as koku)\n  hive: restored (as hive)\n');
    expect(restore.stderr).not.toMatch(/ERROR|error/);
    expect(unarchive.stdout).toContain(`  media: 4 files restored\nrestore of ${madeSet} complete`);
    expect(unarchive.stderr).toBe('');

    expect(dbState('koku')).toEqual(atBackup.koku);
    expect(dbState('hive')).toEqual(atBackup.hive);
    expect(pg.value("SELECT to_regclass('public.added_after_backup') IS NULL", 'koku')).toBe('t'); // DROP OWNED BY CURRENT_USER
    expect(pg.value('SELECT count(*) FROM invoices', 'koku')).toBe(String(invoices));
    expect(pg.value('SELECT count(*) FROM customer_totals', 'koku')).toBe('97');
    // the server's, left alone
    expect(pg.value("SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'", 'koku')).toBe('pg_stat_statements');
    expect(treeState(media)).toEqual(atBackup.media);
    expect(fs.existsSync(path.join(media, 'uploaded-after-backup.txt'))).toBe(false);
    if (AS_ROOT) {
      expect(fs.statSync(path.join(media, 'avatars', 'alice.png')).uid).toBe(MEDIA_UID); // the unarchive's user owns what it wrote
      expect(fs.statSync(path.join(media, 'lost+found')).uid).toBe(0); // untouched
    }
    // the application goes on: the sequence continues after the restored rows
    pg.psql('SET ROLE koku; INSERT INTO invoices (customer_id, amount, created) VALUES (1, 1, now());', 'koku');
    expect(pg.value('SELECT max(id) FROM invoices', 'koku')).toBe(String(invoices + 1));

    say('restore', `restore pod (BACKUP=latest -> ${madeSet}; ${pod.runs.map((c) => `${c.name} ${c.r.code} in ${ms(c.r)} ms`).join(', ')}): ` +
      `koku (${invoices} invoices, customers re-created, view back) and hive (300 TBLS rows) equal to their state at the backup ` +
      `(tables, owners, row digests, sequences, indexes, constraints); added_after_backup gone (DROP OWNED BY CURRENT_USER); ` +
      `media: changed file back, removed dir back, added file gone, ${atBackup.media.filter((l) => l.startsWith('["f"')).length} files equal ` +
      '(content, mode, mtime); pg_stat_statements left as the server has it');
    record('restore pod (manifest)',
      `restore+unarchive exit 0 in ${ms(restore) + ms(unarchive)} ms; koku, hive, media identical to the set; later table dropped`);
  });
});
