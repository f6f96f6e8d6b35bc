import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { aliased } from '../internal/dialect';
import { volumeStorage } from '../internal/storage';
import { DatabaseConnection } from './database';
import { BackupArchive, BackupDatabase, DEFAULT_RCLONE_IMAGE, OffsiteBackupOptions, PostgresBackupProps } from './backup-options';
import { postgresImageMajorVersion } from './postgres-sql';
import { TEMPLATE_HASH_LENGTH } from '../internal/pod-helpers';
import { checkResources, ComputeResources, resources } from '../internal/resources';
import { ResolvedStorage } from '../internal/storage';
import {
  checkCron, checkDerivedName, checkDnsLabel, checkDnsSubdomain, checkImage, checkInt, checkSqlIdentifier, checkTimeZone, checkUnique,
  CRONJOB_NAME_MAX, fail, JOB_NAME_MAX,
} from '../internal/validate';

/** {@link OffsiteBackupOptions}, checked, defaults applied. */
export interface ResolvedOffsite {
  readonly endpoint: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly credentialsSecretName: string;
  readonly region: string;
  readonly provider: string;
  readonly forcePathStyle: boolean;
  readonly retentionDays: number;
  readonly image: string;
  /** The endpoint's TCP port. */
  readonly port: number;
}

/** {@link PostgresBackupProps}, checked, defaults applied, deprecated aliases mapped. */
export interface ResolvedBackup {
  readonly name: string;
  readonly connection: DatabaseConnection;
  readonly labels: Record<string, string>;
  readonly schedule: string;
  readonly timeZone: string;
  readonly retentionDays: number;
  readonly image: string;
  readonly clientVersion: number;
  readonly resources: ComputeResources;
  readonly timeout: Duration;
  readonly preMigrationWaitSeconds: number;
  readonly user: number;
  /** Every database dumped: the application's, the server's, the extra ones. */
  readonly databases: BackupDatabase[];
  readonly archives: BackupArchive[];
  readonly offsite?: ResolvedOffsite;
  /** The backup PVC to create; undefined when a `volume` is given. */
  readonly claim?: ResolvedStorage;
  readonly volume?: kplus.Volume;
  readonly initialBackup: boolean;
  readonly restore: boolean;
  readonly networkPolicy: boolean;
}

/**
 * Checks the props once and resolves them. Errors name `where`, the
 * construct the props were given to; `scope` is the backup itself.
 */
export function resolveBackup(where: Construct, scope: Construct, props: PostgresBackupProps): ResolvedBackup {
  if (props.enabled === false) fail(where, 'backup.enabled', false, 'turns the backups off: then create no PostgresBackup');
  // the longest derived names: the first-dump Job and the list CronJob
  checkDnsLabel(where, 'name', props.name);
  checkDerivedName(where, 'name', props.name, `-backup-initial-${'0'.repeat(TEMPLATE_HASH_LENGTH)}`, 'first-dump Job', JOB_NAME_MAX);
  checkDerivedName(where, 'name', props.name, '-backup-list', 'CronJob', CRONJOB_NAME_MAX);
  const schedule = checkCron(where, 'backup.schedule', props.schedule ?? '0 2 * * *');
  const retentionDays = resolveRetention(where, 'backup.', props, 7, 3650);
  const timeZone = checkTimeZone(where, 'backup.timeZone', props.timeZone ?? 'UTC');
  const { image, clientVersion } = resolveClient(where, props);
  const r = checkResources(where, 'backup.resources', props.resources ?? resources('100m', '256Mi', '1000m', '1Gi'));
  const timeout = atLeastAMinute(where, 'backup.timeout', props.timeout ?? Duration.hours(2));
  const preMigrationTimeout = atLeastAMinute(where, 'backup.preMigrationTimeout', props.preMigrationTimeout ?? Duration.minutes(20));
  const conn = props.connection;
  const databases = [{ name: conn.databaseName, secretName: conn.secretName }, ...(props.serverDatabases ?? []), ...(props.databases ?? [])];
  databases.forEach((d, i) => {
    checkSqlIdentifier(where, `backup.databases[${i}].name`, d.name);
    checkDnsSubdomain(where, `backup.databases[${i}].secretName`, d.secretName);
  });
  checkUnique(where, 'backup.databases', databases.map((d) => d.name));
  const archives = resolveArchives(where, props.archives ?? []);
  const offsite = props.offsite ? resolveOffsite(where, scope, props.offsite, props.name, retentionDays) : undefined;
  return {
    name: props.name, connection: conn, labels: props.labels, schedule, timeZone, retentionDays, image, clientVersion, resources: r, timeout,
    preMigrationWaitSeconds: preMigrationTimeout.toSeconds(), user: props.user ?? 26, databases, archives, offsite,
    claim: resolveClaim(where, props), volume: props.volume,
    initialBackup: props.initialBackup ?? true, restore: props.restore ?? true, networkPolicy: props.networkPolicy ?? true,
  };
}

function atLeastAMinute(where: Construct, field: string, d: Duration): Duration {
  if (d.toSeconds() < 60) fail(where, field, `${d.toSeconds()}s`, 'must be at least 60s');
  return d;
}

