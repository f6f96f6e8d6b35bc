/**
 * Issue 14, TLS to PostgreSQL, against a throwaway PostgreSQL:
 *
 * - the server starts with the `ssl = on` lines CostMgmtPostgres generates
 *   (erp-k8s.conf from its ConfigMap) and with certificate and key laid out
 *   as its Secret volume lays them out: owned by root, group the server's
 *   (fsGroup), mode `defaultMode` (0640). PostgreSQL accepts a key it does
 *   not own only that way; 0644 would stop the server.
 * - pg_hba refuses every connection without TLS (`hostnossl ... reject`),
 *   so what connects below connected over TLS.
 * - the app's synthesized wait-for-db and migrate containers (ErpApi on
 *   `ExternalDatabase.of({ sslMode: VERIFY_FULL, caSecretName })`), run
 *   with the environment Kubernetes gives them and the CA where the pod
 *   mounts it, connect and migrate; with another CA, or a host name the
 *   certificate does not name, they are refused: verify-full verifies.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import { CostMgmtPostgres, DATABASE_CA_DIR, ErpApi, ExternalDatabase, Migrations, PostgresSslMode } from '../../src';
import { writeDjangoProject } from './django-project';
import {
  APP_USER, container, containerEnv, describe_, expectSuccess, killChildren, Manifest, one, PgCluster, podSpec, record, run, say, Secrets,
} from './harness';

const IMAGE = 'registry.example.com/erp/api:1.0.0';
const SERVER_TLS_DIR = '/etc/postgresql-tls';
const asRoot = process.getuid?.() === 0;

let pg: PgCluster;
let work: string;
let project: string;
/** Directories holding a `ca.crt`: the CA that signed the server's certificate, and an unrelated one. */
let goodCa: string;
let otherCa: string;

