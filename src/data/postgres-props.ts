import { Duration, Size } from 'cdk8s';
import { PostgresSslMode } from './database';
import { PostgresBackupOptions } from './backup-options';
import { PostgresDatabaseSpec } from './postgres-sql';
import { ComputeResources } from '../internal/resources';

/** Properties of {@link CostMgmtPostgres}. */
export interface CostMgmtPostgresProps {
  /**
   * Run PostgreSQL in the cluster. `false`: use an external server (`host`);
   * only the connection (and the backup CronJob) is produced.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Host of the external server; only with `enabled: false`.
   * @default - none: required when `enabled` is false
   */
  readonly host?: string;
  /** TCP port. @default 5432 */
  readonly port?: number;
  /** Application database (POSTGRESQL_DATABASE). @default 'koku' */
  readonly databaseName?: string;
  /** Application user (POSTGRESQL_USER). @default 'koku' */
  readonly username?: string;
  /**
   * A Secret you created with the keys `database`, `username`, `password`
   * (its database and username must match `databaseName` and `username`).
   * @default - in-cluster: `postgres-credentials`, generated in the cluster; external: `postgres-credentials`, created by you
   */
  readonly secretName?: string;
  /**
   * The former name of `secretName`.
   * @deprecated use `secretName`
   * @default - see `secretName`
   */
  readonly existingSecret?: string;
  /** Server image, pinned. @default 'quay.io/sclorg/postgresql-13-c9s:c9s' */
  readonly image?: string;
  /** Size of the data volume (`postgresql-data`). @default Size.gibibytes(20) */
  readonly volumeSize?: Size;
  /**
   * Size of the data volume as a quantity string (`'20Gi'`).
   * @deprecated use `volumeSize` (`Size.gibibytes(20)`)
   * @default - see `volumeSize`
   */
  readonly storageSize?: string;
  /** Storage class of the data volume. @default - the cluster's default storage class */
  readonly storageClassName?: string;
  /** Requests and limits of the server. @default 500m/1Gi requests, 2/2Gi limits */
  readonly resources?: ComputeResources;
  /** Extensions created in the application database. @default ['pg_stat_statements'] */
  readonly extensions?: string[];
  /** LOGIN roles, each with a generated password in Secret `postgres-<role>-credentials`. @default ['hive'] */
  readonly roles?: string[];
  /** Databases and their owners. @default [{ name: 'hive', owner: 'hive' }] */
  readonly databases?: PostgresDatabaseSpec[];
  /** `shared_preload_libraries`. @default - the extensions that need preloading (pg_stat_statements, pg_cron, pgaudit, timescaledb) */
  readonly sharedPreloadLibraries?: string[];
  /** Longest first start (initdb, crash recovery) before the kubelet restarts the server. @default Duration.minutes(10) */
  readonly startupTimeout?: Duration;
  /**
   * Image of the credentials Job; it runs `python3 -c` (standard library only).
   * @default - the server image (sclorg images ship Python 3 for their start-up scripts)
   */
  readonly credentialsImage?: string;
  /** Requests and limits of the credentials Job. @default 50m/64Mi requests, 200m/128Mi limits */
  readonly credentialsResources?: ComputeResources;
  /**
   * Backups; `{ enabled: false }` for none (`false`, the former form, is a
   * deprecated alias of it).
   * @default - daily at 02:00 UTC, 7 days, PVC `postgres-backups` 20Gi
   */
  readonly backup?: PostgresBackupOptions | false;
  /** Labels that make a pod a client of this database. @default { 'erp-k8s.io/postgres-client': 'true' } */
  readonly clientLabels?: Record<string, string>;
  /** NetworkPolicies: clients only to 5432; egress for the Jobs. @default true */
  readonly networkPolicy?: boolean;
  /**
   * The server's PostgreSQL major version (e.g. 15). Backup and restore
   * clients (pg_dump, pg_restore) must be of this major version or newer, so
   * an external server's is required; an in-cluster one's is read from
   * `image` and, when given too, must agree with it.
   * @default - in-cluster: the major version in `image` (13 for the default image); external: none, required
   */
  readonly version?: number;
  /**
   * libpq `sslmode` of every client: the app, its init containers and
   * migration Job, Celery, the operations Jobs, backups and restore
   * (PGSSLMODE and DB_SSLMODE). In-cluster, `require` and the `verify-*`
   * modes need `tls`.
   * @default - external: PostgresSslMode.REQUIRE; in-cluster: PostgresSslMode.REQUIRE with `tls`, unset (libpq's `prefer`) without
   */
  readonly sslMode?: PostgresSslMode;
  /**
   * Secret with the key `ca.crt`, the CA that signed the server's
   * certificate: mounted read-only (that key only) in every client and set
   * as PGSSLROOTCERT. Required for `verify-ca` and `verify-full`. A
   * cert-manager Secret holds `ca.crt` too: the in-cluster server's `tls`
   * Secret can be named here (clients get its `ca.crt`, never its key).
   * @default - none
   */
  readonly caSecretName?: string;
  /**
   * TLS of the in-cluster server (`ssl = on`): a kubernetes.io/tls Secret
   * (`tls.crt`, `tls.key`), e.g. issued by cert-manager. For `verify-full`,
   * its certificate must name the host clients use (`postgres`). A renewed
   * certificate is read at the server's next start.
   * @default - no TLS
   */
  readonly tls?: PostgresServerTls;
}

/** {@link CostMgmtPostgresProps.tls}. */
export interface PostgresServerTls {
  /** A kubernetes.io/tls Secret (keys `tls.crt` and `tls.key`) in the server's namespace. */
  readonly secretName: string;
}

/** The default server image (seed 001), pinned to the c9s stream tag. */
export const DEFAULT_POSTGRES_IMAGE = 'quay.io/sclorg/postgresql-13-c9s:c9s';
