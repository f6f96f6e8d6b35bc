import { ApiObject, Chart, Testing } from 'cdk8s';
import { CostMgmtPostgres } from '../../src/data/cost-mgmt-postgres';
import { CostMgmtPostgresProps, DEFAULT_POSTGRES_IMAGE } from '../../src/data/postgres-props';
import { PostgresSslMode } from '../../src/data/database';
import { defaultDeny } from '../../src/internal/network-policies';
import { checkPolicy } from '../../src/gates/policy';
import { credentialsProgram } from '../../src/data/postgres-credentials';
import { postgresConfig, postgresImageMajorVersion, postgresInitSql, postgresPreStartScript } from '../../src/data/postgres-sql';
import { validateManifests } from '../../src/gates/schema-validator';
import { all, container, containers, Manifest, one, podSpec, RESTRICTED } from '../util';

function synthPostgres(props: CostMgmtPostgresProps = {}): { db: CostMgmtPostgres; objs: Manifest[] } {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'erp' });
  const db = new CostMgmtPostgres(chart, 'Postgres', props);
  return { db, objs: Testing.synth(chart) as Manifest[] };
}

const server = (objs: Manifest[]) => container(one(objs, 'StatefulSet', 'postgres'), 'postgres');
const env = (c: Manifest, name: string) => c.env.find((e: Manifest) => e.name === name);
const configMap = (objs: Manifest[]) => one(objs, 'ConfigMap', 'postgres-config').data;
const workloads = (objs: Manifest[]) => objs.filter((o) => ['StatefulSet', 'Deployment', 'Job', 'CronJob'].includes(o.kind));

