import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { checkDnsSubdomain, checkPort, checkSqlIdentifier, DNS_SUBDOMAIN, fail, IPV4 } from '../internal/validate';

/**
 * How application pods reach a PostgreSQL database. `CostMgmtPostgres`
 * produces one for its in-cluster server (or for an external one when
 * `enabled: false`); `ExternalDatabase.of()` describes any other.
 * ErpApi and CeleryPair consume it the same way in both cases.
 */
export interface DatabaseConnection {
  /** Host name the pods connect to, e.g. `postgres` or `db.example.com`. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** Database name. */
  readonly databaseName: string;
  /**
   * Secret holding the keys `username` and `password` (clients read only
   * those; CostMgmtPostgres' own Secret also holds `database`).
   */
  readonly secretName: string;
  /**
   * Labels a pod must carry to be admitted by the database's NetworkPolicy.
   * Consumers add them to their pod templates.
   */
  readonly clientLabels: Record<string, string>;
  /**
   * libpq `sslmode` of every client (app, migrations, backups, restore):
   * set as PGSSLMODE and DB_SSLMODE.
   * @default - unset: libpq's own default (`prefer`)
   */
  readonly sslMode?: PostgresSslMode;
  /**
   * Secret with the key `ca.crt`: the CA that signed the server's
   * certificate, mounted at {@link DATABASE_CA_DIR} and set as PGSSLROOTCERT
   * (for `verify-ca` / `verify-full`).
   * @default - none
   */
  readonly caSecretName?: string;
  /**
   * Major version of the server (e.g. 15): backup and restore clients must
   * be of this major version or newer.
   * @default - unknown
   */
  readonly serverVersion?: number;
}

/** libpq `sslmode` values (https://www.postgresql.org/docs/current/libpq-ssl.html). */
export enum PostgresSslMode {
  /** No TLS. */
  DISABLE = 'disable',
  /** TLS if the server offers it (libpq's default). */
  PREFER = 'prefer',
  /** TLS required; the certificate is not checked (unless a CA is given: then as `verify-ca`). */
  REQUIRE = 'require',
  /** TLS, and the certificate must be signed by the CA in `caSecretName`. */
  VERIFY_CA = 'verify-ca',
  /** TLS, a certificate signed by the CA, for the host name connected to. */
  VERIFY_FULL = 'verify-full',
}

/**
 * Where the database CA (`caSecretName`) is mounted in client containers.
 * @deprecated use `ExternalDatabase.CA_DIR`
 */
export const DATABASE_CA_DIR = '/etc/erp-k8s/postgres-ca';

/**
 * Something that backs a database up and can dump it right before a
 * migration (implemented by {@link PostgresBackup}).
 */
export interface IDatabaseBackup {
  /**
   * A Job that dumps `options.connection`'s database into the backups and
   * then records `options.release` in the table the migrators wait on
   * (`erp_k8s.pre_migration_backups`): no migration of that release starts
   * before its dump is complete, whatever order the Jobs and pods start in.
   */
  addPreMigrationDump(scope: Construct, id: string, options: PreMigrationDumpOptions): kplus.Job;
  /**
   * Seconds a migrator waits for the pre-migration dump before it fails
   * (the dump's own deadline).
   */
  readonly preMigrationWaitSeconds: number;
}

/** Options of {@link IDatabaseBackup.addPreMigrationDump}. */
export interface PreMigrationDumpOptions {
  /** The database the migration changes (and its owner's Secret). */
  readonly connection: DatabaseConnection;
  /** Name of the release being migrated to (the migration Job's name). */
  readonly release: string;
  /** Object name prefix: the Job is `<name>-pre-migration-backup-<hash>`. */
  readonly name: string;
  /** Annotations of the Job (Helm and Argo CD hooks before the migration's). */
  readonly annotations: Record<string, string>;
  /** Labels of the Job (not of its pod, which carries the backup's). */
  readonly labels: Record<string, string>;
}

/** Anything that can hand out a {@link DatabaseConnection}. */
export interface IDatabase {
  /** The connection details application pods use. */
  readonly connection: DatabaseConnection;
  /**
   * Backups of this database: when present, migration Jobs dump it first.
   * @default - none
   */
  readonly backup?: IDatabaseBackup;
  /**
   * Where the database's server is, for the egress rules of client pods
   * (e.g. the server's pods when it runs in the cluster).
   * @default - see {@link databasePeers}: the connection's IPv4 address, else unknown
   */
  networkPeers?(): kplus.k8s.NetworkPolicyPeer[] | undefined;
}

