import { ApiObject, Chart, Cron, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  ARCHIVE_DIR, archiveScript, BACKUP_DIR, dumpScript, fetchScript, listScript, markerScript, offsitePruneScript, pruneScript, restoreScript,
  STATE_DIR, unarchiveScript, uploadScript,
} from './backup-scripts';
import { checkAppObjects } from '../synth/app-objects';
import { DatabaseConnection, databaseTlsEnv, IDatabaseBackup, mountDatabaseCa, PreMigrationDumpOptions } from './database';
import { cronFields } from '../internal/cron';
import { dnsEgressRule, tcpPorts } from '../internal/network-policies';
import { ARGOCD_SYNC_HOOK } from './postgres-credentials';
import { addContainer, addPodLabels, disableServiceLinks, stableIdentity, TEMPLATE_HASH_LENGTH, templateHashedName } from '../internal/pod-helpers';
import { checkResources, ComputeResources, parseBytes, quantity, resources } from '../internal/resources';
import { postgresImageMajorVersion } from './postgres-sql';
import { restrictedPod } from '../internal/security';
import {
  checkCron, checkDerivedName, checkDnsLabel, checkDnsSubdomain, checkImage, checkInt, checkSqlIdentifier, checkTimeZone, checkUnique, CRONJOB_NAME_MAX, fail, JOB_NAME_MAX,
} from '../internal/validate';

/** Backups of a PostgreSQL database (seeds 002 and 004). */
export interface PostgresBackupOptions {
  /**
   * When to run, as a five-field cron expression (or a macro such as `@daily`).
   * @default '0 2 * * *'
   */
  readonly schedule?: string;
  /**
   * IANA time zone of the schedule.
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /**
   * Days a dump is kept; older dumps are pruned after each successful dump
   * (7 for dev and staging, 30 for production).
   * @default 7
   */
  readonly retentionDays?: number;
  /**
   * Size of the backup PVC (when no `volume` is given).
   * @default '20Gi'
   */
  readonly size?: string;
  /**
   * Storage class of the backup PVC.
   * @default - the cluster's default storage class
   */
  readonly storageClassName?: string;
  /**
   * Where the dumps go instead of a new PVC (an NFS share, an existing claim...).
   * @default - a PVC `<name>-backups`, kept on uninstall
   */
  readonly volume?: kplus.Volume;
  /**
   * Image with `pg_dump`, `pg_dumpall`, `pg_restore` and `psql`, of the
   * server's major version or newer (checked at synth against the server
   * version, and at run time against the server itself).
   * @default - the in-cluster server's image; for an external server `quay.io/sclorg/postgresql-<server version>-c9s:c9s`
   */
  readonly image?: string;
  /**
   * Major version of the client in `image`, when its name does not tell it
   * (`postgresql-15-...`, `postgres:15...` do).
   * @default - read from the image name
   */
  readonly clientVersion?: number;
  /**
   * More databases of the same server to dump, each as its owner (the
   * in-cluster server's own `databases` are always included).
   * @default []
   */
  readonly databases?: BackupDatabase[];
  /**
   * Volumes archived with every scheduled backup and restored with it (the
   * API's media uploads, seed 004).
   * @default []
   */
  readonly archives?: BackupArchive[];
  /**
   * A copy of every backup set in object storage, over the S3 protocol.
   * @default - none: the backup volume only
   */
  readonly offsite?: OffsiteBackupOptions;
  /**
   * The restore template: a suspended CronJob `<name>-restore` that
   * `kubectl create job --from=cronjob/<name>-restore` runs.
   * @default true
   */
  readonly restore?: boolean;
  /**
   * Longest a pre-migration dump may take (migrators wait this long for it).
   * @default Duration.minutes(20)
   */
  readonly preMigrationTimeout?: Duration;
  /**
   * Requests and limits of the dump container.
   * @default 100m/256Mi requests, 1000m/1Gi limits
   */
  readonly resources?: ComputeResources;
  /**
   * Longest a backup may run before it is killed.
   * @default Duration.hours(2)
   */
  readonly timeout?: Duration;
  /**
   * Also dump once when the manifests are applied: a Job named after its pod
   * template (so a re-apply does not run it again), an Argo CD Sync hook. It
   * binds the backup volume at install, which `helm install --wait` and Argo
   * CD's health checks wait for on WaitForFirstConsumer storage classes.
   * @default true
   */
  readonly initialBackup?: boolean;
}