describe('CostMgmtPostgres (in-cluster)', () => {
  test.each<[string, CostMgmtPostgresProps]>([
    ['in-cluster', {}],
    ['in-cluster, custom', { existingSecret: 'pg', storageClassName: 'ssd', roles: ['a', 'b'], databases: [{ name: 'x', owner: 'a' }] }],
    ['external', { enabled: false, host: 'db.example.com', version: 15 }],
    ['in-cluster, TLS', { tls: { secretName: 'postgres-tls' }, sslMode: PostgresSslMode.VERIFY_FULL, caSecretName: 'postgres-tls' }],
  ])('%s: valid against the Kubernetes 1.28 schema and the policy gate', (_name, props) => {
    // GIVEN
    const chart = new Chart(Testing.app(), 'test', { namespace: 'erp' });
    defaultDeny(chart, 'DefaultDeny', 'erp');
    // WHEN
    new CostMgmtPostgres(chart, 'Postgres', props);
    const objs = Testing.synth(chart);
    // THEN
    expect(validateManifests(objs)).toEqual([]);
    expect(checkPolicy(objs).violations).toEqual([]);
  });

  test('seed names: StatefulSet, Service and Secret postgres*, claim template postgresql-data', () => {
    // GIVEN / WHEN
    const { db, objs } = synthPostgres();
    // THEN
    const sts = one(objs, 'StatefulSet', 'postgres');
    expect(sts.spec.replicas).toBe(1);
    const svc = one(objs, 'Service', 'postgres');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports).toEqual([{ name: 'postgresql', port: 5432, targetPort: 5432 }]);
    expect(svc.spec.selector).toEqual(sts.spec.selector.matchLabels);
    expect(sts.spec.serviceName).toBe('postgres-headless');
    expect(one(objs, 'Service', 'postgres-headless').spec.clusterIP).toBe('None');
    expect(sts.spec.volumeClaimTemplates.map((t: Manifest) => t.metadata.name)).toEqual(['postgresql-data']);
    // the first claim is <template>-<statefulset>-<ordinal>
    expect(`${sts.spec.volumeClaimTemplates[0].metadata.name}-${sts.metadata.name}-0`).toBe('postgresql-data-postgres-0');
    expect(env(server(objs), 'POSTGRESQL_PASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'postgres-credentials', key: 'password' });
    expect(db.connection).toEqual({
      host: 'postgres', port: 5432, databaseName: 'koku', secretName: 'postgres-credentials',
      clientLabels: { 'erp-k8s.io/postgres-client': 'true' }, serverVersion: 13,
    });
  });

  test("the StatefulSet has the id 'Resource'", () => {
    // GIVEN / WHEN
    const { db } = synthPostgres();
    // THEN
    expect(ApiObject.of(db).kind).toBe('StatefulSet');
    expect(ApiObject.of(db).name).toBe('postgres');
  });

  test('data is kept: 20Gi claim, default storage class, Retain on delete and scale, Helm keep', () => {
    // GIVEN / WHEN
    const { objs } = synthPostgres();
    // THEN
    const sts = one(objs, 'StatefulSet', 'postgres');
    const t = sts.spec.volumeClaimTemplates[0];
    expect(t.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } }, volumeMode: 'Filesystem' });
    expect(t.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(server(objs).volumeMounts).toContainEqual({ name: 'postgresql-data', mountPath: '/var/lib/postgresql/data' });
  });

  test('storage size and class are props', () => {
    // GIVEN / WHEN
    const { objs } = synthPostgres({ storageSize: '50Gi', storageClassName: 'fast-ssd' });
    // THEN
    const t = one(objs, 'StatefulSet').spec.volumeClaimTemplates[0];
    expect(t.spec.storageClassName).toBe('fast-ssd');
    expect(t.spec.resources.requests.storage).toBe('50Gi');
  });

  test('image, env and resources follow seed 001', () => {
    // GIVEN / WHEN
    const { objs } = synthPostgres();
    // THEN
    const c = server(objs);
    expect(c.image).toBe(DEFAULT_POSTGRES_IMAGE);
    expect(c.image).toMatch(/^quay\.io\/sclorg\/postgresql-13-c9s:(?!latest$)[\w.-]+$/);
    expect(env(c, 'POSTGRESQL_DATABASE').value).toBe('koku');
    expect(env(c, 'POSTGRESQL_USER').value).toBe('koku');
    expect(env(c, 'PGDATA').value).toBe('/var/lib/postgresql/data/pgdata');
    expect(env(c, 'POSTGRESQL_ADMIN_PASSWORD')).toBeUndefined(); // superuser stays local-only
    expect(c.resources.requests).toEqual({ cpu: '500m', memory: '1Gi' });
    expect(c.resources.limits).toEqual({ cpu: '2', memory: '2Gi' });
  });

  test('the image really uses PGDATA: a pre-start hook re-exports it (the image would use $HOME/data/userdata)', () => {
    // GIVEN / WHEN
    const { objs } = synthPostgres();
    // THEN
    expect(configMap(objs)['pgdata.sh']).toContain("export PGDATA='/var/lib/postgresql/data/pgdata'");
    const items = one(objs, 'StatefulSet').spec.template.spec.volumes.find((v: Manifest) => v.name === 'config').configMap.items;
    expect(items).toContainEqual({ key: 'pgdata.sh', path: 'postgresql-pre-start/erp-k8s-pgdata.sh' });
    expect(server(objs).volumeMounts).toContainEqual({ name: 'config', mountPath: '/opt/app-root/src', readOnly: true });
  });

  test('readiness, liveness and startup run pg_isready over TCP', () => {
    // GIVEN / WHEN
    const c = server(synthPostgres().objs);
    // THEN
    for (const p of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      expect(p.exec.command).toEqual(['pg_isready', '-h', '127.0.0.1', '-p', '5432', '-q']);
    }
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBe(600);
    expect(c.lifecycle.preStop.exec.command).toEqual(['pg_ctl', 'stop', '-m', 'fast', '-w', '-t', '50']);
  });

  test('every container of every workload is restricted, with requests and limits', () => {
    // GIVEN / WHEN
    const { objs } = synthPostgres();
    // THEN
    // backup, restore and list templates; credentials and initial backup Jobs
    expect(workloads(objs).map((w) => w.kind).sort()).toEqual(['CronJob', 'CronJob', 'CronJob', 'Job', 'Job', 'StatefulSet']);
    for (const w of workloads(objs)) {
      const spec = podSpec(w);
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      for (const c of containers(w)) {
        expect(c.securityContext).toMatchObject(RESTRICTED);
        expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'memory']);
        expect(Object.keys(c.resources.limits).sort()).toEqual(['cpu', 'memory']);
      }
    }
    const sts = podSpec(one(objs, 'StatefulSet'));
    expect(sts.securityContext).toMatchObject({ runAsUser: 26, fsGroup: 26 });
    expect(sts.automountServiceAccountToken).toBe(false);
    for (const cj of all(objs, 'CronJob')) expect(podSpec(cj).automountServiceAccountToken).toBe(false);
  });

  test('no Secret object and no password value in the output', () => {
    // GIVEN / WHEN
    const { objs } = synthPostgres();
    // THEN
    expect(all(objs, 'Secret')).toEqual([]);
    expect(objs.filter((o) => o.data?.password !== undefined || o.stringData !== undefined)).toEqual([]);
    const text = JSON.stringify(objs);
    expect(text).not.toMatch(/PASSWORD '[^']/i);
    expect(text).not.toMatch(/--from-literal=password/);
  });

  describe('credentials', () => {
    test('a Job creates the Secrets only when absent; its Role can create Secrets and get only those', () => {
      // GIVEN / WHEN
      const { db, objs } = synthPostgres();
      // THEN
      const role = one(objs, 'Role', 'postgres-credentials-init');
      expect(role.rules).toEqual([
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['postgres-credentials'], verbs: ['get'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['postgres-hive-credentials'], verbs: ['get'] },
      ]);
      const rb = one(objs, 'RoleBinding', 'postgres-credentials-init');
      expect(rb.roleRef.name).toBe('postgres-credentials-init');
      expect(rb.subjects).toEqual([expect.objectContaining({ kind: 'ServiceAccount', name: 'postgres-credentials-init' })]);
      const job = all(objs, 'Job').find((j) => j.metadata.name.startsWith('postgres-credentials-init-'))!;
      expect(job.metadata.name).toBe(db.credentials!.jobName);
      expect(job.metadata.name).toMatch(/^postgres-credentials-init-[0-9a-f]{10}$/);
      expect(job.metadata.annotations['erp-k8s.io/needs-api-access']).toContain('postgres-credentials');
      const spec = podSpec(job);
      expect(spec.serviceAccountName).toBe('postgres-credentials-init');
      expect(spec.automountServiceAccountToken).toBe(true);
      // the server image: it has python3; no kubectl and no shell needed
      expect(containers(job)[0].image).toBe('quay.io/sclorg/postgresql-13-c9s:c9s');
      expect(containers(job)[0].command.slice(0, 2)).toEqual(['python3', '-c']);
      expect(spec.enableServiceLinks).toBe(false);
      expect(job.spec.ttlSecondsAfterFinished).toBe(3600);
      expect(db.roleSecretNames).toEqual({ hive: 'postgres-hive-credentials' });
    });

    test('the program never overwrites: GET first, create only on 404, 409 AlreadyExists is success', () => {
      // GIVEN / WHEN
      const program = credentialsProgram([{ name: 'postgres-credentials', literals: { database: 'koku', username: 'koku' } }]);
      // THEN
      expect(program).toContain('call("GET", "%s/%s" % (base, name))');
      expect(program).toMatch(/if code != 404:\n\s+sys\.exit/);
      expect(program).toContain('secrets.token_hex(24)');
      expect(program).toMatch(/elif code == 409:\n\s+print\("secret\/%s was created concurrently/);
      expect(program).toContain('{\\"name\\":\\"postgres-credentials\\",\\"literals\\":{\\"database\\":\\"koku\\",\\"username\\":\\"koku\\"}}');
      expect(program.indexOf('call("GET"')).toBeLessThan(program.indexOf('call("POST"'));
      // never prints a Secret it read
      expect(program).toContain('return r.status, b""');
    });

    test('the Job name is stable across synths (re-apply is a no-op)', () => {
      // GIVEN / WHEN
      const a = synthPostgres().db.credentials!.jobName;
      const b = synthPostgres().db.credentials!.jobName;
      // THEN
      expect(a).toBe(b);
    });

    test('existingSecret: only the role Secrets are generated', () => {
      // GIVEN / WHEN
      const { db, objs } = synthPostgres({ existingSecret: 'my-pg' });
      // THEN
      expect(db.secretName).toBe('my-pg');
      expect(env(server(objs), 'POSTGRESQL_PASSWORD').valueFrom.secretKeyRef.name).toBe('my-pg');
      expect(one(objs, 'Role').rules.flatMap((r: Manifest) => r.resourceNames ?? [])).toEqual(['postgres-hive-credentials']);
    });

    test('existingSecret and no roles: no credentials Job at all', () => {
      // GIVEN / WHEN
      const { objs } = synthPostgres({ existingSecret: 'my-pg', roles: [], databases: [] });
      // THEN
      expect(all(objs, 'Job').map((j) => j.metadata.name)).toEqual([expect.stringMatching(/^postgres-backup-initial-[0-9a-f]{10}$/)]);
      expect(all(objs, 'Role')).toEqual([]);
    });
  });

  describe('initial backup', () => {
    test('a Job dumps once when applied, as the CronJob does, onto the same claim (which it binds at install)', () => {
      // GIVEN / WHEN
      const { db, objs } = synthPostgres();
      // THEN
      const job = all(objs, 'Job').find((j) => j.metadata.name.startsWith('postgres-backup-initial-'))!;
      const cron = one(objs, 'CronJob', 'postgres-backup');
      expect(job.metadata.name).toMatch(/^postgres-backup-initial-[0-9a-f]{10}$/);
      const withoutKind = (c: Manifest) => ({ ...c, env: c.env.filter((e: Manifest) => e.name !== 'BACKUP_KIND') });
      expect(withoutKind(container(job, 'dump'))).toEqual(withoutKind(container(cron, 'dump')));
      expect(env(container(job, 'dump'), 'BACKUP_KIND').value).toBe('initial');
      expect(podSpec(job).volumes).toEqual(podSpec(cron).volumes);
      expect(podSpec(job).volumes.find((v: Manifest) => v.name === 'pvc-postgres-backups').persistentVolumeClaim.claimName).toBe('postgres-backups');
      expect(job.metadata.annotations)
        .toMatchObject({ 'argocd.argoproj.io/hook': 'Sync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' });
      expect(job.spec.template.metadata.labels).toEqual(cron.spec.jobTemplate.spec.template.metadata.labels); // the backup egress policy admits it
      expect(objs.indexOf(job)).toBeGreaterThan(objs.findIndex((o) => o.kind === 'StatefulSet'));
      expect(db.postgresBackup!.initialJob).toBeDefined();
    });

    test('initialBackup: false means no Job', () => {
      const { objs } = synthPostgres({ backup: { initialBackup: false } });
      expect(all(objs, 'Job').map((j) => j.metadata.name)).toEqual([expect.stringMatching(/^postgres-credentials-init-/)]);
    });
  });

  describe('initialization', () => {
    test('order: credentials, then the server, which runs the init before it takes TCP connections', () => {
      // GIVEN / WHEN
      const { objs } = synthPostgres();
      // THEN
      const index = (kind: string) => objs.findIndex((o) => o.kind === kind);
      expect(index('Job')).toBeLessThan(index('StatefulSet'));
      expect(index('ConfigMap')).toBeLessThan(index('StatefulSet'));
      const items = one(objs, 'StatefulSet').spec.template.spec.volumes.find((v: Manifest) => v.name === 'config').configMap.items;
      // postgresql-start/ hooks run at every start, after the local server is up (socket only) and before TCP
      expect(items).toContainEqual({ key: 'init.sh', path: 'postgresql-start/erp-k8s-init.sh' });
      expect(items).toContainEqual({ key: 'init.sql', path: 'erp-k8s/init.sql' });
      const hook = configMap(objs)['init.sh'];
      expect(hook).toContain('pg_isready');
      expect(hook).toContain('psql -X -v ON_ERROR_STOP=1 --no-password --dbname=postgres --file=\'/opt/app-root/src/erp-k8s/init.sql\'');
      expect(hook).toContain('PGINIT_PASSWORD_HIVE="$(cat \'/etc/postgresql-roles/hive/password\')"');
      expect(hook.indexOf('pg_isready')).toBeLessThan(hook.indexOf('psql'));
      // the role password comes from its Secret as a file, not an env var of the server
      expect(server(objs).volumeMounts).toContainEqual({ name: 'role-hive', mountPath: '/etc/postgresql-roles/hive', readOnly: true });
      expect(env(server(objs), 'PGINIT_PASSWORD_HIVE')).toBeUndefined();
    });

    test('pg_stat_statements is preloaded through the image config directory', () => {
      // GIVEN / WHEN
      const { objs } = synthPostgres();
      // THEN
      expect(configMap(objs)['erp-k8s.conf']).toMatch(/^shared_preload_libraries = 'pg_stat_statements'$/m);
      const items = one(objs, 'StatefulSet').spec.template.spec.volumes.find((v: Manifest) => v.name === 'config').configMap.items;
      expect(items).toContainEqual({ key: 'erp-k8s.conf', path: 'postgresql-cfg/erp-k8s.conf' });
      expect(postgresConfig([])).not.toContain('shared_preload_libraries');
    });

    test('a changed init restarts the server (checksum on the pod template)', () => {
      // GIVEN
      const checksum = (objs: Manifest[]) => one(objs, 'StatefulSet').spec.template.metadata.annotations['erp-k8s.io/config-checksum'];
      // WHEN
      const a = checksum(synthPostgres().objs);
      const b = checksum(synthPostgres({ roles: ['hive', 'reporting'] }).objs);
      // THEN
      expect(a).toMatch(/^[0-9a-f]{64}$/);
      expect(a).not.toBe(b);
      expect(checksum(synthPostgres().objs)).toBe(a);
    });

    test('the SQL is idempotent: IF NOT EXISTS, DO blocks, \\gexec for CREATE DATABASE', () => {
      // GIVEN / WHEN
      const sql = postgresInitSql({
        databaseName: 'koku', extensions: ['pg_stat_statements'], roles: ['hive'], databases: [{ name: 'hive', owner: 'hive' }],
      });
      // THEN
      expect(sql).toContain('\\set ON_ERROR_STOP on');
      expect(sql).toContain('CREATE EXTENSION IF NOT EXISTS "pg_stat_statements";');
      expect(sql).toMatch(
        /DO \$\$\nBEGIN\n {2}IF NOT EXISTS \(SELECT FROM pg_catalog\.pg_roles WHERE rolname = 'hive'\) THEN\n {4}CREATE ROLE "hive" WITH LOGIN;/);
      expect(sql).toContain('EXCEPTION WHEN duplicate_object THEN');
      expect(sql).toContain("SELECT 'CREATE DATABASE \"hive\" OWNER \"hive\"' WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE " +
        "datname = 'hive') \\gexec");
      expect(sql).toContain('ALTER DATABASE "hive" OWNER TO "hive";');
      expect(sql).toContain('\\connect "koku"');
      // every CREATE is guarded: inside a DO block, IF NOT EXISTS, or a \gexec string
      for (const line of sql.split('\n').filter((l) => /^\s*CREATE /.test(l))) {
        expect(line).toMatch(/IF NOT EXISTS|^\s{4}CREATE ROLE/);
      }
      expect(sql.split('\n').filter((l) => /^CREATE DATABASE/.test(l))).toEqual([]);
    });

    test('passwords are read at run time, never embedded; the superuser gets no password', () => {
      // GIVEN / WHEN
      const sql = postgresInitSql({ databaseName: 'koku', extensions: [], roles: ['hive'], databases: [] });
      // THEN
      expect(sql).toContain('\\set erp_password `printf \'%s\' "$PGINIT_PASSWORD_HIVE"`');
      expect(sql).toContain('ALTER ROLE "hive" WITH LOGIN PASSWORD :\'erp_password\';');
      expect(sql).toContain("RAISE EXCEPTION 'PGINIT_PASSWORD_HIVE is empty or shorter than 16 characters'");
      expect(sql).toContain('ALTER ROLE postgres WITH PASSWORD NULL;');
      expect(postgresInitSql({ databaseName: 'koku', extensions: [], roles: [], databases: [], superuserLocalOnly: false }))
        .not.toContain('ALTER ROLE postgres');
    });

    test('extensions, roles and databases are props', () => {
      // GIVEN / WHEN
      const { db } = synthPostgres({
        extensions: ['pg_trgm', 'uuid-ossp'], roles: ['metastore'],
        databases: [{ name: 'metastore', owner: 'metastore' }, { name: 'reports', owner: 'koku' }],
      });
      // THEN
      expect(db.initSql).toContain('CREATE EXTENSION IF NOT EXISTS "uuid-ossp";');
      expect(db.initSql).toContain('CREATE ROLE "metastore" WITH LOGIN;');
      expect(db.initSql).toContain("SELECT 'CREATE DATABASE \"reports\" OWNER \"koku\"'");
      expect(db.initSql).not.toContain('hive');
    });

    test('pre-start hook refuses paths with shell characters', () => {
      expect(() => postgresPreStartScript("/data/x'; rm -rf /")).toThrow(/absolute path/);
    });
  });

  describe('backups', () => {
    test('daily pg_dump (custom, compressed) to a kept PVC, 7 days, never two at once', () => {
      // GIVEN / WHEN
      const { db, objs } = synthPostgres();
      // THEN
      const cj = one(objs, 'CronJob', 'postgres-backup');
      expect(cj.spec.schedule).toBe('0 2 * * *');
      expect(cj.spec.concurrencyPolicy).toBe('Forbid');
      expect(cj.spec.timeZone).toBe('UTC');
      const c = container(cj, 'dump');
      expect(c.command[2]).toContain('pg_dump --format=custom --compress=9');
      expect(env(container(cj, 'prune'), 'RETENTION_DAYS').value).toBe('7');
      expect(env(c, 'PGHOST').value).toBe('postgres');
      // every database the server creates, each dumped as its owner
      expect(env(c, 'DB_COUNT').value).toBe('2');
      expect(env(c, 'DB_NAME_0').value).toBe('koku');
      expect(env(c, 'DB_PASSWORD_0').valueFrom.secretKeyRef).toEqual({ name: 'postgres-credentials', key: 'password' });
      expect(env(c, 'DB_NAME_1').value).toBe('hive');
      expect(env(c, 'DB_USER_1').valueFrom.secretKeyRef).toEqual({ name: 'postgres-hive-credentials', key: 'username' });
      expect(c.volumeMounts).toContainEqual(expect.objectContaining({ mountPath: '/backups' }));
      const pvc = one(objs, 'PersistentVolumeClaim', 'postgres-backups');
      expect(pvc.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
      expect(pvc.spec.resources.requests.storage).toBe('20Gi');
      expect(cj.spec.jobTemplate.spec.template.metadata.labels['erp-k8s.io/postgres-client']).toBe('true');
      expect(db.postgresBackup!.retentionDays).toBe(7);
    });

    test('schedule and retention are props (production: 30 days)', () => {
      // GIVEN / WHEN
      const { objs } = synthPostgres({ backup: { schedule: '0 1 * * *', retentionDays: 30, size: '100Gi', storageClassName: 'backup' } });
      // THEN
      const cj = one(objs, 'CronJob', 'postgres-backup');
      expect(cj.spec.schedule).toBe('0 1 * * *');
      expect(env(container(cj, 'prune'), 'RETENTION_DAYS').value).toBe('30');
      expect(one(objs, 'PersistentVolumeClaim').spec).toMatchObject({ storageClassName: 'backup', resources: { requests: { storage: '100Gi' } } });
    });

    test('backup: false means no CronJob and no PVC', () => {
      // GIVEN / WHEN
      const { objs } = synthPostgres({ backup: false });
      // THEN
      expect(all(objs, 'CronJob')).toEqual([]);
      expect(all(objs, 'PersistentVolumeClaim')).toEqual([]);
    });
  });

  describe('network policies', () => {
    test('only client pods reach 5432; the server has no egress', () => {
      // GIVEN / WHEN
      const { objs } = synthPostgres();
      // THEN
      const np = one(objs, 'NetworkPolicy', 'postgres');
      const sts = one(objs, 'StatefulSet');
      expect(np.spec.podSelector.matchLabels).toEqual({
        'app.kubernetes.io/name': 'postgres', 'app.kubernetes.io/instance': 'postgres', 'app.kubernetes.io/component': 'database',
        'app.kubernetes.io/part-of': 'erp', 'app.kubernetes.io/managed-by': 'cdk8s',
      });
      // selects the server's pods and nothing else of ours
      for (const [k, v] of Object.entries(np.spec.podSelector.matchLabels)) expect(sts.spec.template.metadata.labels[k]).toBe(v);
      expect(one(objs, 'CronJob', 'postgres-backup').spec.jobTemplate.spec.template.metadata.labels['app.kubernetes.io/component']).toBe('backup');
      expect(np.spec.ingress).toEqual([
        { from: [{ podSelector: { matchLabels: { 'erp-k8s.io/postgres-client': 'true' } } }], ports: [{ protocol: 'TCP', port: 5432 }] },
      ]);
      expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(np.spec.egress).toEqual([]);
    });

    test('the Jobs may leave: credentials to the API server, backups to DNS and 5432', () => {
      // GIVEN / WHEN
      const { objs } = synthPostgres({ clientLabels: { 'example.com/db': 'koku' } });
      // THEN
      const cred = one(objs, 'NetworkPolicy', 'postgres-credentials-init-egress');
      expect(cred.spec.egress).toEqual([{ ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 6443 }] }]);
      expect(cred.spec.podSelector.matchLabels['app.kubernetes.io/component']).toBe('credentials');
      const bk = one(objs, 'NetworkPolicy', 'postgres-backup-egress');
      expect(bk.spec.egress[1]).toEqual({ ports: [{ protocol: 'TCP', port: 5432 }] });
      expect(one(objs, 'NetworkPolicy', 'postgres').spec.ingress[0].from[0].podSelector.matchLabels).toEqual({ 'example.com/db': 'koku' });
      for (const cj of all(objs, 'CronJob')) expect(cj.spec.jobTemplate.spec.template.metadata.labels['example.com/db']).toBe('koku');
    });

    test('networkPolicy: false means none', () => {
      expect(all(synthPostgres({ networkPolicy: false }).objs, 'NetworkPolicy')).toEqual([]);
    });
  });
});

