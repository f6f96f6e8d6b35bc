import { createHash } from 'crypto';
import { ApiObject, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  checkDatabaseTls, checkHost, checkServerVersion, DatabaseConnection, IDatabase, PostgresSslMode,
} from './database';
import { checkAppObjects } from '../synth/app-objects';
import { COST_MGMT_POSTGRES_PROPS, checkShape } from '../internal/props-shape';
import { clientsOnlyPolicy } from '../internal/network-policies';
import { PostgresBackup, PostgresBackupOptions } from './postgres-backup';
import { PostgresCredentials } from './postgres-credentials';
import {
  checkExtensionName, checkObjectName, postgresConfig, PostgresDatabaseSpec, postgresImageMajorVersion, postgresInitSql,
  postgresPreStartScript, postgresStartScript, PostgresTlsFiles, PRELOAD_EXTENSIONS,
} from './postgres-sql';
import { addContainer, claimTemplate, disableServiceLinks, stableHeadlessService, stableIdentity, stablePods, standardLabels } from '../internal/pod-helpers';
import { checkResources, ComputeResources, parseBytes, resources } from '../internal/resources';
import { restrictedPod } from '../internal/security';
import { checkClientLabels, checkDnsSubdomain, checkImage, checkPort, checkSqlIdentifier, checkUnique, fail } from '../internal/validate';

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
  readonly existingSecret?: string;
  /** Server image, pinned. @default 'quay.io/sclorg/postgresql-13-c9s:c9s' */
  readonly image?: string;
  /** Size of the data volume (`postgresql-data`). @default '20Gi' */
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
  /** pg_dump CronJob; `false` for none. @default - daily at 02:00 UTC, 7 days, PVC `postgres-backups` 20Gi */
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

const NAME = 'postgres';
const PORT_NAME = 'postgresql';
const USER = 26; // the sclorg image's postgres UID/GID
const DATA_DIR = '/var/lib/postgresql/data';
const APP_SRC = '/opt/app-root/src';
const ROLE_SECRETS_DIR = '/etc/postgresql-roles';
const TLS_DIR = '/etc/postgresql-tls';
const TLS_FILES: PostgresTlsFiles = { certFile: `${TLS_DIR}/tls.crt`, keyFile: `${TLS_DIR}/tls.key` };
/** The default server image (seed 001), pinned to the c9s stream tag. */
export const DEFAULT_POSTGRES_IMAGE = 'quay.io/sclorg/postgresql-13-c9s:c9s';
const SERVER_ONLY = ['image', 'storageSize', 'storageClassName', 'resources', 'extensions', 'roles', 'databases',
  'sharedPreloadLibraries', 'startupTimeout', 'credentialsImage', 'credentialsResources', 'tls'] as const;

/**
 * PostgreSQL apart from the application (seed 001): StatefulSet `postgres`,
 * Service `postgres`, data in `postgresql-data-postgres-0` (retained), the
 * password generated in the cluster (Secret `postgres-credentials`, never in
 * dist/), idempotent initialization (extensions, roles, databases) before
 * the server takes TCP connections, backups, and a NetworkPolicy admitting
 * only client pods. With `enabled: false` it describes an external server the
 * same way, so the application code does not change.
 */
export class CostMgmtPostgres extends Construct implements IDatabase {
  /** What ErpApi and CeleryPair connect to. */
  public readonly connection: DatabaseConnection;
  /** Secret with database, username, password. */
  public readonly secretName: string;
  /** Secret of each role (keys username, password). */
  public readonly roleSecretNames: Record<string, string> = {};
  /** The StatefulSet (id 'Resource'); undefined when external. */
  public readonly statefulSet?: kplus.StatefulSet;
  /** Service `postgres`; undefined when external. */
  public readonly service?: kplus.Service;
  /** Config, pre-start and start hooks and the init SQL; undefined when external. */
  public readonly configMap?: kplus.ConfigMap;
  /** The credentials Job and its RBAC; undefined when nothing is generated. */
  public readonly credentials?: PostgresCredentials;
  /** The backups; undefined with `backup: false`. */
  public readonly backup?: PostgresBackup;
  /** The NetworkPolicy admitting clients to the server. */
  public readonly networkPolicy?: kplus.k8s.KubeNetworkPolicy;
  /** The initialization SQL the server runs at every start. */
  public readonly initSql?: string;
  private readonly databases: readonly PostgresDatabaseSpec[] = [];
  private readonly username?: string;

