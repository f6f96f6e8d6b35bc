/**
 * Backups as sets (issue 14): every database as its owner, the roles, media
 * archives, an off-site copy with rclone, retention on both sides, the
 * restore and list templates, the version-matched client and the
 * pre-migration dump that every migrator of a release waits for.
 */
import { Chart, Testing } from 'cdk8s';
import { CostMgmtPostgres, CostMgmtPostgresProps, ErpApi, MigrationDelivery, PostgresBackupOptions } from '../../src';
import { ENVIRONMENTS } from '../../deploy/environments';
import { buildEnvironment } from '../../deploy/environments/erp-environment';
import { API_POD_SELECTOR } from '../../deploy/environments/infrastructure';
import { postgresImageMajorVersion } from '../../src/data/postgres-sql';
import { validateManifests } from '../../src/gates/schema-validator';
import { renderFiles } from '../../deploy/synth';
import { all, container, containers, Manifest, one, podSpec, RESTRICTED } from '../util';

const OFFSITE = { endpoint: 'https://minio.example.com:9000', bucket: 'erp-backups', credentialsSecret: 'backup-s3' };
const MEDIA = { name: 'media', claimName: 'erp-api-media', user: 1000, colocateWith: { 'app.kubernetes.io/name': 'erp-api' } };

function synthDb(backup: PostgresBackupOptions = {}, props: CostMgmtPostgresProps = {}): { db: CostMgmtPostgres; objs: Manifest[] } {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'erp' });
  const db = new CostMgmtPostgres(chart, 'Postgres', { backup, ...props });
  return { db, objs: Testing.synth(chart) as Manifest[] };
}

const env = (c: Manifest, name: string) => c.env?.find((e: Manifest) => e.name === name);
const names = (w: Manifest) => ({
  init: (podSpec(w).initContainers ?? []).map((c: Manifest) => c.name), main: podSpec(w).containers.map((c: Manifest) => c.name),
});

