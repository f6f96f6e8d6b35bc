/**
 * The restore drill (issue 14, README "Backups and restore"), on a real
 * cluster: known rows and a media file are written, the backup CronJob runs,
 * the set is found in the S3 server running in the cluster (s3rver, see
 * s3.ts), then the database volume, the media volume and the backup volume
 * are destroyed, the set is restored from the off-site copy with the
 * README's commands, and the app becomes Ready on the restored data. Then a
 * backup whose upload fails: the Job fails visibly, the local set is kept,
 * nothing is pruned on either side.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { backupDrillApp, DRILL_HOST, DRILL_NS, DRILL_PREFIX } from './apps';
import {
  createNamespace, createSecret, diagnose, getObj, jobLogs, kubectl, kubectlAsync, list, Obj, say, secretValue, useBundledTools, waitFor,
} from './kube';
import { createS3CredentialsSecret, listObjects, S3_BUCKET, S3_ENDPOINT } from './s3';

jest.setTimeout(30 * 60 * 1000);

const ns = DRILL_NS;
const WAIT_MS = 10 * 60 * 1000;
const ROWS = [[1, 'invoice 2026-0001'], [2, 'invoice 2026-0002 – ünïcode'], [3, 'credit note 2026-0003']];
const MEDIA_FILE = '/app/media/drill/invoices/2026-0001.pdf';
const MEDIA_TEXT = `drill ${secretValue()}`;
let work: string;
let manifest: string;
let objects: Obj[];
const figures: string[] = [];
const note = (line: string) => {
  figures.push(line);
  say('drill', line);
};

const condition = (j: Obj | undefined, type: string) => (j?.status?.conditions ?? []).some((c: Obj) => c.type === type && c.status === 'True');

/** psql as the application role over the server's local socket (tables it creates are its own, so its dumps read them). */
function psql(sql: string): string {
  const psqlArgs = ['psql', '-X', '-At', '-U', 'koku', '-d', 'koku', '-v', 'ON_ERROR_STOP=1', '-c', sql];
  return kubectl(['exec', '-n', ns, 'postgres-0', '-c', 'postgres', '--', ...psqlArgs]).trim();
}

/** Runs Python in the API container (the app's own runtime writes and reads its media). */
function inApi(code: string): string {
  return kubectl(['exec', '-n', ns, 'deploy/erp-api-app', '-c', 'app', '--', 'python', '-c', code]).trim();
}

/** Waits for a Job to Complete (or throws with its logs when it fails); returns it and its duration in seconds. */
async function complete(job: string): Promise<{ job: Obj; seconds: number }> {
  const j = await waitFor(`${ns}: job/${job} Complete`, WAIT_MS, () => {
    const o = getObj(ns, 'job', job);
    if (condition(o, 'Failed')) throw new Error(`job/${job} failed:\n${jobLogs(ns, job)}`);
    return condition(o, 'Complete') ? o : undefined;
  }, () => `${jobLogs(ns, job)}\n${diagnose(ns)}`);
  return { job: j, seconds: Math.round((Date.parse(j.status.completionTime) - Date.parse(j.status.startTime)) / 1000) };
}

/** `kubectl create job NAME --from=cronjob/CRONJOB`, with `kubectl set env` parameters as the README pipes them. */
async function jobFrom(cronJob: string, name: string, params: Record<string, string> = {}): Promise<void> {
  let yaml = kubectl(['create', 'job', name, '-n', ns, `--from=cronjob/${cronJob}`, '--dry-run=client', '-o', 'yaml']);
  if (Object.keys(params).length) {
    yaml = kubectl(['set', 'env', '--local', '-f', '-', ...Object.entries(params).map(([k, v]) => `${k}=${v}`), '-o', 'yaml'], yaml);
  }
  kubectl(['create', '-n', ns, '-f', '-'], yaml);
}

async function waitAvailable(replicas: number): Promise<void> {
  await waitFor(`${ns}: erp-api-app ${replicas} Ready`, WAIT_MS, () => {
    const d = getObj(ns, 'deployment', 'erp-api-app');
    const pods = list(ns, 'pods', 'app.kubernetes.io/name=erp-api,app.kubernetes.io/component=api');
    if (replicas === 0) return pods.length === 0 ? true : undefined;
    return (d?.status?.readyReplicas ?? 0) === replicas && (d?.status?.updatedReplicas ?? 0) === replicas ? true : undefined;
  }, () => diagnose(ns));
}

/** The set names in the off-site store under the drill's prefix. */
async function offsiteSets(): Promise<string[]> {
  const keys = (await listObjects(`${DRILL_PREFIX}/`)).map((o) => o.key);
  return [...new Set(keys.map((k) => k.slice(DRILL_PREFIX.length + 1).split('/')[0]))].sort();
}

