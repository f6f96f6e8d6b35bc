import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import {
  DATABASE_CA_DIR, DATABASE_ENV_NAMES, databaseCaVolume, DatabaseConnection, databaseTlsEnv,
} from './database';
import { checkAppObjects } from '../internal/app-objects';
import type { RedisConnection } from './redis';
import { checkDnsSubdomain, checkEnvName, checkNoUrlCredentials, fail, PropsError } from '../internal/validate';

/**
 * The part of a container's props an {@link AppEnv} provides: spread into
 * any cdk8s-plus `ContainerProps`.
 */
export interface AppEnvContainerProps {
  /** The Secrets loaded whole. */
  readonly envFrom?: kplus.EnvFrom[];
  /** The variables. */
  readonly envVariables?: Record<string, kplus.EnvValue>;
  /** The database CA mount, when the database has one. */
  readonly volumeMounts?: kplus.VolumeMount[];
}

/** Options for {@link AppEnv}. */
export interface AppEnvOptions {
  /**
   * Secret loaded with envFrom into every container (DATABASE_URL or
   * DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD, keys, ...). Created by you,
   * never by this library, so no secret value lands in dist/.
   * @default 'erp-api-env'
   */
  readonly secretName?: string;
  /**
   * A database to connect to. Adds DB_HOST, DB_PORT and DB_NAME, and DB_USER /
   * DB_PASSWORD from the database's Secret; they win over the same keys in
   * `secretName`.
   * @default - the connection comes from `secretName` alone
   */
  readonly database?: DatabaseConnection;
  /**
   * A Redis for the Celery broker and the cache: adds REDIS_URL and
   * CELERY_BROKER_URL, and the Redis client labels.
   * @default - none
   */
  readonly redis?: RedisConnection;
  /**
   * Plain (non-secret) variables, e.g. DJANGO_SETTINGS_MODULE. Written to
   * the manifests in clear, so a URL with a password in it
   * (`postgres://user:pw@host/db`, `redis://:pw@host`) is refused.
   * @default {}
   */
  readonly env?: Record<string, string>;
  /**
   * This application may share its database (same host, port and database
   * name) with another application of the same App. Without it, sharing is
   * a synth-time error: two applications in one database share its tables
   * (`django_migrations`, auth, sessions), its owner role and, unless told
   * otherwise, their migration lock.
   * @default false
   */
  readonly shareDatabase?: boolean;
}

/** The AppEnvs with a database of each App (root construct), in construction order. */
const APP_ENVS = new WeakMap<IConstruct, AppEnv[]>();

/**
 * The single definition of an application's environment. Every container of
 * the app (server, init containers, migration Job, Celery worker and beat,
 * operations Jobs) gets exactly this — the database's TLS variables and CA
 * mount included — so a wait container can never miss the external
 * database's variables. One AppEnv is one application: two of one App on
 * the same database fail at synth unless one sets `shareDatabase`.
 */
export class AppEnv extends Construct {
  /** Secret loaded with envFrom. */
  public readonly secretName: string;
  /** The database connection, if any. */
  public readonly database?: DatabaseConnection;
  /** Labels pods must carry (the database's client labels). */
  public readonly podLabels: Record<string, string>;
  /** Whether this application may share its database with another one. */
  public readonly shareDatabase: boolean;
  private readonly plain: Record<string, string>;
  private readonly secret: kplus.ISecret;
  private readonly dbSecret?: kplus.ISecret;
  private readonly caVolume?: kplus.Volume;
  private key?: string;

