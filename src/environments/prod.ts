import { EnvironmentConfig } from './config';

/** Production: external PostgreSQL and Redis, TLS, HPA 2-6, 30-day backups. */
export const prod: EnvironmentConfig = {
  name: 'prod',
  namespace: 'erp-prod',
  production: true,
  images: { api: 'registry.example.com/erp/api:1.4.2', gateway: 'devyusupov/statushawk-api-gateway:1.0.0' },
  allowLatestImages: false,
  api: { host: 'erpapi.masterspace.co.ke', replicas: 2, autoscaling: { minReplicas: 2, maxReplicas: 6 }, mediaStorageClass: 'nfs-client', mediaAccessMode: 'ReadWriteMany' },
  celery: { workerReplicas: 2, concurrency: 4 },
  gateway: { host: 'api-gateway.statushawk.internal', replicas: 2, allowedHosts: ['api-gateway.statushawk.internal'] },
  tlsIssuer: 'letsencrypt-prod',
  database: { mode: 'external', host: 'erp-db.prod.example.com', port: 5432, databaseName: 'koku', secretName: 'postgres-credentials' },
  redis: { mode: 'external', host: 'erp-redis.prod.example.com', port: 6379 },
  backups: { schedule: '0 1 * * *', retentionDays: 30, size: '100Gi' },
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