describe('backup sets', () => {
  test('order: dump, archive (seal), upload, prune off-site, then prune locally: nothing is pruned unless everything before succeeded', () => {
    const { objs } = synthDb({ offsite: OFFSITE, archives: [MEDIA] });
    const cj = one(objs, 'CronJob', 'postgres-backup');
    expect(names(cj)).toEqual({ init: ['dump', 'archive', 'upload', 'prune-offsite'], main: ['prune'] });
    // without off-site: no rclone at all
    expect(names(one(synthDb().objs, 'CronJob', 'postgres-backup'))).toEqual({ init: ['dump', 'archive'], main: ['prune'] });
  });

  test('every database is dumped as its owner; the globals with the application role', () => {
    const { objs } = synthDb({ databases: [{ name: 'reports', secretName: 'reports-db' }] }, {
      roles: ['hive', 'api_gateway'], databases: [{ name: 'hive', owner: 'hive' }, { name: 'api_gateway', owner: 'api_gateway' }],
    });
    const dump = container(one(objs, 'CronJob', 'postgres-backup'), 'dump');
    expect(env(dump, 'DB_COUNT').value).toBe('4');
    const dbs = [0, 1, 2, 3].map((i) => [env(dump, `DB_NAME_${i}`).value, env(dump, `DB_USER_${i}`).valueFrom.secretKeyRef.name]);
    expect(dbs).toEqual([
      ['koku', 'postgres-credentials'], ['hive', 'postgres-hive-credentials'], ['api_gateway', 'postgres-api-gateway-credentials'], ['reports',
        'reports-db'],
    ]);
    expect(dump.command[2]).toContain('pg_dumpall --globals-only --no-role-passwords');
    // passwords only by reference
    expect(JSON.stringify(objs)).not.toMatch(/PASSWORD_\d","value"/);
  });

  test('off-site: rclone configured from the environment, credentials by reference, egress to the store', () => {
    const { objs } = synthDb({ offsite: OFFSITE, retentionDays: 7 });
    const upload = container(one(objs, 'CronJob', 'postgres-backup'), 'upload');
    expect(upload.image).toBe('docker.io/rclone/rclone:1.68.2');
    expect(upload.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(env(upload, 'RCLONE_CONFIG_OFFSITE_TYPE').value).toBe('s3');
    expect(env(upload, 'RCLONE_CONFIG_OFFSITE_ENDPOINT').value).toBe('https://minio.example.com:9000');
    expect(env(upload, 'RCLONE_CONFIG_OFFSITE_FORCE_PATH_STYLE').value).toBe('true');
    expect(env(upload, 'RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID').valueFrom.secretKeyRef).toEqual({ name: 'backup-s3', key: 'AWS_ACCESS_KEY_ID' });
    expect(env(upload, 'RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY').valueFrom.secretKeyRef)
      .toEqual({ name: 'backup-s3', key: 'AWS_SECRET_ACCESS_KEY' });
    // default prefix: <namespace>/<name>
    expect(env(upload, 'OFFSITE_PREFIX').value).toBe('erp/postgres');
    expect(upload.command[2]).toContain('rclone copy');
    expect(upload.command[2]).toContain('rclone check --one-way');
    // its own retention, defaulting to the local one
    expect(env(container(one(objs, 'CronJob', 'postgres-backup'), 'prune-offsite'), 'OFFSITE_RETENTION_DAYS').value).toBe('7');
    const np = one(objs, 'NetworkPolicy', 'postgres-backup-egress');
    expect(np.spec.egress).toContainEqual({ ports: [{ protocol: 'TCP', port: 9000 }] });
    // HOME on the writable /tmp (the root file system is read-only)
    expect(env(upload, 'HOME').value).toBe('/tmp');
    expect(upload.securityContext).toMatchObject(RESTRICTED);
  });

  test('media: archived read-only as the files\' owner, on the API\'s node (RWO), restored read-write', () => {
    const { objs } = synthDb({ archives: [MEDIA] });
    const cj = one(objs, 'CronJob', 'postgres-backup');
    const archive = container(cj, 'archive');
    expect(archive.securityContext.runAsUser).toBe(1000);
    expect(archive.volumeMounts).toContainEqual({ name: 'archive-media', mountPath: '/archive/media', readOnly: true });
    expect(podSpec(cj).volumes).toContainEqual({ name: 'archive-media', persistentVolumeClaim: { claimName: 'erp-api-media', readOnly: false } });
    expect(podSpec(cj).affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]).toMatchObject({
      labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'erp-api' } }, topologyKey: 'kubernetes.io/hostname',
    });
    // the dump itself runs as the PostgreSQL user; the pod's fsGroup lets both write the set
    expect(container(cj, 'dump').securityContext.runAsUser).toBe(26);
    expect(podSpec(cj).securityContext.fsGroup).toBe(26);
    const restore = one(objs, 'CronJob', 'postgres-restore');
    const unarchive = container(restore, 'unarchive');
    expect(unarchive.securityContext.runAsUser).toBe(1000);
    const rw = unarchive.volumeMounts.find((m: Manifest) => m.mountPath === '/archive/media');
    expect(rw).toMatchObject({ name: 'archive-media' });
    expect(rw.readOnly).toBeFalsy();
    // the restore runs while the API is scaled down: no affinity to its pods
    expect(podSpec(restore).affinity).toBeUndefined();
    // the initial backup (at install) has nothing to archive yet
    const initial = all(objs, 'Job').find((j) => j.metadata.name.startsWith('postgres-backup-initial-'))!;
    expect(JSON.stringify(initial)).not.toContain('archive-media');
  });

  test('restore and list are suspended templates for kubectl create job --from', () => {
    const { objs } = synthDb({ offsite: OFFSITE, archives: [MEDIA] });
    const restore = one(objs, 'CronJob', 'postgres-restore');
    expect(restore.spec.suspend).toBe(true);
    expect(restore.spec.jobTemplate.spec.backoffLimit).toBe(0);
    expect(names(restore)).toEqual({ init: ['fetch', 'restore'], main: ['unarchive'] });
    expect(env(container(restore, 'fetch'), 'SOURCE').value).toBe('local');
    expect(env(container(restore, 'fetch'), 'BACKUP').value).toBe('latest');
    expect(env(container(restore, 'restore'), 'BACKUP').value).toBe('latest');
    expect(container(restore, 'restore').command[2]).toContain('DROP OWNED BY CURRENT_USER');
    expect(container(restore, 'restore').command[2]).toContain('psql -X -q -v ON_ERROR_STOP=1 --single-transaction');
    const list = one(objs, 'CronJob', 'postgres-backup-list');
    expect(list.spec.suspend).toBe(true);
    expect(container(list, 'list').command[2]).toContain('rclone lsf --dirs-only');
    // without off-site, listed from the volume with the PostgreSQL image
    expect(container(one(synthDb().objs, 'CronJob', 'postgres-backup-list'), 'list').image).toBe('quay.io/sclorg/postgresql-13-c9s:c9s');
    expect(synthDb({ restore: false }).objs.filter((o) => o.metadata.name === 'postgres-restore')).toEqual([]);
  });

  test('valid against the Kubernetes schema; every container restricted with requests and limits', () => {
    const { objs } = synthDb({ offsite: OFFSITE, archives: [MEDIA] });
    expect(validateManifests(objs)).toEqual([]);
    for (const w of objs.filter((o) => ['CronJob', 'Job'].includes(o.kind))) {
      for (const c of containers(w)) {
        expect(c.securityContext).toMatchObject(RESTRICTED);
        expect(Object.keys(c.resources.limits).sort()).toEqual(['cpu', 'memory']);
      }
    }
  });
});

