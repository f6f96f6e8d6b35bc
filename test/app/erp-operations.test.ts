import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ErpApi, ErpOperations, ErpOperationsProps, ExternalDatabase, Migrations } from '../../src';
import {
  ALREADY_BOOTSTRAPPED_PATTERN, alembicBootstrapScript, BOOTSTRAP_ENV, classifyBootstrapAdmin, djangoBootstrapScript, PYTHON_TRACEBACK,
} from '../../src/migrations/bootstrap-scripts';
import { all, container, containers, Manifest, podSpec, RESTRICTED, synth, testChart } from '../util';

function synthOps(props: Partial<ErpOperationsProps> = {}, migrations?: Migrations): Manifest[] {
  const chart = testChart();
  const api = new ErpApi(chart, 'Api', { image: 'erp/api:1.4.2', database: ExternalDatabase.of({ host: 'postgres' }), migrations });
  new ErpOperations(chart, 'Ops', { api, bootstrap: { adminEmail: 'admin@example.com' }, ...props });
  return synth(chart);
}

/** The bootstrap Job (named after a hash of its pod template). */
const bootstrapJob = (objs: Manifest[]): Manifest => {
  const jobs = objs.filter((o) => o.kind === 'Job' && o.metadata.name.startsWith('erp-api-bootstrap-'));
  if (jobs.length !== 1) throw new Error(`expected one bootstrap Job, found ${jobs.length}`);
  return jobs[0];
};
const cronJobs = (objs: Manifest[]): Record<string, Manifest> => Object.fromEntries(all(objs, 'CronJob').map((c) => [c.metadata.name, c]));
const command = (objs: Manifest[], cron: string, name: string): string[] => container(cronJobs(objs)[`erp-api-${cron}`], name).command;

describe('ErpOperations (Django, the default framework)', () => {
  // GIVEN the default operations of a Django API
  const objs = synthOps();
  const job = bootstrapJob(objs);

  test('bootstrap Job runs after migrations (Helm post-install/upgrade, Argo CD PostSync)', () => {
    expect(job.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'post-install,post-upgrade',
      'argocd.argoproj.io/hook': 'PostSync',
    });
    expect(podSpec(job).initContainers.map((c: Manifest) => c.name)).toEqual(['wait-for-db']);
  });

  test('bootstrap creates the superuser with manage.py shell, unless it exists; no erp-bootstrap, no RBAC seeding', () => {
    const c = container(job, 'bootstrap');
    expect(c.command).toEqual(['python', 'manage.py', 'shell', '--command', djangoBootstrapScript()]);
    expect(c.command[4]).toContain('if User.objects.filter(username=username).exists():');
    expect(c.command[4]).toContain('User.objects.create_superuser(username, os.environ["ADMIN_EMAIL"], os.environ["ADMIN_PASSWORD"])');
    expect(JSON.stringify(c.command)).not.toMatch(/erp-bootstrap|seed-rbac/);
  });

  test('the admin password comes from the Secret through the environment, never a command line', () => {
    const c = container(job, 'bootstrap');
    const pw = c.env.find((e: Manifest) => e.name === BOOTSTRAP_ENV.password);
    expect(pw.valueFrom.secretKeyRef).toEqual({ name: 'erp-admin', key: 'password' });
    expect(c.env).toContainEqual({ name: BOOTSTRAP_ENV.username, value: 'admin' });
    expect(c.env).toContainEqual({ name: BOOTSTRAP_ENV.email, value: 'admin@example.com' });
    expect(c.command[0]).toBe('python');
    expect(JSON.stringify(c.command)).not.toContain('--password');
  });

  test('health check: check --deploy at ERROR level, a database connection and no unapplied migration, one failing step fails the Job', () => {
    const [sh, flag, script] = command(objs, 'health-check', 'health-check');
    expect([sh, flag]).toEqual(['sh', '-c']);
    expect(script.split('\n')[0]).toBe('set -eu');
    expect(script).toContain('python manage.py check --deploy --fail-level ERROR\n');
    expect(script).toContain('connection.ensure_connection()');
    expect(script).toContain('python manage.py migrate --check --noinput || {');
    expect(script).not.toMatch(/scripts\/prod|health_check\.py/);
  });

  test('data integrity: models match migrations (makemigrations --check --dry-run) and every migration is applied', () => {
    const [, , script] = command(objs, 'data-integrity', 'data-integrity');
    expect(script.split('\n')[0]).toBe('set -eu');
    expect(script).toContain('python manage.py makemigrations --check --dry-run --noinput || {');
    expect(script).toContain('python manage.py migrate --check --noinput || {');
  });

  test('cleanup: clearsessions, with or without cleanupExecute (there is no dry run)', () => {
    expect(command(objs, 'cleanup', 'cleanup')).toEqual(['python', 'manage.py', 'clearsessions']);
    expect(command(synthOps({ maintenance: { cleanupExecute: true } }), 'cleanup', 'cleanup')).toEqual(['python', 'manage.py', 'clearsessions']);
  });

  test('a custom manage.py path is used by every command', () => {
    const custom = synthOps({}, Migrations.django({ manageScript: 'src/manage.py' }));
    expect(command(custom, 'cleanup', 'cleanup')).toEqual(['python', 'src/manage.py', 'clearsessions']);
    expect(command(custom, 'health-check', 'health-check')[2]).toContain('python src/manage.py check --deploy');
    expect(container(bootstrapJob(custom), 'bootstrap').command.slice(0, 3)).toEqual(['python', 'src/manage.py', 'shell']);
  });

  test('maintenance CronJobs: daily health and integrity, monthly cleanup; restricted, sized', () => {
    const crons = cronJobs(objs);
    expect(crons['erp-api-health-check'].spec.schedule).toBe('0 6 * * *');
    expect(crons['erp-api-data-integrity'].spec.schedule).toBe('30 6 * * *');
    expect(crons['erp-api-cleanup'].spec.schedule).toBe('0 3 1 * *');
    for (const cj of Object.values(crons)) {
      expect(cj.spec).toMatchObject({ concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3 });
      for (const c of containers(cj)) {
        expect(c.securityContext).toMatchObject(RESTRICTED);
        expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
      }
    }
  });

  test('service links are off in the bootstrap Job and every CronJob', () => {
    expect(podSpec(job).enableServiceLinks).toBe(false);
    for (const cj of Object.values(cronJobs(objs))) expect(podSpec(cj).enableServiceLinks).toBe(false);
  });

  test('Django writes nowhere but /tmp: no extra volumes', () => {
    for (const o of [job, ...Object.values(cronJobs(objs))]) expect(podSpec(o).volumes.map((v: Manifest) => v.name)).toEqual(['tmp']);
  });
});

