/**
 * The off-site backup target of the e2e suite: an S3 server in the cluster
 * (s3rver 3.7.1 behind test/e2e/images/s3rver/server.js, which verifies
 * Signature V4 and refuses anonymous requests and bucket administration, as a
 * private bucket on real S3 does) with one bucket, and helpers that look at the
 * bucket through the S3 API only: rclone in a one-off pod, configured from the
 * environment as the backup manifests configure it. Nothing reads the server's
 * files.
 */
import { randomBytes } from 'crypto';
import { DEFAULT_RCLONE_IMAGE } from '../../src/data/backup-options';
import { diagnose, E2E_LABEL, freshNamespace, getObj, kubectlAsync, logs, Obj, say, waitFor } from './kube';

/** Namespace of the S3 server. */
export const S3_NS = 'erp-e2e-s3';
/** The S3 server image (build.sh recipe `s3rver`: s3rver from node_modules on Debian's nodejs). */
export const S3_IMAGE = 'registry.example.com/erp-k8s-test/s3rver:3.7.1';
/** The image the backup manifests run rclone from (build.sh recipe `rclone`: Debian's rclone 1.60 on busybox). */
export const RCLONE_IMAGE = DEFAULT_RCLONE_IMAGE;
export const S3_PORT = 5000;
/** The endpoint as pods reach it (path-style: the cluster DNS has no `<bucket>.s3...` names). */
export const S3_ENDPOINT = `http://s3.${S3_NS}.svc.cluster.local:${S3_PORT}`;
export const S3_BUCKET = 'erp-backups';
/** The only region the server accepts in a signature's credential scope (another one: 400 AuthorizationHeaderMalformed). */
export const S3_REGION = 'us-east-1';
/** s3rver's built-in account. */
export const S3_ACCESS_KEY_ID = 'S3RVER';
export const S3_SECRET_ACCESS_KEY = 'S3RVER';
/** The Secret (in {@link S3_NS}) the suite's own rclone pods take their keys from. */
const CLIENT_SECRET = 'rclone-client-s3-credentials';
const NAME = 's3';
const LABELS = { 'app.kubernetes.io/name': 's3rver', 'app.kubernetes.io/part-of': 'erp-e2e' };

/** Pod and container security of the restricted Pod Security Standard (the namespace enforces it). */
const podSecurity = (uid: number) => ({
  runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: 'RuntimeDefault' },
});
const containerSecurity = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };

function namespace(): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: S3_NS,
      labels: {
        [E2E_LABEL]: 'true',
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'v1.28',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  };
}

function server(): Obj[] {
  const probe = { tcpSocket: { port: 's3' } };
  return [{
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: NAME, namespace: S3_NS, labels: LABELS },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' }, // one server per emptyDir
      selector: { matchLabels: LABELS },
      template: {
        metadata: { labels: LABELS },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 5,
          securityContext: podSecurity(1000),
          containers: [{
            name: 's3rver',
            image: S3_IMAGE,
            imagePullPolicy: 'Always',
            // s3rver's command line; the bucket exists from the start (the API may not create buckets)
            args: ['-d', '/data', '-a', '0.0.0.0', '-p', String(S3_PORT), '--no-vhost-buckets', '--configure-bucket', S3_BUCKET],
            env: [{ name: 'S3_REGION', value: S3_REGION }],
            ports: [{ name: 's3', containerPort: S3_PORT }],
            // s3rver opens its port only after --configure-bucket is done; every HTTP request needs a signature
            readinessProbe: { ...probe, periodSeconds: 2, failureThreshold: 3 },
            livenessProbe: { ...probe, periodSeconds: 10, failureThreshold: 6 },
            resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '1000m', memory: '384Mi' } },
            securityContext: containerSecurity,
            volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'data', emptyDir: {} }, { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  }, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: NAME, namespace: S3_NS, labels: LABELS },
    spec: { type: 'ClusterIP', selector: LABELS, ports: [{ name: 's3', port: S3_PORT, targetPort: 's3' }] },
  }];
}

function credentialsSecret(ns: string, name: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: ns },
    type: 'Opaque',
    stringData: { AWS_ACCESS_KEY_ID: S3_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: S3_SECRET_ACCESS_KEY },
  };
}

/** A Secret with the server's keys (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`), as an administrator hands them out. Idempotent. */
export async function createS3CredentialsSecret(namespace: string, name = 'backup-s3-credentials'): Promise<void> {
  await kubectlAsync(['apply', '-f', '-'], JSON.stringify(credentialsSecret(namespace, name)));
}

/**
 * Runs the S3 server in {@link S3_NS} (Pod Security `restricted`) and waits
 * until it is Ready and answers rclone. Idempotent: on a running server it
 * changes nothing and keeps the bucket's objects. `fresh` first deletes the
 * namespace left by an earlier run (an empty bucket; global-setup does that).
 * Refuses a namespace of that name the suite did not create.
 */