describe('the client follows the server', () => {
  test.each([
    ['quay.io/sclorg/postgresql-15-c9s:c9s', 15], ['postgres:16.2', 16], ['docker.io/library/postgres:13-alpine', 13],
    ['docker.io/bitnami/postgresql:15.4.0', 15], ['registry.example.com/pg@sha256:' + 'a'.repeat(64), undefined], ['quay.io/x/tools:1.0', undefined],
  ])('%s -> %s', (image, major) => expect(postgresImageMajorVersion(image)).toBe(major));

  test('in the cluster the server image is the client; outside, the declared version picks the image', () => {
    expect(container(one(synthDb().objs, 'CronJob', 'postgres-backup'), 'dump').image).toBe('quay.io/sclorg/postgresql-13-c9s:c9s');
    const ext = synthDb({}, { enabled: false, host: 'db.example.com', version: 16 }).objs;
    expect(container(one(ext, 'CronJob', 'postgres-backup'), 'dump').image).toBe('quay.io/sclorg/postgresql-16-c9s:c9s');
  });

  test.each<[string, PostgresBackupOptions, CostMgmtPostgresProps, RegExp]>([
    ['fails when the client is older than the server', { image: 'quay.io/sclorg/postgresql-13-c9s:c9s' },
      { enabled: false, host: 'db.example.com', version: 15 }, /backup\.image.*must be PostgreSQL 15 or newer.*pg_dump 13 refuses/],
    ['fails when the image does not tell its version', { image: 'registry.example.com/tools/pg:1.0' }, {},
      /backup\.image.*must name its PostgreSQL major version.*backup\.clientVersion/],
    ['fails when the off-site endpoint carries credentials', { offsite: { ...OFFSITE, endpoint: 'https://key:secret@s3.example.com' } }, {},
      /backup\.offsite\.endpoint.*without credentials/],
    ['fails when the off-site endpoint is not a URL', { offsite: { ...OFFSITE, endpoint: 's3.example.com' } }, {}, /backup\.offsite\.endpoint/],
    ['fails when the bucket is not a bucket name', { offsite: { ...OFFSITE, bucket: 'Erp_Backups' } }, {}, /backup\.offsite\.bucket.*S3 bucket name/],
    ['fails when the prefix has a leading slash', { offsite: { ...OFFSITE, prefix: '/erp' } }, {}, /backup\.offsite\.prefix/],
    ['fails when archives belong to two users', { archives: [MEDIA, { name: 'static', claimName: 'static', user: 2000 }] }, {},
      /backup\.archives.*one user/],
    ['fails when a database is listed twice', { databases: [{ name: 'hive', secretName: 'x' }] }, {}, /backup\.databases.*hive/],
  ])('%s', (_name, backup, props, message) => {
    expect(() => synthDb(backup, props)).toThrow(message);
  });

  test('an explicit clientVersion is believed (and still compared)', () => {
    const external = { enabled: false, host: 'db', version: 15 };
    expect(() => synthDb({ image: 'registry.example.com/tools/pg:1.0', clientVersion: 13 }, external)).toThrow(/must be PostgreSQL 15/);
    expect(() => synthDb({ image: 'registry.example.com/tools/pg:1.0', clientVersion: 16 }, external)).not.toThrow();
  });
});

