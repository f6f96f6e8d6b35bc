import { ApiObject, Duration, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkAppObjects } from '../internal/app-objects';
import { DatabaseConnection, IDatabaseBackup } from '../data/database';
import { dnsEgressRule, tcpPorts } from '../internal/network-policies';
import {
  addPodLabels, disableServiceLinks, mountWritableDirectories, renderedName, SELECTOR_LABELS, stableIdentity, TEMPLATE_HASH_LENGTH,
  templateHashedName,
} from '../internal/pod-helpers';
import { restrictedPod } from '../internal/security';
import { checkDnsLabel, checkInt, fail } from '../internal/validate';
import { addDatabaseInitContainers, addDatabaseStep, DatabaseStepsOptions, waitForDumpEnv } from './db-steps';
import { MigrationDelivery, precedingHookAnnotations, preMigrationBackupAnnotations } from './delivery';

// Kept at their old path for the modules that import them from here; new code imports ./db-steps and ./delivery.

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
    const config = resolveMigrationJob(this, props);
    this.prefix = config.prefix;
    this.delivery = config.delivery;
    this.labels = config.labels;
    const name = config.releaseId !== undefined ? `${this.prefix}-${config.releaseId}` : templateHashedName(() => this.job, this.prefix);

    this.job = new kplus.Job(this, 'Resource', {
      metadata: { name, labels: props.labels, annotations: this.delivery.annotations() },
      backoffLimit: config.backoffLimit,
      activeDeadline: config.activeDeadline,
      ttlAfterFinished: config.ttlAfterFinished,
      serviceAccount: props.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: restrictedPod(props.user),
      volumes: props.tmp ? [props.tmp] : undefined,
      podMetadata: { labels: props.labels },
    });
    stableIdentity(this.job, this.labels);
    addPodLabels(this.job, props.env.podLabels);
    disableServiceLinks(this.job);
    addDatabaseInitContainers(this.job, { ...props, migrate: false });
    // the Job's own name (set by the Job controller on its pods): a name derived from the template cannot be in it
    const jobNameEnv = kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_LABEL, { key: 'batch.kubernetes.io/job-name' });
    addDatabaseStep(this.job, props, 'migrate', props.migrations.migrateCommand, {
      init: false,
      env: config.preMigration ? waitForDumpEnv(config.preMigration.backup, jobNameEnv) : {},
    });
    mountWritableDirectories(this, 'Job', this.job, props.migrations.writableDirectories);
    if (config.preMigration) {
      const dump = this.addPreMigrationBackup(props.name, config.preMigration);
      this.preMigrationBackupJob = dump.job;
      this.preMigrationBackupEgress = dump.egress;
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

  /** The pre-migration dump Job, ordered before this one, and its egress policy. */
  private addPreMigrationBackup(name: string, { backup, connection }: PreMigrationBackup): { job: kplus.Job; egress: kplus.k8s.KubeNetworkPolicy } {
    const job = backup.addPreMigrationDump(this, 'PreMigrationBackup', {
      connection,
      release: Lazy.any({ produce: () => this.jobName }) as unknown as string,
      name,
      annotations: preMigrationBackupAnnotations(this.delivery, 2),
      labels: { ...this.labels, 'app.kubernetes.io/component': 'pre-migration-backup' },
    });
    ApiObject.of(this.job).addDependency(job);
    // Its egress (DNS, the database), a hook just before it: as a pre-upgrade hook it must not count on
    // policies of the release being upgraded. The pod is told apart from the scheduled backups by a label.
    const podLabel = { 'erp-k8s.io/pre-migration-backup': name };
    addPodLabels(job, podLabel);
    const egress = new kplus.k8s.KubeNetworkPolicy(this, 'PreMigrationBackupEgress', {
      metadata: { name: `${name}-pre-migration-backup-egress`, labels: this.labels, annotations: preMigrationBackupAnnotations(this.delivery, 3) },
      spec: {
        podSelector: { matchLabels: podLabel },
        policyTypes: ['Egress'],
        egress: [dnsEgressRule(), { ports: tcpPorts(this, 'database.port', [connection.port]) }],
      },
    });
    return { job, egress };
  }
}

/** A dump before migrating, and the database it dumps. */
interface PreMigrationBackup {
  readonly backup: IDatabaseBackup;
  readonly connection: DatabaseConnection;
}

/** {@link MigrationJobProps} with defaults applied, checked once. */
interface MigrationJobConfig {
  readonly backoffLimit: number;
  readonly activeDeadline: Duration;
  readonly ttlAfterFinished: Duration;
  readonly delivery: MigrationDelivery;
  readonly labels: Record<string, string>;
  /** `<name>-migrate`: the Job's name without its release id. */
  readonly prefix: string;
  /** The given release id (lower case), or undefined for the template hash. */
  readonly releaseId?: string;
  readonly preMigration?: PreMigrationBackup;
}

function resolveMigrationJob(scope: Construct, props: MigrationJobProps): MigrationJobConfig {
  const backoffLimit = checkInt(scope, 'migrationJob.backoffLimit', props.backoffLimit ?? 3, 0, 20);
  const activeDeadline = props.activeDeadline ?? Duration.minutes(30);
  const deadline = activeDeadline.toSeconds();
  const waitBudget = props.migrations.waitBudget.toSeconds();
  if (deadline <= waitBudget) {
    fail(scope, 'migrationJob.activeDeadline', `${deadline}s`,
      `must exceed the wait-for-database budget (${waitBudget}s = attempts x interval), or the Job dies while still waiting`);
  }
  const prefix = `${props.name}-migrate`;
  const releaseId = props.releaseId === undefined ? undefined : checkDnsLabel(scope, 'releaseId', props.releaseId.toLowerCase(), 40);
  checkDnsLabel(scope, 'migrationJob.name', `${prefix}-${releaseId ?? 'x'.repeat(TEMPLATE_HASH_LENGTH)}`, 63);
  const backup = props.preMigrationBackup;
  const connection = props.env.database;
  if (backup && !connection) fail(scope, 'preMigrationBackup', 'a backup', "needs the app's 'database' (the dump is of it)");
  if (backup && backup.preMigrationWaitSeconds >= deadline) {
    fail(scope, 'migrationJob.activeDeadline', `${deadline}s`,
      `must exceed the pre-migration backup's deadline (${backup.preMigrationWaitSeconds}s), or the Job dies while waiting for the dump`);
  }
  return {
    backoffLimit,
    activeDeadline,
    ttlAfterFinished: props.ttlAfterFinished ?? Duration.days(1),
    delivery: props.delivery ?? MigrationDelivery.all(),
    labels: props.labels ?? {},
    prefix,
    releaseId,
    preMigration: backup && connection ? { backup, connection } : undefined,
  };
}
