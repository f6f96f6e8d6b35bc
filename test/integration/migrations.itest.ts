/**
 * Issue 7, parts 1 and 2: the wait-for-db loop and the locked
 * `migrate --fake-initial` (with fallback) of Migrations.django(), taken from
 * the synthesized ErpApi Deployment, migration Job and CeleryPair, and run for
 * real against a throwaway PostgreSQL and a generated Django project.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import { CeleryPair, ErpApi, ExternalDatabase, Migrations, PostgresSslMode } from '../../src';
import { INVENTORY_MIGRATIONS, writeDjangoProject } from './django-project';
import {
  APP_USER, container, containerEnv, describe_, expectSuccess, freePort, killChildren, Manifest, one, PgCluster, podSpec,
  record, run, RunResult, say, Secrets, sleep,
} from './harness';

const IMAGE = 'registry.example.com/erp/api:1.0.0';
const COLLISION_RE = /already exists|duplicate key|IntegrityError|InconsistentMigrationHistory/i;

let pg: PgCluster;
let project: string;

/** What `kubectl create secret` would hold in the namespace. */
function secrets(): Secrets {
  return {
    'erp-api-env': {}, // the app's own secret; the DB_* variables come from `database`
    'postgres-credentials': { username: APP_USER, password: pg.appPassword, database: 'unused' },
  };
}

/** ErpApi + CeleryPair exactly as a user would write them, pointed at the test server. */
function synthApp(databaseName: string, opts: { port?: number; migrations?: Migrations } = {}): Manifest[] {
  const chart = new Chart(Testing.app(), 'it', { namespace: 'erp' });
  const api = new ErpApi(chart, 'Api', {
    image: IMAGE,
    // the loopback test server has no certificate (TLS itself: tls.itest.ts)
    database: ExternalDatabase.of({ host: '127.0.0.1', port: opts.port ?? pg.port, databaseName, sslMode: PostgresSslMode.PREFER }),
    migrations: opts.migrations ?? Migrations.django({ waitAttempts: 5, waitInterval: Duration.seconds(1) }),
  });
  // 1 s timeout -> one attempt (Celery polls every 5 s), to keep the negative case short
  new CeleryPair(chart, 'Celery', { api, migrationWaitTimeout: Duration.seconds(1) });
  return Testing.synth(chart) as Manifest[];
}

function deployment(objs: Manifest[]): Manifest {
  return one(objs, 'Deployment', 'erp-api-app');
}

/** Runs a container of a manifest object with the environment Kubernetes would give it. */
function runContainer(obj: Manifest, name: string, extraEnv: Record<string, string> = {}, label?: string, timeoutMs?: number): Promise<RunResult> {
  const c = container(obj, name);
  return run(c.command, { cwd: project, env: { ...containerEnv(c, secrets()), ...extraEnv }, label: label ?? `${obj.kind}/${name}`, timeoutMs });
}

function migrationRows(db: string, app = 'inventory'): string[] {
  return pg.psql(`SELECT name FROM django_migrations WHERE app = '${app}' ORDER BY id`, db).split('\n').filter(Boolean);
}

function duplicateMigrationRows(db: string): number {
  return Number(pg.value('SELECT count(*) FROM (SELECT app, name FROM django_migrations GROUP BY 1, 2 HAVING count(*) > 1) d', db));
}

function advisoryLocksHeld(db: string): number {
  return Number(pg.value('SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database '
    + `WHERE l.locktype = 'advisory' AND d.datname = '${db}'`));
}

beforeAll(async () => {
  project = writeDjangoProject();
  pg = await PgCluster.create('migrations');
  pg.start();
  pg.createAppRole();
  for (const db of ['erp_wait', 'erp_concurrent', 'erp_control', 'erp_legacy', 'erp_transient', 'erp_partial']) pg.createDatabase(db);
  say('pg', `throwaway cluster ${pg.dataDir} on 127.0.0.1:${pg.port} (scram password auth for '${APP_USER}'), Django project in ${project}`);
  // Part 1 starts with the server down.
  pg.stop();
});

afterAll(() => {
  killChildren();
  pg?.destroy();
  if (project) fs.rmSync(project, { recursive: true, force: true });
  say('pg', 'cluster stopped and deleted');
});