/**
 * The NetworkPolicy peers that reach `database`: what it says
 * ({@link IDatabase.networkPeers}), else its host as a `/32` when the host
 * is an IPv4 address; `undefined` when unknown (any address on the port).
 */
export function databasePeers(database: IDatabase | undefined): kplus.k8s.NetworkPolicyPeer[] | undefined {
  if (database === undefined) return undefined;
  const own = database.networkPeers?.();
  if (own !== undefined) return own;
  return IPV4.test(database.connection.host) ? [{ ipBlock: { cidr: `${database.connection.host}/32` } }] : undefined;
}

/**
 * The libpq TLS variables of a connection: PGSSLMODE and DB_SSLMODE (for
 * apps that build their own URL, e.g. `?sslmode=`), and PGSSLROOTCERT when a
 * CA is given. Add them to every container that connects.
 */
export function databaseTlsEnv(connection: DatabaseConnection): Record<string, kplus.EnvValue> {
  const vars: Record<string, kplus.EnvValue> = {};
  if (connection.sslMode !== undefined) {
    vars.PGSSLMODE = kplus.EnvValue.fromValue(connection.sslMode);
    vars.DB_SSLMODE = kplus.EnvValue.fromValue(connection.sslMode);
  }
  if (connection.caSecretName !== undefined) vars.PGSSLROOTCERT = kplus.EnvValue.fromValue(`${DATABASE_CA_DIR}/ca.crt`);
  return vars;
}

/** Name of the CA volume in client pods. */
export const DATABASE_CA_VOLUME = 'postgres-ca';

/**
 * The volume of a connection's CA Secret (only its `ca.crt`), one per chart
 * and Secret: every container of a pod that mounts it gets the same volume
 * object, whoever adds it (AppEnv, the backups), in whatever order.
 * `undefined` when the connection has no `caSecretName`.
 */
export function databaseCaVolume(scope: IConstruct, connection: DatabaseConnection): kplus.Volume | undefined {
  if (connection.caSecretName === undefined) return undefined;
  const owner = Chart.of(scope);
  const id = `DatabaseCa-${connection.caSecretName}`;
  const existing = owner.node.tryFindChild(id) as kplus.Volume | undefined;
  if (existing) return existing;
  const secret = kplus.Secret.fromSecretName(owner, `${id}-Secret`, connection.caSecretName);
  return kplus.Volume.fromSecret(owner, id, secret, { name: DATABASE_CA_VOLUME, items: { 'ca.crt': { path: 'ca.crt' } } });
}

/**
 * Mounts the connection's CA Secret (if any) read-only at
 * {@link DATABASE_CA_DIR} in `container` (a container of `workload`); the
 * pod gets the volume with the mount. Calling it again, or for a container
 * that {@link AppEnv} already equipped, is harmless.
 */
export function mountDatabaseCa(scope: IConstruct, workload: kplus.AbstractPod, container: kplus.Container, connection: DatabaseConnection): void {
  const volume = databaseCaVolume(scope, connection);
  if (volume === undefined) return;
  const clash = [...workload.volumes, ...[...workload.initContainers, ...workload.containers].flatMap((c) => c.mounts.map((m) => m.volume))]
    .find((v) => v.name === DATABASE_CA_VOLUME && v !== volume);
  if (clash) throw new Error(`${workload.node.path}: a second database CA volume (Secret ${connection.caSecretName}) in one pod; connect its ` +
    `containers to databases with one CA`);
  if (!container.mounts.some((m) => m.path === DATABASE_CA_DIR)) container.mount(DATABASE_CA_DIR, volume, { readOnly: true });
}

/**
 * Validates the TLS settings of a connection: `sslMode` one of
 * {@link PostgresSslMode}; `verify-ca` / `verify-full` need `caSecretName`;
 * `caSecretName` with `disable` is refused; the Secret name is a DNS-1123
 * subdomain. `fields` names the props in messages.
 */
