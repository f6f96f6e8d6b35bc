// The public API: constructs, their props, the choices they take, and the
// offline gates (schema, policy) users can run on their own apps. Helpers
// (validation, pod builders, script generators) stay internal.

// Constructs
export { ErpApi } from './app/erp-api';
export { CeleryPair } from './app/celery-pair';
export { CostMgmtPostgres } from './data/cost-mgmt-postgres';
export { Redis } from './data/redis';
export { ApiGatewayChart } from './gateway/api-gateway-chart';
export { API_GATEWAY_LOCK_KEY } from './gateway/api-gateway-resolve';
export { ErpOperations } from './app/erp-operations';
export { MigrationJob } from './migrations/migration-job';
export { PostgresBackup } from './data/postgres-backup';
export { PostgresCredentials } from './data/postgres-credentials';
export { AppEnv } from './data/app-env';

// Props and options
export * from './app/erp-api-props';
export type { CeleryPairProps, CeleryWorkerOptions, CeleryBeatOptions } from './app/celery-pair';
export type { CostMgmtPostgresProps, PostgresServerTls } from './data/postgres-props';
export type { RedisProps, RedisPersistence, RedisConnection, IRedis } from './data/redis';
export type {
  ApiGatewayChartProps, ApiGatewayImage, ApiGatewayService, ApiGatewayIngress, ApiGatewayIngressHost, ApiGatewayIngressTls,
  ApiGatewayMigrations, ApiGatewayNetworkPolicy, ApiGatewayPostgresql, ApiGatewayRedis,
} from './gateway/api-gateway-values';
export type { ErpOperationsProps, ErpBootstrapOptions, ErpMaintenanceOptions } from './app/erp-operations';
export type { MigrationJobProps } from './migrations/migration-job';
export type { DatabaseStepsOptions } from './migrations/db-steps';
export type { PostgresBackupOptions, PostgresBackupProps } from './data/backup-options';
export type { PostgresCredentialsProps, GeneratedSecretSpec } from './data/postgres-credentials';
export type { PostgresDatabaseSpec } from './data/postgres-sql';
export type { AppEnvOptions } from './data/app-env';
export type { IErpApp } from './app/erp-app';
export type { WebServiceProps } from './app/web-service-props';
export type { ErpApiProbes } from './app/probes';
export type { ComputeResources, ResourceQuantities } from './internal/resources';

// Choices and connections
export { Migrations } from './migrations/migrations';
export { MigrationDelivery, HelmHook, ArgoCdHook } from './migrations/delivery';
export type { MigrationsOptions, DjangoMigrationsOptions, AlembicMigrationsOptions, OperationsCommandOptions } from './migrations/migrations';
export type { MigrationDeliveryOptions } from './migrations/delivery';
export { ExternalDatabase, PostgresSslMode, DATABASE_CA_DIR } from './data/database';
export type { DatabaseConnection, IDatabase, ExternalDatabaseOptions } from './data/database';
export { INGRESS_NGINX, PROMETHEUS, defaultDeny } from './internal/network-policies';
export type { TrafficSource } from './internal/network-policies';
export { resources } from './internal/resources';
export { PropsError } from './internal/validate';

// Offline gates
export { validateManifests, assertValidManifests, formatSchemaErrors, ManifestSchemaError } from './gates/schema-validator';
export type { SchemaError } from './gates/schema-validator';
export { checkPolicy, assertPolicy, formatViolations, formatExemptions, PolicyError } from './gates/policy';
export { POLICY_RULES } from './gates/policy-rules';
export type { PolicyRule, Severity } from './gates/policy-rules';
export type { PolicyResult, PolicyOptions, Violation, Exemption } from './gates/policy';

// Synthesis: the files of `app.synth()`, in time linear in the number of charts
export { ErpSynth } from './synth/erp-synth';
