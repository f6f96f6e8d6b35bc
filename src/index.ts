// The public API: constructs, their props, the choices they take, and the
// offline gates (schema, policy) users can run on their own apps. Helpers
// (validation, pod builders, script generators) stay internal.

// Constructs
export { ErpApi } from './erp-api';
export { CeleryPair } from './celery-pair';
export { CostMgmtPostgres } from './cost-mgmt-postgres';
export { Redis } from './redis';
export { ApiGatewayChart, API_GATEWAY_LOCK_KEY } from './api-gateway-chart';
export { ErpOperations } from './erp-operations';
export { MigrationJob } from './migration-job';
export { PostgresBackup } from './postgres-backup';
export { PostgresCredentials } from './postgres-credentials';
export { AppEnv } from './app-env';

// Props and options
export * from './erp-api-props';
export type { CeleryPairProps, CeleryWorkerOptions, CeleryBeatOptions } from './celery-pair';
export type { CostMgmtPostgresProps, PostgresServerTls } from './cost-mgmt-postgres';
export type { RedisProps, RedisPersistence, RedisConnection, IRedis } from './redis';
export type {
  ApiGatewayChartProps, ApiGatewayImage, ApiGatewayService, ApiGatewayIngress, ApiGatewayIngressHost, ApiGatewayIngressTls,
  ApiGatewayMigrations, ApiGatewayNetworkPolicy, ApiGatewayPostgresql, ApiGatewayRedis,
} from './api-gateway-values';
export type { ErpOperationsProps, ErpBootstrapOptions, ErpMaintenanceOptions } from './erp-operations';
export type { MigrationJobProps, DatabaseStepsOptions } from './migration-job';
export type { PostgresBackupOptions, PostgresBackupProps } from './postgres-backup';
export type { PostgresCredentialsProps, GeneratedSecretSpec } from './postgres-credentials';
export type { PostgresDatabaseSpec } from './postgres-sql';
export type { AppEnvOptions } from './app-env';
export type { ErpApiProbes } from './probes';
export type { ComputeResources, ResourceQuantities } from './resources';

// Choices and connections
export { Migrations, MigrationDelivery, HelmHook, ArgoCdHook } from './migrations';
export type { MigrationsOptions, DjangoMigrationsOptions, AlembicMigrationsOptions, MigrationDeliveryOptions, OperationsCommandOptions } from './migrations';
export { ExternalDatabase, PostgresSslMode, DATABASE_CA_DIR } from './database';
export type { DatabaseConnection, IDatabase, ExternalDatabaseOptions } from './database';
export { INGRESS_NGINX, PROMETHEUS, defaultDeny } from './network-policies';
export type { TrafficSource } from './network-policies';
export { resources } from './resources';
export { PropsError } from './validate';

// Offline gates
export { validateManifests, assertValidManifests, formatSchemaErrors, ManifestSchemaError } from './schema-validator';
export type { SchemaError } from './schema-validator';
export { checkPolicy, assertPolicy, formatViolations, formatExemptions, PolicyError, POLICY_RULES } from './policy';
export type { PolicyRule, PolicyResult, PolicyOptions, Violation, Exemption, Severity } from './policy';

// Synthesis: the files of `app.synth()`, in time linear in the number of charts
export { ErpSynth } from './erp-synth';
