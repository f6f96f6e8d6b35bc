/**
 * TLS of prod's "external" PostgreSQL (test/e2e/apps.ts `externalServers()`):
 * a throwaway CA and, per server namespace, a certificate it signs for the
 * names clients use (`postgres.<ns>.svc.cluster.local` and shorter forms),
 * made with the host's `openssl` as a user (or cert-manager) would. The
 * server gets them as a kubernetes.io/tls Secret; client namespaces get the
 * CA as a Secret with the key `ca.crt` (for `sslMode: verify-full`), and the
 * credentials of their databases, as the server's administrator hands them out.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EnvironmentConfig } from '../../deploy/environments';
import { DATABASE_CA_SECRET, DATABASE_TLS_SECRET, GATEWAY_DB } from './apps';
import { createSecret, kubectlAsync, say } from './kube';

let caDir: string | undefined;

/** Runs openssl in `dir`; throws with its stderr. */
function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const { stderr, message } = e as { stderr?: Buffer | string; message?: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${(stderr || message || '').toString().trim()}`, { cause: e });
  }
}

/** The suite's CA (made once per process, valid two days): a directory with ca.crt and ca.key. */
function ca(): string {
  if (caDir) return caDir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-e2e-ca-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=erp-k8s e2e database CA',
    '-keyout', 'ca.key', '-out', 'ca.crt']);
  caDir = dir;
  return dir;
}

/**
 * Creates the Secret `postgres-tls` (kubernetes.io/tls) in the server's
 * namespace `ns`: a certificate of the suite's CA for `postgres`,
 * `postgres.<ns>`, `postgres.<ns>.svc` and `postgres.<ns>.svc.cluster.local`.
 */
export async function createDatabaseServerTls(ns: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(ca(), `${ns}-`));
  const names = ['postgres', `postgres.${ns}`, `postgres.${ns}.svc`, `postgres.${ns}.svc.cluster.local`];
  fs.writeFileSync(path.join(dir, 'ext.cnf'), [
    `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
    'basicConstraints=CA:FALSE',
    'keyUsage=digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    '',
  ].join('\n'));
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=postgres.${ns}.svc.cluster.local`, '-keyout', 'tls.key', '-out', 'tls.csr']);
  openssl(dir, ['x509', '-req', '-in', 'tls.csr', '-CA', path.join(ca(), 'ca.crt'), '-CAkey', path.join(ca(), 'ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', 'ext.cnf', '-out', 'tls.crt']);
  await kubectlAsync(['create', 'secret', 'tls', DATABASE_TLS_SECRET, '-n', ns,
    '--cert', path.join(dir, 'tls.crt'), '--key', path.join(dir, 'tls.key')]);
  say(ns, `Secret ${DATABASE_TLS_SECRET}: a certificate for ${names.join(', ')} from the suite's CA`);
}

/** Creates the Secret `postgres-ca` (key `ca.crt`: the suite's CA) in a client namespace. */
export async function createDatabaseCa(ns: string): Promise<void> {
  await kubectlAsync(['create', 'secret', 'generic', DATABASE_CA_SECRET, '-n', ns, `--from-file=ca.crt=${path.join(ca(), 'ca.crt')}`]);
}

/** Copies a Secret's data from one namespace to another under `name`. */
async function copySecret(fromNs: string, from: string, toNs: string, name: string): Promise<void> {
  const s = JSON.parse(await kubectlAsync(['get', 'secret', from, '-n', fromNs, '-o', 'json']));
  await createSecret(toNs, name, Object.fromEntries(Object.entries(s.data as Record<string, string>)
    .map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])));
}

/**
 * What a user of an external server creates in the environment's namespace
 * before applying (README, "Applying"): the app's and the gateway's database
 * credentials (from the server `serverNs` made: `postgres-credentials` and
 * the gateway role's Secret) and, for verify-ca / verify-full, the CA Secret.
 */
export async function handOutExternalDatabases(c: EnvironmentConfig, serverNs: string): Promise<void> {
  if (c.database.mode !== 'external') return;
  await copySecret(serverNs, 'postgres-credentials', c.namespace, c.database.secretName);
  if (c.gateway.database) await copySecret(serverNs, GATEWAY_DB.serverSecret, c.namespace, c.gateway.database.secretName);
  const cas = new Set([c.database.caSecretName, c.gateway.database?.caSecretName].filter((x): x is string => x !== undefined));
  for (const name of cas) {
    if (name !== DATABASE_CA_SECRET) throw new Error(`${c.name}: the e2e CA Secret is ${DATABASE_CA_SECRET}, not ${name}`);
    await createDatabaseCa(c.namespace);
  }
}
