import { Duration } from 'cdk8s';
import { MARKER_COLUMNS, MARKER_TABLE } from '../data/backup-scripts';
import { fail } from '../internal/validate';

/** Options shared by every migration framework. */
export interface MigrationsOptions {
  /**
   * How many times the wait-for-database step tries before it gives up.
   * @default 60
   */
  readonly waitAttempts?: number;
  /**
   * Pause between two attempts.
   * @default Duration.seconds(2)
   */
  readonly waitInterval?: Duration;
  /**
   * Replaces the wait-for-database command (exec form, no shell added).
   * @default - the framework's own check, retried `waitAttempts` times
   */
  readonly waitCommand?: string[];
  /**
   * Replaces the migrate command (exec form).
   * @default - the framework's migrate, under a PostgreSQL advisory lock
   */
  readonly migrateCommand?: string[];
  /**
   * Key of the PostgreSQL advisory lock that serialises migrators (the Job and
   * every starting pod). Apps sharing one database must share the key.
   * @default 7245501
   */
  readonly lockKey?: number;
}

/** Options for {@link Migrations.django}. */
export interface DjangoMigrationsOptions extends MigrationsOptions {
  /**
   * Path of manage.py inside the image (relative to the working directory).
   * @default 'manage.py'
   */
  readonly manageScript?: string;
}

/** Options for {@link Migrations.alembic}. */
export interface AlembicMigrationsOptions extends MigrationsOptions {
  /**
   * ASGI application served by uvicorn.
   * @default 'app.main:app'
   */
  readonly asgiApp?: string;
  /**
   * uvicorn worker processes.
   * @default 4
   */
  readonly workers?: number;
  /**
   * alembic.ini path.
   * @default 'alembic.ini'
   */
  readonly configFile?: string;
  /**
   * Directory the app writes its log file to (seed 002:
   * `/var/log/erp/app.log`). Root filesystems are read-only, so every
   * container of the app gets an emptyDir here (see
   * {@link Migrations.writableDirectories}). `''` for none.
   * @default '/var/log/erp'
   */
  readonly logDirectory?: string;
}

/**
 * Options of the operations commands ({@link Migrations.healthCheckCommand},
 * {@link Migrations.bootstrapCommand}, ...). Each says which framework it
 * applies to; the other ignores it.
 */
export interface OperationsCommandOptions {
  /**
   * Directory of seed 002's maintenance scripts, relative to the working
   * directory. Alembic only (Django runs its built-in management commands).
   * @default 'scripts/prod'
   */
  readonly scriptDir?: string;
  /**
   * Run the cleanup for real (`cleanup_old_data.py --execute`) instead of a
   * dry run. Alembic only: Django's `clearsessions` has no dry run and only
   * ever deletes expired sessions.
   * @default false
   */
  readonly cleanupExecute?: boolean;
  /**
   * Name of the bootstrap CLI's `console_scripts` entry point. Alembic only.
   * @default 'erp-bootstrap'
   */
  readonly cli?: string;
}

/**
 * Environment variables the bootstrap command reads (the password is never
 * passed on a command line).
 */
export const BOOTSTRAP_ENV = {
  username: 'ADMIN_USERNAME',
  email: 'ADMIN_EMAIL',
  password: 'ADMIN_PASSWORD',
} as const;

/**
 * Output of a failed `erp-bootstrap --bootstrap-admin` that means "already
 * done": `Error: user 'admin' already exists`, or `Error: users already
 * exist; bootstrap is disabled (ALLOW_BOOTSTRAP_WHEN_USERS_EXIST=False)`.
 * Not `relation "users" does not exist`, not PostgreSQL's
 * `Key (username)=(admin) already exists`. The same source is compiled by
 * JavaScript ({@link classifyBootstrapAdmin}) and embedded in the Python of
 * the bootstrap command (both dialects read it alike).
 */
export const ALREADY_BOOTSTRAPPED_PATTERN = String.raw`\b(?:user\s+(?:(['"])[^'"\n]*\1\s+)?already\s+exists|users\s+already\s+exist)\b`;

/** A crash is never "already bootstrapped", whatever its message says. */
export const PYTHON_TRACEBACK = 'Traceback (most recent call last):';

/** What a `--bootstrap-admin` run amounted to. */
export type BootstrapOutcome = 'created' | 'already-exists' | 'failed';