describe('CostMgmtPostgres (external)', () => {
  test('no server, Service, init or credentials: the connection and the backups only', () => {
    // GIVEN / WHEN
    const { db, objs } = synthPostgres({ enabled: false, host: 'db.example.com', existingSecret: 'my-pg', version: 15 });
    // THEN
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'CronJob/postgres-backup', 'CronJob/postgres-backup-list', 'CronJob/postgres-restore',
      expect.stringMatching(/^Job\/postgres-backup-initial-[0-9a-f]{10}$/), 'NetworkPolicy/postgres-backup-egress',
      'PersistentVolumeClaim/postgres-backups',
    ]);
    expect(db.statefulSet).toBeUndefined();
    expect(db.connection).toEqual({
      host: 'db.example.com', port: 5432, databaseName: 'koku', secretName: 'my-pg', clientLabels: { 'erp-k8s.io/postgres-client': 'true' },
      sslMode: 'require', serverVersion: 15,
    });
    const c = container(one(objs, 'CronJob', 'postgres-backup'), 'dump');
    expect(env(c, 'PGHOST').value).toBe('db.example.com');
    expect(env(c, 'DB_USER_0').valueFrom.secretKeyRef).toEqual({ name: 'my-pg', key: 'username' });
    // the client follows the declared server version
    expect(c.image).toBe('quay.io/sclorg/postgresql-15-c9s:c9s');
    expect(env(c, 'SERVER_MAJOR').value).toBe('15');
  });

  test('with backup: false nothing is synthesized', () => {
    expect(synthPostgres({ enabled: false, host: '10.0.0.5', port: 6432, backup: false, version: 15 }).objs).toEqual([]);
  });
});