describe('1. wait-for-db', () => {
  test('the default sample still waits 60 x 2 s', () => {
    const objs = (() => {
      const chart = new Chart(Testing.app(), 'defaults', { namespace: 'erp' });
      new ErpApi(chart, 'Api', { image: IMAGE, database: ExternalDatabase.of({ host: 'postgres' }) });
      return Testing.synth(chart) as Manifest[];
    })();
    const m = Migrations.django();
    expect([m.waitAttempts, m.waitInterval.toSeconds()]).toEqual([60, 2]);
    const script = container(deployment(objs), 'wait-for-db').command.join(' ');
    expect(script).toContain('python manage.py check --database default');
    expect(script).toContain('while [ "$i" -lt 60 ]');
    expect(script).toContain('sleep 2');
    expect(script).toContain('gave up after 60 attempts');
    say('wait', 'default Migrations.django(): wait-for-db loop is 60 attempts x 2 s (120 s budget)');
  });

  test('waits for a server that starts late, and gives up (exit 1) when there is none', async () => {
    const objs = synthApp('erp_wait');
    const deadPort = await freePort();
    const deadObjs = synthApp('erp_wait', { port: deadPort });
    const wait = container(deployment(objs), 'wait-for-db');
    expect(wait.command.slice(0, 2)).toEqual(['sh', '-c']);

    const late = runContainer(deployment(objs), 'wait-for-db', {}, 'wait (server starts late)', 30_000);
    const none = runContainer(deployment(deadObjs), 'wait-for-db', {}, 'wait (no server)', 30_000);
    await sleep(2500);
    const t = Date.now();
    pg.start();
    say('wait', `server started ${Date.now() - t} ms after a 2.5 s delay, while wait-for-db was already looping`);
    const [a, b] = await Promise.all([late, none]);

    expectSuccess(a);
    const attempts = Number(/ready after (\d+) attempt/.exec(a.stdout)?.[1]);
    expect(attempts).toBeGreaterThan(1);
    expect(a.stderr).toContain('wait-for-db: not ready (attempt 1/5); retrying in 1s');
    say('wait', `late server: exit 0, "${a.stdout.trim().split('\n').pop()}" after ${a.endedAt - a.startedAt} ms`);

    if (b.code === 0) throw new Error(`wait-for-db succeeded with no server at all\n${describe_(b)}`);
    expect(b.code).toBe(1);
    // 5 attempts, 4 pauses between them (no pause after the last one)
    expect(b.stderr.match(/not ready \(attempt \d\/5\)/g)).toHaveLength(4);
    expect(b.stderr).toContain('wait-for-db: gave up after 5 attempts');
    expect(b.endedAt - b.startedAt).toBeGreaterThanOrEqual(4000);
    say('wait', `no server (127.0.0.1:${deadPort}): exit ${b.code} after 5 attempts, ${b.endedAt - b.startedAt} ms`);
    record('wait-for-db', `late server ready after ${attempts} attempt(s); no server: gave up after 5 attempts, exit 1`);
  });

  test('a project without models and no server still fails the wait (it really connects)', async () => {
    // Django's PostgreSQL backend has no database validation check: on
    // Django 3.2 `check --database default` connects only because the model
    // checks read the server version, so a project without models passed with
    // no server at all. The wait command now also calls ensure_connection().
    const deadObjs = synthApp('erp_wait', { port: await freePort() });
    const noModels = { DJANGO_SETTINGS_MODULE: 'itproject.settings_nomodels' };
    const r = await runContainer(deployment(deadObjs), 'wait-for-db', noModels, 'wait (no models, no server)', 30_000);
    const verdict = r.code === 0
      ? 'FINDING: exit 0 with NO server when INSTALLED_APPS has no models: `check --database default` is not a connectivity test'
      : `exit ${r.code}: the check connected`;
    say('wait', `probe (project without models, no server): ${verdict}`);
    record('wait-for-db probe (no models, no server)', verdict);
    expect(r.code).toBe(1);
  });
});