/**
 * Classifies a `--bootstrap-admin` run by its exit code and combined output:
 * exit 0 is `created`; a non-zero exit whose output says a user (or users)
 * already exist, without a Python traceback, is `already-exists` (a second
 * run, safe); anything else is `failed`. The bootstrap command embeds exactly
 * this rule.
 */
export function classifyBootstrapAdmin(exitCode: number, output: string): BootstrapOutcome {
  if (exitCode === 0) return 'created';
  if (new RegExp(ALREADY_BOOTSTRAPPED_PATTERN, 'i').test(output) && !output.includes(PYTHON_TRACEBACK)) return 'already-exists';
  return 'failed';
}

/** Shell-quotes one word for `sh -c`. */
export function shQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}

/**
 * A POSIX sh loop that runs `check` up to `attempts` times, `intervalSeconds`
 * apart, and exits 0 on the first success or 1 after the last failure.
 */
export function retryLoop(check: string, attempts: number, intervalSeconds: number, what: string): string {
  return [
    'i=0',
    `while [ "$i" -lt ${attempts} ]; do`,
    `  if ${check}; then echo "${what}: ready after $((i+1)) attempt(s)"; exit 0; fi`,
    '  i=$((i+1))',
    `  [ "$i" -lt ${attempts} ] || break`,
    `  echo "${what}: not ready (attempt $i/${attempts}); retrying in ${intervalSeconds}s" >&2`,
    `  sleep ${intervalSeconds}`,
    'done',
    `echo "${what}: gave up after ${attempts} attempts" >&2`,
    'exit 1',
  ].join('\n');
}

/**
 * The migration framework of an application: how to wait for its database,
 * how to migrate it (serialised by a PostgreSQL advisory lock, released even
 * on failure), how to tell that migrations are applied, and how to serve it.
 *
 * `Migrations.django()` (seed 000) and `Migrations.alembic()` (FastAPI, seed 002).
 */
export abstract class Migrations {
  /** Django: `manage.py check --database default`, `migrate --fake-initial --noinput` with fallback to plain `migrate`. */
  public static django(options: DjangoMigrationsOptions = {}): Migrations {
    return new DjangoMigrations(options);
  }

  /** FastAPI/SQLAlchemy: `alembic upgrade head`, served by uvicorn (4 workers by default). */
  public static alembic(options: AlembicMigrationsOptions = {}): Migrations {
    return new AlembicMigrations(options);
  }

  /** 'django' or 'alembic'. */
  public abstract readonly framework: string;
  /**
   * Directories the app writes to besides /tmp (root filesystems are
   * read-only): every container running the app's image gets an emptyDir
   * (100Mi) at each (`mountWritableDirectories` in pod-helpers.ts).
   */
  public abstract readonly writableDirectories: string[];
  /** Tries of the wait step. */
  public readonly waitAttempts: number;
  /** Pause between tries. */
  public readonly waitInterval: Duration;
  /** Advisory lock key. */
  public readonly lockKey: number;

  protected constructor(protected readonly options: MigrationsOptions) {
    this.waitAttempts = options.waitAttempts ?? 60;
    this.waitInterval = options.waitInterval ?? Duration.seconds(2);
    this.lockKey = options.lockKey ?? 7245501;
  }

  /** Worst-case time the wait step takes before giving up. */
  public get waitBudget(): Duration {
    return Duration.seconds(this.waitAttempts * this.waitInterval.toSeconds());
  }

  /** Command of the wait-for-database init container. */
  public get waitCommand(): string[] {
    return this.options.waitCommand
      ?? ['sh', '-c', retryLoop(this.databaseCheck(), this.waitAttempts, this.waitInterval.toSeconds(), 'wait-for-db')];
  }

  /** Command of the migrate init container and of the migration Job. */
  public get migrateCommand(): string[] {
    return this.options.migrateCommand ?? this.defaultMigrateCommand();
  }

  /**
   * Command of an init container that waits until every migration is applied
   * (used by Celery worker and beat, which must not start on an old schema).
   */
  public waitForMigrationsCommand(attempts: number, interval: Duration): string[] {
    return ['sh', '-c', retryLoop(this.migrationsAppliedCheck(), attempts, interval.toSeconds(), 'wait-for-migrations')];
  }

  /** The server command, or undefined to keep the image's own CMD. */
  public abstract serverCommand(port: number): string[] | undefined;