  constructor(scope: Construct, id: string, props: CostMgmtPostgresProps = {}) {
    super(scope, id);
    checkAppObjects(this);
    checkShape(this, props, COST_MGMT_POSTGRES_PROPS);
    const enabled = props.enabled ?? true;
    const port = checkPort(this, 'port', props.port ?? 5432);
    const databaseName = checkSqlIdentifier(this, 'databaseName', props.databaseName ?? 'koku');
    const username = checkSqlIdentifier(this, 'username', props.username ?? 'koku');
    const clientLabels = checkClientLabels(this, props.clientLabels ?? { 'erp-k8s.io/postgres-client': 'true' });
    this.secretName = checkDnsSubdomain(this, 'existingSecret', props.existingSecret ?? 'postgres-credentials');
    const networkPolicy = props.networkPolicy ?? true;

    if (!enabled) {
      for (const f of SERVER_ONLY) {
        if (props[f] !== undefined) fail(this, f, props[f], "only applies to the in-cluster server; remove it or set 'enabled' to true");
      }
      if (props.host === undefined) fail(this, 'host', undefined, "is required when 'enabled' is false (the external server's host name, e.g. 'db.example.com')");
      const host = checkHost(this, 'host', props.host);
      this.connection = { host, port, databaseName, secretName: this.secretName, clientLabels, ...resolveTlsAndVersion(this, props, undefined) };
    } else {
      if (props.host !== undefined) fail(this, 'host', props.host, `only applies with 'enabled: false'; the in-cluster server is reached as '${NAME}'`);
      const image = checkImage(this, 'image', props.image ?? DEFAULT_POSTGRES_IMAGE);
      this.connection = { host: NAME, port, databaseName, secretName: this.secretName, clientLabels, ...resolveTlsAndVersion(this, props, image) };

      const storageSize = props.storageSize ?? '20Gi';
      parseBytes(this, 'storageSize', storageSize);
      const storageClassName = props.storageClassName === undefined ? undefined : checkDnsSubdomain(this, 'storageClassName', props.storageClassName);
      const r = checkResources(this, 'resources', props.resources ?? resources('500m', '1Gi', '2', '2Gi'));
      const extensions = (props.extensions ?? ['pg_stat_statements']).map((e, i) => checkExtensionName(this, `extensions[${i}]`, e));
      checkUnique(this, 'extensions', extensions);
      const roles = (props.roles ?? ['hive']).map((x, i) => checkObjectName(this, `roles[${i}]`, x));
      checkUnique(this, 'roles', roles);
      if (roles.includes(username)) fail(this, 'roles', username, `must not contain the application user '${username}' (the image creates it)`);
      const databases = props.databases ?? [{ name: 'hive', owner: 'hive' }];
      databases.forEach((d, i) => {
        checkObjectName(this, `databases[${i}].name`, d.name);
        if (d.name === databaseName) fail(this, `databases[${i}].name`, d.name, `must differ from 'databaseName' (the image creates it)`);
        checkSqlIdentifier(this, `databases[${i}].owner`, d.owner);
        if (!roles.includes(d.owner) && d.owner !== username) {
          fail(this, `databases[${i}].owner`, d.owner, `must be one of 'roles' (${roles.join(', ') || 'none'}) or the application user '${username}'`);
        }
      });
      checkUnique(this, 'databases', databases.map((d) => d.name));
      this.databases = databases;
      this.username = username;
      const preload = (props.sharedPreloadLibraries ?? extensions.filter((e) => PRELOAD_EXTENSIONS.includes(e)))
        .map((l, i) => checkSqlIdentifier(this, `sharedPreloadLibraries[${i}]`, l));
      const startupTimeout = props.startupTimeout ?? Duration.minutes(10);
      if (startupTimeout.toSeconds() < 60) fail(this, 'startupTimeout', `${startupTimeout.toSeconds()}s`, 'must be at least 60s');

      const labels = standardLabels(NAME, 'database', 'erp');
      for (const role of roles) this.roleSecretNames[role] = `${NAME}-${role.replace(/_/g, '-')}-credentials`;

      // 1. Credentials: created in the cluster, once (see PostgresCredentials).
      const generated = [
        ...(props.existingSecret === undefined ? [{ name: this.secretName, literals: { database: databaseName, username } }] : []),
        ...roles.map((role) => ({ name: this.roleSecretNames[role], literals: { username: role } })),
      ];
      if (generated.length) {
        this.credentials = new PostgresCredentials(this, 'Credentials', {
          name: `${NAME}-credentials-init`, secrets: generated, image: props.credentialsImage ?? image,
          resources: props.credentialsResources, labels: standardLabels(NAME, 'credentials', 'erp'), networkPolicy,
        });
      }

      // 2. Hooks the sclorg image runs: config, PGDATA, init SQL at every start.
      this.initSql = postgresInitSql({ databaseName, extensions, roles, databases });
      const files: Record<string, [string, string]> = {
        'erp-k8s.conf': ['postgresql-cfg/erp-k8s.conf', postgresConfig(preload, props.tls ? TLS_FILES : undefined)],
        'pgdata.sh': ['postgresql-pre-start/erp-k8s-pgdata.sh', postgresPreStartScript(`${DATA_DIR}/pgdata`)],
        'init.sh': ['postgresql-start/erp-k8s-init.sh',
          postgresStartScript({ sqlFile: `${APP_SRC}/erp-k8s/init.sql`, roles, passwordDir: ROLE_SECRETS_DIR })],
        'init.sql': ['erp-k8s/init.sql', this.initSql],
      };
      const data = Object.fromEntries(Object.entries(files).map(([k, [, v]]) => [k, v]));
      this.configMap = new kplus.ConfigMap(this, 'Config', { metadata: { name: `${NAME}-config`, labels }, data });
      const checksum = createHash('sha256').update(JSON.stringify(data)).digest('hex');

      // 3. The server.
      const headless = new kplus.Service(this, 'Headless', {
        metadata: { name: `${NAME}-headless`, labels },
        clusterIP: 'None',
        ports: [{ name: PORT_NAME, port, targetPort: port }],
      });
      const volume = (vid: string, name: string) => kplus.Volume.fromEmptyDir(this, vid, name);
      const config = kplus.Volume.fromConfigMap(this, 'ConfigVolume', this.configMap, {
        name: 'config',
        items: Object.fromEntries(Object.entries(files).map(([k, [path]]) => [k, { path }])),
      });
      const sts = new kplus.StatefulSet(this, 'Resource', {
        metadata: { name: NAME, labels },
        podMetadata: { labels, annotations: { 'erp-k8s.io/config-checksum': checksum } },
        select: false,
        replicas: 1,
        service: headless,
        podManagementPolicy: kplus.PodManagementPolicy.ORDERED_READY,
        automountServiceAccountToken: false,
        securityContext: restrictedPod(USER, USER),
        terminationGracePeriod: Duration.seconds(60),
      });
      this.statefulSet = sts;
      stableIdentity(sts, labels);
      stableHeadlessService(headless, sts);
      disableServiceLinks(sts);
      const isReady = ['pg_isready', '-h', '127.0.0.1', '-p', String(port), '-q'];
      const probe = (period: number, failureThreshold: number, delay = 0) => kplus.Probe.fromCommand(isReady, {
        initialDelaySeconds: Duration.seconds(delay), periodSeconds: Duration.seconds(period), timeoutSeconds: Duration.seconds(5), failureThreshold,
      });
      const secret = kplus.Secret.fromSecretName(this, 'Secret', this.secretName);
      const server = addContainer(sts, {
        name: NAME,
        image,
        ports: [{ number: port, name: PORT_NAME }],
        envVariables: {
          POSTGRESQL_DATABASE: kplus.EnvValue.fromValue(databaseName),
          POSTGRESQL_USER: kplus.EnvValue.fromValue(username),
          POSTGRESQL_PASSWORD: kplus.EnvValue.fromSecretValue({ secret, key: 'password' }),
          PGDATA: kplus.EnvValue.fromValue(`${DATA_DIR}/pgdata`),
          POSTGRESQL_LOG_DESTINATION: kplus.EnvValue.fromValue('/dev/stderr'),
        },
        startup: probe(10, Math.ceil(startupTimeout.toSeconds() / 10)),
        readiness: probe(10, 3, 5),
        liveness: probe(20, 6),
        // A fast shutdown: SIGTERM alone is a "smart" shutdown that waits for clients.
        lifecycle: { preStop: kplus.Handler.fromCommand(['pg_ctl', 'stop', '-m', 'fast', '-w', '-t', '50']) },
      }, { resources: r, user: USER });
      server.mount(APP_SRC, config, { readOnly: true });
      server.mount('/var/lib/pgsql', volume('Home', 'home'));
      server.mount('/var/run/postgresql', volume('Socket', 'socket'));
      server.mount('/tmp', volume('Tmp', 'tmp'));
      for (const role of roles) {
        const s = kplus.Secret.fromSecretName(this, `RoleSecret-${role}`, this.roleSecretNames[role]);
        server.mount(`${ROLE_SECRETS_DIR}/${role}`, kplus.Volume.fromSecret(this, `RoleVolume-${role}`, s, {
          name: `role-${role.replace(/_/g, '-')}`, defaultMode: 0o440, items: { password: { path: 'password' } },
        }), { readOnly: true });
      }
      if (props.tls) {
        // root-owned files, group fsGroup (26), mode 0640: what PostgreSQL accepts for a key it does not own
        const tlsSecret = kplus.Secret.fromSecretName(this, 'TlsSecret', props.tls.secretName);
        server.mount(TLS_DIR, kplus.Volume.fromSecret(this, 'TlsVolume', tlsSecret, {
          name: 'tls', defaultMode: 0o640, items: { 'tls.crt': { path: 'tls.crt' }, 'tls.key': { path: 'tls.key' } },
        }), { readOnly: true });
      }
      const obj = ApiObject.of(sts);
      obj.addJsonPatch(JsonPatch.add('/spec/template/spec/containers/0/volumeMounts/-', { name: 'postgresql-data', mountPath: DATA_DIR }));
      obj.addJsonPatch(JsonPatch.add('/spec/volumeClaimTemplates', [claimTemplate('postgresql-data', labels, storageSize, storageClassName)]));
      obj.addJsonPatch(JsonPatch.add('/spec/persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' }));
      obj.addDependency(this.configMap);

      this.service = new kplus.Service(this, 'Service', {
        metadata: { name: NAME, labels },
        type: kplus.ServiceType.CLUSTER_IP,
        selector: stablePods(sts),
        ports: [{ name: PORT_NAME, port, targetPort: port }],
      });

      // Apply order under `kubectl apply -f`: credentials first, then the server.
      for (const c of [this.configMap, headless, sts, this.service]) if (this.credentials) c.node.addDependency(this.credentials);

      if (networkPolicy) {
        this.networkPolicy = clientsOnlyPolicy(this, NAME, labels, clientLabels, port);
      }
    }

