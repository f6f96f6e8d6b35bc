import { ApiObject, Chart, Testing } from 'cdk8s';
import { CostMgmtPostgres, CostMgmtPostgresProps, DEFAULT_POSTGRES_IMAGE } from '../src/cost-mgmt-postgres';
import { defaultDeny } from '../src/network-policies';
import { checkPolicy } from '../src/policy';
import { backupScript } from '../src/postgres-backup';
import { credentialsProgram } from '../src/postgres-credentials';
import { postgresConfig, postgresInitSql, postgresPreStartScript } from '../src/postgres-sql';
import { validateManifests } from '../src/schema-validator';
import { all, container, containers, Manifest, one, podSpec, RESTRICTED } from './util';

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
    ['external', { enabled: false, host: 'db.example.com' }],
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
      clientLabels: { 'erp-k8s.io/postgres-client': 'true' },
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
    expect(workloads(objs).map((w) => w.kind).sort()).toEqual(['CronJob', 'Job', 'Job', 'StatefulSet']); // credentials, initial backup
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
    expect(podSpec(one(objs, 'CronJob')).automountServiceAccountToken).toBe(false);
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
      const cron = one(objs, 'CronJob');
      expect(job.metadata.name).toMatch(/^postgres-backup-initial-[0-9a-f]{10}$/);
      expect(container(job, 'pg-dump')).toEqual(container(cron, 'pg-dump'));
      expect(podSpec(job).volumes).toEqual(podSpec(cron).volumes);
      expect(podSpec(job).volumes.find((v: Manifest) => v.name === 'pvc-postgres-backups').persistentVolumeClaim.claimName).toBe('postgres-backups');
      expect(job.metadata.annotations).toMatchObject({ 'argocd.argoproj.io/hook': 'Sync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' });
      expect(job.spec.template.metadata.labels).toEqual(cron.spec.jobTemplate.spec.template.metadata.labels); // the backup egress policy admits it
      expect(objs.indexOf(job)).toBeGreaterThan(objs.findIndex((o) => o.kind === 'StatefulSet'));
      expect(db.backup!.initialJob).toBeDefined();
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
      const sql = postgresInitSql({ databaseName: 'koku', extensions: ['pg_stat_statements'], roles: ['hive'], databases: [{ name: 'hive', owner: 'hive' }] });
      // THEN
      expect(sql).toContain('\\set ON_ERROR_STOP on');
      expect(sql).toContain('CREATE EXTENSION IF NOT EXISTS "pg_stat_statements";');
      expect(sql).toMatch(/DO \$\$\nBEGIN\n {2}IF NOT EXISTS \(SELECT FROM pg_catalog\.pg_roles WHERE rolname = 'hive'\) THEN\n {4}CREATE ROLE "hive" WITH LOGIN;/);
      expect(sql).toContain('EXCEPTION WHEN duplicate_object THEN');
      expect(sql).toContain("SELECT 'CREATE DATABASE \"hive\" OWNER \"hive\"' WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'hive') \\gexec");
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
      expect(postgresInitSql({ databaseName: 'koku', extensions: [], roles: [], databases: [], superuserLocalOnly: false })).not.toContain('ALTER ROLE postgres');
    });

    test('extensions, roles and databases are props', () => {
      // GIVEN / WHEN
      const { db } = synthPostgres({ extensions: ['pg_trgm', 'uuid-ossp'], roles: ['metastore'], databases: [{ name: 'metastore', owner: 'metastore' }, { name: 'reports', owner: 'koku' }] });
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
      const c = container(cj, 'pg-dump');
      const script = c.command[2];
      expect(script).toContain('pg_dump --format=custom --compress=9');
      expect(script).toContain('retention_days=7');
      expect(script).toContain('-mmin +$((retention_days * 1440)) -print -delete');
      expect(script.indexOf('pg_dump --format')).toBeLessThan(script.indexOf('-delete'));
      expect(env(c, 'PGHOST').value).toBe('postgres');
      expect(env(c, 'PGPASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'postgres-credentials', key: 'password' });
      expect(c.volumeMounts).toContainEqual(expect.objectContaining({ mountPath: '/backups' }));
      const pvc = one(objs, 'PersistentVolumeClaim', 'postgres-backups');
      expect(pvc.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
      expect(pvc.spec.resources.requests.storage).toBe('20Gi');
      expect(cj.spec.jobTemplate.spec.template.metadata.labels['erp-k8s.io/postgres-client']).toBe('true');
      expect(db.backup!.retentionDays).toBe(7);
    });

    test('schedule and retention are props (production: 30 days)', () => {
      // GIVEN / WHEN
      const { objs } = synthPostgres({ backup: { schedule: '0 1 * * *', retentionDays: 30, size: '100Gi', storageClassName: 'backup' } });
      // THEN
      const cj = one(objs, 'CronJob');
      expect(cj.spec.schedule).toBe('0 1 * * *');
      expect(container(cj, 'pg-dump').command[2]).toContain('retention_days=30');
      expect(one(objs, 'PersistentVolumeClaim').spec).toMatchObject({ storageClassName: 'backup', resources: { requests: { storage: '100Gi' } } });
      expect(backupScript({ directory: '/b', prefix: 'koku', retentionDays: 30 })).toContain('retention_days=30');
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
      expect(one(objs, 'CronJob').spec.jobTemplate.spec.template.metadata.labels['app.kubernetes.io/component']).toBe('backup');
      expect(np.spec.ingress).toEqual([{ from: [{ podSelector: { matchLabels: { 'erp-k8s.io/postgres-client': 'true' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }]);
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
      expect(one(objs, 'CronJob').spec.jobTemplate.spec.template.metadata.labels['example.com/db']).toBe('koku');
    });

    test('networkPolicy: false means none', () => {
      expect(all(synthPostgres({ networkPolicy: false }).objs, 'NetworkPolicy')).toEqual([]);
    });
  });
});

describe('CostMgmtPostgres (external)', () => {
  test('no server, Service, init or credentials: the connection and the backups only', () => {
    // GIVEN / WHEN
    const { db, objs } = synthPostgres({ enabled: false, host: 'db.example.com', existingSecret: 'my-pg' });
    // THEN
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'CronJob/postgres-backup', expect.stringMatching(/^Job\/postgres-backup-initial-[0-9a-f]{10}$/), 'NetworkPolicy/postgres-backup-egress',
      'PersistentVolumeClaim/postgres-backups',
    ]);
    expect(db.statefulSet).toBeUndefined();
    expect(db.connection).toEqual({ host: 'db.example.com', port: 5432, databaseName: 'koku', secretName: 'my-pg', clientLabels: { 'erp-k8s.io/postgres-client': 'true' } });
    const c = container(one(objs, 'CronJob'), 'pg-dump');
    expect(env(c, 'PGHOST').value).toBe('db.example.com');
    expect(env(c, 'PGUSER').valueFrom.secretKeyRef).toEqual({ name: 'my-pg', key: 'username' });
  });

  test('with backup: false nothing is synthesized', () => {
    expect(synthPostgres({ enabled: false, host: '10.0.0.5', port: 6432, backup: false }).objs).toEqual([]);
  });
});

describe('CostMgmtPostgres validation', () => {
  test.each<[string, CostMgmtPostgresProps, string]>([
    ['retention is negative', { backup: { retentionDays: -1 } }, "test/Postgres: 'backup.retentionDays' (-1) must be an integer from 1 to 3650"],
    ['the storage size is not a quantity', { storageSize: '20 Gigs' }, "test/Postgres: 'storageSize' (\"20 Gigs\") must be a Kubernetes byte quantity"],
    ['an extension name injects SQL', { extensions: ['hive; DROP TABLE x'] }, "test/Postgres: 'extensions[0]' (\"hive; DROP TABLE x\") must be a PostgreSQL extension name"],
    ['a role name injects SQL', { roles: ['hive; DROP TABLE x'] }, "test/Postgres: 'roles[0]' (\"hive; DROP TABLE x\") must be a plain SQL identifier"],
    ['a database name injects SQL', { databases: [{ name: "x' OR '1", owner: 'hive' }] }, "test/Postgres: 'databases[0].name' (\"x' OR '1\") must be a plain SQL identifier"],
    ['the schedule is not cron', { backup: { schedule: 'every day' } }, "test/Postgres: 'backup.schedule' (\"every day\") must be a five-field cron expression"],
    ['a role is reserved', { roles: ['pg_monitor'] }, "test/Postgres: 'roles[0]' (\"pg_monitor\") is reserved by PostgreSQL"],
    ['a database owner is unknown', { databases: [{ name: 'hive', owner: 'nobody' }] }, "test/Postgres: 'databases[0].owner' (\"nobody\") must be one of 'roles' (hive) or the application user 'koku'"],
    ['a role is given twice', { roles: ['hive', 'hive'] }, "test/Postgres: 'roles' (\"hive\") is given twice"],
    ['the image is latest', { image: 'quay.io/sclorg/postgresql-13-c9s:latest' }, "test/Postgres: 'image' (\"quay.io/sclorg/postgresql-13-c9s:latest\") must be pinned"],
    ['the username injects SQL', { username: 'koku"; --' }, "test/Postgres: 'username' (\"koku\\\"; --\") must be a plain SQL identifier"],
    ['host is given for the in-cluster server', { host: 'db.example.com' }, "test/Postgres: 'host' (\"db.example.com\") only applies with 'enabled: false'"],
    ['host is missing for an external server', { enabled: false }, "test/Postgres: 'host' (undefined) is required when 'enabled' is false"],
    ['a server prop is given for an external server', { enabled: false, host: 'db', roles: ['hive'] }, "test/Postgres: 'roles' ([\"hive\"]) only applies to the in-cluster server"],
    ['requests exceed limits', { resources: { requests: { cpu: '4', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } } }, "test/Postgres: 'resources.requests.cpu' (\"4\") must not exceed 'resources.limits.cpu' (2)"],
    ['the backup size is not a quantity', { backup: { size: '5 GB' } }, "test/Postgres: 'backup.size' (\"5 GB\") must be a Kubernetes byte quantity"],
    ['the client labels are empty', { clientLabels: {} }, "test/Postgres: 'clientLabels' ({}) must hold at least one label"],
  ])('fails when %s', (_name, props, message) => {
    expect(() => synthPostgres(props)).toThrow(message);
  });
});
