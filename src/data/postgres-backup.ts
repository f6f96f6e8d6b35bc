import { Cron, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { resolveBackup, ResolvedBackup } from './backup-config';
import { BackupPod, PodKind } from './backup-pod';
import { PostgresBackupProps } from './backup-options';
import { IDatabaseBackup, PreMigrationDumpOptions } from './database';
import { ARGOCD_SYNC_HOOK } from './postgres-credentials';
import { checkAppObjects } from '../internal/app-objects';
import { cronFields } from '../internal/cron';
import { dnsEgressRule, tcpPorts } from '../internal/network-policies';
import { templateHashedName } from '../internal/pod-helpers';
import { restrictedPod } from '../internal/security';
import { setClaimSize } from '../internal/storage';


/**
 * Backups of a PostgreSQL server, as sets (see backup-scripts.ts): every
 * database (each dumped as its owner), the roles (`pg_dumpall
 * --globals-only`), archived volumes such as media, checksums. A CronJob
 * makes them on the backup volume (the fast path), copies them to object
 * storage when `offsite` is given, and prunes each side by its own
 * retention, only after everything else succeeded. A suspended CronJob
 * `<name>-restore` is the restore, run with `kubectl create job --from`;
 * another, `<name>-backup-list`, lists the sets. Migration Jobs can ask for a
 * dump right before they migrate ({@link addPreMigrationDump}).
 */
export class PostgresBackup extends Construct implements IDatabaseBackup {
  /** The CronJob (id 'Resource'). */
  public readonly cronJob: kplus.CronJob;
  /** The backup PVC, unless a volume was given. */
  public readonly claim?: kplus.PersistentVolumeClaim;
  /** Days a set is kept locally. */
  public readonly retentionDays: number;
  /** Days a set is kept off-site (undefined without `offsite`). */
  public readonly offsiteRetentionDays?: number;
  /** The cron schedule. */
  public readonly schedule: string;
  /** The egress policy, if any. */
  public readonly networkPolicy?: kplus.k8s.KubeNetworkPolicy;
  /** The initial backup Job, unless `initialBackup` is false. */
  public readonly initialJob?: kplus.Job;
  /** The restore template (suspended CronJob `<name>-restore`), unless `restore` is false. */
  public readonly restoreCronJob?: kplus.CronJob;
  /** The list template (suspended CronJob `<name>-backup-list`). */
  public readonly listCronJob: kplus.CronJob;
  /** Major version of the backup client. */
  public readonly clientVersion: number;
  public readonly preMigrationWaitSeconds: number;
  private readonly config: ResolvedBackup;
  private readonly volume: kplus.Volume;

  constructor(scope: Construct, id: string, props: PostgresBackupProps) {
    super(scope, id);
    checkAppObjects(this);
    const where = scope; // errors name the construct the props were given to
    const b = resolveBackup(where, this, props);
    this.config = b;
    this.schedule = b.schedule;
    this.retentionDays = b.retentionDays;
    this.clientVersion = b.clientVersion;
    this.preMigrationWaitSeconds = b.preMigrationWaitSeconds;
    this.offsiteRetentionDays = b.offsite?.retentionDays;
    if (b.claim) {
      this.claim = new kplus.PersistentVolumeClaim(this, 'Claim', {
        metadata: { name: `${b.name}-backups`, labels: b.labels, annotations: { 'helm.sh/resource-policy': 'keep' } },
        accessModes: [kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE],
        storageClassName: b.claim.storageClassName,
        volumeMode: kplus.PersistentVolumeMode.FILE_SYSTEM,
      });
      setClaimSize(this.claim, b.claim.size);
    }
    this.volume = b.volume ?? kplus.Volume.fromPersistentVolumeClaim(this, 'Volume', this.claim!);

    this.cronJob = new kplus.CronJob(this, 'Resource', {
      ...this.podDefaults(),
      metadata: { name: `${b.name}-backup`, labels: b.labels },
      schedule: Cron.schedule(cronFields(b.schedule)),
      timeZone: b.timeZone,
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      startingDeadline: Duration.hours(1),
      successfulJobsRetained: 3,
      failedJobsRetained: 3,
      backoffLimit: 1,
      activeDeadline: b.timeout,
    });
    this.pod(this.cronJob, 'scheduled');
    if (b.initialBackup) this.initialJob = this.addInitialJob();
    if (b.restore) this.restoreCronJob = this.addTemplate('Restore', `${b.name}-restore`, 'restore');
    this.listCronJob = this.addTemplate('List', `${b.name}-backup-list`, 'list');
    if (b.networkPolicy) this.networkPolicy = this.addEgressPolicy(where);
  }

  public addPreMigrationDump(scope: Construct, id: string, options: PreMigrationDumpOptions): kplus.Job {
    const job: kplus.Job = new kplus.Job(scope, id, {
      ...this.podDefaults(),
      metadata: {
        name: templateHashedName(() => job, `${options.name}-pre-migration-backup`),
        labels: options.labels,
        annotations: options.annotations,
      },
      backoffLimit: 1,
      activeDeadline: Duration.seconds(this.preMigrationWaitSeconds),
      ttlAfterFinished: Duration.days(1),
    });
    const db = options.connection;
    new BackupPod(this.config, this.volume, {
      scope, own: scope === this, workload: job, kind: 'pre-migration', connection: db,
      databases: [{ name: db.databaseName, secretName: db.secretName }], release: options.release,
    });
    return job;
  }

  /** What every backup, restore and list pod shares: the backup's labels, no API token, the restricted context. */
  private podDefaults(): Pick<kplus.JobProps, 'podMetadata' | 'automountServiceAccountToken' | 'securityContext'> {
    return { podMetadata: { labels: this.config.labels }, automountServiceAccountToken: false, securityContext: restrictedPod(this.config.user) };
  }

  /** The pod of one of this backup's own workloads: every database of the server. */
  private pod(workload: kplus.CronJob | kplus.Job, kind: PodKind): void {
    const { connection, databases } = this.config;
    new BackupPod(this.config, this.volume, { scope: this, own: true, workload, kind, connection, databases });
  }

  /**
   * Runs when the manifests are applied (and again whenever its pod template changes: a new name). It also
   * binds the backup PVC at install: with a WaitForFirstConsumer storage class a claim that only a CronJob
   * mounts stays Pending until the first schedule, which `helm install --wait` and Argo CD health checks wait on.
   */
  private addInitialJob(): kplus.Job {
    const b = this.config;
    const job: kplus.Job = new kplus.Job(this, 'Initial', {
      ...this.podDefaults(),
      metadata: { name: templateHashedName(() => job, `${b.name}-backup-initial`), labels: b.labels, annotations: { ...ARGOCD_SYNC_HOOK } },
      backoffLimit: 3,
      activeDeadline: b.timeout,
      ttlAfterFinished: Duration.days(1),
    });
    this.pod(job, 'initial');
    return job;
  }

  /** A suspended CronJob, never scheduled: a template for `kubectl create job --from=cronjob/<name>`. */
  private addTemplate(cid: string, name: string, kind: PodKind): kplus.CronJob {
    const cj = new kplus.CronJob(this, cid, {
      ...this.podDefaults(),
      metadata: { name, labels: this.config.labels },
      schedule: Cron.schedule({ minute: '0', hour: '0', day: '31', month: '2' }),
      suspend: true,
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      successfulJobsRetained: 1,
      failedJobsRetained: 1,
      backoffLimit: 0,
      activeDeadline: this.config.timeout,
    });
    this.pod(cj, kind);
    return cj;
  }

  /** Egress of the backup pods: DNS, the database, the object store. */
  private addEgressPolicy(where: Construct): kplus.k8s.KubeNetworkPolicy {
    const b = this.config;
    return new kplus.k8s.KubeNetworkPolicy(this, 'EgressPolicy', {
      metadata: { name: `${b.name}-backup-egress`, labels: b.labels },
      spec: {
        podSelector: { matchLabels: b.labels },
        policyTypes: ['Egress'],
        egress: [
          dnsEgressRule(),
          { ports: tcpPorts(where, 'port', [b.connection.port]) },
          ...(b.offsite ? [{ ports: tcpPorts(where, 'backup.offsite.endpoint', [b.offsite.port]) }] : []),
        ],
      },
    });
  }
}
