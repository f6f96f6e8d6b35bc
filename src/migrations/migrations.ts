import { Duration } from 'cdk8s';
import { alembicCommands } from './alembic';
import { djangoCommands } from './django';
import { retryLoop } from './scripts';

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
 * The migration framework of an application: how to wait for its database,
 * how to migrate it (serialised by a PostgreSQL advisory lock, released even
 * on failure), how to tell that migrations are applied, and how to serve it.
 *
 * `Migrations.django()` (seed 000) and `Migrations.alembic()` (FastAPI, seed 002).
 */
export abstract class Migrations {
  /** Django: `manage.py check --database default`, `migrate --fake-initial --noinput` with fallback to plain `migrate`. */
  public static django(options: DjangoMigrationsOptions = {}): Migrations {
    return new FrameworkMigrations(options, djangoCommands(options));
  }

  /** FastAPI/SQLAlchemy: `alembic upgrade head`, served by uvicorn (4 workers by default). */
  public static alembic(options: AlembicMigrationsOptions = {}): Migrations {
    return new FrameworkMigrations(options, alembicCommands(options));
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

/**
 * What one framework (django.ts, alembic.ts) contributes to {@link Migrations}:
 * its name, its directories and its commands; the locked migrate command
 * gets the lock key and the wait budget.
 * @internal
 */
export interface FrameworkCommands {
  readonly framework: string;
  readonly writableDirectories: string[];
  serverCommand(port: number): string[] | undefined;
  healthCheckCommand(options: OperationsCommandOptions): string[];
  dataIntegrityCommand(options: OperationsCommandOptions): string[];
  cleanupCommand(options: OperationsCommandOptions): string[];
  bootstrapCommand(options: OperationsCommandOptions): string[];
  databaseCheck(): string;
  migrationsAppliedCheck(): string;
  migrateCommand(lockKey: number, waitBudgetSeconds: number): string[];
}

/**
 * The {@link Migrations} of a framework: the shared options (wait, lock)
 * here, the framework's own commands from {@link FrameworkCommands}. (The
 * frameworks are tables rather than subclasses: a subclass in its own file
 * would import this module while `Migrations.django()` imports it back.)
 */
class FrameworkMigrations extends Migrations {
  public readonly framework: string;
  public readonly writableDirectories: string[];

  constructor(options: MigrationsOptions, private readonly commands: FrameworkCommands) {
    super(options);
    this.framework = commands.framework;
    this.writableDirectories = commands.writableDirectories;
  }

  public serverCommand(port: number): string[] | undefined {
    return this.commands.serverCommand(port);
  }

  public healthCheckCommand(options: OperationsCommandOptions = {}): string[] {
    return this.commands.healthCheckCommand(options);
  }

  public dataIntegrityCommand(options: OperationsCommandOptions = {}): string[] {
    return this.commands.dataIntegrityCommand(options);
  }

  public cleanupCommand(options: OperationsCommandOptions = {}): string[] {
    return this.commands.cleanupCommand(options);
  }

  public bootstrapCommand(options: OperationsCommandOptions = {}): string[] {
    return this.commands.bootstrapCommand(options);
  }

  protected databaseCheck(): string {
    return this.commands.databaseCheck();
  }

  protected migrationsAppliedCheck(): string {
    return this.commands.migrationsAppliedCheck();
  }

  protected defaultMigrateCommand(): string[] {
    return this.commands.migrateCommand(this.lockKey, this.waitBudget.toSeconds());
  }
}