  constructor(scope: Construct, id: string, options: AppEnvOptions = {}) {
    super(scope, id);
    checkAppObjects(this);
    this.secretName = checkDnsSubdomain(scope, 'envSecretName', options.secretName ?? 'erp-api-env');
    this.database = options.database;
    this.shareDatabase = options.shareDatabase ?? false;
    this.plain = { ...(options.env ?? {}) };
    if (options.redis) {
      for (const k of ['REDIS_URL', 'CELERY_BROKER_URL']) {
        if (this.plain[k] !== undefined) fail(scope, `env.${k}`, this.plain[k], "is set from 'redis'; remove it from 'env' or drop 'redis'");
        this.plain[k] = options.redis.url;
      }
    }
    for (const name of Object.keys(this.plain)) {
      checkEnvName(scope, `env.${name}`, name);
      if (typeof this.plain[name] !== 'string') fail(scope, `env.${name}`, this.plain[name], 'must be a string (quote numbers and booleans, e.g. ' +
        '"False")');
      checkNoUrlCredentials(scope, `env.${name}`, this.plain[name],
        `put the variable in the Secret '${this.secretName}' (loaded with envFrom), or pass the database as 'database' and Redis as 'redis'`);
      if (this.database && (DATABASE_ENV_NAMES as readonly string[]).includes(name)) {
        fail(scope, `env.${name}`, this.plain[name], "is set from 'database'; remove it from 'env' or drop 'database'");
      }
      if (this.database && name in databaseTlsEnv(this.database)) {
        fail(scope, `env.${name}`, this.plain[name], "is set from the database's 'sslMode' / 'caSecretName'; remove it from 'env' and set those " +
          "instead");
      }
    }
    this.podLabels = { ...(options.database?.clientLabels ?? {}), ...(options.redis?.clientLabels ?? {}) };
    this.secret = kplus.Secret.fromSecretName(this, 'EnvSecret', this.secretName);
    if (this.database) {
      this.dbSecret = kplus.Secret.fromSecretName(this, 'DatabaseSecret', this.database.secretName);
      this.caVolume = databaseCaVolume(this, this.database);
      const root = this.node.root;
      if (!APP_ENVS.has(root)) APP_ENVS.set(root, []);
      APP_ENVS.get(root)!.push(this);
      this.node.addValidation({ validate: () => this.sharedDatabaseErrors() });
    }
  }

  /**
   * Container props carrying the environment (and the database CA mount, when
   * the database has one): spread them into any ContainerProps. `extra`
   * variables are added last.
   */
  public containerProps(extra: Record<string, kplus.EnvValue> = {}): AppEnvContainerProps {
    const vars: Record<string, kplus.EnvValue> = {};
    for (const [k, v] of Object.entries(this.plain)) vars[k] = kplus.EnvValue.fromValue(v);
    if (this.database && this.dbSecret) {
      vars.DB_HOST = kplus.EnvValue.fromValue(this.database.host);
      vars.DB_PORT = kplus.EnvValue.fromValue(String(this.database.port));
      vars.DB_NAME = kplus.EnvValue.fromValue(this.database.databaseName);
      vars.DB_USER = kplus.EnvValue.fromSecretValue({ secret: this.dbSecret, key: 'username' });
      vars.DB_PASSWORD = kplus.EnvValue.fromSecretValue({ secret: this.dbSecret, key: 'password' });
      Object.assign(vars, databaseTlsEnv(this.database));
    }
    Object.assign(vars, extra);
    return {
      envFrom: [kplus.Env.fromSecret(this.secret)],
      envVariables: vars,
      ...(this.caVolume ? { volumeMounts: [{ path: DATABASE_CA_DIR, volume: this.caVolume, readOnly: true }] } : {}),
    };
  }

  /**
   * One database per application: another AppEnv of the App (made before
   * this one, so each pair is reported once) on the same server and database
   * is an error unless one of the two opted in with `shareDatabase`.
   */
  private sharedDatabaseErrors(): string[] {
    if (!this.database) return [];
    const mine = this.databaseKey();
    const errors: string[] = [];
    for (const other of APP_ENVS.get(this.node.root) ?? []) {
      if (other === this) break;
      if (other.databaseKey() !== mine || this.shareDatabase || other.shareDatabase) continue;
      const owner = this.node.scope ?? this;
      const d = this.database;
      errors.push(new PropsError(owner.node.path, 'database', `${d.host}:${d.port}/${d.databaseName}`,
        `is also the database of ${(other.node.scope ?? other).node.path}: two applications in one database share its tables ` +
        '(django_migrations, auth, sessions) and its owner role, and can read each other\'s data. Give each its own database ' +
        "(e.g. CostMgmtPostgres.databaseFor('api_gateway') for the gateway), or share it on purpose with 'shareDatabase: true' " +
        '(ApiGatewayChart) and one migration lock key').message);
    }
    return errors;
  }

  /**
   * Server and database of the connection: a short host name (a Service) is
   * qualified with the chart's namespace, `.svc` and `.svc.cluster.local`
   * are dropped, so `postgres` in `erp` and `postgres.erp.svc.cluster.local`
   * are the same server.
   */
  private databaseKey(): string {
    if (this.key === undefined) {
      const d = this.database!;
      let host = d.host.replace(/\.svc(\.cluster\.local)?$/, '');
      if (!host.includes('.')) host = `${host}.${Chart.of(this).namespace ?? 'default'}`;
      this.key = `${host}:${d.port}/${d.databaseName}`;
    }
    return this.key;
  }
}