/** The client image and its major version: of the server's major version or newer. */
function resolveClient(where: Construct, props: PostgresBackupProps): { image: string; clientVersion: number } {
  const serverVersion = props.connection.serverVersion;
  if (props.image === undefined && props.defaultImage === undefined && serverVersion === undefined) {
    fail(where, 'version', undefined, 'is required for backups of an external server: the backup client (pg_dump) must be of its major ' +
      'version or newer (e.g. 15)');
  }
  const image = checkImage(where, 'backup.image', props.image ?? props.defaultImage ?? `quay.io/sclorg/postgresql-${serverVersion}-c9s:c9s`);
  const fromImage = props.clientVersion ?? postgresImageMajorVersion(image);
  if (fromImage === undefined) {
    fail(where, 'backup.image', image, "must name its PostgreSQL major version (e.g. 'quay.io/sclorg/postgresql-15-c9s:c9s', 'postgres:15'), " +
      "or set 'backup.clientVersion'");
  }
  const clientVersion = checkInt(where, 'backup.clientVersion', fromImage, 9, 99);
  if (serverVersion !== undefined && clientVersion < serverVersion) {
    fail(where, 'backup.image', image,
      `must be PostgreSQL ${serverVersion} or newer: the server is PostgreSQL ${serverVersion} and pg_dump ${clientVersion} refuses to dump ` +
        `a newer server`);
  }
  return { image, clientVersion };
}

function resolveArchives(where: Construct, archives: BackupArchive[]): BackupArchive[] {
  archives.forEach((a, i) => {
    checkDnsLabel(where, `backup.archives[${i}].name`, a.name, 40);
    checkDnsSubdomain(where, `backup.archives[${i}].claimName`, a.claimName);
    checkInt(where, `backup.archives[${i}].user`, a.user, 1, 2147483647);
  });
  checkUnique(where, 'backup.archives', archives.map((a) => a.name));
  if (new Set(archives.map((a) => a.user)).size > 1) {
    fail(where, 'backup.archives', archives.map((a) => `${a.name}: ${a.user}`).join(', '), 'must all belong to one user (one archive ' +
      'container runs as it)');
  }
  return archives;
}

/** The backup PVC's size and class; none with a `volume` (then neither may be given). */
function resolveClaim(where: Construct, props: PostgresBackupProps): ResolvedStorage | undefined {
  if (!props.volume) return volumeStorage(where, 'backup.', props, 'size', props.size, Size.gibibytes(20));
  const given = (['volumeSize', 'size', 'storageClassName'] as const).find((f) => props[f] !== undefined);
  if (given) fail(where, `backup.${given}`, props[given], "cannot be combined with 'backup.volume' (the size and class are the given volume's)");
  return undefined;
}

function resolveOffsite(where: Construct, scope: Construct, o: OffsiteBackupOptions, name: string, localRetentionDays: number): ResolvedOffsite {
  let url: URL | undefined;
  try {
    url = new URL(o.endpoint);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password
    || (url.pathname !== '/' && url.pathname !== '') || url.search) {
    fail(where, 'backup.offsite.endpoint', o.endpoint, "must be an http(s) URL without credentials or path, e.g. " +
      "'https://s3.eu-central-1.amazonaws.com' (credentials go in 'credentialsSecretName')");
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucket ?? '')) {
    fail(where, 'backup.offsite.bucket', o.bucket, 'must be an S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens');
  }
  const ns = Chart.of(scope).namespace;
  const prefix = o.prefix ?? (ns ? `${ns}/${name}` : name);
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix)) {
    fail(where, 'backup.offsite.prefix', prefix, "must be a key prefix of letters, digits, '.', '_', '-' separated by '/', without leading " +
      "or trailing '/'");
  }
  const region = o.region ?? 'us-east-1';
  if (!/^[a-z0-9-]+$/.test(region)) fail(where, 'backup.offsite.region', region, "must be a region name such as 'eu-central-1'");
  const provider = o.provider ?? 'Other';
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(provider)) fail(where, 'backup.offsite.provider', provider, "must be an rclone S3 provider name such as " +
    "'AWS', 'Minio', 'Ceph' or 'Other'");
  return {
    endpoint: o.endpoint.replace(/\/$/, ''),
    bucket: o.bucket,
    prefix,
    credentialsSecretName: resolveCredentialsSecret(where, o),
    region,
    provider,
    forcePathStyle: o.forcePathStyle ?? true,
    retentionDays: resolveRetention(where, 'backup.offsite.', o, localRetentionDays, 36500),
    image: checkImage(where, 'backup.offsite.image', o.image ?? DEFAULT_RCLONE_IMAGE),
    port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
  };
}

/** A retention in whole days: `retention` (a Duration) or its deprecated alias `retentionDays`, not both. */
function resolveRetention(where: Construct, prefix: string, o: { retention?: Duration; retentionDays?: number },
  defaultDays: number, max: number): number {
  const given = aliased<Duration | number>(where, `${prefix}retention`, o.retention, `${prefix}retentionDays`, o.retentionDays);
  if (!(given instanceof Duration)) return checkInt(where, `${prefix}retentionDays`, given ?? defaultDays, 1, max);
  let days: number | undefined;
  try {
    days = given.toDays();
  } catch {
    days = undefined;
  }
  if (days === undefined || days < 1 || days > max) {
    fail(where, `${prefix}retention`, given.toHumanString(), `must be a whole number of days from 1 to ${max}, e.g. Duration.days(7)`);
  }
  return days;
}

/** The off-site credentials Secret: `credentialsSecretName` or its deprecated alias `credentialsSecret`, one of them. */
function resolveCredentialsSecret(where: Construct, o: OffsiteBackupOptions): string {
  const field = 'backup.offsite.credentialsSecretName';
  const name = aliased(where, field, o.credentialsSecretName, 'backup.offsite.credentialsSecret', o.credentialsSecret);
  if (name === undefined) fail(where, field, undefined, "is required: a Secret with the keys 'AWS_ACCESS_KEY_ID' and 'AWS_SECRET_ACCESS_KEY'");
  return checkDnsSubdomain(where, o.credentialsSecret !== undefined ? 'backup.offsite.credentialsSecret' : field, name);
}