export function checkDatabaseTls(scope: IConstruct | string, sslMode: PostgresSslMode | undefined, caSecretName: string | undefined,
  fields: { sslMode: string; caSecretName: string } = { sslMode: 'sslMode', caSecretName: 'caSecretName' }): void {
  const modes = Object.values(PostgresSslMode) as string[];
  if (sslMode !== undefined && !modes.includes(sslMode)) fail(scope, fields.sslMode, sslMode, `must be one of ${modes.join(', ')} (PostgresSslMode)`);
  if (caSecretName !== undefined) checkDnsSubdomain(scope, fields.caSecretName, caSecretName);
  if ((sslMode === PostgresSslMode.VERIFY_CA || sslMode === PostgresSslMode.VERIFY_FULL) && caSecretName === undefined) {
    fail(scope, fields.sslMode, sslMode, `needs '${fields.caSecretName}': a Secret with the key 'ca.crt', the CA that signed the server's ` +
      `certificate`);
  }
  if (sslMode === PostgresSslMode.DISABLE && caSecretName !== undefined) {
    fail(scope, fields.caSecretName, caSecretName, `cannot be combined with '${fields.sslMode}: disable' (no TLS, so no certificate to ` +
      `check); drop one of them`);
  }
}

/** A PostgreSQL major version (10 and later: one number). */
export function checkServerVersion(scope: IConstruct | string, field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 10 || value > 99) {
    fail(scope, field, value, "must be the server's PostgreSQL major version, an integer from 10 to 99 (e.g. 15)");
  }
  return value;
}

/** Options for {@link ExternalDatabase.of}. */
export interface ExternalDatabaseOptions {
  /** Host name of the server. */
  readonly host: string;
  /**
   * TCP port.
   * @default 5432
   */
  readonly port?: number;
  /**
   * Database name.
   * @default 'koku'
   */
  readonly databaseName?: string;
  /**
   * Secret (created by you) with the keys `database`, `username`, `password`.
   * @default 'postgres-credentials'
   */
  readonly secretName?: string;
  /**
   * libpq `sslmode` of every client. A server outside the cluster is reached
   * over networks we do not control: TLS is required unless you say otherwise.
   * @default PostgresSslMode.REQUIRE
   */
  readonly sslMode?: PostgresSslMode;
  /**
   * Secret (created by you) with the key `ca.crt`: the CA that signed the
   * server's certificate. Required for `verify-ca` and `verify-full`; with
   * `require` libpq then also checks the chain (as `verify-ca` does).
   * @default - none
   */
  readonly caSecretName?: string;
  /**
   * The server's PostgreSQL major version (e.g. 15): backup and restore
   * clients must be of this version or newer.
   * @default - unknown
   */
  readonly version?: number;
}

/** A PostgreSQL server this project does not run (managed service, existing VM...). */
export class ExternalDatabase implements IDatabase {
  /** Where the database CA (`caSecretName`) is mounted in client containers: `/etc/erp-k8s/postgres-ca`. */
  public static readonly CA_DIR: string = DATABASE_CA_DIR;

  /** Describes an existing server; validates the values it is given. */
  public static of(options: ExternalDatabaseOptions, where: IConstruct | string = 'ExternalDatabase'): ExternalDatabase {
    const sslMode = options.sslMode ?? PostgresSslMode.REQUIRE;
    checkDatabaseTls(where, sslMode, options.caSecretName);
    return new ExternalDatabase({
      host: checkHost(where, 'host', options.host),
      port: checkPort(where, 'port', options.port ?? 5432),
      databaseName: checkSqlIdentifier(where, 'databaseName', options.databaseName ?? 'koku'),
      secretName: checkDnsSubdomain(where, 'secretName', options.secretName ?? 'postgres-credentials'),
      clientLabels: {},
      sslMode,
      ...(options.caSecretName !== undefined ? { caSecretName: options.caSecretName } : {}),
      ...(options.version !== undefined ? { serverVersion: checkServerVersion(where, 'version', options.version) } : {}),
    });
  }

  private constructor(public readonly connection: DatabaseConnection) {}
}

/** A host name or IPv4 address. */
export function checkHost(scope: IConstruct | string, field: string, value: string): string {
  if (typeof value !== 'string' || (!DNS_SUBDOMAIN.test(value) && !IPV4.test(value)) || value.length > 253) {
    fail(scope, field, value, "must be a lower-case DNS name or IPv4 address, e.g. 'postgres' or 'db.example.com'");
  }
  return value;
}

/**
 * The environment variables that carry a connection into a container:
 * DB_HOST, DB_PORT, DB_NAME as values, DB_USER and DB_PASSWORD from the Secret.
 */
export const DATABASE_ENV_NAMES = ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_PASSWORD'] as const;