describe('ErpOperations (FastAPI, Migrations.alembic(): seed 002)', () => {
  // GIVEN the operations of a FastAPI API
  const objs = synthOps({}, Migrations.alembic());
  const job = bootstrapJob(objs);

  test('maintenance runs seed 002 scripts/prod/*.py; cleanup is a dry run unless cleanupExecute', () => {
    expect(command(objs, 'health-check', 'health-check')).toEqual(['python', 'scripts/prod/health_check.py']);
    expect(command(objs, 'data-integrity', 'data-integrity')).toEqual(['python', 'scripts/prod/check_data_integrity.py']);
    expect(command(objs, 'cleanup', 'cleanup')).toEqual(['python', 'scripts/prod/cleanup_old_data.py']);
    const execute = synthOps({ maintenance: { cleanupExecute: true, scriptDir: 'ops/prod' } }, Migrations.alembic());
    expect(command(execute, 'cleanup', 'cleanup')).toEqual(['python', 'ops/prod/cleanup_old_data.py', '--execute']);
    expect(command(execute, 'health-check', 'health-check')).toEqual(['python', 'ops/prod/health_check.py']);
  });

  test('bootstrap: python -c driver of erp-bootstrap --seed-rbac then --bootstrap-admin; no shell, no password on a command line', () => {
    const c = container(job, 'bootstrap');
    expect(c.command).toEqual(['python', '-c', alembicBootstrapScript('erp-bootstrap')]);
    expect(c.command[2]).toContain('"--bootstrap-admin", "--username", user, "--email", email]');
    expect(c.command[2]).not.toMatch(/grep|\$\(|--password "\$/);
    const pw = c.env.find((e: Manifest) => e.name === BOOTSTRAP_ENV.password);
    expect(pw.valueFrom.secretKeyRef).toEqual({ name: 'erp-admin', key: 'password' });
  });

  test('the bootstrap CLI entry point is configurable', () => {
    const objs = synthOps({ bootstrap: { adminEmail: 'a@example.com', cli: 'erp-admin-tool' } }, Migrations.alembic());
    const c = container(bootstrapJob(objs), 'bootstrap');
    expect(c.command[2]).toBe(alembicBootstrapScript('erp-admin-tool'));
    expect(c.command[2]).toContain('CLI = "erp-admin-tool"');
  });

  test('every container, init containers included, gets a 100Mi emptyDir at /var/log/erp (read-only root filesystem)', () => {
    for (const o of [job, ...Object.values(cronJobs(objs))]) {
      const vol = podSpec(o).volumes.find((v: Manifest) => v.emptyDir?.sizeLimit === '100Mi');
      expect(vol).toBeDefined();
      for (const c of containers(o)) expect(c.volumeMounts).toContainEqual({ name: vol.name, mountPath: '/var/log/erp' });
    }
  });

  test('service links are off in the bootstrap Job and every CronJob', () => {
    expect(podSpec(job).enableServiceLinks).toBe(false);
    for (const cj of Object.values(cronJobs(objs))) expect(podSpec(cj).enableServiceLinks).toBe(false);
  });
});

describe('classifyBootstrapAdmin: a second run is safe, nothing else is excused', () => {
  test.each<[string, number, string, string]>([
    ['success', 0, 'Admin user created', 'created'],
    ['user exists', 1, "Error: user 'admin' already exists", 'already-exists'],
    ['user exists, double quotes', 1, 'Error: User "admin" already exists.', 'already-exists'],
    ['users exist, bootstrap disabled', 1,
      'Error: users already exist; bootstrap is disabled (ALLOW_BOOTSTRAP_WHEN_USERS_EXIST=False)', 'already-exists'],
    ['missing users table', 1, 'sqlalchemy.exc.ProgrammingError: relation "users" does not exist', 'failed'],
    ['unique violation on username', 1, 'psycopg2.errors.UniqueViolation: Key (username)=(admin) already exists.', 'failed'],
    ['role exists', 1, 'Error: role "admin" already exists', 'failed'],
    ['a crash mentioning an existing user', 1, `${PYTHON_TRACEBACK}\n  ...\nRuntimeError: user 'admin' already exists`, 'failed'],
    ['database does not exist', 1, 'FATAL: database "erp" does not exist', 'failed'],
    ['connection refused', 1, 'connection refused', 'failed'],
  ])('%s', (_n, rc, output, outcome) => {
    expect(classifyBootstrapAdmin(rc, output)).toBe(outcome);
  });

  test('the bootstrap script embeds the same pattern and traceback rule', () => {
    const script = alembicBootstrapScript('erp-bootstrap');
    expect(script).toContain(`ALREADY = re.compile(${JSON.stringify(ALREADY_BOOTSTRAPPED_PATTERN)}, re.IGNORECASE)`);
    expect(script).toContain('elif ALREADY.search(output) and TRACEBACK not in output:');
  });
});

// The generated Python, run with this machine's python3 against fakes.
const PY = process.env.PYTHON ?? 'python3';
const hasPython = spawnSync(PY, ['--version']).status === 0;
if (!hasPython && process.env.ERP_K8S_SKIP_PYTHON_TESTS !== '1') {
  throw new Error(`${PY} not found: these tests run the generated Python (set ERP_K8S_SKIP_PYTHON_TESTS=1 to skip them)`);
}
const pyDescribe = hasPython ? describe : describe.skip;
const PASSWORD = 's3cret-Pa55 "word"';

pyDescribe('the FastAPI bootstrap, run against a fake erp-bootstrap console script', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'erp-k8s-bootstrap-'));
    const site = join(dir, 'site');
    mkdirSync(join(site, 'fake_erp_cli-1.0.dist-info'), { recursive: true });
    writeFileSync(join(site, 'fake_erp_cli-1.0.dist-info', 'METADATA'), 'Metadata-Version: 2.1\nName: fake-erp-cli\nVersion: 1.0\n');
    writeFileSync(join(site, 'fake_erp_cli-1.0.dist-info', 'entry_points.txt'), '[console_scripts]\nerp-bootstrap = fake_erp_cli:main\n');
    writeFileSync(join(site, 'fake_erp_cli.py'), [
      'import json, os, sys',
      'def cmdline(pid):',
      '    try:',
      '        with open("/proc/%s/cmdline" % pid, "rb") as f:',
      '            return f.read().decode()',
      '    except OSError:',
      '        return ""',
      'def main():',
      '    scenario = os.environ["FAKE_SCENARIO"]',
      '    pw = os.environ["ADMIN_PASSWORD"]',
      '    with open(os.environ["FAKE_LOG"], "a") as f:',
      '        f.write(json.dumps({"argv": sys.argv, "pw_in_cmdline": pw in cmdline("self") or pw in cmdline(os.getppid())}) + "\\n")',
      '    if "--seed-rbac" in sys.argv:',
      '        if scenario == "rbac-fails":',
      '            print("Error: cannot seed roles", file=sys.stderr)',
      '            return 3',
      '        print("RBAC seeded")',
      '        return 0',
      '    if scenario == "fresh":',
      '        print("Admin user created")',
      '        return 0',
      '    if scenario == "user-exists":',
      '        print("Error: user \'admin\' already exists")',
      '        return 1',
      '    if scenario == "users-exist":',
      '        sys.exit("Error: users already exist; bootstrap is disabled (ALLOW_BOOTSTRAP_WHEN_USERS_EXIST=False)")',
      '    if scenario == "no-table":',
      '        print(\'Error: relation "users" does not exist\', file=sys.stderr)',
      '        return 1',
      '    if scenario == "crash":',
      '        raise RuntimeError("user \'admin\' already exists")',
      '    raise SystemExit("unknown scenario")',
    ].join('\n') + '\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function bootstrap(scenario: string) {
    const log = join(dir, `${scenario}.log`);
    rmSync(log, { force: true });
    const r = spawnSync(PY, ['-c', alembicBootstrapScript('erp-bootstrap')], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '', PYTHONPATH: join(dir, 'site'), FAKE_SCENARIO: scenario, FAKE_LOG: log,
        [BOOTSTRAP_ENV.username]: 'admin', [BOOTSTRAP_ENV.email]: 'admin@example.com', [BOOTSTRAP_ENV.password]: PASSWORD,
      },
    });
    const calls = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    return { status: r.status, out: r.stdout + r.stderr, calls };
  }

  test('seeds RBAC, then creates the admin with the password in sys.argv but on no command line', () => {
    // WHEN the bootstrap runs on a fresh database
    const r = bootstrap('fresh');
    // THEN
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.argv)).toEqual([
      ['erp-bootstrap', '--seed-rbac'],
      ['erp-bootstrap', '--bootstrap-admin', '--username', 'admin', '--email', 'admin@example.com', '--password', PASSWORD],
    ]);
    expect(r.calls.map((c) => c.pw_in_cmdline)).toEqual([false, false]);
    expect(r.out).toContain('--password <$ADMIN_PASSWORD>');
    expect(r.out).not.toContain(PASSWORD);
  });

  test.each([
    ['user-exists', "Error: user 'admin' already exists"],
    ['users-exist', 'Error: users already exist; bootstrap is disabled'],
  ])('a second run (%s) succeeds', (scenario, message) => {
    const r = bootstrap(scenario);
    expect(r.out).toContain(message);
    expect(r.out).toContain('bootstrap: a user already exists; nothing to do');
    expect(r.status).toBe(0);
  });

  test.each([
    ['no-table', 'relation "users" does not exist'],
    ['crash', PYTHON_TRACEBACK],
  ])('fails when --bootstrap-admin fails otherwise (%s)', (scenario, message) => {
    const r = bootstrap(scenario);
    expect(r.out).toContain(message);
    expect(r.out).toContain('--bootstrap-admin failed');
    expect(r.status).toBe(1);
  });

  test('fails when --seed-rbac fails, with its exit code, and never creates the admin', () => {
    const r = bootstrap('rbac-fails');
    expect(r.status).toBe(3);
    expect(r.calls.map((c) => c.argv[1])).toEqual(['--seed-rbac']);
  });
});