  /**
   * Daily health check (exec form): exits non-zero when the app is unhealthy.
   * Django: `check --deploy --fail-level ERROR`, a database connection and
   * `migrate --check`; Alembic: seed 002's `health_check.py`.
   */
  public abstract healthCheckCommand(options?: OperationsCommandOptions): string[];
  /**
   * Daily data-integrity check (exec form). Django: `makemigrations --check
   * --dry-run` (models match migrations) and `migrate --check`; Alembic: seed
   * 002's `check_data_integrity.py`.
   */
  public abstract dataIntegrityCommand(options?: OperationsCommandOptions): string[];
  /**
   * Monthly cleanup (exec form). Django: `clearsessions` (expired sessions
   * only; there is no dry run, so `cleanupExecute` does not apply); Alembic:
   * seed 002's `cleanup_old_data.py`, a dry run unless `cleanupExecute`.
   */
  public abstract cleanupCommand(options?: OperationsCommandOptions): string[];
  /**
   * One-off bootstrap (exec form), safe to run twice, reading the admin's
   * name, e-mail and password from ADMIN_USERNAME, ADMIN_EMAIL and
   * ADMIN_PASSWORD (the password never appears on a command line). Django: creates the superuser unless it
   * exists; Alembic: `erp-bootstrap --seed-rbac`, then `--bootstrap-admin`.
   */
  public abstract bootstrapCommand(options?: OperationsCommandOptions): string[];

  /** A shell condition that succeeds when the database accepts connections. */
  protected abstract databaseCheck(): string;
  /** A shell condition that succeeds when no migration is pending. */
  protected abstract migrationsAppliedCheck(): string;
  /** The locked migrate command. */
  protected abstract defaultMigrateCommand(): string[];
}

class DjangoMigrations extends Migrations {
  public readonly framework = 'django';
  public readonly writableDirectories: string[] = [];
  private readonly manage: string;

  constructor(options: DjangoMigrationsOptions) {
    super(options);
    this.manage = options.manageScript ?? 'manage.py';
  }

  public serverCommand(): string[] | undefined {
    return undefined;
  }

  // Built-in management commands only: the seed's image has nothing else
  // ("Seeding is disabled for ERP-API. Use Django management commands").
  public healthCheckCommand(): string[] {
    const m = shQuote(this.manage);
    const connect = 'from django.db import connection; connection.ensure_connection(); print("health-check: database answers")';
    return ['sh', '-c', [
      'set -eu',
      'echo "health-check: manage.py check --deploy --fail-level ERROR"',
      `python ${m} check --deploy --fail-level ERROR`,
      `python ${m} shell --command ${shQuote(connect)}`,
      `python ${m} migrate --check --noinput || { echo "health-check: unapplied migrations" >&2; exit 1; }`,
      'echo "health-check: ok"',
    ].join('\n')];
  }

  public dataIntegrityCommand(): string[] {
    const m = shQuote(this.manage);
    return ['sh', '-c', [
      'set -eu',
      `python ${m} makemigrations --check --dry-run --noinput || { echo "data-integrity: models have changes that no migration records" >&2; exit 1; }`,
      `python ${m} migrate --check --noinput || { echo "data-integrity: unapplied migrations" >&2; exit 1; }`,
      'echo "data-integrity: ok"',
    ].join('\n')];
  }

  public cleanupCommand(): string[] {
    return ['python', this.manage, 'clearsessions'];
  }

  public bootstrapCommand(): string[] {
    return ['python', this.manage, 'shell', '--command', djangoBootstrapScript()];
  }

  protected databaseCheck(): string {
    // `check --database default` (the seed's) validates the settings, but on
    // PostgreSQL it does not necessarily open a connection (Django >= 4.1 runs
    // no query at all): ensure_connection() proves the server answers.
    const m = shQuote(this.manage);
    return `python ${m} check --database default >/dev/null && python ${m} shell --command ${shQuote('from django.db import connection; connection.ensure_connection()')}`;
  }

  protected migrationsAppliedCheck(): string {
    return `python ${shQuote(this.manage)} migrate --check --noinput >/dev/null`;
  }

