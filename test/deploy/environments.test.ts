import { buildEnvironment, dev, ENVIRONMENTS, EnvironmentConfig, prod, staging } from '../../deploy/environments';
import { PostgresSslMode } from '../../src/data/database';
import { checkPolicy } from '../../src/gates/policy';
import { validateManifests } from '../../src/gates/schema-validator';
import { diffManifests, formatDiff } from '../../deploy/env-diff';
import { ManifestFile, Manifest, renderFiles } from '../../deploy/synth';
import { container, podSpec } from '../util';

// Each environment is built once and shared by every assertion.
const rendered: Record<string, ManifestFile[]> = {};
for (const [name, config] of Object.entries(ENVIRONMENTS)) rendered[name] = renderFiles(buildEnvironment(config).charts);
const objects = (env: string) => rendered[env].flatMap((f) => f.objects);
/** `name`, or `prefix-*` for a Job named after its pod template hash. */
const named = (o: Manifest, name: string) => (name.endsWith('-*') ? o.metadata.name.startsWith(name.slice(0, -1)) : o.metadata.name === name);
const find = (env: string, kind: string, name: string) => {
  const o = objects(env).find((x) => x.kind === kind && named(x, name));
  if (!o) throw new Error(`${env}: no ${kind}/${name}`);
  return o;
};
const has = (env: string, kind: string, name: string) => objects(env).some((x) => x.kind === kind && x.metadata.name === name);
const fileOf = (env: string, kind: string, name: string) => rendered[env].find((f) => f.objects.some((o) => o.kind === kind && named(o, name)))!.name;

