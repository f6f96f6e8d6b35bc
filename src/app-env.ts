import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { DATABASE_ENV_NAMES, DatabaseConnection } from './database';
import type { RedisConnection } from './redis';
import { checkDnsSubdomain, checkEnvName, fail } from './validate';

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
   * Plain (non-secret) variables, e.g. DJANGO_SETTINGS_MODULE.
   * @default {}
   */
  readonly env?: Record<string, string>;
}

/**
 * The single definition of an application's environment. Every container of
 * the app (server, init containers, migration Job, Celery worker and beat)
 * gets exactly this, so a wait container can never miss the external
 * database's variables.
 */
export class AppEnv extends Construct {
  /** Secret loaded with envFrom. */
  public readonly secretName: string;
  /** The database connection, if any. */
  public readonly database?: DatabaseConnection;
  /** Labels pods must carry (the database's client labels). */
  public readonly podLabels: Record<string, string>;
  private readonly plain: Record<string, string>;
  private readonly secret: kplus.ISecret;
  private readonly dbSecret?: kplus.ISecret;

  constructor(scope: Construct, id: string, options: AppEnvOptions = {}) {
    super(scope, id);
    this.secretName = checkDnsSubdomain(scope, 'envSecretName', options.secretName ?? 'erp-api-env');
    this.database = options.database;
    this.plain = { ...(options.env ?? {}) };
    if (options.redis) {
      for (const k of ['REDIS_URL', 'CELERY_BROKER_URL']) {
        if (this.plain[k] !== undefined) fail(scope, `env.${k}`, this.plain[k], "is set from 'redis'; remove it from 'env' or drop 'redis'");
        this.plain[k] = options.redis.url;
      }
    }
    for (const name of Object.keys(this.plain)) {
      checkEnvName(scope, `env.${name}`, name);
      if (typeof this.plain[name] !== 'string') fail(scope, `env.${name}`, this.plain[name], 'must be a string (quote numbers and booleans, e.g. "False")');
      if (this.database && (DATABASE_ENV_NAMES as readonly string[]).includes(name)) {
        fail(scope, `env.${name}`, this.plain[name], "is set from 'database'; remove it from 'env' or drop 'database'");
      }
    }
    this.podLabels = { ...(options.database?.clientLabels ?? {}), ...(options.redis?.clientLabels ?? {}) };
    this.secret = kplus.Secret.fromSecretName(this, 'EnvSecret', this.secretName);
    if (this.database) {
      this.dbSecret = kplus.Secret.fromSecretName(this, 'DatabaseSecret', this.database.secretName);
    }
  }

  /** Container props carrying the environment: spread them into any ContainerProps. */
  public containerProps(): Pick<kplus.ContainerProps, 'envFrom' | 'envVariables'> {
    const vars: Record<string, kplus.EnvValue> = {};
    for (const [k, v] of Object.entries(this.plain)) vars[k] = kplus.EnvValue.fromValue(v);
    if (this.database && this.dbSecret) {
      vars.DB_HOST = kplus.EnvValue.fromValue(this.database.host);
      vars.DB_PORT = kplus.EnvValue.fromValue(String(this.database.port));
      vars.DB_NAME = kplus.EnvValue.fromValue(this.database.databaseName);
      vars.DB_USER = kplus.EnvValue.fromSecretValue({ secret: this.dbSecret, key: 'username' });
      vars.DB_PASSWORD = kplus.EnvValue.fromSecretValue({ secret: this.dbSecret, key: 'password' });
    }
    return { envFrom: [kplus.Env.fromSecret(this.secret)], envVariables: vars };
  }
}