export async function deployS3(options: { fresh?: boolean } = {}): Promise<void> {
  const t0 = Date.now();
  if (options.fresh) await freshNamespace(S3_NS);
  const existing = getObj('', 'namespace', S3_NS);
  if (existing && existing.metadata.labels?.[E2E_LABEL] !== 'true') {
    throw new Error(`namespace ${S3_NS} exists and was not created by this suite (no label ${E2E_LABEL}=true): ` +
      'the e2e suite runs its S3 server there; run it on a test cluster, or delete the namespace yourself');
  }
  await kubectlAsync(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [namespace(), ...server()] }));
  await createS3CredentialsSecret(S3_NS, CLIENT_SECRET);
  try {
    await kubectlAsync(['rollout', 'status', `deployment/${NAME}`, '-n', S3_NS, '--timeout=180s']);
  } catch (e) {
    throw new Error(`the S3 server did not become Ready: ${e}\n${diagnose(S3_NS)}`, { cause: e });
  }
  const top = await runRclone(['lsf', `S3:${S3_BUCKET}`]);
  say(S3_NS, `S3 server ready in ${Math.round((Date.now() - t0) / 1000)}s: ${S3_ENDPOINT}, bucket ${S3_BUCKET} ` +
    `(${top.trim() ? `top level: ${top.trim().split('\n').join(' ')}` : 'empty'})`);
}

/**
 * Runs `rclone ARGS` in a one-off pod of {@link S3_NS} (the rclone image, uid
 * 26, read-only root, HOME=/tmp) with the remote `S3:` configured from the
 * environment only, as the backup manifests configure theirs; resolves its
 * output (stdout and stderr), rejects with it when rclone exits non-zero.
 */
export async function runRclone(args: string[], timeoutMs = 180_000): Promise<string> {
  const name = `rclone-${randomBytes(4).toString('hex')}`;
  const env = (k: string, value: string) => ({ name: `RCLONE_CONFIG_S3_${k}`, value });
  const key = (k: string, secretKey: string) => ({
    name: `RCLONE_CONFIG_S3_${k}`, valueFrom: { secretKeyRef: { name: CLIENT_SECRET, key: secretKey } },
  });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: S3_NS, labels: { 'app.kubernetes.io/name': 'rclone-client', 'app.kubernetes.io/part-of': 'erp-e2e' } },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: podSecurity(26),
      containers: [{
        name: 'rclone',
        image: RCLONE_IMAGE,
        imagePullPolicy: 'Always',
        args: ['--config', '/dev/null', '-q', ...args],
        env: [
          { name: 'HOME', value: '/tmp' },
          env('TYPE', 's3'), env('PROVIDER', 'Other'), env('ENDPOINT', S3_ENDPOINT), env('REGION', S3_REGION),
          env('FORCE_PATH_STYLE', 'true'),
          key('ACCESS_KEY_ID', 'AWS_ACCESS_KEY_ID'), key('SECRET_ACCESS_KEY', 'AWS_SECRET_ACCESS_KEY'),
        ],
        resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        securityContext: containerSecurity,
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      }],
      volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
    },
  };
  await kubectlAsync(['create', '-f', '-'], JSON.stringify(pod));
  try {
    const phase = await waitFor(`pod ${S3_NS}/${name} (rclone ${args.join(' ')})`, timeoutMs, () => {
      const p = getObj(S3_NS, 'pod', name)?.status?.phase;
      return p === 'Succeeded' || p === 'Failed' ? p : undefined;
    }, () => diagnose(S3_NS));
    const out = logs(S3_NS, name);
    if (phase !== 'Succeeded') {
      const code = getObj(S3_NS, 'pod', name)?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
      throw new Error(`rclone ${args.join(' ')} failed (exit code ${code}) against ${S3_ENDPOINT}:\n${out}`);
    }
    return out;
  } finally {
    await kubectlAsync(['delete', 'pod', name, '-n', S3_NS, '--wait=false', '--ignore-not-found']);
  }
}

/** `prefix` as a folder of the bucket: no leading slash, a trailing one when not empty. */
function folder(prefix: string): string {
  const p = prefix.replace(/^\/+/, '').replace(/\/+$/, '');
  return p ? `${p}/` : '';
}

/**
 * The objects under `prefix` (a folder of the bucket, e.g. `erp-dev/` or
 * `erp-dev/20260101T020000Z`; '' for all), listed through the S3 API
 * (`rclone lsjson -R --files-only`): full object keys and sizes, sorted by key.
 */
export async function listObjects(prefix: string): Promise<{ key: string; size: number }[]> {
  const dir = folder(prefix);
  const out = await runRclone(['lsjson', '-R', '--files-only', '--no-mimetype', `S3:${S3_BUCKET}/${dir}`]);
  const start = out.indexOf('[');
  const end = out.lastIndexOf(']');
  if (start < 0 || end < start) throw new Error(`rclone lsjson printed no JSON list:\n${out}`);
  const entries = JSON.parse(out.slice(start, end + 1)) as { Path: string; Size: number }[];
  return entries.map((e) => ({ key: `${dir}${e.Path}`, size: e.Size })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Deletes every object under `prefix` (a folder of the bucket; '' for all) through the S3 API (`rclone delete`). */
export async function deleteObjects(prefix: string): Promise<void> {
  await runRclone(['delete', `S3:${S3_BUCKET}/${folder(prefix)}`]);
}