  protected defaultMigrateCommand(): string[] {
    // Runs inside `manage.py shell` so settings load exactly as for the app.
    // The session-level advisory lock serialises the Job and every starting
    // pod; `finally` releases it on failure, and PostgreSQL releases it anyway
    // when the connection closes (pod killed mid-migration).
    const script = [
      'import sys',
      'from django.core.management import call_command',
      'from django.db import connection',
      `LOCK = ${this.lockKey}`,
      'cur = connection.cursor()',
      'print("migrate: waiting for advisory lock %d" % LOCK, flush=True)',
      'cur.execute("SELECT pg_advisory_lock(%s)", [LOCK])',
      'try:',
      ...awaitPreMigrationBackup(this.waitBudget.toSeconds(), 'cur.execute', 'cur.fetchone()'),
      '    try:',
      '        call_command("migrate", fake_initial=True, interactive=False)',
      '    except Exception as exc:',
      '        print("migrate --fake-initial failed (%s); falling back to plain migrate" % exc, file=sys.stderr, flush=True)',
      '        call_command("migrate", interactive=False)',
      ...recordFirstMigration('cur.execute'),
      'finally:',
      '    connection.cursor().execute("SELECT pg_advisory_unlock(%s)", [LOCK])',
      '    print("migrate: lock released", flush=True)',
    ].join('\n');
    return ['python', this.manage, 'shell', '--command', script];
  }
}

class AlembicMigrations extends Migrations {
  public readonly framework = 'alembic';
  public readonly writableDirectories: string[];
  private readonly asgiApp: string;
  private readonly workers: number;
  private readonly configFile: string;

  constructor(options: AlembicMigrationsOptions) {
    super(options);
    this.asgiApp = options.asgiApp ?? 'app.main:app';
    this.workers = options.workers ?? 4;
    this.configFile = options.configFile ?? 'alembic.ini';
    const logDirectory = options.logDirectory ?? '/var/log/erp';
    this.writableDirectories = logDirectory === '' ? [] : [checkWritableDirectory('logDirectory', logDirectory)];
  }

  public serverCommand(port: number): string[] {
    return ['uvicorn', this.asgiApp, '--host', '0.0.0.0', '--port', String(port), '--workers', String(this.workers)];
  }

  // Seed 002, "Production Maintenance" and "Recommended Schedule".
  public healthCheckCommand(options: OperationsCommandOptions = {}): string[] {
    return ['python', `${options.scriptDir ?? 'scripts/prod'}/health_check.py`];
  }

  public dataIntegrityCommand(options: OperationsCommandOptions = {}): string[] {
    return ['python', `${options.scriptDir ?? 'scripts/prod'}/check_data_integrity.py`];
  }

  public cleanupCommand(options: OperationsCommandOptions = {}): string[] {
    return ['python', `${options.scriptDir ?? 'scripts/prod'}/cleanup_old_data.py`, ...(options.cleanupExecute ? ['--execute'] : [])];
  }

  public bootstrapCommand(options: OperationsCommandOptions = {}): string[] {
    return ['python', '-c', alembicBootstrapScript(options.cli ?? 'erp-bootstrap')];
  }

  protected databaseCheck(): string {
    return `alembic -c ${shQuote(this.configFile)} current >/dev/null`;
  }

  protected migrationsAppliedCheck(): string {
    const c = shQuote(this.configFile);
    return `[ "$(alembic -c ${c} current 2>/dev/null | cut -d' ' -f1 | sort)" = "$(alembic -c ${c} heads | cut -d' ' -f1 | sort)" ]`;
  }

  protected defaultMigrateCommand(): string[] {
    // The lock is taken on its own synchronous connection (the app may use an
    // async driver such as asyncpg in DATABASE_URL); alembic migrates on its own.
    const script = [
      'import os, re, sys',
      'from alembic import command',
      'from alembic.config import Config',
      'from sqlalchemy import create_engine, text',
      `LOCK = ${this.lockKey}`,
      'url = os.environ.get("DATABASE_URL") or "postgresql://%s:%s@%s:%s/%s" % tuple(os.environ[k] for k in ("DB_USER", "DB_PASSWORD", "DB_HOST", "DB_PORT", "DB_NAME"))',
      'url = re.sub(r"^postgres(ql)?(\\+\\w+)?://", "postgresql://", url)',
      'conn = create_engine(url, isolation_level="AUTOCOMMIT").connect()',
      'print("migrate: waiting for advisory lock %d" % LOCK, flush=True)',
      'conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK})',
      'try:',
      ...awaitPreMigrationBackup(this.waitBudget.toSeconds(), 'conn.exec_driver_sql', 'RESULT.fetchone()'),
      `    command.upgrade(Config(${JSON.stringify(this.configFile)}), "head")`,
      ...recordFirstMigration('conn.exec_driver_sql'),
      'finally:',
      '    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK})',
      '    conn.close()',
      '    print("migrate: lock released", flush=True)',
    ].join('\n');
    return ['python', '-c', script];
  }
}

