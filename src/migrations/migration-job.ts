import { ApiObject, Duration, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkAppObjects } from '../synth/app-objects';
import { AppEnv } from '../app/app-env';
import { IDatabaseBackup } from '../data/database';
import { dnsEgressRule, tcpPorts } from '../internal/network-policies';
import { MigrationDelivery, precedingHookAnnotations, preMigrationBackupAnnotations } from './delivery';
import { Migrations } from './migrations';
import {
  addContainer, addPodLabels, disableServiceLinks, mountWritableDirectories, renderedName, SELECTOR_LABELS, stableIdentity, TEMPLATE_HASH_LENGTH,
  templateHashedName,
} from '../internal/pod-helpers';
import { ComputeResources } from '../internal/resources';
import { restrictedPod } from '../internal/security';
import { checkDnsLabel, checkInt, fail } from '../internal/validate';

// Kept at their old path for the modules that import them from here; new code imports ./delivery.
export { precedingHookAnnotations, preMigrationBackupAnnotations } from './delivery';

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
export function addDatabaseInitContainers(workload: kplus.AbstractPod,
  options: DatabaseStepsOptions & { readonly migrate: boolean; readonly releaseEnv?: Record<string, kplus.EnvValue> }): void {
  const common = { image: options.image, ...options.env.containerProps() };
  addContainer(workload, { name: 'wait-for-db', command: options.migrations.waitCommand, ...common },
    { resources: options.resources, init: true, user: options.user, tmp: options.tmp });
  if (options.migrate) {
    addContainer(workload, {
      name: 'migrate', command: options.migrations.migrateCommand, ...common,
      envVariables: { ...common.envVariables, ...(options.releaseEnv ?? {}) },
    }, { resources: options.resources, init: true, user: options.user, tmp: options.tmp });
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

/**
 * The variables that make a migrate init container wait for its release's
 * pre-migration dump: ERP_K8S_RELEASE (the migration Job's name, resolved at
 * synth) and ERP_K8S_BACKUP_WAIT_SECONDS.
 */
export function releaseEnv(backup: IDatabaseBackup, jobName: () => string): Record<string, kplus.EnvValue> {
  return waitForDumpEnv(backup, kplus.EnvValue.fromValue(Lazy.any({ produce: jobName }) as unknown as string));
}

/** ERP_K8S_RELEASE (`release`) and ERP_K8S_BACKUP_WAIT_SECONDS: what makes a migrator wait for its release's dump. */
function waitForDumpEnv(backup: IDatabaseBackup, release: kplus.EnvValue): Record<string, kplus.EnvValue> {
  return { ERP_K8S_RELEASE: release, ERP_K8S_BACKUP_WAIT_SECONDS: kplus.EnvValue.fromValue(String(backup.preMigrationWaitSeconds)) };
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
  /**
   * Dump the database right before migrating: a Job that `backup` provides
   * (the database's backups, {@link IDatabase.backup}), ordered before this
   * one as a hook, and waited for by every migrator of the release (see
   * {@link MigrationJob.preMigrationBackupJob}).
   * @default - no dump
   */
  readonly preMigrationBackup?: IDatabaseBackup;
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
  private readonly delivery: MigrationDelivery;
  private readonly labels: Record<string, string>;
  private egress?: kplus.k8s.KubeNetworkPolicy;
  /**
   * The pre-migration dump Job, when `preMigrationBackup` is given: a Helm
   * pre-upgrade hook (nothing to back up at install) and an Argo CD hook of
   * the Job's phase, both ordered before this Job; a plain Job under
   * `kubectl apply`. Every migrator of the release (this Job and the app's
   * migrate init containers, given ERP_K8S_RELEASE) waits, without
   * holding the advisory lock, until the dump has recorded the release.
   */
  public readonly preMigrationBackupJob?: kplus.Job;
  /** The egress policy of the pre-migration dump's pod (a hook before it). */
  public readonly preMigrationBackupEgress?: kplus.k8s.KubeNetworkPolicy;

  constructor(scope: Construct, id: string, props: MigrationJobProps) {
    super(scope, id);
    checkAppObjects(this);
    const backoffLimit = checkInt(this, 'migrationJob.backoffLimit', props.backoffLimit ?? 3, 0, 20);
    const activeDeadline = props.activeDeadline ?? Duration.minutes(30);
    const ttl = props.ttlAfterFinished ?? Duration.days(1);
    const delivery = props.delivery ?? MigrationDelivery.all();
    this.delivery = delivery;
    this.labels = props.labels ?? {};
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
    const envProps = props.env.containerProps();
    const backup = props.preMigrationBackup;
    const connection = props.env.database;
    if (backup && !connection) fail(this, 'preMigrationBackup', 'a backup', "needs the app's 'database' (the dump is of it)");
    addContainer(this.job, {
      name: 'migrate',
      image: props.image,
      command: props.migrations.migrateCommand,
      ...envProps,
      envVariables: {
        ...envProps.envVariables,
        // the Job's own name (set by the Job controller on its pods): a name derived from the template cannot be in it
        ...(backup ? waitForDumpEnv(backup, kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_LABEL, { key: 'batch.kubernetes.io/job-name' })) : {}),
      },
    }, { resources: props.resources, user: props.user, tmp: props.tmp });
    mountWritableDirectories(this, 'Job', this.job, props.migrations.writableDirectories);
    if (backup && connection) {
      this.preMigrationBackupJob = backup.addPreMigrationDump(this, 'PreMigrationBackup', {
        connection,
        release: Lazy.any({ produce: () => this.jobName }) as unknown as string,
        name: props.name,
        annotations: preMigrationBackupAnnotations(delivery, 2),
        labels: { ...this.labels, 'app.kubernetes.io/component': 'pre-migration-backup' },
      });
      ApiObject.of(this.job).addDependency(this.preMigrationBackupJob);
      // Its egress (DNS, the database), a hook just before it: as a pre-upgrade hook it must not count on
      // policies of the release being upgraded. The pod is told apart from the scheduled backups by a label.
      const podLabel = { 'erp-k8s.io/pre-migration-backup': props.name };
      addPodLabels(this.preMigrationBackupJob, podLabel);
      this.preMigrationBackupEgress = new kplus.k8s.KubeNetworkPolicy(this, 'PreMigrationBackupEgress', {
        metadata: { name: `${props.name}-pre-migration-backup-egress`, labels: this.labels, annotations: preMigrationBackupAnnotations(delivery, 3) },
        spec: {
          podSelector: { matchLabels: podLabel },
          policyTypes: ['Egress'],
          egress: [dnsEgressRule(), { ports: tcpPorts(this, 'database.port', [connection.port]) }],
        },
      });
      if (backup.preMigrationWaitSeconds >= activeDeadline.toSeconds()) {
        fail(this, 'migrationJob.activeDeadline', `${activeDeadline.toSeconds()}s`,
          `must exceed the pre-migration backup's deadline (${backup.preMigrationWaitSeconds}s), or the Job dies while waiting for the dump`);
      }
    }
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

  /**
   * Lets the Job's pods out (`<name>-migrate-egress`), from the moment the
   * Job runs. A hook runs before the ordinary objects of its release exist
   * (Helm creates them after pre-install hooks, Argo CD after PreSync), so
   * the app's own egress policy is not there yet and the namespace's
   * deny-all would cut the Job off from DNS and the database. This policy is
   * a hook of the same phases, ordered just before the Job (Helm weight and
   * Argo CD wave one lower) and re-created with it; under `kubectl apply`
   * it is an ordinary object in an earlier file (10-config).
   */
  public allowEgress(egress: kplus.k8s.NetworkPolicyEgressRule[]): kplus.k8s.KubeNetworkPolicy {
    if (this.egress) fail(this, 'allowEgress', 'a second call', 'is not allowed: pass every rule in one call');
    const labels = this.labels;
    const selector = Object.fromEntries(SELECTOR_LABELS.filter((k) => labels[k] !== undefined).map((k) => [k, labels[k]]));
    if (Object.keys(selector).length === 0) fail(this, 'labels', labels, `must hold ${SELECTOR_LABELS.join(', ')} to select the Job's pods`);
    this.egress = new kplus.k8s.KubeNetworkPolicy(this, 'EgressPolicy', {
      metadata: { name: `${this.prefix}-egress`, labels, annotations: precedingHookAnnotations(this.delivery) },
      spec: { podSelector: { matchLabels: selector }, policyTypes: ['Egress'], egress },
    });
    return this.egress;
  }

  /** The egress policy of the Job's pods, once {@link allowEgress} made it. */
  public get egressPolicy(): kplus.k8s.KubeNetworkPolicy | undefined {
    return this.egress;
  }
}