describe('2. migrations (migrate --fake-initial under an advisory lock)', () => {
  test('Celery wait-for-migrations refuses an unmigrated database (exit 1)', async () => {
    const objs = synthApp('erp_concurrent');
    const worker = objs.find((o) => o.kind === 'Deployment' && podSpec(o).initContainers?.some((c: Manifest) => c.name === 'wait-for-migrations'))!;
    const r = await runContainer(worker, 'wait-for-migrations', {}, 'celery wait-for-migrations (empty db)', 30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('wait-for-migrations: gave up after 1 attempts');
    say('migrate', `celery wait-for-migrations on an empty database: exit 1 (${r.endedAt - r.startedAt} ms)`);
  });

  test('6 pod init containers + the Job, all at once: all exit 0, every migration applied exactly once', async () => {
    const objs = synthApp('erp_concurrent');
    const dep = deployment(objs);
    const job = one(objs, 'Job');
    const pods = one(objs, 'HorizontalPodAutoscaler').spec.maxReplicas as number;
    expect(pods).toBe(6);
    expect(container(job, 'migrate').command).toEqual(container(dep, 'migrate').command);
    expect(container(dep, 'migrate').command.slice(0, 4)).toEqual(['python', 'manage.py', 'shell', '--command']);

    const runs = [
      ...Array.from({ length: pods }, (_, i) => runContainer(dep, 'migrate', {}, `pod-${i + 1} init migrate`)),
      runContainer(job, 'migrate', {}, `Job ${job.metadata.name} migrate`),
    ];
    const results = await Promise.all(runs);
    for (const r of results) expectSuccess(r);
    for (const r of results) {
      expect(r.stderr).not.toMatch(COLLISION_RE);
      expect(r.stdout).toContain('migrate: waiting for advisory lock 7245501');
      expect(r.stdout).toContain('migrate: lock released');
    }
    const appliers = results.filter((r) => /Applying inventory\.0002_slow_data\.\.\. OK/.test(r.stdout));
    const noops = results.filter((r) => /No migrations to apply/.test(r.stdout));
    expect(appliers).toHaveLength(1);
    expect(noops).toHaveLength(results.length - 1);
    // they really overlapped: every migrator started before the applier finished
    const lastStart = Math.max(...results.map((r) => r.startedAt));
    expect(lastStart).toBeLessThan(appliers[0].endedAt);

    expect(migrationRows('erp_concurrent')).toEqual(INVENTORY_MIGRATIONS);
    expect(duplicateMigrationRows('erp_concurrent')).toBe(0);
    const sideEffects = Number(pg.value('SELECT count(*) FROM inventory_migrationsideeffect', 'erp_concurrent'));
    expect(sideEffects).toBe(1);
    const noteColumns = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'inventory_item' AND column_name = 'note'";
    expect(pg.value(noteColumns, 'erp_concurrent')).toBe('1');
    expect(advisoryLocksHeld('erp_concurrent')).toBe(0);
    const span = Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt));
    say('migrate', `${results.length} concurrent migrators (${pods} pod init containers + Job): all exit 0 in ${span} ms; ` +
      `1 applied, ${noops.length} found nothing to do; django_migrations rows for inventory=${INVENTORY_MIGRATIONS.length}, ` +
      `duplicates=0; RunPython side-effect rows=${sideEffects}; no "already exists"/duplicate errors; advisory lock released`);
    record('concurrent migrators', `${results.length} (all exit 0, migrations applied once, side effect rows=${sideEffects})`);

    const worker = objs.find((o) => o.kind === 'Deployment' && podSpec(o).initContainers?.some((c: Manifest) => c.name === 'wait-for-migrations'))!;
    const ready = await runContainer(worker, 'wait-for-migrations', {}, 'celery wait-for-migrations (migrated db)');
    expectSuccess(ready);
    expect(ready.stdout).toContain('wait-for-migrations: ready after 1 attempt(s)');
    say('migrate', 'celery wait-for-migrations (`migrate --check`) after migrating: exit 0 on the first attempt');
  });

  test('control: the same 7 migrators WITHOUT the lock collide (so the test above can fail)', async () => {
    const objs = synthApp('erp_control');
    const c = container(deployment(objs), 'migrate');
    const env = { ...containerEnv(c, secrets()) };
    const results = await Promise.all(Array.from({ length: 7 }, (_, i) =>
      run(['python', 'manage.py', 'migrate', '--noinput'], { cwd: project, env, label: `unlocked-${i + 1}` })));
    const failed = results.filter((r) => r.code !== 0);
    const why = [...new Set(failed.map((r) => (r.stderr.match(/(django\.db\.utils\.\w+|psycopg2\.\w+\.\w+): .*/) ?? ['?'])[0]))];
    say('migrate', `control without lock: ${failed.length}/7 plain \`migrate\` failed, e.g. ${why.slice(0, 2).join(' | ')}`);
    expect(failed.length).toBeGreaterThan(0);
  });

  test('fake-initial path: the 0001 tables already exist (legacy database)', async () => {
    const objs = synthApp('erp_legacy');
    // The tables of 0001 are created by hand, as on a database that predates
    // the migrations; the SQL is Django's own for 0001.
    const c = container(deployment(objs), 'migrate');
    const env = containerEnv(c, secrets());
    const sql = await run(['python', 'manage.py', 'sqlmigrate', 'inventory', '0001_initial'], { cwd: project, env, label: 'sqlmigrate 0001' });
    expectSuccess(sql);
    pg.psql(`SET ROLE ${APP_USER};\n${sql.stdout}\nINSERT INTO inventory_warehouse (name) VALUES ('legacy-wh');`, 'erp_legacy');
    expect(migrationRowsOrNone('erp_legacy')).toEqual([]);

    const r = await runContainer(one(objs, 'Job'), 'migrate', {}, 'Job migrate (legacy db)');
    expectSuccess(r);
    expect(r.stdout).toMatch(/Applying inventory\.0001_initial\.\.\. FAKED/);
    expect(r.stdout).toMatch(/Applying inventory\.0002_slow_data\.\.\. OK/);
    expect(r.stderr).not.toContain('falling back');
    expect(migrationRows('erp_legacy')).toEqual(INVENTORY_MIGRATIONS);
    expect(pg.value('SELECT count(*) FROM inventory_migrationsideeffect', 'erp_legacy')).toBe('1');
    expect(pg.value('SELECT name FROM inventory_warehouse', 'erp_legacy')).toBe('legacy-wh');
    say('migrate', 'fake-initial: existing 0001 tables -> "0001_initial... FAKED", 0002/0003 applied, legacy row kept, no fallback');
  });

  test('fallback path: a failure during `migrate --fake-initial` falls back to plain migrate, which finishes the job', async () => {
    const objs = synthApp('erp_transient');
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'erp-it-marker-')), 'fail-once');
    fs.writeFileSync(marker, '');
    const r = await runContainer(one(objs, 'Job'), 'migrate', { IT_FAIL_ONCE_FILE: marker }, 'Job migrate (transient failure)');
    fs.rmSync(path.dirname(marker), { recursive: true, force: true });
    expectSuccess(r);
    expect(r.stderr).toContain('migrate --fake-initial failed (simulated transient failure in 0002_slow_data); falling back to plain migrate');
    expect(migrationRows('erp_transient')).toEqual(INVENTORY_MIGRATIONS);
    expect(pg.value('SELECT count(*) FROM inventory_migrationsideeffect', 'erp_transient')).toBe('1');
    expect(advisoryLocksHeld('erp_transient')).toBe(0);
    say('migrate', 'fallback: 0002 fails once under --fake-initial -> "falling back to plain migrate" -> exit 0, 3 rows, side effect 1');
  });

  test('fallback path: a half-existing 0001 schema fails both attempts; exit non-zero, lock released', async () => {
    // Only one of the three 0001 tables exists: --fake-initial cannot fake
    // 0001 (not all its tables exist) and creating it hits "already exists";
    // plain migrate runs the same 0001 and fails the same way. The fallback
    // cannot repair this; what matters is a loud failure and a released lock.
    const objs = synthApp('erp_partial');
    pg.psql(`SET ROLE ${APP_USER}; CREATE TABLE inventory_warehouse (id serial PRIMARY KEY, name varchar(50) NOT NULL UNIQUE);`, 'erp_partial');
    const r = await runContainer(one(objs, 'Job'), 'migrate', {}, 'Job migrate (half-existing schema)');
    expect(r.code).not.toBe(0);
    expect(r.timedOut).toBe(false);
    expect(r.stderr).toMatch(/migrate --fake-initial failed \(relation "inventory_warehouse" already exists\s*\); falling back to plain migrate/);
    expect(r.stderr).toMatch(/ProgrammingError: relation "inventory_warehouse" already exists/);
    expect(r.stdout).toContain('migrate: lock released');
    expect(advisoryLocksHeld('erp_partial')).toBe(0);
    expect(migrationRows('erp_partial')).toEqual([]);
    // The next migrator is not blocked by a leaked lock: it fails just as fast.
    const again = await runContainer(deployment(objs), 'migrate', {}, 'pod init migrate (half-existing schema)', 30_000);
    expect(again.code).not.toBe(0);
    expect(again.timedOut).toBe(false);
    say('migrate', `fallback (half-existing 0001): fake-initial fails with "relation already exists", fallback fails the same way, exit ${r.code}; ` +
      'lock released, the next migrator is not blocked; no migration recorded');
    record('migrate fallback', 'transient failure -> fallback succeeds; half-existing schema -> both fail, exit 1, lock released');
  });
});

function migrationRowsOrNone(db: string): string[] {
  const exists = pg.value("SELECT to_regclass('public.django_migrations') IS NOT NULL", db) === 't';
  return exists ? migrationRows(db) : [];
}
