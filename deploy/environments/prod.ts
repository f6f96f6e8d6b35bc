import { Duration } from 'cdk8s';
import { PostgresSslMode } from '../../src/data/database';
import { EnvironmentConfig } from './config';

/** Production: external PostgreSQL and Redis, TLS, HPA 2-6, 30-day backups. */
export const prod: EnvironmentConfig = {
  name: 'prod',
  namespace: 'erp-prod',
  production: true,
  images: { api: 'registry.example.com/erp/api:1.4.2', gateway: 'devyusupov/statushawk-api-gateway:1.0.0' },
  allowLatestImages: false,
  api: {
    host: 'erpapi.masterspace.co.ke', replicas: 2, autoscaling: { minReplicas: 2, maxReplicas: 6 },
    mediaStorageClass: 'nfs-client', mediaAccessMode: 'ReadWriteMany',
  },
  celery: { workerReplicas: 2, concurrency: 4 },
  gateway: {
    host: 'api-gateway.statushawk.internal', replicas: 2, allowedHosts: ['api-gateway.statushawk.internal'],
    // its own database and role on the same server (one database per application)
    database: {
      host: 'erp-db.prod.example.com', port: 5432, databaseName: 'api_gateway', secretName: 'api-gateway-database-credentials',
      version: 15, sslMode: PostgresSslMode.REQUIRE,
    },
  },
  tlsIssuer: 'letsencrypt-prod',
  // seed 004: PostgreSQL 15; seed 002: "Enable SSL for database connection"
  database: {
    mode: 'external', host: 'erp-db.prod.example.com', port: 5432, databaseName: 'koku', secretName: 'postgres-credentials',
    version: 15, sslMode: PostgresSslMode.REQUIRE,
  },
  redis: { mode: 'external', host: 'erp-redis.prod.example.com', port: 6379 },
  backups: {
    schedule: '0 1 * * *', retentionDays: 30, size: '100Gi',
    // seed 004: off-site copies; the bucket and the Secret `backup-s3-credentials` are yours (README, Backups)
    offsite: {
      endpoint: 'https://s3.eu-central-1.amazonaws.com', provider: 'AWS', region: 'eu-central-1', forcePathStyle: false,
      bucket: 'erp-prod-backups', credentialsSecretName: 'backup-s3-credentials', retention: Duration.days(90),
    },
  },
  monitoring: true,
  appSettings: {
    APP_ENV: 'production',
    DEBUG: 'False',
    ALLOWED_ORIGINS: 'https://erpapi.masterspace.co.ke',
    ALLOW_REGISTRATION: 'False',
    ALLOW_BOOTSTRAP_WHEN_USERS_EXIST: 'False',
  },
  adminEmail: 'admin@masterspace.co.ke',
  cleanupExecute: true,
};