/** The complete local sets, as the list template prints them. */
async function localSets(tag: string): Promise<string[]> {
  const job = `drill-list-${tag}`;
  await jobFrom('postgres-backup-list', job);
  await complete(job);
  const out = jobLogs(ns, job);
  const local = out.split('off-site sets')[0];
  return (local.match(/\d{8}T\d{6}Z-[a-z-]+/g) ?? []).sort();
}

beforeAll(async () => {
  useBundledTools();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-drill-'));
  objects = backupDrillApp({ endpoint: S3_ENDPOINT, bucket: S3_BUCKET, credentialsSecretName: 'backup-s3-credentials' });
  manifest = path.join(work, 'drill.yaml');
  fs.writeFileSync(manifest, Yaml.stringify(...objects));
  await createNamespace(ns);
  kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', '--overwrite']);
  await createSecret(ns, 'erp-api-env', { SECRET_KEY: secretValue(), ALLOWED_HOSTS: DRILL_HOST });
  await createS3CredentialsSecret(ns, 'backup-s3-credentials');
  await kubectlAsync(['apply', '-f', manifest]);
  await waitFor(`${ns}: PostgreSQL, Redis and the API Ready, Jobs Complete`, WAIT_MS, () => {
    const jobs = list(ns, 'jobs');
    const failed = jobs.find((j) => condition(j, 'Failed'));
    if (failed) throw new Error(`job/${failed.metadata.name} failed:\n${jobLogs(ns, failed.metadata.name)}`);
    const sts = list(ns, 'statefulsets');
    const api = getObj(ns, 'deployment', 'erp-api-app');
    const ready = sts.length === 2 && sts.every((s) => s.status?.readyReplicas === 1) && api?.status?.readyReplicas === 1;
    return ready && jobs.every((j) => condition(j, 'Complete')) ? true : undefined;
  }, () => diagnose(ns));
});