pyDescribe('the Django bootstrap, run against a fake django.contrib.auth', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'erp-k8s-django-bootstrap-'));
    mkdirSync(join(dir, 'django', 'contrib', 'auth'), { recursive: true });
    writeFileSync(join(dir, 'django', '__init__.py'), '');
    writeFileSync(join(dir, 'django', 'contrib', '__init__.py'), '');
    writeFileSync(join(dir, 'django', 'contrib', 'auth', '__init__.py'), [
      'import json, os',
      'DB = os.environ["FAKE_DB"]',
      'def load():',
      '    return json.load(open(DB)) if os.path.exists(DB) else []',
      'class Query:',
      '    def __init__(self, rows):',
      '        self.rows = rows',
      '    def exists(self):',
      '        return bool(self.rows)',
      'class Manager:',
      '    def filter(self, username):',
      '        return Query([u for u in load() if u["username"] == username])',
      '    def create_superuser(self, username, email, password):',
      '        if os.environ.get("FAKE_FAIL"):',
      '            raise RuntimeError("database is read-only")',
      '        json.dump(load() + [{"username": username, "email": email, "password": password}], open(DB, "w"))',
      'class User:',
      '    objects = Manager()',
      'def get_user_model():',
      '    return User',
    ].join('\n') + '\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function bootstrap(extra: Record<string, string> = {}) {
    // `manage.py shell --command <script>` execs the script once Django is set up
    const r = spawnSync(PY, ['-c', djangoBootstrapScript()], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '', PYTHONPATH: dir, FAKE_DB: join(dir, 'users.json'),
        [BOOTSTRAP_ENV.username]: 'admin', [BOOTSTRAP_ENV.email]: 'admin@example.com', [BOOTSTRAP_ENV.password]: PASSWORD, ...extra,
      },
    });
    return { status: r.status, out: r.stdout + r.stderr };
  }

  test('creates the superuser once, with the password from the environment; the second run changes nothing', () => {
    const first = bootstrap();
    expect(first.status).toBe(0);
    expect(first.out).toContain("bootstrap: created superuser 'admin'");
    const second = bootstrap();
    expect(second.status).toBe(0);
    expect(second.out).toContain("bootstrap: superuser 'admin' already exists; nothing to do");
    expect(JSON.parse(readFileSync(join(dir, 'users.json'), 'utf8')))
      .toEqual([{ username: 'admin', email: 'admin@example.com', password: PASSWORD }]);
    expect(first.out + second.out).not.toContain(PASSWORD);
  });

  test('fails (non-zero exit) when creating the superuser raises', () => {
    rmSync(join(dir, 'users.json'), { force: true });
    const r = bootstrap({ FAKE_FAIL: '1' });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('database is read-only');
  });
});