/**
 * Python lines (inside the locked `try:`, indented 4) that wait, when
 * ERP_K8S_RELEASE is set, until the pre-migration backup of that release is
 * recorded in `erp_k8s.pre_migration_backups` (see backup-scripts.ts), giving
 * the lock up while waiting so the backup's own session is never blocked. A
 * database without the table (before the first release with pre-migration
 * backups, or just restored) does not wait. Top-level statements only (see
 * djangoBootstrapScript). `exec` runs SQL with %s parameters; `fetch` reads a
 * row (RESULT is the value `exec` returned). ERP_K8S_BACKUP_WAIT_SECONDS
 * bounds the wait (default: the wait-for-database budget).
 */
function awaitPreMigrationBackup(budgetSeconds: number, exec: string, fetch: string): string[] {
  const row = (sql: string, params = '') => [
    `    RESULT = ${exec}(${JSON.stringify(sql)}${params ? `, ${params}` : ''})`,
    `    ROW = ${fetch}`,
  ];
  return [
    '    import os as _os, time as _time',
    '    RELEASE = _os.environ.get("ERP_K8S_RELEASE", "")',
    `    WAIT = int(_os.environ.get("ERP_K8S_BACKUP_WAIT_SECONDS", "${budgetSeconds}"))`,
    '    DEADLINE = _time.time() + WAIT',
    '    while RELEASE:',
    ...row(`SELECT to_regclass('${MARKER_TABLE}') IS NOT NULL`).map((l) => `    ${l}`),
    '        if not ROW[0]:',
    '            print("migrate: no %s table (first release with pre-migration backups, or a restored database): not waiting for a backup" % ' +
      `${JSON.stringify(MARKER_TABLE)}, flush=True)`,
    '            break',
    ...row(`SELECT backup FROM ${MARKER_TABLE} WHERE release = %s`, '(RELEASE,)').map((l) => `    ${l}`),
    '        if ROW:',
    '            print("migrate: pre-migration backup of release %s: %s" % (RELEASE, ROW[0]), flush=True)',
    '            break',
    '        if _time.time() > DEADLINE:',
    '            raise SystemExit("migrate: no pre-migration backup of release %s after %ds: its backup Job dumps the database first; ' +
      'see kubectl get jobs -l app.kubernetes.io/component=pre-migration-backup and its logs" % (RELEASE, WAIT))',
    '        print("migrate: waiting for the pre-migration backup of release %s" % RELEASE, flush=True)',
    `        ${exec}("SELECT pg_advisory_unlock(%s)", (LOCK,))`,
    '        _time.sleep(5)',
    `        ${exec}("SELECT pg_advisory_lock(%s)", (LOCK,))`,
  ];
}

/**
 * Python lines run after a successful migration: with ERP_K8S_RELEASE set,
 * creates the record table if needed and records the release (as migrated
 * without a backup if its backup did not record it), so later releases wait
 * for theirs and restarts of this one do not.
 */
function recordFirstMigration(exec: string): string[] {
  return [
    '    if _os.environ.get("ERP_K8S_RELEASE", ""):',
    `        ${exec}("CREATE SCHEMA IF NOT EXISTS ${MARKER_TABLE.split('.')[0]}")`,
    `        ${exec}(${JSON.stringify(`CREATE TABLE IF NOT EXISTS ${MARKER_TABLE} (${MARKER_COLUMNS})`)})`,
    `        ${exec}(${JSON.stringify(`INSERT INTO ${MARKER_TABLE} (release, backup) VALUES (%s, 'none') ON CONFLICT (release) DO NOTHING`)}, (RELEASE,))`,
  ];
}

/**
 * `manage.py shell --command` script creating the admin superuser unless it
 * exists. Top-level statements only (no def, no comprehension): older
 * Django versions exec the command without module globals. An exception
 * exits non-zero and fails the Job.
 */
