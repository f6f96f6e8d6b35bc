import { Duration, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { AppEnv } from '../data/app-env';
import { IDatabaseBackup } from '../data/database';
import { addContainer } from '../internal/pod-helpers';
import { ComputeResources } from '../internal/resources';
import { Migrations } from './migrations';

/** What the database steps of a pod need. */
export interface DatabaseStepsOptions {
  /** Application image (the steps run the app's own tooling). */
  readonly image: string;
  /** The framework. */
  readonly migrations: Migrations;
  /** The app's environment (the one definition). */
  readonly env: AppEnv;
  /** Resources of each step container. */
  readonly resources: ComputeResources;
  /** UID. */
  readonly user?: number;
  /** emptyDir mounted at /tmp. */
  readonly tmp?: kplus.Volume;
}

/**
 * Adds one database step running the app's image with the app's environment
 * (plus `extraEnv`): an init container unless `init` is false (the migration
 * Job's own migrate container).
 */
export function addDatabaseStep(workload: kplus.AbstractPod, options: DatabaseStepsOptions, name: string, command: string[],
  extra: { readonly init?: boolean; readonly env?: Record<string, kplus.EnvValue> } = {}): void {
  const envProps = options.env.containerProps();
  addContainer(workload, {
    name, image: options.image, command, ...envProps,
    ...(extra.env ? { envVariables: { ...envProps.envVariables, ...extra.env } } : {}),
  }, { resources: options.resources, init: extra.init ?? true, user: options.user, tmp: options.tmp });
}

/**
 * Adds, in this order, the init containers `wait-for-db` and (when `migrate`)
 * `migrate`. Used by ErpApi pods, the migration Job and ApiGatewayChart.
 */
export function addDatabaseInitContainers(workload: kplus.AbstractPod,
  options: DatabaseStepsOptions & { readonly migrate: boolean; readonly releaseEnv?: Record<string, kplus.EnvValue> }): void {
  addDatabaseStep(workload, options, 'wait-for-db', options.migrations.waitCommand);
  if (options.migrate) addDatabaseStep(workload, options, 'migrate', options.migrations.migrateCommand, { env: options.releaseEnv ?? {} });
}

/**
 * Adds `wait-for-db` then `wait-for-migrations` init containers: for
 * workloads (Celery) that must not start before the schema is current.
 */
export function addWaitForMigrations(workload: kplus.AbstractPod,
  options: DatabaseStepsOptions & { readonly attempts: number; readonly interval: Duration }): void {
  addDatabaseInitContainers(workload, { ...options, migrate: false });
  addDatabaseStep(workload, options, 'wait-for-migrations', options.migrations.waitForMigrationsCommand(options.attempts, options.interval));
}

/**
 * The variables that make a migrate init container wait for its release's
 * pre-migration dump: ERP_K8S_RELEASE (the migration Job's name, resolved at
 * synth) and ERP_K8S_BACKUP_WAIT_SECONDS.
 */
export function releaseEnv(backup: IDatabaseBackup, jobName: () => string): Record<string, kplus.EnvValue> {
  return waitForDumpEnv(backup, kplus.EnvValue.fromValue(Lazy.any({ produce: jobName }) as unknown as string));
}

/** ERP_K8S_RELEASE (`release`) and ERP_K8S_BACKUP_WAIT_SECONDS: what makes a migrator wait for its release's dump. */
export function waitForDumpEnv(backup: IDatabaseBackup, release: kplus.EnvValue): Record<string, kplus.EnvValue> {
  return { ERP_K8S_RELEASE: release, ERP_K8S_BACKUP_WAIT_SECONDS: kplus.EnvValue.fromValue(String(backup.preMigrationWaitSeconds)) };
}