describe.each(Object.keys(ENVIRONMENTS))('environment %s', (env) => {
  test('files apply in dependency order: namespace, config, infrastructure, migrations, workloads, operations', () => {
    expect(rendered[env].map((f) => f.name)).toEqual([
      '00-namespace.k8s.yaml', '10-config.k8s.yaml', '20-infrastructure.k8s.yaml',
      '30-migrations.k8s.yaml', '40-workloads.k8s.yaml', '50-operations.k8s.yaml',
    ]);
    expect(fileOf(env, 'Namespace', ENVIRONMENTS[env].namespace)).toBe('00-namespace.k8s.yaml');
    expect(fileOf(env, 'NetworkPolicy', 'default-deny-all')).toBe('00-namespace.k8s.yaml');
    expect(fileOf(env, 'ServiceAccount', 'erp-api')).toBe('10-config.k8s.yaml');
    expect(fileOf(env, 'CronJob', 'postgres-backup')).toBe('20-infrastructure.k8s.yaml');
    const migrations = rendered[env].find((f) => f.name === '30-migrations.k8s.yaml')!.objects;
    // each app's pre-migration dump before its migration Job (ERP API, gateway)
    expect(migrations.map((o) => `${o.kind}/${o.metadata.name.replace(/-[0-9a-f]{10}$/, '')}`)).toEqual([
      'Job/erp-api-pre-migration-backup', 'Job/erp-api-migrate', 'Job/api-gateway-pre-migration-backup', 'Job/api-gateway-migrate',
    ]);
    expect(fileOf(env, 'Deployment', 'erp-api-app')).toBe('40-workloads.k8s.yaml');
    expect(fileOf(env, 'Job', 'erp-api-bootstrap-*')).toBe('50-operations.k8s.yaml');
    expect(rendered[env].some((f) => f.name.includes('construct-metadata'))).toBe(false);
  });

  test('Argo CD sync waves never decrease along the apply order (hooks keep their own)', () => {
    let last = -Infinity;
    for (const f of rendered[env]) {
      for (const o of f.objects) {
        if (o.metadata.annotations?.['argocd.argoproj.io/hook']) continue;
        const wave = Number(o.metadata.annotations['argocd.argoproj.io/sync-wave']);
        expect(wave).toBeGreaterThanOrEqual(last);
        last = wave;
      }
    }
  });

  test('every object is valid against the Kubernetes 1.28 and CRD schemas', () => {
    expect(validateManifests(objects(env))).toEqual([]);
  });

  test('no policy error; every exemption carries a reason', () => {
    const result = checkPolicy(objects(env), { allowLatest: ENVIRONMENTS[env].allowLatestImages, defaultNamespace: ENVIRONMENTS[env].namespace });
    expect(result.violations.filter((v) => v.severity === 'error')).toEqual([]);
    for (const e of result.exemptions) expect(e.reason.length).toBeGreaterThan(10);
  });

  test('every object lives in the environment namespace', () => {
    for (const o of objects(env)) {
      if (o.kind === 'Namespace') continue;
      expect([o.kind, o.metadata.name, o.metadata.namespace]).toEqual([o.kind, o.metadata.name, ENVIRONMENTS[env].namespace]);
    }
  });

  test('no Secret with literal values is written', () => {
    expect(objects(env).filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  test('maintenance CronJobs and the bootstrap Job exist, ordered after migrations', () => {
    for (const n of ['erp-api-health-check', 'erp-api-data-integrity', 'erp-api-cleanup']) {
      expect(find(env, 'CronJob', n).spec.concurrencyPolicy).toBe('Forbid');
    }
    const boot = find(env, 'Job', 'erp-api-bootstrap-*');
    expect(boot.metadata.annotations['helm.sh/hook']).toBe('post-install,post-upgrade');
    expect(boot.metadata.annotations['argocd.argoproj.io/hook']).toBe('PostSync');
  });

  test('rollout safety: maxUnavailable 0 and a progress deadline', () => {
    const dep = find(env, 'Deployment', 'erp-api-app');
    expect(dep.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(dep.spec.progressDeadlineSeconds).toBe(600);
  });
});

describe('what differs between environments', () => {
  test('dev: one replica, no HPA, in-cluster PostgreSQL and Redis, no TLS, no monitoring, 7-day backups', () => {
    expect(find('dev', 'Deployment', 'erp-api-app').spec.replicas).toBe(1);
    expect(objects('dev').some((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'erp-api')).toBe(false);
    expect(has('dev', 'StatefulSet', 'postgres')).toBe(true);
    expect(has('dev', 'StatefulSet', 'redis')).toBe(true);
    expect(find('dev', 'Ingress', 'erp-api').spec.tls).toBeUndefined();
    expect(has('dev', 'ServiceMonitor', 'erp-api')).toBe(false);
    expect(container(find('dev', 'CronJob', 'postgres-backup'), 'prune').env).toContainEqual({ name: 'RETENTION_DAYS', value: '7' });
    expect(find('dev', 'Namespace', 'erp-dev').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  test('staging: HPA 2-4, staging issuer, in-cluster database from the infrastructure chart, monitoring', () => {
    expect(find('staging', 'HorizontalPodAutoscaler', 'erp-api').spec).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
    expect(find('staging', 'Ingress', 'erp-api').metadata.annotations['cert-manager.io/cluster-issuer']).toBe('letsencrypt-staging');
    expect(has('staging', 'StatefulSet', 'postgres')).toBe(true);
    expect(has('staging', 'ServiceMonitor', 'erp-api')).toBe(true);
  });

  test('prod: HPA 2-6, production issuer, external database and Redis, 30-day backups, Django cleanup (clearsessions)', () => {
    expect(find('prod', 'HorizontalPodAutoscaler', 'erp-api').spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(find('prod', 'Ingress', 'erp-api').metadata.annotations['cert-manager.io/cluster-issuer']).toBe('letsencrypt-prod');
    expect(has('prod', 'StatefulSet', 'postgres')).toBe(false);
    expect(has('prod', 'StatefulSet', 'redis')).toBe(false);
    const app = container(find('prod', 'Deployment', 'erp-api-app'), 'app');
    expect(app.env.find((e: Manifest) => e.name === 'DB_HOST').value).toBe('erp-db.prod.example.com');
    expect(app.env.find((e: Manifest) => e.name === 'DEBUG').value).toBe('False');
    expect(container(find('prod', 'CronJob', 'erp-api-cleanup'), 'cleanup').command).toEqual(['python', 'manage.py', 'clearsessions']);
    expect(container(find('prod', 'CronJob', 'postgres-backup'), 'prune').env).toContainEqual({ name: 'RETENTION_DAYS', value: '30' });
    expect(find('prod', 'Deployment', 'erp-api-celery-worker').spec.replicas).toBe(2);
  });

  test('migration hooks: with the database in the release (dev, staging) post-install / Argo CD Sync after the infrastructure wave; '
    + 'external (prod) pre-install / PreSync', () => {
    for (const env of ['dev', 'staging']) {
      const a = find(env, 'Job', objects(env).find((o) => o.kind === 'Job'
        && o.metadata.name.startsWith('erp-api-migrate-'))!.metadata.name).metadata.annotations;
      expect(a['helm.sh/hook']).toBe('post-install,pre-upgrade');
      expect(a['argocd.argoproj.io/hook']).toBe('Sync');
      expect(Number(a['argocd.argoproj.io/sync-wave'])).toBeGreaterThan(-3); // after 20-infrastructure (wave -3)
    }
    const p = objects('prod').find((o) => o.kind === 'Job' && o.metadata.name.startsWith('erp-api-migrate-'))!.metadata.annotations;
    expect(p['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(p['argocd.argoproj.io/hook']).toBe('PreSync');
  });

  test('one database per application: in-cluster, the gateway gets role and database api_gateway on the same server', () => {
    for (const env of ['dev', 'staging']) {
      const gw = container(find(env, 'Deployment', 'api-gateway'), 'app');
      const value = (n: string) => gw.env.find((e: Manifest) => e.name === n);
      expect(value('DB_HOST').value).toBe('postgres');
      expect(value('DB_NAME').value).toBe('api_gateway');
      expect(value('DB_USER').valueFrom.secretKeyRef).toEqual({ name: 'postgres-api-gateway-credentials', key: 'username' });
      expect(value('DB_PASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'postgres-api-gateway-credentials', key: 'password' });
      const sql = find(env, 'ConfigMap', 'postgres-config').data['init.sql'];
      expect(sql).toContain('CREATE ROLE "api_gateway" WITH LOGIN;');
      expect(sql).toContain(`SELECT 'CREATE DATABASE "api_gateway" OWNER "api_gateway"'`);
      expect(sql).toContain(`SELECT 'CREATE DATABASE "hive" OWNER "hive"'`);
      // its password is generated in the cluster like the others
      expect(JSON.stringify(find(env, 'Job', 'postgres-credentials-init-*'))).toContain('postgres-api-gateway-credentials');
    }
  });

  test('one database per application: prod\'s gateway has its own external database, both over TLS (require)', () => {
    const gw = container(find('prod', 'Deployment', 'api-gateway'), 'app');
    const app = container(find('prod', 'Deployment', 'erp-api-app'), 'app');
    const value = (c: Manifest, n: string) => c.env.find((e: Manifest) => e.name === n);
    expect(value(gw, 'DB_NAME').value).toBe('api_gateway');
    expect(value(gw, 'DB_USER').valueFrom.secretKeyRef).toEqual({ name: 'api-gateway-database-credentials', key: 'username' });
    expect(value(app, 'DB_NAME').value).toBe('koku');
    for (const c of [gw, app]) {
      expect(value(c, 'PGSSLMODE').value).toBe('require');
      expect(value(c, 'DB_SSLMODE').value).toBe('require');
      expect(value(c, 'PGSSLROOTCERT')).toBeUndefined();
    }
  });

  test('each application migrates under its own advisory lock key', () => {
    for (const env of ['dev', 'staging', 'prod']) {
      const lock = (name: string) => /LOCK = (\d+)/.exec(container(find(env, 'Job', name), 'migrate').command.join(' '))![1];
      expect(lock('erp-api-migrate-*')).toBe('7245501');
      expect(lock('api-gateway-migrate-*')).toBe('7245502');
    }
  });

  test('pods that talk to the database carry its client label', () => {
    for (const env of ['dev', 'staging', 'prod']) {
      for (const n of ['erp-api-app', 'erp-api-celery-worker', 'erp-api-celery-beat']) {
        expect(find(env, 'Deployment', n).spec.template.metadata.labels['erp-k8s.io/postgres-client']).toBe('true');
      }
      expect(podSpec(find(env, 'Deployment', 'erp-api-app')).automountServiceAccountToken).toBe(false);
    }
  });
});

describe('production validation', () => {
  if (prod.database.mode !== 'external' || !prod.gateway.database) throw new Error('prod is expected to use external databases');
  const db = prod.database;
  const gwDb = prod.gateway.database;
  const bad = (patch: Partial<EnvironmentConfig>, settings: Record<string, string> = {}) =>
    () => buildEnvironment({ ...prod, ...patch, appSettings: { ...prod.appSettings, ...settings } });

  test.each<[string, () => unknown, RegExp]>([
    ['DEBUG on', bad({}, { DEBUG: 'True' }), /environments\/prod: 'appSettings.DEBUG' \("True"\) must be 'False' in production/],
    ['CORS wildcard', bad({}, { ALLOWED_ORIGINS: '*' }), /'appSettings.ALLOWED_ORIGINS' \("\*"\) must list the allowed origins explicitly/],
    ['plain-http origin', bad({}, { ALLOWED_ORIGINS: 'http://erp.example.com' }), /'appSettings.ALLOWED_ORIGINS' \("http:\/\/erp.example.com"\) must be an https:\/\/ origin/],
    ['registration open', bad({}, { ALLOW_REGISTRATION: 'True' }), /'appSettings.ALLOW_REGISTRATION' \("True"\) must be 'False' in production/],
    ['latest image', bad({ images: { ...prod.images, api: 'registry.example.com/erp/api:latest' } }), /'images.api' \("registry.example.com\/erp\/api:latest"\) must be pinned/],
    ['no TLS', bad({ tlsIssuer: undefined }), /'tlsIssuer' \(undefined\) must name a cert-manager ClusterIssuer in production/],
    ['a secret in committed config', bad({}, { JWT_SECRET_KEY: 'x'.repeat(40) }), /'appSettings.JWT_SECRET_KEY' \("<redacted>"\) looks like a secret/],
    ['a password in a URL setting', bad({}, { DATABASE_URL: 'postgres://koku:s3cr3t@db.example.com/koku' }),
      /environments\/prod: 'appSettings.DATABASE_URL' \("postgres:\/\/koku:\*\*\*@db.example.com\/koku"\) holds a password in a URL, which would be written in plain text to dist\/; put it in the git-ignored .env.<env> file/],
    ['a Redis password in a URL setting', bad({}, { CELERY_RESULT_BACKEND: 'redis://:pw@redis:6379/1' }), /'appSettings.CELERY_RESULT_BACKEND' \("redis:\/\/:\*\*\*@redis:6379\/1"\) holds a password in a URL/],
    ['HPA min > max', bad({ api: { ...prod.api, autoscaling: { minReplicas: 5, maxReplicas: 2 } } }), /'api.autoscaling.minReplicas' \(5\) must be at most 'api.autoscaling.maxReplicas' \(2\)/],
    ['retention -1', bad({ backups: { ...prod.backups, retentionDays: -1 } }), /'backups.retentionDays' \(-1\) must be an integer from 1 to 3650/],
    ['cron "every day"', bad({ backups: { ...prod.backups, schedule: 'every day' } }), /'backups.schedule' \("every day"\) must be a five-field cron expression/],
    ['namespace with upper case', bad({ namespace: 'ERP-Prod' }), /'namespace' \("ERP-Prod"\) must be a DNS-1123 label/],
    ['namespace over 63 characters', bad({ namespace: 'a'.repeat(64) }), /'namespace' \("a{64}"\) must be a DNS-1123 label/],
    ['invalid host', bad({ api: { ...prod.api, host: 'erp_api.example.com' } }), /'api.host' \("erp_api.example.com"\) must be a fully qualified/],
    ['the database is not TLS', bad({ database: { ...db, sslMode: PostgresSslMode.DISABLE } }), /'database.sslMode' \("disable"\) must be 'require', 'verify-ca' or 'verify-full' in production/],
    ['the gateway database is not TLS', bad({ gateway: { ...prod.gateway, database: { ...gwDb, sslMode: PostgresSslMode.PREFER } } }), /'gateway.database.sslMode' \("prefer"\) must be 'require', 'verify-ca' or 'verify-full' in production/],
    ['verify-full has no CA', bad({ database: { ...db, sslMode: PostgresSslMode.VERIFY_FULL } }), /'database.sslMode' \("verify-full"\) needs 'database.caSecretName'/],
    ['a CA with TLS disabled', bad({ gateway: { ...prod.gateway, database: { ...gwDb, sslMode: PostgresSslMode.DISABLE, caSecretName: 'ca' } } }), /'gateway.database.caSecretName' \("ca"\) cannot be combined with 'gateway.database.sslMode: disable'/],
    ['the CA Secret name is invalid', bad({ database: { ...db, caSecretName: 'Db_CA' } }), /'database.caSecretName' \("Db_CA"\) must be a DNS-1123 subdomain/],
    ['the database version is missing', bad({ database: { ...db, version: undefined as unknown as number } }), /'database.version' \(undefined\) is required: the server's PostgreSQL major version/],
    ['the database version is not a major', bad({ database: { ...db, version: 9.6 } }), /'database.version' \(9.6\) must be the server's PostgreSQL major version, an integer from 10 to 99/],
    ['the gateway has no database of its own', bad({ gateway: { ...prod.gateway, database: undefined } }), /'gateway.database' \(undefined\) is required when 'database.mode' is 'external': the gateway gets its own database and role/],
    ['the gateway shares the app database', bad({ gateway: { ...prod.gateway, database: { ...gwDb, databaseName: 'koku' } } }), /'gateway.database.databaseName' \("koku"\) must differ from 'database.databaseName' on the same server/],
    ['the gateway database name injects SQL', bad({ gateway: { ...prod.gateway, database: { ...gwDb, databaseName: 'gw; drop' } } }), /'gateway.database.databaseName' \("gw; drop"\) must be a plain SQL identifier/],
    ['a gateway database with an in-cluster server', () => buildEnvironment({ ...staging, gateway: { ...staging.gateway, database: gwDb } }), /environments\/staging: 'gateway.database' \(.*\) only applies when 'database.mode' is 'external'/],
  ])('fails when %s', (_n, build, message) => {
    expect(build).toThrow(message);
  });

  test('secrets given at synth time are checked: JWT_SECRET_KEY >= 32 and BOOTSTRAP_KEY >= 16 characters', () => {
    expect(() => buildEnvironment(prod, { app: { JWT_SECRET_KEY: 'short' } })).toThrow(
      /'secrets.JWT_SECRET_KEY' \("<5 characters>"\) must be at least 32 characters in production/);
    expect(() => buildEnvironment(prod, { app: { JWT_SECRET_KEY: 'k'.repeat(32), BOOTSTRAP_KEY: 'b'.repeat(15) } })).toThrow(
      /'secrets.BOOTSTRAP_KEY' \("<15 characters>"\) must be at least 16 characters/);
    expect(() => buildEnvironment(prod, { app: { JWT_SECRET_KEY: 'k'.repeat(32), BOOTSTRAP_KEY: 'b'.repeat(16) } })).not.toThrow();
  });

  test('the same values are fine outside production', () => {
    expect(() => buildEnvironment({ ...staging, appSettings: { ...staging.appSettings, DEBUG: 'True' } })).not.toThrow();
    expect(dev.production).toBe(false);
  });
});

describe('environment diff (npm run diff -- staging prod)', () => {
  test('shows what a promotion from staging to prod changes', () => {
    const entries = diffManifests(objects('staging'), objects('prod'));
    expect(entries).toContainEqual({ op: '~', object: 'HorizontalPodAutoscaler/erp-api', path: 'spec.maxReplicas', from: 4, to: 6 });
    expect(entries).toContainEqual({ op: '-', object: 'StatefulSet/postgres' });
    expect(entries).toContainEqual(expect.objectContaining({
      op: '~', object: 'Ingress/erp-api', path: 'metadata.annotations.cert-manager.io/cluster-issuer', from: 'letsencrypt-staging',
        to: 'letsencrypt-prod',
    }));
    const text = formatDiff('staging', 'prod', entries);
    expect(text.split('\n')[0]).toBe('--- staging');
    expect(text).toMatch(/\d+ added, \d+ removed, \d+ changed$/);
  });
});
