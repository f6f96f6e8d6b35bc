import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DatabaseConnection } from './database';
import { ComputeResources } from '../internal/resources';

/** Backups of a PostgreSQL database (seeds 002 and 004). */
export interface PostgresBackupOptions {
  /**
   * Make backups; `false` for none.
   * @default true
   */
  readonly enabled?: boolean;
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
   * How long a dump is kept, in whole days; older dumps are pruned after
   * each successful dump (7 days for dev and staging, 30 for production).
   * @default Duration.days(7)
   */
  readonly retention?: Duration;
  /**
   * Days a dump is kept.
   * @deprecated use `retention` (`Duration.days(7)`)
   * @default - see `retention`
   */
  readonly retentionDays?: number;
  /**
   * Size of the backup PVC (when no `volume` is given).
   * @default Size.gibibytes(20)
   */
  readonly volumeSize?: Size;
  /**
   * Size of the backup PVC as a quantity string (`'20Gi'`).
   * @deprecated use `volumeSize` (`Size.gibibytes(20)`)
   * @default - see `volumeSize`
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
  /**
   * Secret (created by you) with the keys `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
   * @default - none: required (or its deprecated alias `credentialsSecret`)
   */
  readonly credentialsSecretName?: string;
  /**
   * The former name of `credentialsSecretName`.
   * @deprecated use `credentialsSecretName`
   * @default - see `credentialsSecretName`
   */
  readonly credentialsSecret?: string;
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
   * How long a set is kept off-site, in whole days; older ones are deleted
   * after each successful backup.
   * @default - the local retention
   */
  readonly retention?: Duration;
  /**
   * Days a set is kept off-site.
   * @deprecated use `retention` (`Duration.days(90)`)
   * @default - see `retention`
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