    if (props.backup !== false) {
      this.backup = new PostgresBackup(this, 'Backup', {
        ...(props.backup ?? {}),
        name: NAME,
        connection: this.connection,
        // every database the server creates, each dumped as its owner
        serverDatabases: enabled ? (props.databases ?? [{ name: 'hive', owner: 'hive' }]).map((d) => ({
          name: d.name, secretName: this.roleSecretNames[d.owner] ?? this.secretName,
        })) : [],
        // the client follows the server: its own image in the cluster, its declared version outside
        defaultImage: enabled ? props.image ?? DEFAULT_POSTGRES_IMAGE : undefined,
        labels: standardLabels(NAME, 'backup', 'erp'),
        user: USER,
        networkPolicy,
      });
      if (this.statefulSet) {
        ApiObject.of(this.backup.cronJob).addDependency(this.statefulSet);
        if (this.backup.initialJob) ApiObject.of(this.backup.initialJob).addDependency(this.statefulSet);
      }
    }
  }

  /** The server's pods when it runs in the cluster (for client egress rules); `undefined` for an external server. */
  public networkPeers(): kplus.k8s.NetworkPolicyPeer[] | undefined {
    return this.statefulSet ? [{ podSelector: { matchLabels: this.statefulSet.matchLabels } }] : undefined;
  }

  /**
   * One of the `databases` this server creates, as its own application's
   * database: the same server, TLS, version and client labels, the database
   * `name`, and the credentials of its owner (Secret
   * `postgres-<owner>-credentials`, or this server's Secret when the owner
   * is the application user). Backups are this server's.
   */
  public databaseFor(name: string): IDatabase {
    const spec = this.databases.find((d) => d.name === name);
    if (!spec) {
      const known = this.databases.map((d) => d.name);
      fail(this, 'databaseFor', name, `must be one of the server's 'databases' (${known.join(', ') || 'none'}); add { name: '${name}', owner: '<role>' } to 'databases' (and the owner to 'roles')` +
        (this.statefulSet ? '' : ", on an in-cluster server: an external server's databases are described with ExternalDatabase.of()"));
    }
    const secretName = spec.owner === this.username ? this.secretName : this.roleSecretNames[spec.owner];
    return { connection: { ...this.connection, databaseName: spec.name, secretName }, backup: this.backup };
  }
}

