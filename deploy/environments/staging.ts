import { EnvironmentConfig } from './config';

/** Staging: production-like, in-cluster PostgreSQL from the infrastructure chart. */
export const staging: EnvironmentConfig = {
  name: 'staging',
  namespace: 'erp-staging',
  production: false,
  images: { api: 'registry.example.com/erp/api:1.4.2', gateway: 'devyusupov/statushawk-api-gateway:1.0.0' },
  allowLatestImages: false,
  api: {
    host: 'erp.staging.example.com', replicas: 2, autoscaling: { minReplicas: 2, maxReplicas: 4 },
    mediaStorageClass: 'nfs-client', mediaAccessMode: 'ReadWriteMany',
  },
  celery: { workerReplicas: 1, concurrency: 4 },
  gateway: { host: 'api-gateway.staging.example.com', replicas: 2, allowedHosts: ['api-gateway.staging.example.com'] },
  tlsIssuer: 'letsencrypt-staging',
  database: { mode: 'in-cluster', size: '20Gi' },
  redis: { mode: 'in-cluster' },
  backups: { schedule: '0 2 * * *', retentionDays: 7, size: '20Gi' },
  monitoring: true,
  appSettings: {
    APP_ENV: 'staging',
    DEBUG: 'False',
    ALLOWED_ORIGINS: 'https://erp.staging.example.com',
    ALLOW_REGISTRATION: 'False',
    ALLOW_BOOTSTRAP_WHEN_USERS_EXIST: 'False',
  },
  adminEmail: 'admin@staging.example.com',
  cleanupExecute: false,
};