/** A CA, and a server certificate it signs for `localhost` only (no IP address), with openssl. */
function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  for (const ca of ['ca', 'other-ca']) {
    fs.mkdirSync(path.join(dir, ca));
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=erp-it-${ca}`,
      '-keyout', `${ca}/ca.key`, '-out', `${ca}/ca.crt`);
  }
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'tls.key', '-out', 'tls.csr');
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  ssl('x509', '-req', '-in', 'tls.csr', '-CA', 'ca/ca.crt', '-CAkey', 'ca/ca.key', '-CAcreateserial', '-days', '2',
    '-extfile', 'ext.cnf', '-out', 'tls.crt');
}

/**
 * The server's TLS Secret volume as the kubelet lays it out: each item at its
 * path, mode `defaultMode`, owned by root with the group fsGroup (the
 * server's group). Not root: owned by us, which only a 0600 key would pass.
 */
function mountTlsVolume(sts: Manifest, target: string): void {
  const volume = podSpec(sts).volumes.find((v: Manifest) => v.name === 'tls');
  fs.mkdirSync(target);
  for (const item of volume.secret.items as Array<{ key: string; path: string }>) {
    const file = path.join(target, item.path);
    fs.copyFileSync(path.join(work, item.key), file);
    fs.chmodSync(file, volume.secret.defaultMode);
    if (asRoot) execFileSync('chown', [`root:postgres`, file]);
  }
}

/** ErpApi on the test server, over verify-full; `host` as the pods would name it. */
function synthApp(host: string): Manifest[] {
  const chart = new Chart(Testing.app(), 'it', { namespace: 'erp' });
  new ErpApi(chart, 'Api', {
    image: IMAGE,
    database: ExternalDatabase.of({
      host, port: pg.port, databaseName: 'erp_tls', sslMode: PostgresSslMode.VERIFY_FULL, caSecretName: 'postgres-ca',
    }),
    migrations: Migrations.django({ waitAttempts: 1, waitInterval: Duration.seconds(1) }),
  });
  return Testing.synth(chart) as Manifest[];
}

/** Runs a synthesized container with its Kubernetes environment; the CA mount path re-rooted to `caDir`. */
function runContainer(obj: Manifest, name: string, caDir: string, label: string) {
  const c = container(obj, name);
  const secrets: Secrets = { 'erp-api-env': {}, 'postgres-credentials': { username: APP_USER, password: pg.appPassword } };
  const env = containerEnv(c, secrets);
  expect(env.PGSSLROOTCERT).toBe(`${DATABASE_CA_DIR}/ca.crt`);
  expect(c.volumeMounts).toContainEqual({ name: 'postgres-ca', mountPath: DATABASE_CA_DIR, readOnly: true });
  return run(c.command, { cwd: project, env: { ...env, PGSSLROOTCERT: path.join(caDir, 'ca.crt') }, label, timeoutMs: 60_000 });
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-it-tls-'));
  makeCertificates(work);
  goodCa = path.join(work, 'ca');
  otherCa = path.join(work, 'other-ca');
  // the server, as CostMgmtPostgres with `tls` synthesizes it
  const chart = new Chart(Testing.app(), 'pg', { namespace: 'erp' });
  new CostMgmtPostgres(chart, 'Postgres', { tls: { secretName: 'postgres-tls' }, backup: false });
  const objs = Testing.synth(chart) as Manifest[];
  const tlsDir = path.join(work, 'tls');
  mountTlsVolume(one(objs, 'StatefulSet', 'postgres'), tlsDir);
  if (asRoot) fs.chmodSync(work, 0o755);
  const conf = path.join(work, 'erp-k8s.conf');
  fs.writeFileSync(conf, one(objs, 'ConfigMap', 'postgres-config').data['erp-k8s.conf'].split(SERVER_TLS_DIR).join(tlsDir));
  fs.chmodSync(conf, 0o644);
  pg = await PgCluster.create('tls', conf);
  // no connection without TLS (before the default host lines)
  const hba = path.join(pg.dataDir, 'pg_hba.conf');
  fs.writeFileSync(hba, `hostnossl all all 0.0.0.0/0 reject\n${fs.readFileSync(hba, 'utf8')}`);
  pg.start();
  pg.createAppRole();
  pg.createDatabase('erp_tls');
  project = writeDjangoProject();
  say('tls', `server on 127.0.0.1:${pg.port} with ${tlsDir}/tls.key ${fs.statSync(path.join(tlsDir, 'tls.key')).mode.toString(8).slice(-3)}` +
    `${asRoot ? ' root:postgres' : ' (not root: owned by us)'}; pg_hba refuses connections without TLS`);
});

afterAll(() => {
  killChildren();
  pg?.destroy();
  if (project) fs.rmSync(project, { recursive: true, force: true });
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the server serves TLS with the generated erp-k8s.conf and the key as the Secret volume lays it out (root-owned, 0640)', () => {
  expect(pg.value('SHOW ssl')).toBe('on');
  expect(pg.value('SHOW ssl_key_file')).toMatch(/\/tls\/tls\.key$/);
  if (asRoot) {
    const st = fs.statSync(pg.value('SHOW ssl_key_file'));
    expect([st.uid, (st.mode & 0o777).toString(8)]).toEqual([0, '640']);
  }
  // and nothing gets in without TLS
  const plain = spawnSync(path.join(pg.bin, 'psql'), ['-XAt', '-c', 'SELECT 1'], {
    encoding: 'utf8', env: { ...pg.superEnv(), PGSSLMODE: 'disable', PATH: process.env.PATH ?? '/usr/bin' },
  });
  expect(plain.status).not.toBe(0);
  expect(plain.stderr).toMatch(/no encryption/);
});

test('verify-full: the app\'s wait-for-db and migrate connect over TLS, checking the CA and the host name', async () => {
  const objs = synthApp('localhost');
  const dep = one(objs, 'Deployment', 'erp-api-app');
  expectSuccess(await runContainer(dep, 'wait-for-db', goodCa, 'wait-for-db (verify-full)'));
  const migrate = await runContainer(one(objs, 'Job'), 'migrate', goodCa, 'migration Job (verify-full)');
  expectSuccess(migrate);
  expect(Number(pg.value("SELECT count(*) FROM django_migrations WHERE app = 'inventory'", 'erp_tls'))).toBeGreaterThan(0);
  say('tls', 'verify-full: wait-for-db and the migration Job connected over TLS (the server refuses anything else) and migrated');
});

test('verify-full refuses a certificate from another CA, and a host name the certificate does not name', async () => {
  const dep = one(synthApp('localhost'), 'Deployment', 'erp-api-app');
  const wrongCa = await runContainer(dep, 'wait-for-db', otherCa, 'wait-for-db (another CA)');
  if (wrongCa.code === 0) throw new Error(`connected with a CA that did not sign the certificate\n${describe_(wrongCa)}`);
  expect(wrongCa.stdout + wrongCa.stderr).toMatch(/certificate verify failed/);
  const byIp = await runContainer(one(synthApp('127.0.0.1'), 'Deployment', 'erp-api-app'), 'wait-for-db', goodCa,
    'wait-for-db (host not in the certificate)');
  if (byIp.code === 0) throw new Error(`connected to a host name the certificate does not name\n${describe_(byIp)}`);
  expect(byIp.stdout + byIp.stderr).toMatch(/does not match host name "127\.0\.0\.1"/);
  record('tls', 'verify-full: connects with the right CA and host; refused with another CA and with a host not in the certificate');
});