/**
 * The connection's TLS and server version (see the props' docs). `image` is
 * the in-cluster server's image; `undefined` for an external server.
 */
function resolveTlsAndVersion(scope: Construct, props: CostMgmtPostgresProps, image: string | undefined): Pick<DatabaseConnection, 'sslMode' | 'caSecretName' | 'serverVersion'> {
  const external = image === undefined;
  if (props.tls !== undefined) checkDnsSubdomain(scope, 'tls.secretName', props.tls?.secretName);
  const sslMode = props.sslMode ?? (external || props.tls ? PostgresSslMode.REQUIRE : undefined);
  checkDatabaseTls(scope, sslMode, props.caSecretName);
  if (!external && !props.tls && sslMode !== undefined && sslMode !== PostgresSslMode.DISABLE && sslMode !== PostgresSslMode.PREFER) {
    fail(scope, 'sslMode', sslMode, "needs 'tls' on the in-cluster server (it serves TLS only with a certificate): add tls: { secretName: '<kubernetes.io/tls Secret>' }, or use 'prefer' or 'disable'");
  }
  let version: number;
  if (external) {
    if (props.version === undefined) {
      fail(scope, 'version', undefined, "is required when 'enabled' is false: the backup client (pg_dump) must be of the external server's major version or newer; give it, e.g. version: 15 (psql: SHOW server_version)");
    }
    version = checkServerVersion(scope, 'version', props.version);
  } else {
    const fromImage = postgresImageMajorVersion(image);
    if (props.version !== undefined) {
      checkServerVersion(scope, 'version', props.version);
      if (fromImage !== undefined && fromImage !== props.version) {
        fail(scope, 'version', props.version, `must match the major version of 'image' (${image}: ${fromImage}); drop 'version' or change the image`);
      }
    } else if (fromImage === undefined) {
      fail(scope, 'version', undefined, `is required: the major version cannot be read from 'image' (${image}); give it, e.g. version: 15`);
    }
    version = props.version ?? fromImage!;
  }
  return {
    ...(sslMode !== undefined ? { sslMode } : {}),
    ...(props.caSecretName !== undefined ? { caSecretName: props.caSecretName } : {}),
    serverVersion: version,
  };
}
