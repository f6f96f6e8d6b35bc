import { ApiObject, Cron, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { DatabaseConnection } from './database';
import { cronFields } from './erp-operations';
import { dnsEgressRule, tcpPorts } from './network-policies';
import { ARGOCD_SYNC_HOOK } from './postgres-credentials';
import { addContainer, addPodLabels, disableServiceLinks, stableIdentity, templateHashedName } from './pod-helpers';
import { checkResources, ComputeResources, parseBytes, quantity, resources } from './resources';
import { restrictedPod } from './security';
import { checkCron, checkDnsSubdomain, checkImage, checkInt, fail } from './validate';

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
   * Image with `pg_dump` and `pg_restore`, of the server's major version or newer.
   * @default - the server image
   */
  readonly image?: string;
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

/** Inputs of {@link backupScript}. */
export interface BackupScriptOptions {
  /** Directory the dumps are written to. */
  readonly directory: string;
  /** File name prefix (the database name): `<prefix>-<UTC time>.dump`. */
  readonly prefix: string;
  /** Days a dump is kept. */
  readonly retentionDays: number;
}

/**
 * The backup: wait up to a minute for the server, `pg_dump` the database
 * (connection from PGHOST/PGPORT/PGDATABASE/PGUSER/PGPASSWORD) in custom
 * format, compressed, to `<prefix>-<UTC time>.dump` (written as `.partial`,
 * checked with `pg_restore --list`, then renamed), and only then prune dumps
 * older than the retention: a failing backup never deletes the old ones.
 */
export function backupScript(options: BackupScriptOptions): string {
  if (!/^(\/[\w.-]+)+$/.test(options.directory)) throw new Error(`backup directory must be an absolute path without shell characters: ${options.directory}`);
  if (!/^[a-z_][a-z0-9_]*$/.test(options.prefix)) throw new Error(`backup prefix must be a plain identifier: ${options.prefix}`);
  if (!Number.isInteger(options.retentionDays) || options.retentionDays < 1) throw new Error(`retentionDays must be a positive integer: ${options.retentionDays}`);
  return [
    'set -eu',
    'umask 077',
    `dir='${options.directory}'`,
    `prefix='${options.prefix}'`,
    `retention_days=${options.retentionDays}`,
    'for try in $(seq 1 30); do pg_isready -q && break; echo "waiting for $PGHOST:$PGPORT ($try/30)"; sleep 2; done',
    'file="$dir/$prefix-$(date -u +%Y%m%dT%H%M%SZ).dump"',
    'trap \'rm -f "$file.partial"\' EXIT',
    'echo "pg_dump $PGDATABASE on $PGHOST:$PGPORT -> $file"',
    'pg_dump --format=custom --compress=9 --no-password --file="$file.partial"',
    'pg_restore --list "$file.partial" > /dev/null',
    'mv "$file.partial" "$file"',
    'echo "backup written: $(wc -c < "$file") bytes"',
    'echo "pruning dumps older than $retention_days days"',
    'find "$dir" -maxdepth 1 -type f -name "$prefix-*.dump" -mmin +$((retention_days * 1440)) -print -delete',
    'find "$dir" -maxdepth 1 -type f -name "$prefix-*.dump.partial" -mmin +1440 -print -delete',
    'ls -l "$dir"',
    '',
  ].join('\n');
}

/** Properties of {@link PostgresBackup}. */
export interface PostgresBackupProps extends PostgresBackupOptions {
  /** Base name: CronJob `<name>-backup`, PVC `<name>-backups`. */
  readonly name: string;
  /** The database to dump (host, port, database, Secret with username/password). */
  readonly connection: DatabaseConnection;
  /** Image used when `image` is not given. */
  readonly defaultImage: string;
  /** Labels of the objects and pods. */
  readonly labels: Record<string, string>;
  /** UID/GID of the dump container (and fsGroup of the volume). @default 26 */
  readonly user?: number;
  /** An egress NetworkPolicy (DNS + the database port). @default true */
  readonly networkPolicy?: boolean;
}

/**
 * A CronJob that `pg_dump`s a database to a volume and prunes old dumps. Works
 * against the in-cluster server and an external one alike (it only needs the
 * connection); never two at once (concurrencyPolicy Forbid).
 */
export class PostgresBackup extends Construct {
  /** The CronJob (id 'Resource'). */
  public readonly cronJob: kplus.CronJob;
  /** The backup PVC, unless a volume was given. */
  public readonly claim?: kplus.PersistentVolumeClaim;
  /** Days a dump is kept. */
  public readonly retentionDays: number;
  /** The cron schedule. */
  public readonly schedule: string;
  /** The egress policy, if any. */
  public readonly networkPolicy?: kplus.k8s.KubeNetworkPolicy;
  /** The initial backup Job, unless `initialBackup` is false. */
  public readonly initialJob?: kplus.Job;

  constructor(scope: Construct, id: string, props: PostgresBackupProps) {
    super(scope, id);
    const where = scope; // errors name the construct the props were given to
    this.schedule = checkCron(where, 'backup.schedule', props.schedule ?? '0 2 * * *');
    this.retentionDays = checkInt(where, 'backup.retentionDays', props.retentionDays ?? 7, 1, 3650);
    const timeZone = props.timeZone ?? 'UTC';
    if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(timeZone)) {
      fail(where, 'backup.timeZone', timeZone, "must be an IANA time zone such as 'UTC' or 'Europe/Berlin'");
    }
    const image = checkImage(where, 'backup.image', props.image ?? props.defaultImage);
    const r = checkResources(where, 'backup.resources', props.resources ?? resources('100m', '256Mi', '1000m', '1Gi'));
    const timeout = props.timeout ?? Duration.hours(2);
    if (timeout.toSeconds() < 60) fail(where, 'backup.timeout', `${timeout.toSeconds()}s`, 'must be at least 60s');
    const user = props.user ?? 26;
    const conn = props.connection;
    const labels = props.labels;
    const directory = '/backups';

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

    const tmp = kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp');
    const secret = kplus.Secret.fromSecretName(this, 'Credentials', conn.secretName);
    const backupVolume = volume;
    /** The dump container and pod settings, the same in the CronJob and the initial Job. */
    const dumpPod = (workload: kplus.CronJob | kplus.Job) => {
      stableIdentity(workload, labels);
      addPodLabels(workload, conn.clientLabels);
      disableServiceLinks(workload);
      const c = addContainer(workload, {
        name: 'pg-dump',
        image,
        command: ['/bin/bash', '-c', backupScript({ directory, prefix: conn.databaseName, retentionDays: this.retentionDays })],
        envVariables: {
          PGHOST: kplus.EnvValue.fromValue(conn.host),
          PGPORT: kplus.EnvValue.fromValue(String(conn.port)),
          PGDATABASE: kplus.EnvValue.fromValue(conn.databaseName),
          PGUSER: kplus.EnvValue.fromSecretValue({ secret, key: 'username' }),
          PGPASSWORD: kplus.EnvValue.fromSecretValue({ secret, key: 'password' }),
          PGCONNECT_TIMEOUT: kplus.EnvValue.fromValue('10'),
        },
      }, { resources: r, user, tmp });
      c.mount(directory, backupVolume);
    };
    this.cronJob = new kplus.CronJob(this, 'Resource', {
      metadata: { name: `${props.name}-backup`, labels },
      podMetadata: { labels },
      schedule: Cron.schedule(cronFields(this.schedule)),
      timeZone,
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      startingDeadline: Duration.hours(1),
      successfulJobsRetained: 3,
      failedJobsRetained: 3,
      backoffLimit: 1,
      activeDeadline: timeout,
      automountServiceAccountToken: false,
      securityContext: restrictedPod(user),
      volumes: [tmp, volume],
    });
    dumpPod(this.cronJob);

    if (props.initialBackup ?? true) {
      // Runs when the manifests are applied (and again whenever its pod template changes: a new name). It also
      // binds the backup PVC at install: with a WaitForFirstConsumer storage class a claim that only a CronJob
      // mounts stays Pending until the first schedule, which `helm install --wait` and Argo CD health checks wait on.
      const job: kplus.Job = new kplus.Job(this, 'Initial', {
        metadata: { name: templateHashedName(() => job, `${props.name}-backup-initial`), labels, annotations: { ...ARGOCD_SYNC_HOOK } },
        podMetadata: { labels },
        backoffLimit: 3,
        activeDeadline: timeout,
        ttlAfterFinished: Duration.days(1),
        automountServiceAccountToken: false,
        securityContext: restrictedPod(user),
        volumes: [tmp, volume],
      });
      this.initialJob = job;
      dumpPod(job);
    }

    if (props.networkPolicy ?? true) {
      this.networkPolicy = new kplus.k8s.KubeNetworkPolicy(this, 'EgressPolicy', {
        metadata: { name: `${props.name}-backup-egress`, labels },
        spec: {
          podSelector: { matchLabels: labels },
          policyTypes: ['Egress'],
          egress: [
            dnsEgressRule(),
            { ports: tcpPorts(where, 'port', [conn.port]) },
          ],
        },
      });
    }
  }
}