/** A database to dump, with the Secret of a role that can read all of it (its owner). */
export interface BackupDatabase {
  /** Database name. */
  readonly name: string;
  /** Secret with the keys `username` and `password`. */
  readonly secretName: string;
}

/** A volume archived with the backups (`<name>.tar.gz` in each set). */
export interface BackupArchive {
  /** Archive name (a DNS label), e.g. `media`. */
  readonly name: string;
  /** The PersistentVolumeClaim to archive and restore. */
  readonly claimName: string;
  /** UID (and GID) that owns the files: archives are read and restored as it. */
  readonly user: number;
  /**
   * Labels of the pods that mount the claim: with a ReadWriteOnce claim the
   * backup pod must run on their node.
   * @default - none (ReadWriteMany, or no running pods)
   */
  readonly colocateWith?: Record<string, string>;
}

/** Where and how backup sets are copied off-site (any S3-compatible store). */
export interface OffsiteBackupOptions {
  /** Endpoint URL, e.g. `https://s3.eu-central-1.amazonaws.com` or `https://minio.example.com:9000`. */
  readonly endpoint: string;
  /** Bucket (it must exist). */
  readonly bucket: string;
  /**
   * Key prefix of the sets (`<prefix>/<set>/<file>`).
   * @default - `<namespace>/<name>` (the backup's name)
   */
  readonly prefix?: string;
  /** Secret (created by you) with the keys `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`. */
  readonly credentialsSecret: string;
  /**
   * Region.
   * @default 'us-east-1'
   */
  readonly region?: string;
  /**
   * rclone's S3 provider (`AWS`, `Minio`, `Ceph`, `Wasabi`, `Other`...).
   * @default 'Other'
   */
  readonly provider?: string;
  /**
   * Path-style URLs (`endpoint/bucket/key`), as MinIO, Ceph and most
   * self-hosted stores need.
   * @default true
   */
  readonly forcePathStyle?: boolean;
  /**
   * Days a set is kept off-site; older ones are deleted after each
   * successful backup.
   * @default - the local retention
   */
  readonly retentionDays?: number;
  /**
   * rclone image.
   * @default 'docker.io/rclone/rclone:1.68.2'
   */
  readonly image?: string;
}

/** Properties of {@link PostgresBackup}. */
export interface PostgresBackupProps extends PostgresBackupOptions {
  /**
   * Base name: CronJob `<name>-backup`, PVC `<name>-backups`, CronJob
   * `<name>-restore`. A DNS-1123 label of at most 37 characters, so that
   * the Job `<name>-backup-initial-<10 hex>` (63) and the CronJob
   * `<name>-backup-list` (52) fit.
   */
  readonly name: string;
  /** The server (host, port, TLS, version) and its application database. */
  readonly connection: DatabaseConnection;
  /**
   * Databases of the server itself besides the application's, each with
   * its owner's Secret.
   * @default []
   */
  readonly serverDatabases?: BackupDatabase[];
  /**
   * Image used when `image` is not given.
   * @default - `quay.io/sclorg/postgresql-<server version>-c9s:c9s`
   */
  readonly defaultImage?: string;
  /** Labels of the objects and pods. */
  readonly labels: Record<string, string>;
  /** UID/GID of the PostgreSQL client containers (and fsGroup of the volume). @default 26 */
  readonly user?: number;
  /** An egress NetworkPolicy (DNS, the database port, the object store's port). @default true */
  readonly networkPolicy?: boolean;
}

/** The default rclone image (the manifests name it; pin your own with `offsite.image`). */
export const DEFAULT_RCLONE_IMAGE = 'docker.io/rclone/rclone:1.68.2';