describe('CostMgmtPostgres validation', () => {
  test.each<[string, CostMgmtPostgresProps, string]>([
    ['retention is negative', { backup: { retentionDays: -1 } }, "test/Postgres: 'backup.retentionDays' (-1) must be an integer from 1 to 3650"],
    ['the storage size is not a quantity', { storageSize: '20 Gigs' },
      "test/Postgres: 'storageSize' (\"20 Gigs\") must be a Kubernetes byte quantity"],
    ['an extension name injects SQL', { extensions: ['hive; DROP TABLE x'] },
      "test/Postgres: 'extensions[0]' (\"hive; DROP TABLE x\") must be a PostgreSQL extension name"],
    ['a role name injects SQL', { roles: ['hive; DROP TABLE x'] },
      "test/Postgres: 'roles[0]' (\"hive; DROP TABLE x\") must be a plain SQL identifier"],
    ['a database name injects SQL', { databases: [{ name: "x' OR '1", owner: 'hive' }] },
      "test/Postgres: 'databases[0].name' (\"x' OR '1\") must be a plain SQL identifier"],
    ['the schedule is not cron', { backup: { schedule: 'every day' } },
      "test/Postgres: 'backup.schedule' (\"every day\") must be a five-field cron expression"],
    ['a role is reserved', { roles: ['pg_monitor'] }, "test/Postgres: 'roles[0]' (\"pg_monitor\") is reserved by PostgreSQL"],
    ['a database owner is unknown', { databases: [{ name: 'hive', owner: 'nobody' }] },
      "test/Postgres: 'databases[0].owner' (\"nobody\") must be one of 'roles' (hive) or the application user 'koku'"],
    ['a role is given twice', { roles: ['hive', 'hive'] }, "test/Postgres: 'roles' (\"hive\") is given twice"],
    ['the image is latest', { image: 'quay.io/sclorg/postgresql-13-c9s:latest' },
      "test/Postgres: 'image' (\"quay.io/sclorg/postgresql-13-c9s:latest\") must be pinned"],
    ['the username injects SQL', { username: 'koku"; --' }, "test/Postgres: 'username' (\"koku\\\"; --\") must be a plain SQL identifier"],
    ['host is given for the in-cluster server', { host: 'db.example.com' },
      "test/Postgres: 'host' (\"db.example.com\") only applies with 'enabled: false'"],
    ['host is missing for an external server', { enabled: false }, "test/Postgres: 'host' (undefined) is required when 'enabled' is false"],
    ['a server prop is given for an external server', { enabled: false, host: 'db', roles: ['hive'], version: 15 },
      "test/Postgres: 'roles' ([\"hive\"]) only applies to the in-cluster server"],
    ['requests exceed limits', { resources: { requests: { cpu: '4', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } } },
      "test/Postgres: 'resources.requests.cpu' (\"4\") must not exceed 'resources.limits.cpu' (2)"],
    ['the backup size is not a quantity', { backup: { size: '5 GB' } }, "test/Postgres: 'backup.size' (\"5 GB\") must be a Kubernetes byte quantity"],
    ['the client labels are empty', { clientLabels: {} }, "test/Postgres: 'clientLabels' ({}) must hold at least one label"],
  ])('fails when %s', (_name, props, message) => {
    expect(() => synthPostgres(props)).toThrow(message);
  });
});