describe('pre-migration dump', () => {
  function app(delivery?: MigrationDelivery) {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'erp' });
    const database = new CostMgmtPostgres(chart, 'Db');
    const api = new ErpApi(chart, 'Api', { image: 'registry.example.com/erp/api:1.4.2', database, migrationDelivery: delivery });
    return { api, objs: Testing.synth(chart) as Manifest[] };
  }
  const jobs = (objs: Manifest[]) => ({
    dump: all(objs, 'Job').find((j) => j.metadata.name.startsWith('erp-api-pre-migration-backup-'))!,
    migrate: all(objs, 'Job').find((j) => j.metadata.name.startsWith('erp-api-migrate-'))!,
  });

  test('a Job dumps the app database and records the release the migrators wait for', () => {
    const { api, objs } = app();
    const { dump, migrate } = jobs(objs);
    expect(names(dump)).toEqual({ init: ['dump', 'seal'], main: ['record'] });
    expect(env(container(dump, 'dump'), 'DB_COUNT').value).toBe('1');
    expect(env(container(dump, 'dump'), 'DB_NAME_0').value).toBe('koku');
    expect(env(container(dump, 'dump'), 'BACKUP_KIND').value).toBe('pre-migration');
    // the release is the migration Job's name
    expect(env(container(dump, 'record'), 'MARKER_RELEASE').value).toBe(migrate.metadata.name);
    expect(api.migrationJob!.preMigrationBackupJob).toBeDefined();
    // the migration Job knows its own name from its pod label; the API's migrate init container from the manifests
    expect(env(container(migrate, 'migrate'),
      'ERP_K8S_RELEASE').valueFrom.fieldRef).toMatchObject({ fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" });
    const dep = one(objs, 'Deployment', 'erp-api-app');
    expect(env(container(dep, 'migrate'), 'ERP_K8S_RELEASE').value).toBe(migrate.metadata.name);
    expect(env(container(dep, 'migrate'), 'ERP_K8S_BACKUP_WAIT_SECONDS').value).toBe('1200');
    // ...and the app itself is not told
    expect(env(container(dep, 'app'), 'ERP_K8S_RELEASE')).toBeUndefined();
    // the migrators' program waits for the record, without holding the lock
    expect(container(migrate, 'migrate').command.join(' ')).toContain('erp_k8s.pre_migration_backups');
    expect(objs.indexOf(dump)).toBeLessThan(objs.indexOf(migrate));
  });

  test('hooks: Helm pre-upgrade only, before the Job and its egress policy; Argo CD waves before them', () => {
    const { objs } = app(MigrationDelivery.all());
    const { dump, migrate } = jobs(objs);
    expect(migrate.metadata.annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(dump.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-upgrade', 'helm.sh/hook-weight': '-2', 'helm.sh/hook-delete-policy': 'before-hook-creation',
      'argocd.argoproj.io/hook': 'PreSync', 'argocd.argoproj.io/sync-wave': '-2',
    });
    const np = one(objs, 'NetworkPolicy', 'erp-api-pre-migration-backup-egress');
    expect(np.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-upgrade', 'helm.sh/hook-weight': '-3',
      'argocd.argoproj.io/sync-wave': '-3' });
    expect(np.spec.podSelector.matchLabels).toEqual({ 'erp-k8s.io/pre-migration-backup': 'erp-api' });
    expect(dump.spec.template.metadata.labels['erp-k8s.io/pre-migration-backup']).toBe('erp-api');
    // a plain Job under kubectl: no hooks at all
    expect(jobs(app(MigrationDelivery.plain()).objs).dump.metadata.annotations ?? {}).toEqual({});
  });

  test('preMigrationBackup: false, or a database without backups: no dump and no waiting', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'erp' });
    const database = new CostMgmtPostgres(chart, 'Db');
    new ErpApi(chart, 'Api', { image: 'registry.example.com/erp/api:1.4.2', database, preMigrationBackup: false });
    const objs = Testing.synth(chart) as Manifest[];
    expect(all(objs, 'Job').map((j) => j.metadata.name).filter((n) => n.includes('pre-migration'))).toEqual([]);
    const envNames = (o: Manifest[]) => o.filter((x) => ['Job',
      'Deployment'].includes(x.kind)).flatMap(containers).flatMap((c) => (c.env ?? []).map((e: Manifest) => e.name));
    expect(envNames(objs)).not.toContain('ERP_K8S_RELEASE');
    const bare = new Chart(Testing.app(), 'test', { namespace: 'erp' });
    new ErpApi(bare, 'Api', { image: 'registry.example.com/erp/api:1.4.2', database: new CostMgmtPostgres(bare, 'Db', { backup: false }) });
    expect(envNames(Testing.synth(bare))).not.toContain('ERP_K8S_RELEASE');
  });
});

