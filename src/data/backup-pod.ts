import * as kplus from 'cdk8s-plus-28';
import { Size } from 'cdk8s';
import { Construct } from 'constructs';
import { ResolvedBackup } from './backup-config';
import { BackupArchive, BackupDatabase } from './backup-options';
import {
  ARCHIVE_DIR, archiveScript, BACKUP_DIR, dumpScript, markerScript, pruneScript, restoreScript, STATE_DIR, unarchiveScript,
} from './backup-scripts';
import { fetchScript, listScript, offsitePruneScript, uploadScript } from './offsite-scripts';
import { DatabaseConnection, databaseTlsEnv, mountDatabaseCa } from './database';
import { addContainer, addPodLabels, AddContainerOptions, disableServiceLinks, stableIdentity } from '../internal/pod-helpers';

/** What a backup pod does. */
export type PodKind = 'scheduled' | 'initial' | 'pre-migration' | 'restore' | 'list';

/** Where a backup pod is built. */
export interface BackupPodTarget {
  /** Scope of the pod's volumes and Secret references (the backup, or the migration's scope). */
  readonly scope: Construct;
  /** Whether `scope` is the backup itself (ids then carry no `PreMigration` suffix). */
  readonly own: boolean;
  readonly workload: kplus.CronJob | kplus.Job;
  readonly kind: PodKind;
  readonly connection: DatabaseConnection;
  readonly databases: BackupDatabase[];
  /** The release a pre-migration dump is recorded for. */
  readonly release?: string;
}

/** Values strings as environment variables. */
function values(extra: Record<string, string>): Record<string, kplus.EnvValue> {
  return Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, kplus.EnvValue.fromValue(v)]));
}

/** The containers and volumes of a backup, restore or list pod (see backup-scripts.ts for each step). */
export class BackupPod {
  private readonly state: kplus.Volume;
  private readonly opts: AddContainerOptions;
  private readonly archives: BackupArchive[];

  constructor(private readonly b: ResolvedBackup, private readonly volume: kplus.Volume, private readonly t: BackupPodTarget) {
    stableIdentity(t.workload, b.labels);
    addPodLabels(t.workload, t.connection.clientLabels);
    disableServiceLinks(t.workload);
    const tmp = kplus.Volume.fromEmptyDir(t.scope, this.uid(`Tmp${t.workload.node.id}`), 'tmp');
    this.state = kplus.Volume.fromEmptyDir(t.scope, this.uid(`State${t.workload.node.id}`), 'state', { sizeLimit: Size.mebibytes(1) });
    this.opts = { resources: b.resources, user: b.user, tmp };
    this.archives = t.kind === 'scheduled' || t.kind === 'restore' ? b.archives : [];
    this.addSteps();
    t.workload.addVolume(tmp);
    const colocate = this.archives.find((a) => a.colocateWith)?.colocateWith;
    if (colocate && t.kind === 'scheduled') {
      t.workload.scheduling.colocate(kplus.Pods.select(t.scope, this.uid(`ArchivePods${t.workload.node.id}`), { labels: colocate }),
        { topology: kplus.Topology.HOSTNAME });
    }
  }

  /** The steps of each kind of pod, in order (init containers, then the last). */
  private addSteps(): void {
    const { kind } = this.t;
    const offsite = this.b.offsite;
    switch (kind) {
      case 'scheduled':
      case 'initial':
        this.pg('dump', dumpScript(), { BACKUP_KIND: kind }, true);
        this.files('archive', archiveScript(), true, true);
        if (offsite) {
          this.rclone('upload', uploadScript(), {}, true);
          this.rclone('prune-offsite', offsitePruneScript(), { OFFSITE_RETENTION_DAYS: String(offsite.retentionDays) }, true);
        }
        this.backupsOnly('prune', pruneScript(), { RETENTION_DAYS: kplus.EnvValue.fromValue(String(this.b.retentionDays)) });
        break;
      case 'pre-migration':
        this.pg('dump', dumpScript(), { BACKUP_KIND: kind }, true);
        this.files('seal', archiveScript(), true, true);
        this.pg('record', markerScript(), { MARKER_RELEASE: this.t.release! }, false);
        break;
      case 'restore':
        if (offsite) this.rclone('fetch', fetchScript(), { BACKUP: 'latest', SOURCE: 'local' }, true);
        this.pg('restore', restoreScript(), { BACKUP: 'latest' }, true);
        this.files('unarchive', unarchiveScript(), false, false);
        break;
      case 'list':
        if (offsite) this.rclone('list', listScript(true), {}, false);
        else this.backupsOnly('list', listScript(false));
        break;
    }
  }

  private uid(s: string): string {
    return `${s}${this.t.own ? '' : 'PreMigration'}`;
  }