describe('CostMgmtPostgres TLS and server version', () => {
  const tlsVolume = (objs: Manifest[]) => podSpec(one(objs, 'StatefulSet', 'postgres')).volumes.find((v: Manifest) => v.name === 'tls');

  test('in-cluster TLS: ssl on in erp-k8s.conf, the kubernetes.io/tls Secret mounted read-only with mode 0640, clients require TLS', () => {
    // GIVEN / WHEN
    const { db, objs } = synthPostgres({ tls: { secretName: 'postgres-tls' } });
    // THEN
    const conf = configMap(objs)['erp-k8s.conf'];
    expect(conf).toContain("ssl = on\nssl_cert_file = '/etc/postgresql-tls/tls.crt'\nssl_key_file = '/etc/postgresql-tls/tls.key'\n");
    expect(server(objs).volumeMounts).toContainEqual({ name: 'tls', mountPath: '/etc/postgresql-tls', readOnly: true });
    // root-owned, group fsGroup 26, 0640: PostgreSQL accepts such a key (it refuses group access only for a key it owns)
    expect(tlsVolume(objs)).toEqual({
      name: 'tls',
      secret: { secretName: 'postgres-tls', defaultMode: 0o640, items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }] },
    });
    expect(podSpec(one(objs, 'StatefulSet', 'postgres')).securityContext.fsGroup).toBe(26);
    expect(db.connection.sslMode).toBe(PostgresSslMode.REQUIRE);
    expect(db.connection.caSecretName).toBeUndefined();
  });

  test('without tls: no ssl lines, no TLS volume, clients keep libpq\'s default', () => {
    const { db, objs } = synthPostgres();
    expect(configMap(objs)['erp-k8s.conf']).not.toContain('ssl');
    expect(tlsVolume(objs)).toBeUndefined();
    expect(db.connection.sslMode).toBeUndefined();
  });

  test('in-cluster verify-full with the cert-manager Secret as CA: the connection carries both', () => {
    const { db } = synthPostgres({ tls: { secretName: 'postgres-tls' }, sslMode: PostgresSslMode.VERIFY_FULL, caSecretName: 'postgres-tls' });
    expect(db.connection).toMatchObject({ sslMode: 'verify-full', caSecretName: 'postgres-tls', serverVersion: 13 });
  });

  test('external: TLS required by default; verify-full with a CA; the version travels with the connection', () => {
    expect(synthPostgres({ enabled: false, host: 'db.example.com', version: 15, backup: false }).db.connection)
      .toMatchObject({ sslMode: 'require', serverVersion: 15 });
    expect(synthPostgres({
      enabled: false, host: 'db.example.com', version: 16, backup: false, sslMode: PostgresSslMode.VERIFY_FULL, caSecretName: 'db-ca',
    }).db.connection)
      .toMatchObject({ sslMode: 'verify-full', caSecretName: 'db-ca', serverVersion: 16 });
  });

  test.each<[string, number | undefined]>([
    ['quay.io/sclorg/postgresql-13-c9s:c9s', 13],
    ['quay.io/sclorg/postgresql-15-c9s:c9s', 15],
    ['postgres:16.2', 16],
    ['postgres:16-alpine', 16],
    ['registry.example.com:5000/library/postgres:15.6-bookworm', 15],
    ['bitnami/postgresql:15.4.0', 15],
    ['postgis/postgis:15-3.4', 15],
    ['timescale/timescaledb-ha:pg16', 16],
    ['registry.example.com/db/server:12.1', undefined],
    ['postgres@sha256:' + 'a'.repeat(64), undefined],
  ])('the major version of %s is %s', (image, version) => {
    expect(postgresImageMajorVersion(image)).toBe(version);
  });

  test('in-cluster: the version comes from the image, or from the prop when the image does not say', () => {
    expect(synthPostgres().db.connection.serverVersion).toBe(13);
    expect(synthPostgres({ image: 'postgres:16.2' }).db.connection.serverVersion).toBe(16);
    expect(synthPostgres({ image: 'postgres:16.2', version: 16 }).db.connection.serverVersion).toBe(16);
    expect(synthPostgres({ image: 'registry.example.com/db/server:2024.1', version: 15, backup: false }).db.connection.serverVersion).toBe(15);
  });

  test.each<[string, CostMgmtPostgresProps, string]>([
    ['an external server has no version', { enabled: false, host: 'db.example.com' },
      "test/Postgres: 'version' (undefined) is required when 'enabled' is false: the backup client (pg_dump) must be of the external " +
        "server's major version or newer; give it, e.g. version: 15"],
    ['the version is not a major version', { enabled: false, host: 'db.example.com', version: 9.6 },
      "test/Postgres: 'version' (9.6) must be the server's PostgreSQL major version, an integer from 10 to 99 (e.g. 15)"],
    ['the version contradicts the image', { version: 15 },
      "test/Postgres: 'version' (15) must match the major version of 'image' (quay.io/sclorg/postgresql-13-c9s:c9s: 13); drop 'version' or " +
        "change the image"],
    ['the image does not name a version and none is given', { image: 'registry.example.com/db/server:2024.1' },
      "test/Postgres: 'version' (undefined) is required: the major version cannot be read from 'image' " +
        "(registry.example.com/db/server:2024.1); give it, e.g. version: 15"],
    ['verify-full has no CA', { enabled: false, host: 'db', version: 15, sslMode: PostgresSslMode.VERIFY_FULL },
      "test/Postgres: 'sslMode' (\"verify-full\") needs 'caSecretName': a Secret with the key 'ca.crt', the CA that signed the server's certificate"],
    ['verify-ca has no CA', { tls: { secretName: 'pg-tls' }, sslMode: PostgresSslMode.VERIFY_CA },
      "test/Postgres: 'sslMode' (\"verify-ca\") needs 'caSecretName'"],
    ['a CA is given with TLS disabled', { enabled: false, host: 'db', version: 15, sslMode: PostgresSslMode.DISABLE, caSecretName: 'db-ca' },
      "test/Postgres: 'caSecretName' (\"db-ca\") cannot be combined with 'sslMode: disable' (no TLS, so no certificate to check); drop one of them"],
    ['the CA Secret name is invalid', { enabled: false, host: 'db', version: 15, caSecretName: 'DB CA' },
      "test/Postgres: 'caSecretName' (\"DB CA\") must be a DNS-1123 subdomain"],
    ['the sslMode is unknown', { enabled: false, host: 'db', version: 15, sslMode: 'on' as PostgresSslMode },
      "test/Postgres: 'sslMode' (\"on\") must be one of disable, prefer, require, verify-ca, verify-full (PostgresSslMode)"],
    ['the in-cluster server is asked for TLS it cannot serve', { sslMode: PostgresSslMode.REQUIRE },
      "test/Postgres: 'sslMode' (\"require\") needs 'tls' on the in-cluster server (it serves TLS only with a certificate): add tls: { " +
        "secretName: '<kubernetes.io/tls Secret>' }, or use 'prefer' or 'disable'"],
    ['the TLS Secret name is invalid', { tls: { secretName: 'Postgres_TLS' } },
      "test/Postgres: 'tls.secretName' (\"Postgres_TLS\") must be a DNS-1123 subdomain"],
    ['tls is given for an external server', { enabled: false, host: 'db', version: 15, tls: { secretName: 'pg-tls' } },
      "test/Postgres: 'tls' ({\"secretName\":\"pg-tls\"}) only applies to the in-cluster server"],
  ])('fails when %s', (_name, props, message) => {
    expect(() => synthPostgres(props)).toThrow(message);
  });
});