afterAll(() => {
  if (figures.length) say('drill', `figures:\n  ${figures.join('\n  ')}`);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('restore drill: back up, lose every volume, restore from the off-site copy', () => {
  let setName = '';

  test('known rows and a media file are written through the app\'s own tools', () => {
    psql('CREATE TABLE drill_rows (id int PRIMARY KEY, note text NOT NULL); '
      + `INSERT INTO drill_rows VALUES ${ROWS.map(([i, n]) => `(${i}, '${n}')`).join(', ')}`);
    const mediaFile = JSON.stringify(MEDIA_FILE);
    inApi(`import os; os.makedirs(os.path.dirname(${mediaFile}), exist_ok=True); open(${mediaFile}, "w").write(${JSON.stringify(MEDIA_TEXT)})`);
    expect(psql('SELECT count(*) FROM drill_rows')).toBe('3');
    expect(inApi(`print(open(${JSON.stringify(MEDIA_FILE)}).read())`)).toBe(MEDIA_TEXT);
  });

  test('the backup CronJob makes a set (every database, the roles, media, checksums) and copies it off-site', async () => {
    const before = await offsiteSets();
    await jobFrom('postgres-backup', 'drill-backup');
    const { seconds } = await complete('drill-backup');
    const out = jobLogs(ns, 'drill-backup');
    setName = /backup set (\d{8}T\d{6}Z-scheduled)/.exec(out)![1];
    expect(out).toContain(`off-site copy verified: ${setName}`);
    const objs = (await listObjects(`${DRILL_PREFIX}/${setName}/`)).map((o) => ({ ...o, key: o.key.split('/').pop()! }));
    expect(objs.map((o) => o.key).sort()).toEqual(['SHA256SUMS', 'globals.sql', 'hive.dump', 'koku.dump', 'media.tar.gz']);
    for (const o of objs) expect(o.size).toBeGreaterThan(0);
    expect(await offsiteSets()).toEqual([...before, setName].sort());
    const size = (k: string) => objs.find((o) => o.key === k)!.size;
    note(`backup: set ${setName} in ${seconds}s (Job start to completion); off-site objects: ${objs.map((o) => `${o.key} ${o.size} B`).join(', ')}`);
    note(`backup: koku.dump ${size('koku.dump')} B, media.tar.gz ${size('media.tar.gz')} B`);
  });

  test('every volume is destroyed: database, media and the backups themselves (as after losing the cluster)', async () => {
    kubectl(['scale', 'deploy', 'erp-api-app', '-n', ns, '--replicas=0']);
    await waitAvailable(0);
    await kubectlAsync(['delete', 'statefulset', 'postgres', '-n', ns, '--wait=true']);
    await waitFor(`${ns}: postgres-0 gone`, WAIT_MS, () => (getObj(ns, 'pod', 'postgres-0') ? undefined : true));
    // finished Jobs' pods still name the claims (a claim is not deleted while a pod references it): gone with the cluster too
    await kubectlAsync(['delete', 'pods', '-n', ns, '--field-selector=status.phase==Succeeded', '--wait=true']);
    const claims = ['postgresql-data-postgres-0', 'erp-api-media', 'postgres-backups'];
    const uids = claims.map((c) => getObj(ns, 'pvc', c)!.metadata.uid);
    await kubectlAsync(['delete', 'pvc', ...claims, '-n', ns, '--wait=true', '--timeout=5m']);
    // everything back as applied, except the API (it stays at 0 until the data is back, README step 1)
    const withoutApi = objects.filter((o) => !(o.kind === 'Deployment' && o.metadata.name === 'erp-api-app'));
    const file = path.join(work, 'without-api.yaml');
    fs.writeFileSync(file, Yaml.stringify(...withoutApi));
    await kubectlAsync(['apply', '-f', file]);
    await waitFor(`${ns}: a new, empty PostgreSQL Ready`, WAIT_MS,
      () => (getObj(ns, 'statefulset', 'postgres')?.status?.readyReplicas === 1 ? true : undefined),
      () => diagnose(ns));
    expect(claims.map((c) => getObj(ns, 'pvc', c)!.metadata.uid).filter((u, i) => u === uids[i])).toEqual([]);
    expect(psql("SELECT to_regclass('drill_rows') IS NULL")).toBe('t');
    expect(await localSets('after-loss')).toEqual([]);
  });

  test('restore from the off-site copy (README commands), then the app is Ready on the restored data', async () => {
    await jobFrom('postgres-restore', 'drill-restore', { BACKUP: setName, SOURCE: 'offsite' });
    const { seconds } = await complete('drill-restore');
    const out = jobLogs(ns, 'drill-restore');
    expect(out).toContain(`downloading ${setName}`);
    expect(out).toContain('checksums verified');
    expect(out).toMatch(/koku: restored/);
    expect(out).toMatch(/hive: restored/);
    expect(out).toMatch(/media: 1 files restored/);
    note(`restore from off-site: ${seconds}s (download, checksums, pg_restore of 2 databases, media)`);
    const t0 = Date.now();
    kubectl(['scale', 'deploy', 'erp-api-app', '-n', ns, '--replicas=1']);
    await waitAvailable(1);
    note(`API Ready on the restored data ${Math.round((Date.now() - t0) / 1000)}s after the scale-up`);
    const rows = psql('SELECT id, note FROM drill_rows ORDER BY id').split('\n').map((l) => l.split('|'));
    expect(rows).toEqual(ROWS.map(([i, n]) => [String(i), n]));
    expect(inApi(`print(open(${JSON.stringify(MEDIA_FILE)}).read())`)).toBe(MEDIA_TEXT);
    // the app's own data survived too: its migrations table, one row per migration
    expect(Number(psql("SELECT count(*) FROM django_migrations WHERE app = 'core'"))).toBe(3);
    note(`compared after restore: ${rows.length}/${ROWS.length} rows equal, 1/1 media file equal (${MEDIA_TEXT.length} B)`);
    // the downloaded set is a local set again (the fast path for the next restore)
    expect(await localSets('after-restore')).toContain(setName);
  });

  test('a failed upload fails the Job where kubectl shows it, keeps the local set and prunes nothing on either side', async () => {
    const offsiteBefore = await offsiteSets();
    const localBefore = await localSets('before-failure');
    await jobFrom('postgres-backup', 'drill-failed-upload', { OFFSITE_BUCKET: 'no-such-bucket' });
    const job = await waitFor(`${ns}: job/drill-failed-upload Failed`, WAIT_MS, () => {
      const j = getObj(ns, 'job', 'drill-failed-upload');
      if (condition(j, 'Complete')) throw new Error(`the upload to a missing bucket succeeded:\n${jobLogs(ns, 'drill-failed-upload')}`);
      return condition(j, 'Failed') ? j : undefined;
    }, () => `${jobLogs(ns, 'drill-failed-upload')}\n${diagnose(ns)}`);
    expect(job.status.failed).toBeGreaterThanOrEqual(1);
    for (const pod of list(ns, 'pods', 'job-name=drill-failed-upload')) {
      const init = Object.fromEntries((pod.status.initContainerStatuses ?? []).map((c: Obj) => [c.name, c.state]));
      expect(init.dump.terminated.exitCode).toBe(0);
      expect(init.archive.terminated.exitCode).toBe(0);
      expect(init.upload.terminated.exitCode).not.toBe(0);
      // neither pruning step ran
      expect(init['prune-offsite'].terminated).toBeUndefined();
      expect(pod.status.containerStatuses[0].state.terminated).toBeUndefined();
    }
    const localAfter = await localSets('after-failure');
    for (const s of localBefore) expect(localAfter).toContain(s);
    expect(localAfter.length).toBeGreaterThan(localBefore.length); // the dumps of the failed runs are kept
    expect(await offsiteSets()).toEqual(offsiteBefore);
    note(`failed upload: Job Failed after ${job.status.failed} pod(s); local sets ${localBefore.length} -> ${localAfter.length}, `
      + `off-site unchanged (${offsiteBefore.length})`);
  });
});