  private secretRef(id: string, name: string): kplus.ISecret {
    const scope = this.t.scope;
    return (scope.node.tryFindChild(this.uid(id)) as kplus.ISecret | undefined) ?? kplus.Secret.fromSecretName(scope, this.uid(id), name);
  }

  /** A container with the backup volume and the state directory. */
  private add(props: kplus.ContainerProps, init: boolean, user = this.b.user): kplus.Container {
    const c = addContainer(this.t.workload, props, { ...this.opts, user, init });
    c.mount(BACKUP_DIR, this.volume);
    c.mount(STATE_DIR, this.state);
    return c;
  }

  /** The last container of a pod that only reads or prunes the backup volume. */
  private backupsOnly(name: string, script: string, envVariables?: Record<string, kplus.EnvValue>): void {
    const c = addContainer(this.t.workload, { name, image: this.b.image, command: ['/bin/bash', '-c', script], envVariables }, this.opts);
    c.mount(BACKUP_DIR, this.volume);
  }

  /** A PostgreSQL client step: the server, TLS and every database's credentials in its environment. */
  private pg(name: string, script: string, extra: Record<string, string>, init: boolean): void {
    const { connection: conn, databases, workload, scope } = this.t;
    const env: Record<string, kplus.EnvValue> = {
      PGHOST: kplus.EnvValue.fromValue(conn.host),
      PGPORT: kplus.EnvValue.fromValue(String(conn.port)),
      PGCONNECT_TIMEOUT: kplus.EnvValue.fromValue('10'),
      ...databaseTlsEnv(conn),
      DB_COUNT: kplus.EnvValue.fromValue(String(databases.length)),
    };
    if (conn.serverVersion !== undefined) env.SERVER_MAJOR = kplus.EnvValue.fromValue(String(conn.serverVersion));
    databases.forEach((d, i) => {
      const secret = this.secretRef(`DbSecret${workload.node.id}${i}`, d.secretName);
      env[`DB_NAME_${i}`] = kplus.EnvValue.fromValue(d.name);
      env[`DB_USER_${i}`] = kplus.EnvValue.fromSecretValue({ secret, key: 'username' });
      env[`DB_PASSWORD_${i}`] = kplus.EnvValue.fromSecretValue({ secret, key: 'password' });
    });
    const c = this.add({ name, image: this.b.image, command: ['/bin/bash', '-c', script], envVariables: { ...env, ...values(extra) } }, init);
    mountDatabaseCa(scope, workload, c, conn);
  }

  /** A step on the archived volumes (media...), as their owner. */
  private files(name: string, script: string, init: boolean, readOnly: boolean): void {
    const { workload, scope } = this.t;
    const c = this.add({ name, image: this.b.image, command: ['/bin/bash', '-c', script] }, init, this.archives[0]?.user ?? this.b.user);
    for (const a of this.archives) {
      const claim = kplus.PersistentVolumeClaim.fromClaimName(scope, this.uid(`ArchiveClaim${workload.node.id}${a.name}`), a.claimName);
      const volume = kplus.Volume.fromPersistentVolumeClaim(scope, this.uid(`Archive${workload.node.id}${a.name}`), claim,
        { name: `archive-${a.name}` });
      c.mount(`${ARCHIVE_DIR}/${a.name}`, volume, { readOnly });
    }
  }

  /** An off-site step: rclone configured for the object store from the environment. */
  private rclone(name: string, script: string, extra: Record<string, string>, init: boolean): void {
    const o = this.b.offsite!;
    const secret = this.secretRef(`OffsiteSecret${this.t.workload.node.id}`, o.credentialsSecretName);
    const env: Record<string, kplus.EnvValue> = {
      ...values({
        HOME: '/tmp',
        RCLONE_CONFIG_OFFSITE_TYPE: 's3',
        RCLONE_CONFIG_OFFSITE_PROVIDER: o.provider,
        RCLONE_CONFIG_OFFSITE_ENDPOINT: o.endpoint,
        RCLONE_CONFIG_OFFSITE_REGION: o.region,
        RCLONE_CONFIG_OFFSITE_FORCE_PATH_STYLE: String(o.forcePathStyle),
      }),
      RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID: kplus.EnvValue.fromSecretValue({ secret, key: 'AWS_ACCESS_KEY_ID' }),
      RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY: kplus.EnvValue.fromSecretValue({ secret, key: 'AWS_SECRET_ACCESS_KEY' }),
      ...values({ OFFSITE_BUCKET: o.bucket, OFFSITE_PREFIX: o.prefix, ...extra }),
    };
    this.add({ name, image: o.image, command: ['/bin/sh', '-c', script], envVariables: env }, init);
  }
}
