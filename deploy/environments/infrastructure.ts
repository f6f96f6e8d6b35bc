import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { CostMgmtPostgres } from '../../src/data/cost-mgmt-postgres';
import { ExternalDatabase, IDatabase } from '../../src/data/database';
import { PostgresBackupOptions } from '../../src/data/backup-options';
import { Redis } from '../../src/data/redis';
import { toSize } from '../../src/internal/resources';
import { DEFAULT_USER } from '../../src/internal/security';
import { EnvironmentConfig } from './config';

/** The infrastructure chart's contents (seed 001): PostgreSQL (or an external one), Redis, backups. */
export interface Infrastructure {
  readonly database: CostMgmtPostgres;
  /** The API gateway's own database (one database per application). */
  readonly gatewayDatabase: IDatabase;
  readonly redis: Redis;
}

/** The ERP API's name in every environment (its media claim is `<name>-media`). */
export const API_NAME = 'erp-api';
/** The stable selector labels of the ERP API's pods (see ErpApi, stableIdentity). */
export const API_POD_SELECTOR = { 'app.kubernetes.io/name': API_NAME, 'app.kubernetes.io/instance': API_NAME, 'app.kubernetes.io/component': 'api' };

/** Role and database of the API gateway on an in-cluster server. */
export const GATEWAY_DATABASE = 'api_gateway';

/** Builds the infrastructure an environment's config asks for. */
export function buildInfrastructure(scope: Construct, config: EnvironmentConfig): Infrastructure {
  const db = config.database;
  const s = config.sizing ?? {};
  const gw = config.gateway.database;
  // an external gateway database on the app's server: dumped with the app's, by the server's backups
  const sameServer = db.mode === 'external' && gw !== undefined && gw.host === db.host && gw.port === db.port;
  const b = config.backups;
  const backup: PostgresBackupOptions = {
    schedule: b.schedule, retention: Duration.days(b.retentionDays), volumeSize: toSize(b.size), resources: s.backup, offsite: b.offsite,
    // the API's media uploads, archived with every set (seed 004); RWO media: the backup runs on the API's node
    archives: b.media === false ? [] : [{
      name: 'media', claimName: `${API_NAME}-media`, user: DEFAULT_USER,
      colocateWith: config.api.mediaAccessMode === 'ReadWriteOnce' ? API_POD_SELECTOR : undefined,
    }],
    databases: sameServer ? [{ name: gw.databaseName, secretName: gw.secretName }] : [],
  };
  const database = db.mode === 'in-cluster'
    ? new CostMgmtPostgres(scope, 'Postgres', {
      volumeSize: toSize(db.size), storageClassName: db.storageClassName, backup, resources: s.postgres, credentialsResources: s.credentials,
      roles: ['hive', GATEWAY_DATABASE],
      databases: [{ name: 'hive', owner: 'hive' }, { name: GATEWAY_DATABASE, owner: GATEWAY_DATABASE }],
    })
    : new CostMgmtPostgres(scope, 'Postgres', {
      enabled: false, host: db.host, port: db.port, databaseName: db.databaseName, secretName: db.secretName, backup,
      version: db.version, sslMode: db.sslMode, caSecretName: db.caSecretName,
    });
  const external = db.mode === 'external' && gw !== undefined ? ExternalDatabase.of(gw, `environments/${config.name}/gateway.database`) : undefined;
  const gatewayDatabase: IDatabase = external === undefined
    ? database.databaseFor(GATEWAY_DATABASE)
    // on the same server its dumps (nightly and pre-migration) are the server's backups
    : sameServer ? { connection: external.connection, backup: database.backup } : external;
  const redis = config.redis.mode === 'in-cluster'
    ? new Redis(scope, 'Redis', { resources: s.redis })
    : new Redis(scope, 'Redis', { enabled: false, host: config.redis.host, port: config.redis.port });
  return { database, gatewayDatabase, redis };
}
