import { Construct } from 'constructs';
import { CostMgmtPostgres } from '../cost-mgmt-postgres';
import { Redis } from '../redis';
import { EnvironmentConfig } from './config';

/** The infrastructure chart's contents (seed 001): PostgreSQL (or an external one), Redis, backups. */
export interface Infrastructure {
  readonly database: CostMgmtPostgres;
  readonly redis: Redis;
}

/** Builds the infrastructure an environment's config asks for. */
export function buildInfrastructure(scope: Construct, config: EnvironmentConfig): Infrastructure {
  const db = config.database;
  const s = config.sizing ?? {};
  const backup = { schedule: config.backups.schedule, retentionDays: config.backups.retentionDays, size: config.backups.size, resources: s.backup };
  const database = db.mode === 'in-cluster'
    ? new CostMgmtPostgres(scope, 'Postgres', {
      storageSize: db.size, storageClassName: db.storageClassName, backup, resources: s.postgres, credentialsResources: s.credentials,
    })
    : new CostMgmtPostgres(scope, 'Postgres', {
      enabled: false, host: db.host, port: db.port, databaseName: db.databaseName, existingSecret: db.secretName, backup,
    });
  const redis = config.redis.mode === 'in-cluster'
    ? new Redis(scope, 'Redis', { resources: s.redis })
    : new Redis(scope, 'Redis', { enabled: false, host: config.redis.host, port: config.redis.port });
  return { database, redis };
}
