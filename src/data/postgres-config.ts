import { Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { aliased, enabledOptions } from '../internal/dialect';
import { volumeStorage } from '../internal/storage';
import { PostgresBackupOptions } from './backup-options';
import { checkDatabaseTls, checkHost, checkServerVersion, DatabaseConnection, PostgresSslMode } from './database';
import { CostMgmtPostgresProps, DEFAULT_POSTGRES_IMAGE, PostgresServerTls } from './postgres-props';
import { checkExtensionName, checkObjectName, PostgresDatabaseSpec, postgresImageMajorVersion, PRELOAD_EXTENSIONS } from './postgres-sql';
import { checkResources, ComputeResources, resources } from '../internal/resources';
import { ResolvedStorage } from '../internal/storage';
import { checkClientLabels, checkDnsSubdomain, checkImage, checkPort, checkSqlIdentifier, checkUnique, fail } from '../internal/validate';

/** Host of the in-cluster server (its Service). */
export const POSTGRES_NAME = 'postgres';
const SERVER_ONLY = ['image', 'volumeSize', 'storageSize', 'storageClassName', 'resources', 'extensions', 'roles', 'databases',
  'sharedPreloadLibraries', 'startupTimeout', 'credentialsImage', 'credentialsResources', 'tls'] as const;

/** The in-cluster server's settings, checked, defaults applied. */
export interface PostgresServerConfig {
  readonly image: string;
  readonly storage: ResolvedStorage;
  readonly resources: ComputeResources;
  readonly extensions: readonly string[];
  readonly roles: readonly string[];
  readonly databases: readonly PostgresDatabaseSpec[];
  readonly preload: readonly string[];
  readonly startupTimeout: Duration;
  readonly credentialsImage: string;
  readonly credentialsResources?: ComputeResources;
  readonly tls?: PostgresServerTls;
}

/** {@link CostMgmtPostgresProps}, checked, defaults applied, deprecated aliases mapped. */
export interface ResolvedPostgres {
  readonly connection: DatabaseConnection;
  readonly username: string;
  /** Whether the application Secret is generated (no `secretName` given). */
  readonly generateSecret: boolean;
  readonly networkPolicy: boolean;
  /** The backups' options; undefined when they are off. */
  readonly backup?: PostgresBackupOptions;
  /** The in-cluster server; undefined for an external one. */
  readonly server?: PostgresServerConfig;
}

/** Checks the props once and resolves them (errors name `scope`). */
export function resolvePostgres(scope: Construct, props: CostMgmtPostgresProps): ResolvedPostgres {
  const enabled = props.enabled ?? true;
  const port = checkPort(scope, 'port', props.port ?? 5432);
  const databaseName = checkSqlIdentifier(scope, 'databaseName', props.databaseName ?? 'koku');
  const username = checkSqlIdentifier(scope, 'username', props.username ?? 'koku');
  const clientLabels = checkClientLabels(scope, props.clientLabels ?? { 'erp-k8s.io/postgres-client': 'true' });
  const givenSecret = aliased(scope, 'secretName', props.secretName, 'existingSecret', props.existingSecret);
  const secretField = props.existingSecret !== undefined ? 'existingSecret' : 'secretName';
  const secretName = checkDnsSubdomain(scope, secretField, givenSecret ?? 'postgres-credentials');
  const base = { port, databaseName, secretName, clientLabels };
  const common = {
    username, generateSecret: givenSecret === undefined, networkPolicy: props.networkPolicy ?? true,
    backup: enabledOptions(scope, 'backup', props.backup, true),
  };
  if (!enabled) {
    for (const f of SERVER_ONLY) {
      if (props[f] !== undefined) fail(scope, f, props[f], "only applies to the in-cluster server; remove it or set 'enabled' to true");
    }
    if (props.host === undefined) fail(scope, 'host', undefined, "is required when 'enabled' is false (the external server's host name, e.g. " +
      "'db.example.com')");
    const host = checkHost(scope, 'host', props.host);
    return { ...common, connection: { host, ...base, ...resolveTlsAndVersion(scope, props, undefined) } };
  }
  if (props.host !== undefined) fail(scope, 'host', props.host, `only applies with 'enabled: false'; the in-cluster server is reached as ` +
    `'${POSTGRES_NAME}'`);
  const image = checkImage(scope, 'image', props.image ?? DEFAULT_POSTGRES_IMAGE);
  const connection = { host: POSTGRES_NAME, ...base, ...resolveTlsAndVersion(scope, props, image) };
  return { ...common, connection, server: resolveServer(scope, props, image, databaseName, username) };
}

/** The in-cluster server's props. */
function resolveServer(scope: Construct, props: CostMgmtPostgresProps, image: string, databaseName: string, username: string): PostgresServerConfig {
  const storage = volumeStorage(scope, '', props, 'storageSize', props.storageSize, Size.gibibytes(20));
  const r = checkResources(scope, 'resources', props.resources ?? resources('500m', '1Gi', '2', '2Gi'));
  const extensions = (props.extensions ?? ['pg_stat_statements']).map((e, i) => checkExtensionName(scope, `extensions[${i}]`, e));
  checkUnique(scope, 'extensions', extensions);
  const roles = (props.roles ?? ['hive']).map((x, i) => checkObjectName(scope, `roles[${i}]`, x));
  checkUnique(scope, 'roles', roles);
  if (roles.includes(username)) fail(scope, 'roles', username, `must not contain the application user '${username}' (the image creates it)`);
  const databases = props.databases ?? [{ name: 'hive', owner: 'hive' }];
  databases.forEach((d, i) => {
    checkObjectName(scope, `databases[${i}].name`, d.name);
    if (d.name === databaseName) fail(scope, `databases[${i}].name`, d.name, `must differ from 'databaseName' (the image creates it)`);
    checkSqlIdentifier(scope, `databases[${i}].owner`, d.owner);
    if (!roles.includes(d.owner) && d.owner !== username) {
      fail(scope, `databases[${i}].owner`, d.owner, `must be one of 'roles' (${roles.join(', ') || 'none'}) or the application user '${username}'`);
    }
  });
  checkUnique(scope, 'databases', databases.map((d) => d.name));
  const preload = (props.sharedPreloadLibraries ?? extensions.filter((e) => PRELOAD_EXTENSIONS.includes(e)))
    .map((l, i) => checkSqlIdentifier(scope, `sharedPreloadLibraries[${i}]`, l));
  const startupTimeout = props.startupTimeout ?? Duration.minutes(10);
  if (startupTimeout.toSeconds() < 60) fail(scope, 'startupTimeout', `${startupTimeout.toSeconds()}s`, 'must be at least 60s');
  return {
    image, storage, resources: r, extensions, roles, databases, preload, startupTimeout,
    credentialsImage: props.credentialsImage ?? image, credentialsResources: props.credentialsResources, tls: props.tls,
  };
}

/**
 * The connection's TLS and server version (see the props' docs). `image` is
 * the in-cluster server's image; `undefined` for an external server.
 */
function resolveTlsAndVersion(scope: Construct, props: CostMgmtPostgresProps, image: string | undefined):
  Pick<DatabaseConnection, 'sslMode' | 'caSecretName' | 'serverVersion'> {
  const external = image === undefined;
  if (props.tls !== undefined) checkDnsSubdomain(scope, 'tls.secretName', props.tls?.secretName);
  const sslMode = props.sslMode ?? (external || props.tls ? PostgresSslMode.REQUIRE : undefined);
  checkDatabaseTls(scope, sslMode, props.caSecretName);
  if (!external && !props.tls && sslMode !== undefined && sslMode !== PostgresSslMode.DISABLE && sslMode !== PostgresSslMode.PREFER) {
    fail(scope, 'sslMode', sslMode, "needs 'tls' on the in-cluster server (it serves TLS only with a certificate): add tls: { secretName: " +
      "'<kubernetes.io/tls Secret>' }, or use 'prefer' or 'disable'");
  }
  return {
    ...(sslMode !== undefined ? { sslMode } : {}),
    ...(props.caSecretName !== undefined ? { caSecretName: props.caSecretName } : {}),
    serverVersion: external ? externalVersion(scope, props.version) : imageVersion(scope, props.version, image),
  };
}

/** An external server's major version: required. */
function externalVersion(scope: Construct, version: number | undefined): number {
  if (version === undefined) {
    fail(scope, 'version', undefined, "is required when 'enabled' is false: the backup client (pg_dump) must be of the external server's " +
      "major version or newer; give it, e.g. version: 15 (psql: SHOW server_version)");
  }
  return checkServerVersion(scope, 'version', version);
}

/** The in-cluster server's major version: read from its image, or given (and then equal to the image's). */
function imageVersion(scope: Construct, version: number | undefined, image: string): number {
  const fromImage = postgresImageMajorVersion(image);
  if (version !== undefined) {
    checkServerVersion(scope, 'version', version);
    if (fromImage !== undefined && fromImage !== version) {
      fail(scope, 'version', version, `must match the major version of 'image' (${image}: ${fromImage}); drop 'version' or change the image`);
    }
  } else if (fromImage === undefined) {
    fail(scope, 'version', undefined, `is required: the major version cannot be read from 'image' (${image}); give it, e.g. version: 15`);
  }
  return version ?? fromImage!;
}
