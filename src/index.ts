// The public API: constructs, their props, the choices they take, and the
// offline gates (schema, policy) users can run on their own apps. Helpers
// (validation, pod builders, script generators) stay internal.
//
// It is a jsii API (Python and the other jsii languages see the same):
// classes, structs (props interfaces), enums and enum-like classes with
// static methods. The free functions and constants below the classes are
// kept for TypeScript as deprecated aliases; jsii does not carry them.

// Constructs
export { ErpApi } from './app/erp-api';
export { CeleryPair } from './app/celery-pair';
export { CostMgmtPostgres } from './data/cost-mgmt-postgres';
export { Redis } from './data/redis';
export { ApiGatewayChart } from './gateway/api-gateway-chart';
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
export type { ErpOperationsProps, ErpBootstrapOptions, ErpMaintenanceOptions, SecretKeyReference } from './app/erp-operations';
export type { MigrationJobProps } from './migrations/migration-job';
export type { DatabaseStepsOptions } from './migrations/db-steps';
export type { PostgresBackupOptions, PostgresBackupProps } from './data/backup-options';
export type { PostgresCredentialsProps, GeneratedSecretSpec } from './data/postgres-credentials';
export type { PostgresDatabaseSpec } from './data/postgres-sql';
export type { AppEnvOptions, AppEnvContainerProps } from './data/app-env';
export type { IErpApp } from './app/erp-app';
export type { WebServiceProps } from './app/web-service-props';
export type { ErpApiProbes } from './app/probes';
export type { ComputeResources, ResourceQuantities } from './internal/resources';

// Choices and connections
export { Migrations } from './migrations/migrations';
export { MigrationDelivery, HelmHook, ArgoCdHook } from './migrations/delivery';
export type { MigrationsOptions, DjangoMigrationsOptions, AlembicMigrationsOptions, OperationsCommandOptions } from './migrations/migrations';
export type { MigrationDeliveryOptions } from './migrations/delivery';
export { ExternalDatabase, PostgresSslMode } from './data/database';
export type { DatabaseConnection, IDatabase, IDatabaseBackup, ExternalDatabaseOptions, PreMigrationDumpOptions } from './data/database';
export type { BackupArchive, BackupDatabase, OffsiteBackupOptions } from './data/backup-options';
export { NetworkPolicies } from './internal/network-policies';
export type { TrafficSource } from './internal/network-policies';
export { Resources } from './internal/resources';
export { ErrorCode } from './internal/error-code';
export type { PropsErrorDetails } from './internal/props-error';

// Offline gates
export { Policy, ManifestSchema } from './gates/gates';
export { Severity } from './gates/policy-rules';
export type { PolicyRule } from './gates/policy-rules';
export type { SchemaError } from './gates/schema-validator';
export type { PolicyResult, PolicyOptions, Violation, Exemption } from './gates/policy';

// Synthesis: the files of `app.synth()`, in time linear in the number of charts
export { ErpSynth } from './synth/erp-synth';

// The generated types of the custom resources the constructs expose
// (`ErpApi.serviceMonitor`, `ErpApi.vpa`), as submodules
export * as monitoring from '../imports/servicemonitor-monitoring.coreos.com';
export * as vpa from '../imports/vpa-autoscaling.k8s.io';

// Deprecated aliases, kept for TypeScript for one minor release (jsii does not carry free functions or constants)
export { API_GATEWAY_LOCK_KEY } from './gateway/api-gateway-resolve';
export { DATABASE_CA_DIR } from './data/database';
export { INGRESS_NGINX, PROMETHEUS, defaultDeny } from './internal/network-policies';
export { resources } from './internal/resources';
export { PropsError } from './internal/validate';
export { validateManifests, assertValidManifests, formatSchemaErrors, ManifestSchemaError } from './gates/schema-validator';
export { checkPolicy, assertPolicy, formatViolations, formatExemptions, PolicyError } from './gates/policy';
export { POLICY_RULES } from './gates/policy-rules';
