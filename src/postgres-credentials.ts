import { createHash } from 'crypto';
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { addContainer, addPodLabels } from './pod-helpers';
import { NEEDS_API_ACCESS_ANNOTATION } from './policy';
import { checkResources, ComputeResources, resources } from './resources';
import { restrictedPod } from './security';
import { checkDnsLabel, checkDnsSubdomain, checkImage, checkSqlIdentifier, checkUnique } from './validate';

/** kubectl with a shell (the v1.28 images are distroless: no `sh`; v1.29+ are built on debian-base with bash). */
export const DEFAULT_KUBECTL_IMAGE = 'registry.k8s.io/kubectl:v1.29.10';

/** A Secret the credentials Job creates when it is absent. */
export interface GeneratedSecretSpec {
  /** Secret name. */
  readonly name: string;
  /** Fixed keys, e.g. `{ database: 'koku', username: 'koku' }`; the key `password` is generated. */
  readonly literals: Record<string, string>;
}

/**
 * The credentials Job's script: for each Secret, `kubectl get`; only when the
 * answer is NotFound, generate a password (24 bytes of /dev/urandom as 48 hex
 * characters: URL-safe, so it fits a DATABASE_URL) and `kubectl create` it,
 * treating AlreadyExists (a concurrent run) as success. Any other answer
 * (Forbidden while the RoleBinding is not there yet, API unreachable) fails the
 * pod, and the Job retries. An existing Secret is never touched: re-applying
 * the manifests never changes a password.
 */
export function credentialsScript(secrets: readonly GeneratedSecretSpec[]): string {
  const lines = [
    'set -eu',
    'umask 077',
    'ns="${POD_NAMESPACE:?POD_NAMESPACE is not set}"',
    'pwfile="${TMPDIR:-/tmp}/password"',
    'trap \'rm -f "$pwfile"\' EXIT',
    'ensure_secret() {',
    '  name="$1"; shift',
    '  if out=$(kubectl get secret "$name" -n "$ns" -o name 2>&1); then',
    '    echo "secret/$name exists: left unchanged"; return 0',
    '  fi',
    '  case "$out" in *NotFound*|*"not found"*) ;; *) echo "$out" >&2; return 1 ;; esac',
    '  head -c 24 /dev/urandom | od -An -tx1 | tr -d \' \\n\' > "$pwfile"',
    '  [ "$(wc -c < "$pwfile")" -eq 48 ] || { echo "could not generate a password" >&2; return 1; }',
    '  if out=$(kubectl create secret generic "$name" -n "$ns" "$@" --from-file=password="$pwfile" 2>&1); then',
    '    echo "secret/$name created"',
    '  else',
    '    case "$out" in *AlreadyExists*|*"already exists"*) echo "secret/$name was created concurrently: left unchanged" ;; *) echo "$out" >&2; return 1 ;; esac',
    '  fi',
    '  rm -f "$pwfile"',
    '}',
  ];
  for (const s of secrets) {
    const literals = Object.entries(s.literals).map(([k, v]) => `--from-literal=${k}=${v}`);
    lines.push(['ensure_secret', s.name, ...literals].join(' '));
  }
  return lines.join('\n') + '\n';
}

/** Properties of {@link PostgresCredentials}. */
export interface PostgresCredentialsProps {
  /** Base name of the ServiceAccount, Role, RoleBinding and Job. */
  readonly name: string;
  /** Secrets to create when absent. */
  readonly secrets: readonly GeneratedSecretSpec[];
  /**
   * Image with kubectl and a POSIX shell.
   * @default DEFAULT_KUBECTL_IMAGE
   */
  readonly image?: string;
  /**
   * Requests and limits of the kubectl container.
   * @default 50m/64Mi requests, 200m/128Mi limits
   */
  readonly resources?: ComputeResources;
  /**
   * Labels of every object and of the pod.
   * @default {}
   */
  readonly labels?: Record<string, string>;
  /**
   * UID (and GID) the container runs as.
   * @default 65532
   */
  readonly user?: number;
  /**
   * An egress NetworkPolicy that lets the Job reach the Kubernetes API
   * (TCP 443 and 6443), for namespaces with a default-deny policy.
   * @default true
   */
  readonly networkPolicy?: boolean;
}