export function djangoBootstrapScript(): string {
  const e = BOOTSTRAP_ENV;
  return [
    'import os',
    'from django.contrib.auth import get_user_model',
    'User = get_user_model()',
    `username = os.environ[${JSON.stringify(e.username)}]`,
    'if User.objects.filter(username=username).exists():',
    '    print("bootstrap: superuser %r already exists; nothing to do" % username, flush=True)',
    'else:',
    `    User.objects.create_superuser(username, os.environ[${JSON.stringify(e.email)}], os.environ[${JSON.stringify(e.password)}])`,
    '    print("bootstrap: created superuser %r" % username, flush=True)',
  ].join('\n');
}

/**
 * The Python run by one bootstrap step in its own interpreter: it calls the
 * CLI's `console_scripts` entry point in-process, as the CLI's own launcher
 * would, after appending `--password <$ADMIN_PASSWORD>` to `sys.argv` for
 * `--bootstrap-admin` (Python's `sys.argv` is not /proc/<pid>/cmdline).
 */
export function consoleScriptStep(cli: string): string {
  return [
    'import os, sys',
    'from importlib.metadata import entry_points',
    `CLI = ${JSON.stringify(cli)}`,
    'args = sys.argv[1:]',
    'if "--bootstrap-admin" in args:',
    `    args += ["--password", os.environ[${JSON.stringify(BOOTSTRAP_ENV.password)}]]`,
    'try:',
    '    found = list(entry_points(group="console_scripts", name=CLI))',
    'except TypeError:  # Python < 3.10',
    '    found = [e for e in entry_points().get("console_scripts", ()) if e.name == CLI]',
    'if not found:',
    '    sys.exit("bootstrap: no console_scripts entry point %r in this image" % CLI)',
    'sys.argv = [CLI] + args',
    'sys.exit(found[0].load()())',
  ].join('\n');
}

/**
 * `python -c` driver of the FastAPI bootstrap (seed 002): `<cli> --seed-rbac`,
 * then `<cli> --bootstrap-admin --username U --email E --password P`, each in
 * a fresh interpreter ({@link consoleScriptStep}: the same process state as
 * running the CLI from a shell, e.g. no async engine reused across event
 * loops). Any failure fails the Job, except a second `--bootstrap-admin` that
 * reports an existing user ({@link classifyBootstrapAdmin}, same rule).
 */
export function alembicBootstrapScript(cli: string): string {
  const e = BOOTSTRAP_ENV;
  return [
    'import os, re, subprocess, sys',
    `CLI = ${JSON.stringify(cli)}`,
    `STEP = ${JSON.stringify(consoleScriptStep(cli))}`,
    `ALREADY = re.compile(${JSON.stringify(ALREADY_BOOTSTRAPPED_PATTERN)}, re.IGNORECASE)`,
    `TRACEBACK = ${JSON.stringify(PYTHON_TRACEBACK)}`,
    'def run(args, shown, capture):',
    '    print("bootstrap: %s %s" % (CLI, " ".join(shown)), flush=True)',
    '    return subprocess.run([sys.executable, "-c", STEP] + args, capture_output=capture, text=True, errors="replace")',
    'def exit_code(rc):',
    '    return rc if rc > 0 else 1',
    'rbac = run(["--seed-rbac"], ["--seed-rbac"], False)',
    'if rbac.returncode != 0:',
    '    print("bootstrap: %s --seed-rbac failed (exit %d)" % (CLI, rbac.returncode), file=sys.stderr, flush=True)',
    '    sys.exit(exit_code(rbac.returncode))',
    `user, email = os.environ[${JSON.stringify(e.username)}], os.environ[${JSON.stringify(e.email)}]`,
    'args = ["--bootstrap-admin", "--username", user, "--email", email]',
    `admin = run(args, args + ["--password", "<$${e.password}>"], True)`,
    'sys.stdout.write(admin.stdout)',
    'sys.stderr.write(admin.stderr)',
    'sys.stdout.flush()',
    'sys.stderr.flush()',
    'output = admin.stdout + admin.stderr',
    'if admin.returncode == 0:',
    '    print("bootstrap: admin %r created" % user, flush=True)',
    'elif ALREADY.search(output) and TRACEBACK not in output:',
    '    print("bootstrap: a user already exists; nothing to do", flush=True)',
    'else:',
    '    print("bootstrap: %s --bootstrap-admin failed (exit %d)" % (CLI, admin.returncode), file=sys.stderr, flush=True)',
    '    sys.exit(exit_code(admin.returncode))',
  ].join('\n');
}

