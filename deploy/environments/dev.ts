import { EnvironmentConfig } from './config';

/** Development: everything in-cluster, one replica, no TLS, no HPA. */
export const dev: EnvironmentConfig = {
  name: 'dev',
  namespace: 'erp-dev',
  production: false,
  images: { api: 'registry.example.com/erp/api:dev-2026.11.1', gateway: 'devyusupov/statushawk-api-gateway:1.0.0' },
  allowLatestImages: true,
  api: { host: 'erp.dev.example.internal', replicas: 1, autoscaling: false, mediaStorageClass: 'local-path', mediaAccessMode: 'ReadWriteOnce' },
  celery: { workerReplicas: 1, concurrency: 2 },
  gateway: { host: 'api-gateway.statushawk.internal', replicas: 1, allowedHosts: ['api-gateway.statushawk.internal', 'localhost'] },
  tlsIssuer: undefined,
  database: { mode: 'in-cluster', size: '5Gi' },
  redis: { mode: 'in-cluster' },
  backups: { schedule: '0 2 * * *', retentionDays: 7, size: '5Gi' },
  monitoring: false,
  appSettings: {
    APP_ENV: 'development',
    DEBUG: 'True',
    ALLOWED_ORIGINS: 'http://localhost:3000',
    ALLOW_REGISTRATION: 'True',
    ALLOW_BOOTSTRAP_WHEN_USERS_EXIST: 'False',
  },
  adminEmail: 'admin@dev.example.internal',
  cleanupExecute: false,
};
