import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { DatabaseConnection, IDatabase, IDatabaseBackup } from './database';
import { PostgresBackup } from './postgres-backup';
import { PostgresServerConfig, POSTGRES_NAME as NAME, resolvePostgres, ResolvedPostgres } from './postgres-config';
import { PostgresCredentials } from './postgres-credentials';
import { CostMgmtPostgresProps } from './postgres-props';
import { addPostgresServer, POSTGRES_USER, serverFiles } from './postgres-server';
import { PostgresDatabaseSpec } from './postgres-sql';
import { checkAppObjects } from '../internal/app-objects';
import { COST_MGMT_POSTGRES_PROPS, checkShape } from '../internal/props-shape';
import { clientsOnlyPolicy } from '../internal/network-policies';
import { standardLabels } from '../internal/pod-helpers';
import { fail } from '../internal/validate';


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
  /** The backups, as {@link IDatabase} exposes them; undefined with `backup: { enabled: false }`. */
  public readonly backup?: IDatabaseBackup;
  /** The PostgresBackup construct (its CronJob, volume, restore and list Jobs); undefined with `backup: { enabled: false }`. */
  public readonly postgresBackup?: PostgresBackup;
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
    const config = resolvePostgres(this, props);
    this.connection = config.connection;
    this.secretName = config.connection.secretName;
    const server = config.server;
    if (server) {
      this.databases = server.databases;
      this.username = config.username;
      for (const role of server.roles) this.roleSecretNames[role] = `${NAME}-${role.replace(/_/g, '-')}-credentials`;
      const labels = standardLabels(NAME, 'database', 'erp');
      // 1. Credentials: created in the cluster, once (see PostgresCredentials).
      this.credentials = this.addCredentials(config, server);
      // 2. Hooks the sclorg image runs: config, PGDATA, init SQL at every start.
      const { files, initSql } = serverFiles(server, config.connection.databaseName);
      this.initSql = initSql;
      const data = Object.fromEntries(Object.entries(files).map(([k, [, v]]) => [k, v]));
      this.configMap = new kplus.ConfigMap(this, 'Config', { metadata: { name: `${NAME}-config`, labels }, data });
      // 3. The server.
      const objs = addPostgresServer(this, { config, server, labels, configMap: this.configMap, files, roleSecretNames: this.roleSecretNames });
      this.statefulSet = objs.statefulSet;
      this.service = objs.service;
      // Apply order under `kubectl apply -f`: credentials first, then the server.
      for (const c of [this.configMap, objs.headless, objs.statefulSet, objs.service]) if (this.credentials) c.node.addDependency(this.credentials);
      if (config.networkPolicy) this.networkPolicy = clientsOnlyPolicy(this, NAME, labels, config.connection.clientLabels, config.connection.port);
    }
    // 4. The backups.
    if (config.backup) this.backup = this.postgresBackup = this.addBackup(config);
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
      fail(this, 'databaseFor', name, `must be one of the server's 'databases' (${known.join(', ') || 'none'}); add { name: '${name}', ` +
        `owner: '<role>' } to 'databases' (and the owner to 'roles')` +
        (this.statefulSet ? '' : ", on an in-cluster server: an external server's databases are described with ExternalDatabase.of()"));
    }
    const secretName = spec.owner === this.username ? this.secretName : this.roleSecretNames[spec.owner];
    return { connection: { ...this.connection, databaseName: spec.name, secretName }, backup: this.backup };
  }

  /** The credentials Job, when a Secret is to be generated (the application's, the roles'). */
  private addCredentials(config: ResolvedPostgres, server: PostgresServerConfig): PostgresCredentials | undefined {
    const { databaseName } = config.connection;
    const generated = [
      ...(config.generateSecret ? [{ name: this.secretName, literals: { database: databaseName, username: config.username } }] : []),
      ...server.roles.map((role) => ({ name: this.roleSecretNames[role], literals: { username: role } })),
    ];
    if (!generated.length) return undefined;
    return new PostgresCredentials(this, 'Credentials', {
      name: `${NAME}-credentials-init`, secrets: generated, image: server.credentialsImage,
      resources: server.credentialsResources, labels: standardLabels(NAME, 'credentials', 'erp'), networkPolicy: config.networkPolicy,
    });
  }

  /** The backups of every database the server holds; in the cluster, after the server. */
  private addBackup(config: ResolvedPostgres): PostgresBackup {
    const server = config.server;
    const backup = new PostgresBackup(this, 'Backup', {
      ...config.backup,
      name: NAME,
      connection: this.connection,
      // every database the server creates, each dumped as its owner
      serverDatabases: (server?.databases ?? []).map((d) => ({ name: d.name, secretName: this.roleSecretNames[d.owner] ?? this.secretName })),
      // the client follows the server: its own image in the cluster, its declared version outside
      defaultImage: server?.image,
      labels: standardLabels(NAME, 'backup', 'erp'),
      user: POSTGRES_USER,
      networkPolicy: config.networkPolicy,
    });
    if (this.statefulSet) {
      ApiObject.of(backup.cronJob).addDependency(this.statefulSet);
      if (backup.initialJob) ApiObject.of(backup.initialJob).addDependency(this.statefulSet);
    }
    return backup;
  }
}
