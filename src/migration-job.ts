import { ApiObject, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { AppEnv } from './app-env';
import { MigrationDelivery, Migrations } from './migrations';
import { addContainer, addPodLabels, disableServiceLinks, mountWritableDirectories, renderedName, stableIdentity, TEMPLATE_HASH_LENGTH, templateHashedName } from './pod-helpers';
import { ComputeResources } from './resources';
import { restrictedPod } from './security';
import { checkDnsLabel, checkInt, fail } from './validate';

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
 * Adds, in this order, the init containers `wait-for-db` and (when `migrate`)
 * `migrate`. Used by ErpApi pods, the migration Job and ApiGatewayChart.
 */
export function addDatabaseInitContainers(workload: kplus.AbstractPod, options: DatabaseStepsOptions & { readonly migrate: boolean }): void {
  const common = { image: options.image, ...options.env.containerProps() };
  addContainer(workload, { name: 'wait-for-db', command: options.migrations.waitCommand, ...common },
    { resources: options.resources, init: true, user: options.user, tmp: options.tmp });
  if (options.migrate) {
    addContainer(workload, { name: 'migrate', command: options.migrations.migrateCommand, ...common },
      { resources: options.resources, init: true, user: options.user, tmp: options.tmp });
  }
}

/**
 * Adds `wait-for-db` then `wait-for-migrations` init containers: for
 * workloads (Celery) that must not start before the schema is current.
 */
export function addWaitForMigrations(workload: kplus.AbstractPod, options: DatabaseStepsOptions & { readonly attempts: number; readonly interval: Duration }): void {
  addDatabaseInitContainers(workload, { ...options, migrate: false });
  addContainer(workload, {
    name: 'wait-for-migrations',
    image: options.image,
    command: options.migrations.waitForMigrationsCommand(options.attempts, options.interval),
    ...options.env.containerProps(),
  }, { resources: options.resources, init: true, user: options.user, tmp: options.tmp });
}

/** Properties of {@link MigrationJob}. */
export interface MigrationJobProps extends DatabaseStepsOptions {
  /** Application name; the Job is `<name>-migrate-<release id>`. */
  readonly name: string;
  /**
   * Release id in the Job name, e.g. the commit hash.
   * @default - the first 10 hex digits of a SHA-256 of the whole pod template: the same template is the same Job, any change a new one
   */
  readonly releaseId?: string;
  /**
   * How Helm, Argo CD and kubectl should treat the Job.
   * @default MigrationDelivery.all()
   */
  readonly delivery?: MigrationDelivery;
  /**
   * Retries of the Job's pod.
   * @default 3
   */
  readonly backoffLimit?: number;
  /**
   * Time after which the Job is failed, however many retries remain. Must
   * exceed the wait-for-database budget.
   * @default Duration.minutes(30)
   */
  readonly activeDeadline?: Duration;
  /**
   * How long a finished Job is kept for `kubectl logs`.
   * @default Duration.days(1)
   */
  readonly ttlAfterFinished?: Duration;
  /**
   * Service account of the Job's pod. Leave it unset for a Helm pre-install
   * hook: hooks run before any object of the release exists, so a
   * ServiceAccount of the release would not be there yet.
   * @default - the namespace's `default` account (no token is mounted)
   */
  readonly serviceAccount?: kplus.IServiceAccount;
  /**
   * Labels of the Job and its pod.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}

/**
 * The migration Job: `wait-for-db` init container, then the locked migrate
 * command. Its name carries a release id, and its annotations make it a Helm
 * pre-install/pre-upgrade hook and an Argo CD PreSync hook (see
 * {@link MigrationDelivery}).
 */
export class MigrationJob extends Construct {
  /** The Job (escape hatch). */
  public readonly job: kplus.Job;
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: MigrationJobProps) {
    super(scope, id);
    const backoffLimit = checkInt(this, 'migrationJob.backoffLimit', props.backoffLimit ?? 3, 0, 20);
    const activeDeadline = props.activeDeadline ?? Duration.minutes(30);
    const ttl = props.ttlAfterFinished ?? Duration.days(1);
    const delivery = props.delivery ?? MigrationDelivery.all();
    if (activeDeadline.toSeconds() <= props.migrations.waitBudget.toSeconds()) {
      fail(this, 'migrationJob.activeDeadline', `${activeDeadline.toSeconds()}s`,
        `must exceed the wait-for-database budget (${props.migrations.waitBudget.toSeconds()}s = attempts x interval), or the Job dies while still waiting`);
    }
    this.prefix = `${props.name}-migrate`;
    const releaseId = props.releaseId === undefined ? undefined : checkDnsLabel(this, 'releaseId', props.releaseId.toLowerCase(), 40);
    checkDnsLabel(this, 'migrationJob.name', `${this.prefix}-${releaseId ?? 'x'.repeat(TEMPLATE_HASH_LENGTH)}`, 63);
    const name = releaseId !== undefined ? `${this.prefix}-${releaseId}` : templateHashedName(() => this.job, this.prefix);

    this.job = new kplus.Job(this, 'Resource', {
      metadata: { name, labels: props.labels, annotations: delivery.annotations() },
      backoffLimit,
      activeDeadline,
      ttlAfterFinished: ttl,
      serviceAccount: props.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: restrictedPod(props.user),
      volumes: props.tmp ? [props.tmp] : undefined,
      podMetadata: { labels: props.labels },
    });
    stableIdentity(this.job, props.labels ?? {});
    addPodLabels(this.job, props.env.podLabels);
    disableServiceLinks(this.job);
    addDatabaseInitContainers(this.job, { ...props, migrate: false });
    addContainer(this.job, {
      name: 'migrate',
      image: props.image,
      command: props.migrations.migrateCommand,
      ...props.env.containerProps(),
    }, { resources: props.resources, user: props.user, tmp: props.tmp });
    mountWritableDirectories(this, 'Job', this.job, props.migrations.writableDirectories);
  }

  /** `<name>-migrate-<release id>`: the given release id, or a hash of the whole pod template. */
  public get jobName(): string {
    return renderedName(this.job);
  }

  /** The release id in the name: the one given, or the template hash. */
  public get releaseId(): string {
    return this.jobName.slice(this.prefix.length + 1);
  }

  /** The Job's ApiObject, for JSON patches. */
  public get apiObject(): ApiObject {
    return ApiObject.of(this.job);
  }
}