describe('CostMgmtPostgres.databaseFor', () => {
  const props: CostMgmtPostgresProps = {
    roles: ['hive', 'api_gateway'],
    databases: [{ name: 'hive', owner: 'hive' }, { name: 'api_gateway', owner: 'api_gateway' }, { name: 'reports', owner: 'koku' }],
    tls: { secretName: 'postgres-tls' }, sslMode: PostgresSslMode.VERIFY_FULL, caSecretName: 'postgres-tls',
  };

  test("a database of 'databases' as its own application's: the owner's credentials, the same server, TLS, version and backups", () => {
    // GIVEN
    const { db } = synthPostgres(props);
    // WHEN
    const gw = db.databaseFor('api_gateway');
    // THEN
    expect(gw.connection).toEqual({
      host: 'postgres', port: 5432, databaseName: 'api_gateway', secretName: 'postgres-api-gateway-credentials',
      clientLabels: { 'erp-k8s.io/postgres-client': 'true' }, sslMode: 'verify-full', caSecretName: 'postgres-tls', serverVersion: 13,
    });
    expect(gw.backup).toBe(db.backup);
    expect(db.roleSecretNames.api_gateway).toBe('postgres-api-gateway-credentials');
  });

  test("a database owned by the application user connects with the server's own Secret", () => {
    expect(synthPostgres(props).db.databaseFor('reports').connection).toMatchObject({ databaseName: 'reports', secretName: 'postgres-credentials' });
  });

  test('fails when the database is not one of the server\'s', () => {
    const { db } = synthPostgres(props);
    expect(() => db.databaseFor('billing')).toThrow(
      "test/Postgres: 'databaseFor' (\"billing\") must be one of the server's 'databases' (hive, api_gateway, reports); add { name: " +
        "'billing', owner: '<role>' } to 'databases' (and the owner to 'roles')");
  });

  test('fails when the server is external (it creates no databases)', () => {
    const { db } = synthPostgres({ enabled: false, host: 'db', version: 15, backup: false });
    expect(() => db.databaseFor('api_gateway'))
      .toThrow(/'databaseFor' \("api_gateway"\) must be one of the server's 'databases' \(none\).*ExternalDatabase.of\(\)/);
  });
});