describe('ErpOperations validation', () => {
  test.each<[string, Partial<ErpOperationsProps>, RegExp]>([
    ['cron "every day"', { maintenance: { healthCheckSchedule: 'every day' } }, /test\/Ops: 'maintenance.healthCheckSchedule' \("every day"\) must be a five-field cron expression/],
    ['bad admin e-mail', { bootstrap: { adminEmail: 'not-an-email' } }, /'bootstrap.adminEmail' \("not-an-email"\) must be an e-mail address/],
    ['script dir with shell characters', { maintenance: { scriptDir: 'x; rm -rf /' } }, /'maintenance.scriptDir' \("x; rm -rf \/"\)/],
    ['the CLI is a path, not an entry point name', { bootstrap: { adminEmail: 'a@example.com', cli: '/usr/bin/erp bootstrap' } },
      /test\/Ops: 'bootstrap.cli' \("\/usr\/bin\/erp bootstrap"\) must be the name of a console_scripts entry point/],
    ['the time zone is not an IANA zone', { maintenance: { timeZone: 'Mars/Olympus' } }, /test\/Ops: 'maintenance.timeZone' \("Mars\/Olympus"\) must be an IANA time zone such as 'UTC' or 'Europe\/Berlin'/],
    ['the time zone is spelt in lower case', { maintenance: { timeZone: 'europe/berlin' } }, /'maintenance.timeZone' \("europe\/berlin"\) must be an IANA time zone .*\(case-sensitive\)/],
    ['the time zone is an offset', { maintenance: { timeZone: '+03:00' } }, /'maintenance.timeZone' \("\+03:00"\) must be an IANA time zone/],
  ])('fails when %s', (_n, props, message) => {
    expect(() => synthOps(props)).toThrow(message);
  });

  test('IANA names and their aliases are accepted', () => {
    for (const timeZone of ['UTC', 'Africa/Nairobi', 'US/Eastern', 'Etc/GMT-3']) {
      expect(() => synthOps({ maintenance: { timeZone } })).not.toThrow();
    }
  });
});