describe('environments', () => {
  const objects = (name: string) => renderFiles(buildEnvironment(ENVIRONMENTS[name]).charts).flatMap((f) => f.objects);

  test('prod copies every set off-site with its own retention (90 days), and archives media with it', () => {
    const cj = objects('prod').find((o) => o.kind === 'CronJob' && o.metadata.name === 'postgres-backup')!;
    expect(names(cj).init).toEqual(['dump', 'archive', 'upload', 'prune-offsite']);
    expect(env(container(cj, 'prune-offsite'), 'OFFSITE_RETENTION_DAYS').value).toBe('90');
    expect(env(container(cj, 'prune'), 'RETENTION_DAYS').value).toBe('30');
    expect(env(container(cj, 'upload'), 'RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID').valueFrom.secretKeyRef.name).toBe('backup-s3-credentials');
    expect(podSpec(cj).volumes).toContainEqual(expect.objectContaining({ persistentVolumeClaim: { claimName: 'erp-api-media' } }));
    // RWX media in prod: no affinity needed
    expect(podSpec(cj).affinity).toBeUndefined();
    // the external server is PostgreSQL 15 (seed 004): so is the client
    expect(container(cj, 'dump').image).toBe('quay.io/sclorg/postgresql-15-c9s:c9s');
  });

  test('dev archives its RWO media on the API\'s node: the claim and selector are the API\'s own', () => {
    const objs = objects('dev');
    const cj = objs.find((o) => o.kind === 'CronJob' && o.metadata.name === 'postgres-backup')!;
    const claim = objs.find((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name.endsWith('-media'))!;
    const api = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'erp-api-app')!;
    expect(podSpec(cj).volumes).toContainEqual(expect.objectContaining({ persistentVolumeClaim: { claimName: claim.metadata.name } }));
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    const selector = podSpec(cj).affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels;
    expect(selector).toEqual(API_POD_SELECTOR);
    expect(api.spec.selector.matchLabels).toEqual(API_POD_SELECTOR);
    expect(container(cj, 'archive').securityContext.runAsUser).toBe(podSpec(api).securityContext.runAsUser);
  });
});