/** Checks a directory for {@link Migrations.writableDirectories}. */
function checkWritableDirectory(field: string, dir: string): string {
  if (typeof dir !== 'string' || !/^(\/[A-Za-z0-9._-]+)+$/.test(dir) || dir.split('/').some((p) => p === '.' || p === '..') || dir === '/tmp') {
    fail('Migrations.alembic', field, dir, "must be an absolute directory such as '/var/log/erp' (no trailing '/', '.' or '..'; not /tmp, which is mounted already), or '' for none");
  }
  return dir;
}

/** Helm hook phases a migration Job can run in. */
export enum HelmHook {
  PRE_INSTALL = 'pre-install',
  PRE_UPGRADE = 'pre-upgrade',
  POST_INSTALL = 'post-install',
  POST_UPGRADE = 'post-upgrade',
}

/** Argo CD hook phases. */
export enum ArgoCdHook {
  PRE_SYNC = 'PreSync',
  SYNC = 'Sync',
  POST_SYNC = 'PostSync',
}

/** Options for {@link MigrationDelivery}. */
export interface MigrationDeliveryOptions {
  /**
   * Helm hook phases.
   * @default [HelmHook.PRE_INSTALL, HelmHook.PRE_UPGRADE]
   */
  readonly helmHooks?: HelmHook[];
  /**
   * `helm.sh/hook-weight`.
   * @default 0
   */
  readonly hookWeight?: number;
  /**
   * Argo CD hook phase. Argo CD maps both Helm pre-install and pre-upgrade to
   * PreSync; use SYNC (with a sync wave after the database) when the database
   * is deployed in the same sync, or PreSync would run before it exists.
   * @default ArgoCdHook.PRE_SYNC
   */
  readonly argoCdHook?: ArgoCdHook;
  /**
   * `argocd.argoproj.io/sync-wave`.
   * @default 0
   */
  readonly syncWave?: number;
}

/**
 * How a delivery tool should treat the migration Job.
 *
 * | tool | honours |
 * |------|---------|
 * | `kubectl apply` | the unique name: a new release id is a new Job; the same id is a no-op |
 * | Helm | `helm.sh/hook*` annotations |
 * | Argo CD | `argocd.argoproj.io/hook*` and `sync-wave` (it ignores Helm hooks when its own are present) |
 *
 * `MigrationDelivery.all()` (the default) carries all three, which is safe
 * together: each tool reads only its own annotations, and the name is unique
 * per release in every case.
 */
export class MigrationDelivery {
  /** Helm hook + Argo CD hook + unique name. */
  public static all(options: MigrationDeliveryOptions = {}): MigrationDelivery {
    return new MigrationDelivery(true, true, options);
  }

  /** Helm hook annotations only (and the unique name). */
  public static helm(options: MigrationDeliveryOptions = {}): MigrationDelivery {
    return new MigrationDelivery(true, false, options);
  }

  /** Argo CD hook and sync wave only (and the unique name). */
  public static argoCd(options: MigrationDeliveryOptions = {}): MigrationDelivery {
    return new MigrationDelivery(false, true, options);
  }

  /** A plain, uniquely named Job for `kubectl apply`. */
  public static plain(): MigrationDelivery {
    return new MigrationDelivery(false, false, {});
  }

  private constructor(
    public readonly helm: boolean,
    public readonly argoCd: boolean,
    public readonly options: MigrationDeliveryOptions,
  ) {}

  /** The annotations to put on the Job. */
  public annotations(): Record<string, string> {
    const a: Record<string, string> = {};
    if (this.helm) {
      a['helm.sh/hook'] = (this.options.helmHooks ?? [HelmHook.PRE_INSTALL, HelmHook.PRE_UPGRADE]).join(',');
      a['helm.sh/hook-weight'] = String(this.options.hookWeight ?? 0);
      a['helm.sh/hook-delete-policy'] = 'before-hook-creation';
    }
    if (this.argoCd) {
      a['argocd.argoproj.io/hook'] = this.options.argoCdHook ?? ArgoCdHook.PRE_SYNC;
      a['argocd.argoproj.io/hook-delete-policy'] = 'BeforeHookCreation';
      a['argocd.argoproj.io/sync-wave'] = String(this.options.syncWave ?? 0);
    }
    return a;
  }
}