/** What a backup pod does. */
type PodKind = 'scheduled' | 'initial' | 'pre-migration' | 'restore' | 'list';

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
  private readonly props: PostgresBackupProps;
  private readonly image: string;
  private readonly resources: ComputeResources;
  private readonly user: number;
  private readonly timeout: Duration;
  private readonly volume: kplus.Volume;
  private readonly databases: BackupDatabase[];
  private readonly archives: BackupArchive[];
  private readonly offsite?: Required<Omit<OffsiteBackupOptions, 'retentionDays'>> & { readonly retentionDays: number; readonly port: number };

  constructor(scope: Construct, id: string, props: PostgresBackupProps) {
    super(scope, id);
    checkAppObjects(this);
    const where = scope; // errors name the construct the props were given to
    this.props = props;
    // the longest derived names: the first-dump Job and the list CronJob
    checkDnsLabel(where, 'name', props.name);
    checkDerivedName(where, 'name', props.name, `-backup-initial-${'0'.repeat(TEMPLATE_HASH_LENGTH)}`, 'first-dump Job', JOB_NAME_MAX);
    checkDerivedName(where, 'name', props.name, '-backup-list', 'CronJob', CRONJOB_NAME_MAX);
    this.schedule = checkCron(where, 'backup.schedule', props.schedule ?? '0 2 * * *');
    this.retentionDays = checkInt(where, 'backup.retentionDays', props.retentionDays ?? 7, 1, 3650);
    const timeZone = checkTimeZone(where, 'backup.timeZone', props.timeZone ?? 'UTC');
    const conn = props.connection;
    const serverVersion = conn.serverVersion;
    if (props.image === undefined && props.defaultImage === undefined && serverVersion === undefined) {
      fail(where, 'version', undefined, 'is required for backups of an external server: the backup client (pg_dump) must be of its major version or newer (e.g. 15)');
    }
    this.image = checkImage(where, 'backup.image', props.image ?? props.defaultImage ?? `quay.io/sclorg/postgresql-${serverVersion}-c9s:c9s`);
    const clientVersion = props.clientVersion ?? postgresImageMajorVersion(this.image);
    if (clientVersion === undefined) {
      fail(where, 'backup.image', this.image, "must name its PostgreSQL major version (e.g. 'quay.io/sclorg/postgresql-15-c9s:c9s', 'postgres:15'), or set 'backup.clientVersion'");
    }
    this.clientVersion = checkInt(where, 'backup.clientVersion', clientVersion, 9, 99);
    if (serverVersion !== undefined && this.clientVersion < serverVersion) {
      fail(where, 'backup.image', this.image,
        `must be PostgreSQL ${serverVersion} or newer: the server is PostgreSQL ${serverVersion} and pg_dump ${this.clientVersion} refuses to dump a newer server`);
    }
    this.resources = checkResources(where, 'backup.resources', props.resources ?? resources('100m', '256Mi', '1000m', '1Gi'));
    this.timeout = props.timeout ?? Duration.hours(2);
    if (this.timeout.toSeconds() < 60) fail(where, 'backup.timeout', `${this.timeout.toSeconds()}s`, 'must be at least 60s');
    const preMigrationTimeout = props.preMigrationTimeout ?? Duration.minutes(20);
    if (preMigrationTimeout.toSeconds() < 60) fail(where, 'backup.preMigrationTimeout', `${preMigrationTimeout.toSeconds()}s`, 'must be at least 60s');
    this.preMigrationWaitSeconds = preMigrationTimeout.toSeconds();
    this.user = props.user ?? 26;
    const labels = props.labels;

    this.databases = [{ name: conn.databaseName, secretName: conn.secretName }, ...(props.serverDatabases ?? []), ...(props.databases ?? [])];
    this.databases.forEach((d, i) => {
      checkSqlIdentifier(where, `backup.databases[${i}].name`, d.name);
      checkDnsSubdomain(where, `backup.databases[${i}].secretName`, d.secretName);
    });
    checkUnique(where, 'backup.databases', this.databases.map((d) => d.name));
    this.archives = (props.archives ?? []).map((a, i) => {
      checkDnsLabel(where, `backup.archives[${i}].name`, a.name, 40);
      checkDnsSubdomain(where, `backup.archives[${i}].claimName`, a.claimName);
      checkInt(where, `backup.archives[${i}].user`, a.user, 1, 2147483647);
      return a;
    });
    checkUnique(where, 'backup.archives', this.archives.map((a) => a.name));
    if (new Set(this.archives.map((a) => a.user)).size > 1) {
      fail(where, 'backup.archives', this.archives.map((a) => `${a.name}: ${a.user}`).join(', '), 'must all belong to one user (one archive container runs as it)');
    }
    if (props.offsite) this.offsite = this.checkOffsite(where, props.offsite);

    let volume = props.volume;
    if (!volume) {
      const size = props.size ?? '20Gi';
      parseBytes(where, 'backup.size', size);
      const storageClassName = props.storageClassName === undefined ? undefined : checkDnsSubdomain(where, 'backup.storageClassName', props.storageClassName);
      this.claim = new kplus.PersistentVolumeClaim(this, 'Claim', {
        metadata: { name: `${props.name}-backups`, labels, annotations: { 'helm.sh/resource-policy': 'keep' } },
        accessModes: [kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE],
        storageClassName,
        volumeMode: kplus.PersistentVolumeMode.FILE_SYSTEM,
      });
      ApiObject.of(this.claim).addJsonPatch(JsonPatch.add('/spec/resources', { requests: { storage: quantity(size) } }));
      volume = kplus.Volume.fromPersistentVolumeClaim(this, 'Volume', this.claim);
    } else if (props.size !== undefined || props.storageClassName !== undefined) {
      fail(where, props.size !== undefined ? 'backup.size' : 'backup.storageClassName', props.size ?? props.storageClassName,
        "cannot be combined with 'backup.volume' (the size and class are the given volume's)");
    }
    this.volume = volume;

    this.cronJob = new kplus.CronJob(this, 'Resource', {
      ...this.podDefaults(),
      metadata: { name: `${props.name}-backup`, labels },
      schedule: Cron.schedule(cronFields(this.schedule)),
      timeZone,
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      startingDeadline: Duration.hours(1),
      successfulJobsRetained: 3,
      failedJobsRetained: 3,
      backoffLimit: 1,
      activeDeadline: this.timeout,
    });
    this.backupPod(this, this.cronJob, 'scheduled', conn, this.databases);

    if (props.initialBackup ?? true) {
      // Runs when the manifests are applied (and again whenever its pod template changes: a new name). It also
      // binds the backup PVC at install: with a WaitForFirstConsumer storage class a claim that only a CronJob
      // mounts stays Pending until the first schedule, which `helm install --wait` and Argo CD health checks wait on.
      const job: kplus.Job = new kplus.Job(this, 'Initial', {
        ...this.podDefaults(),
        metadata: { name: templateHashedName(() => job, `${props.name}-backup-initial`), labels, annotations: { ...ARGOCD_SYNC_HOOK } },
        backoffLimit: 3,
        activeDeadline: this.timeout,
        ttlAfterFinished: Duration.days(1),
      });
      this.initialJob = job;
      this.backupPod(this, job, 'initial', conn, this.databases);
    }

    const template = (cid: string, name: string, kind: PodKind) => {
      const cj = new kplus.CronJob(this, cid, {
        ...this.podDefaults(),
        metadata: { name, labels },
        // never scheduled: a template for `kubectl create job --from=cronjob/<name>`
        schedule: Cron.schedule({ minute: '0', hour: '0', day: '31', month: '2' }),
        suspend: true,
        concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
        successfulJobsRetained: 1,
        failedJobsRetained: 1,
        backoffLimit: 0,
        activeDeadline: this.timeout,
      });
      this.backupPod(this, cj, kind, conn, this.databases);
      return cj;
    };
    if (props.restore ?? true) this.restoreCronJob = template('Restore', `${props.name}-restore`, 'restore');
    this.listCronJob = template('List', `${props.name}-backup-list`, 'list');

    if (props.networkPolicy ?? true) {
      this.networkPolicy = new kplus.k8s.KubeNetworkPolicy(this, 'EgressPolicy', {
        metadata: { name: `${props.name}-backup-egress`, labels },
        spec: {
          podSelector: { matchLabels: labels },
          policyTypes: ['Egress'],
          egress: [
            dnsEgressRule(),
            { ports: tcpPorts(where, 'port', [conn.port]) },
            ...(this.offsite ? [{ ports: tcpPorts(where, 'backup.offsite.endpoint', [this.offsite.port]) }] : []),
          ],
        },
      });
    }
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
    this.backupPod(scope, job, 'pre-migration', db, [{ name: db.databaseName, secretName: db.secretName }], options.release);
    return job;
  }

  /** What every backup, restore and list pod shares: the backup's labels, no API token, the restricted context. */
  private podDefaults(): Pick<kplus.JobProps, 'podMetadata' | 'automountServiceAccountToken' | 'securityContext'> {
    return { podMetadata: { labels: this.props.labels }, automountServiceAccountToken: false, securityContext: restrictedPod(this.user) };
  }

  private checkOffsite(where: Construct, o: OffsiteBackupOptions) {
    let url: URL | undefined;
    try {
      url = new URL(o.endpoint);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search) {
      fail(where, 'backup.offsite.endpoint', o.endpoint, "must be an http(s) URL without credentials or path, e.g. 'https://s3.eu-central-1.amazonaws.com' (credentials go in 'credentialsSecret')");
    }
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucket ?? '')) {
      fail(where, 'backup.offsite.bucket', o.bucket, 'must be an S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens');
    }
    const ns = Chart.of(this).namespace;
    const prefix = o.prefix ?? (ns ? `${ns}/${this.props.name}` : this.props.name);
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix)) {
      fail(where, 'backup.offsite.prefix', prefix, "must be a key prefix of letters, digits, '.', '_', '-' separated by '/', without leading or trailing '/'");
    }
    const region = o.region ?? 'us-east-1';
    if (!/^[a-z0-9-]+$/.test(region)) fail(where, 'backup.offsite.region', region, "must be a region name such as 'eu-central-1'");
    const provider = o.provider ?? 'Other';
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(provider)) fail(where, 'backup.offsite.provider', provider, "must be an rclone S3 provider name such as 'AWS', 'Minio', 'Ceph' or 'Other'");
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return {
      endpoint: o.endpoint.replace(/\/$/, ''),
      bucket: o.bucket,
      prefix,
      credentialsSecret: checkDnsSubdomain(where, 'backup.offsite.credentialsSecret', o.credentialsSecret),
      region,
      provider,
      forcePathStyle: o.forcePathStyle ?? true,
      retentionDays: checkInt(where, 'backup.offsite.retentionDays', o.retentionDays ?? this.retentionDays, 1, 36500),
      image: checkImage(where, 'backup.offsite.image', o.image ?? DEFAULT_RCLONE_IMAGE),
      port,
    };
  }

  /** The containers and volumes of a backup, restore or list pod (see backup-scripts.ts for each step). */
  private backupPod(scope: Construct, workload: kplus.CronJob | kplus.Job, kind: PodKind, conn: DatabaseConnection,
    databases: BackupDatabase[], release?: string): void {
    const uid = (s: string) => `${s}${scope === this ? '' : 'PreMigration'}`;
    const secretRef = (id: string, name: string) =>
      (scope.node.tryFindChild(uid(id)) as kplus.ISecret | undefined) ?? kplus.Secret.fromSecretName(scope, uid(id), name);
    stableIdentity(workload, this.props.labels);
    addPodLabels(workload, conn.clientLabels);
    disableServiceLinks(workload);
    const tmp = kplus.Volume.fromEmptyDir(scope, uid(`Tmp${workload.node.id}`), 'tmp');
    const state = kplus.Volume.fromEmptyDir(scope, uid(`State${workload.node.id}`), 'state', { sizeLimit: Size.mebibytes(1) });
    const opts = { resources: this.resources, user: this.user, tmp };
    const common = (c: kplus.Container) => {
      c.mount(BACKUP_DIR, this.volume);
      c.mount(STATE_DIR, state);
    };
    const pgEnv = (extra: Record<string, string>): Record<string, kplus.EnvValue> => {
      const env: Record<string, kplus.EnvValue> = {
        PGHOST: kplus.EnvValue.fromValue(conn.host),
        PGPORT: kplus.EnvValue.fromValue(String(conn.port)),
        PGCONNECT_TIMEOUT: kplus.EnvValue.fromValue('10'),
        ...databaseTlsEnv(conn),
        DB_COUNT: kplus.EnvValue.fromValue(String(databases.length)),
      };
      if (conn.serverVersion !== undefined) env.SERVER_MAJOR = kplus.EnvValue.fromValue(String(conn.serverVersion));
      databases.forEach((d, i) => {
        const secret = secretRef(`DbSecret${workload.node.id}${i}`, d.secretName);
        env[`DB_NAME_${i}`] = kplus.EnvValue.fromValue(d.name);
        env[`DB_USER_${i}`] = kplus.EnvValue.fromSecretValue({ secret, key: 'username' });
        env[`DB_PASSWORD_${i}`] = kplus.EnvValue.fromSecretValue({ secret, key: 'password' });
      });
      for (const [k, v] of Object.entries(extra)) env[k] = kplus.EnvValue.fromValue(v);
      return env;
    };
    const pg = (name: string, script: string, extra: Record<string, string>, init: boolean) => {
      const c = addContainer(workload, { name, image: this.image, command: ['/bin/bash', '-c', script], envVariables: pgEnv(extra) }, { ...opts, init });
      common(c);
      mountDatabaseCa(scope, workload, c, conn);
      return c;
    };
    const archives = kind === 'scheduled' || kind === 'restore' ? this.archives : [];
    const files = (name: string, script: string, init: boolean, readOnly: boolean) => {
      const user = archives[0]?.user ?? this.user;
      const c = addContainer(workload, { name, image: this.image, command: ['/bin/bash', '-c', script] }, { ...opts, user, init });
      common(c);
      for (const a of archives) {
        const claim = kplus.PersistentVolumeClaim.fromClaimName(scope, uid(`ArchiveClaim${workload.node.id}${a.name}`), a.claimName);
        c.mount(`${ARCHIVE_DIR}/${a.name}`, kplus.Volume.fromPersistentVolumeClaim(scope, uid(`Archive${workload.node.id}${a.name}`), claim, { name: `archive-${a.name}` }),
          { readOnly });
      }
      return c;
    };
    const rclone = (name: string, script: string, extra: Record<string, string>, init: boolean) => {
      const o = this.offsite!;
      const secret = secretRef(`OffsiteSecret${workload.node.id}`, o.credentialsSecret);
      const env: Record<string, kplus.EnvValue> = {
        HOME: kplus.EnvValue.fromValue('/tmp'),
        RCLONE_CONFIG_OFFSITE_TYPE: kplus.EnvValue.fromValue('s3'),
        RCLONE_CONFIG_OFFSITE_PROVIDER: kplus.EnvValue.fromValue(o.provider),
        RCLONE_CONFIG_OFFSITE_ENDPOINT: kplus.EnvValue.fromValue(o.endpoint),
        RCLONE_CONFIG_OFFSITE_REGION: kplus.EnvValue.fromValue(o.region),
        RCLONE_CONFIG_OFFSITE_FORCE_PATH_STYLE: kplus.EnvValue.fromValue(String(o.forcePathStyle)),
        RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID: kplus.EnvValue.fromSecretValue({ secret, key: 'AWS_ACCESS_KEY_ID' }),
        RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY: kplus.EnvValue.fromSecretValue({ secret, key: 'AWS_SECRET_ACCESS_KEY' }),
        OFFSITE_BUCKET: kplus.EnvValue.fromValue(o.bucket),
        OFFSITE_PREFIX: kplus.EnvValue.fromValue(o.prefix),
      };
      for (const [k, v] of Object.entries(extra)) env[k] = kplus.EnvValue.fromValue(v);
      const c = addContainer(workload, { name, image: o.image, command: ['/bin/sh', '-c', script], envVariables: env }, { ...opts, init });
      common(c);
      return c;
    };

    switch (kind) {
      case 'scheduled':
      case 'initial':
        pg('dump', dumpScript(), { BACKUP_KIND: kind }, true);
        files('archive', archiveScript(), true, true);
        if (this.offsite) {
          rclone('upload', uploadScript(), {}, true);
          rclone('prune-offsite', offsitePruneScript(), { OFFSITE_RETENTION_DAYS: String(this.offsite.retentionDays) }, true);
        }
        addContainer(workload, { name: 'prune', image: this.image, command: ['/bin/bash', '-c', pruneScript()],
          envVariables: { RETENTION_DAYS: kplus.EnvValue.fromValue(String(this.retentionDays)) } }, opts).mount(BACKUP_DIR, this.volume);
        break;
      case 'pre-migration':
        pg('dump', dumpScript(), { BACKUP_KIND: kind }, true);
        files('seal', archiveScript(), true, true);
        pg('record', markerScript(), { MARKER_RELEASE: release! }, false);
        break;
      case 'restore':
        if (this.offsite) rclone('fetch', fetchScript(), { BACKUP: 'latest', SOURCE: 'local' }, true);
        pg('restore', restoreScript(), { BACKUP: 'latest' }, true);
        files('unarchive', unarchiveScript(), false, false);
        break;
      case 'list':
        if (this.offsite) rclone('list', listScript(true), {}, false);
        else addContainer(workload, { name: 'list', image: this.image, command: ['/bin/bash', '-c', listScript(false)] }, opts).mount(BACKUP_DIR, this.volume);
        break;
    }
    workload.addVolume(tmp);
    const colocate = archives.find((a) => a.colocateWith)?.colocateWith;
    if (colocate && kind === 'scheduled') {
      workload.scheduling.colocate(kplus.Pods.select(scope, uid(`ArchivePods${workload.node.id}`), { labels: colocate }), { topology: kplus.Topology.HOSTNAME });
    }
  }
}