/**
 * Creates generated Secrets once, in the cluster, so no password is ever in
 * dist/ or git: a Job whose ServiceAccount may only `create` Secrets and `get`
 * the named ones. Safe under plain `kubectl apply`: the Job's name carries a
 * hash of its pod template (Jobs are immutable), it is deleted an hour after
 * it finishes, and every run leaves existing Secrets alone.
 */
export class PostgresCredentials extends Construct {
  /** The Job (id 'Resource'). */
  public readonly job: kplus.Job;
  /** `<name>-<hash of the pod template>`. */
  public readonly jobName: string;
  /** The Job's ServiceAccount. */
  public readonly serviceAccount: kplus.ServiceAccount;
  /** The Role: create Secrets, get the named ones. */
  public readonly role: kplus.Role;
  /** The egress policy, if any. */
  public readonly networkPolicy?: kplus.k8s.KubeNetworkPolicy;

  constructor(scope: Construct, id: string, props: PostgresCredentialsProps) {
    super(scope, id);
    const where = scope; // errors name the construct the props were given to
    const name = checkDnsLabel(where, 'name', props.name, 50);
    const image = checkImage(where, 'credentialsImage', props.image ?? DEFAULT_KUBECTL_IMAGE);
    const r = checkResources(where, 'credentialsResources', props.resources ?? resources('50m', '64Mi', '200m', '128Mi'));
    const user = props.user ?? 65532;
    const labels = props.labels ?? {};
    props.secrets.forEach((s, i) => {
      checkDnsSubdomain(where, `secrets[${i}].name`, s.name);
      for (const [k, v] of Object.entries(s.literals)) checkSqlIdentifier(where, `secrets[${i}].${k}`, v);
    });
    checkUnique(where, 'secrets', props.secrets.map((s) => s.name));
    const script = credentialsScript(props.secrets);

    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name, labels },
      automountToken: false,
    });
    this.role = new kplus.Role(this, 'Role', { metadata: { name, labels } });
    // RBAC cannot restrict `create` by name (the name is not known when the
    // request is authorized); `get` is limited to the Secrets we manage.
    this.role.allow(['create'], kplus.ApiResource.SECRETS);
    this.role.allow(['get'], ...props.secrets.map((s, i) => kplus.Secret.fromSecretName(this, `Secret${i}`, s.name)));
    new kplus.RoleBinding(this, 'RoleBinding', { metadata: { name, labels }, role: this.role }).addSubjects(this.serviceAccount);

    this.jobName = `${name}-${createHash('sha256').update(JSON.stringify([image, script, r, user])).digest('hex').slice(0, 8)}`;
    const reason = `creates the Secrets ${props.secrets.map((s) => s.name).join(', ')} once, when absent (passwords never leave the cluster)`;
    const tmp = kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp', { medium: kplus.EmptyDirMedium.MEMORY, sizeLimit: Size.mebibytes(16) });
    this.job = new kplus.Job(this, 'Resource', {
      metadata: { name: this.jobName, labels, annotations: { [NEEDS_API_ACCESS_ANNOTATION]: reason } },
      podMetadata: { labels, annotations: { [NEEDS_API_ACCESS_ANNOTATION]: reason } },
      backoffLimit: 6,
      activeDeadline: Duration.minutes(15),
      ttlAfterFinished: Duration.hours(1),
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: true,
      securityContext: restrictedPod(user),
      volumes: [tmp],
    });
    addPodLabels(this.job, labels);
    addContainer(this.job, {
      name: 'create-secrets',
      image,
      command: ['/bin/sh', '-c', script],
      envVariables: {
        POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
        HOME: kplus.EnvValue.fromValue('/tmp'),
        TMPDIR: kplus.EnvValue.fromValue('/tmp'),
      },
    }, { resources: r, user, tmp });

    if (props.networkPolicy ?? true) {
      this.networkPolicy = new kplus.k8s.KubeNetworkPolicy(this, 'EgressPolicy', {
        metadata: { name: `${name}-egress`, labels },
        spec: {
          podSelector: { matchLabels: labels },
          policyTypes: ['Egress'],
          egress: [{ ports: [443, 6443].map((p) => ({ protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(p) })) }],
        },
      });
    }
  }
}
