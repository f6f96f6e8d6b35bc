import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkAppObjects } from '../internal/app-objects';
import { addContainer, disableServiceLinks, renderedName, stableIdentity, templateHashedName } from '../internal/pod-helpers';
import { NEEDS_API_ACCESS_ANNOTATION } from '../internal/vocabulary';
import { checkResources, ComputeResources, resources } from '../internal/resources';
import { restrictedPod } from '../internal/security';
import { checkDnsLabel, checkDnsSubdomain, checkImage, checkSqlIdentifier, checkUnique } from '../internal/validate';

/**
 * The credentials Job's program (Python 3 standard library only, no shell, no
 * kubectl): for each Secret it asks the Kubernetes API with the pod's
 * ServiceAccount token; only when the answer is 404 does it generate a
 * password (24 random bytes as 48 hex characters: URL-safe, so it fits a
 * DATABASE_URL) and create the Secret, treating 409 AlreadyExists (a
 * concurrent run) as success. Any other answer (403 while the RoleBinding is
 * not there yet, the API unreachable) fails the pod, and the Job retries. An
 * existing Secret is never touched: re-applying the manifests never changes a
 * password. It runs in the PostgreSQL server image, which has Python 3 for
 * its own start-up scripts (sclorg's cgroup-limits).
 *
 * `ERP_K8S_API_URL` and `ERP_K8S_SERVICEACCOUNT_DIR` override the in-cluster
 * API address and credentials (tests run it against a stand-in API).
 */
export function credentialsProgram(secrets: readonly GeneratedSecretSpec[], labels: Record<string, string> = {}): string {
  const spec = JSON.stringify(secrets.map((s) => ({ name: s.name, literals: s.literals })));
  return [
    'import json, os, secrets, ssl, sys, urllib.error, urllib.request',
    `SPEC = json.loads(${JSON.stringify(spec)})`,
    `LABELS = json.loads(${JSON.stringify(JSON.stringify(labels))})`,
    'sa = os.environ.get("ERP_K8S_SERVICEACCOUNT_DIR", "/var/run/secrets/kubernetes.io/serviceaccount")',
    'ns = os.environ.get("POD_NAMESPACE") or open(os.path.join(sa, "namespace")).read().strip()',
    'api = os.environ.get("ERP_K8S_API_URL")',
    'if not api:',
    '    host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ.get("KUBERNETES_SERVICE_PORT", "443")',
    '    api = "https://%s:%s" % ("[%s]" % host if ":" in host else host, port)',
    'ctx = ssl.create_default_context(cafile=os.path.join(sa, "ca.crt")) if api.startswith("https:") else None',
    'token = open(os.path.join(sa, "token")).read().strip()',
    'base = "%s/api/v1/namespaces/%s/secrets" % (api, ns)',
    '',
    'def call(method, url, body=None):',
    '    data = None if body is None else json.dumps(body).encode()',
    '    req = urllib.request.Request(url, data=data, method=method, headers={',
    '        "Authorization": "Bearer " + token, "Accept": "application/json", "Content-Type": "application/json"})',
    '    try:',
    '        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:',
    '            return r.status, b""  # never keep a Secret body',
    '    except urllib.error.HTTPError as e:',
    '        return e.code, e.read()[:500]',
    '',
    'for s in SPEC:',
    '    name = s["name"]',
    '    code, body = call("GET", "%s/%s" % (base, name))',
    '    if code == 200:',
    '        print("secret/%s exists: left unchanged" % name, flush=True)',
    '        continue',
    '    if code != 404:',
    '        sys.exit("secret/%s: GET answered %d: %s" % (name, code, body.decode(errors="replace")))',
    '    data = dict(s["literals"], password=secrets.token_hex(24))',
    '    obj = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",',
    '           "metadata": {"name": name, "namespace": ns, "labels": LABELS}, "stringData": data}',
    '    code, body = call("POST", base, obj)',
    '    if code == 201:',
    '        print("secret/%s created" % name, flush=True)',
    '    elif code == 409:',
    '        print("secret/%s was created concurrently: left unchanged" % name, flush=True)',
    '    else:',
    '        sys.exit("secret/%s: create answered %d: %s" % (name, code, body.decode(errors="replace")))',
    '',
  ].join('\n');
}

/**
 * The credentials Job is also an Argo CD Sync hook, deleted before the next
 * one: Argo CD then does not track it as a resource, so the app settles
 * (Synced) after `ttlSecondsAfterFinished` removes the finished Job, instead
 * of showing it OutOfSync/Missing and re-creating it. It runs in the
 * infrastructure wave on every sync and, by design, changes nothing when the
 * Secrets exist. Helm and `kubectl apply` treat it as a plain Job (named after
 * its pod template: the same template is a no-op).
 */
export const ARGOCD_SYNC_HOOK: Record<string, string> = {
  'argocd.argoproj.io/hook': 'Sync',
  'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
};

/** A Secret the credentials Job creates when it is absent. */
export interface GeneratedSecretSpec {
  /** Secret name. */
  readonly name: string;
  /** Fixed keys, e.g. `{ database: 'koku', username: 'koku' }`; the key `password` is generated. */
  readonly literals: Record<string, string>;
}

/** Properties of {@link PostgresCredentials}. */
export interface PostgresCredentialsProps {
  /** Base name of the ServiceAccount, Role, RoleBinding and Job. */
  readonly name: string;
  /** Secrets to create when absent. */
  readonly secrets: GeneratedSecretSpec[];
  /** Image with `python3` (the standard library is enough): the PostgreSQL server image has it. */
  readonly image: string;
  /**
   * Requests and limits of the container.
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
   * @default 26 (the sclorg PostgreSQL image's postgres user)
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
 * dist/ or git (see {@link credentialsProgram}): a Job whose ServiceAccount may only `create` Secrets and `get`
 * the named ones. Safe under plain `kubectl apply`: the Job's name carries a
 * hash of its pod template (Jobs are immutable), it is deleted an hour after
 * it finishes, and every run leaves existing Secrets alone.
 */
export class PostgresCredentials extends Construct {
  /** The Job (id 'Resource'). */
  public readonly job: kplus.Job;
  /** The Job's ServiceAccount. */
  public readonly serviceAccount: kplus.ServiceAccount;
  /** The Role: create Secrets, get the named ones. */
  public readonly role: kplus.Role;
  /** The egress policy, if any. */
  public readonly networkPolicy?: kplus.k8s.KubeNetworkPolicy;

  constructor(scope: Construct, id: string, props: PostgresCredentialsProps) {
    super(scope, id);
    checkAppObjects(this);
    const where = scope; // errors name the construct the props were given to
    const name = checkDnsLabel(where, 'name', props.name, 50);
    const image = checkImage(where, 'credentialsImage', props.image);
    const r = checkResources(where, 'credentialsResources', props.resources ?? resources('50m', '64Mi', '200m', '128Mi'));
    const labels = props.labels ?? {};
    props.secrets.forEach((s, i) => {
      checkDnsSubdomain(where, `secrets[${i}].name`, s.name);
      for (const [k, v] of Object.entries(s.literals)) checkSqlIdentifier(where, `secrets[${i}].${k}`, v);
    });
    checkUnique(where, 'secrets', props.secrets.map((s) => s.name));

    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name, labels },
      automountToken: false,
    });
    this.role = this.addRole(name, labels, props.secrets);
    this.job = this.addJob(name, labels, props.secrets, { image, resources: r, user: props.user ?? 26 });
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

  /**
   * The Role and its binding to the Job's ServiceAccount. RBAC cannot
   * restrict `create` by name (the name is not known when the request is
   * authorized); `get` is limited to the Secrets we manage.
   */
  private addRole(name: string, labels: Record<string, string>, secrets: readonly GeneratedSecretSpec[]): kplus.Role {
    const role = new kplus.Role(this, 'Role', { metadata: { name, labels } });
    role.allow(['create'], kplus.ApiResource.SECRETS);
    role.allow(['get'], ...secrets.map((s, i) => kplus.Secret.fromSecretName(this, `Secret${i}`, s.name)));
    new kplus.RoleBinding(this, 'RoleBinding', { metadata: { name, labels }, role }).addSubjects(this.serviceAccount);
    return role;
  }

  /** The Job: {@link credentialsProgram} in `python3`, with an API token and a read-only root filesystem. */
  private addJob(name: string, labels: Record<string, string>, secrets: readonly GeneratedSecretSpec[],
    c: { image: string; resources: ComputeResources; user: number }): kplus.Job {
    const reason = `creates the Secrets ${secrets.map((s) => s.name).join(', ')} once, when absent (passwords never leave the cluster)`;
    const tmp = kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp', { sizeLimit: Size.mebibytes(16) });
    const job: kplus.Job = new kplus.Job(this, 'Resource', {
      metadata: {
        name: templateHashedName(() => job, name), labels, annotations: { [NEEDS_API_ACCESS_ANNOTATION]: reason, ...ARGOCD_SYNC_HOOK },
      },
      podMetadata: { labels, annotations: { [NEEDS_API_ACCESS_ANNOTATION]: reason } },
      backoffLimit: 6,
      activeDeadline: Duration.minutes(15),
      ttlAfterFinished: Duration.hours(1),
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: true,
      securityContext: restrictedPod(c.user),
      volumes: [tmp],
    });
    stableIdentity(job, labels);
    disableServiceLinks(job);
    addContainer(job, {
      name: 'create-secrets',
      image: c.image,
      command: ['python3', '-c', credentialsProgram(secrets, labels)],
      envVariables: {
        POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
        HOME: kplus.EnvValue.fromValue('/tmp'),
        PYTHONDONTWRITEBYTECODE: kplus.EnvValue.fromValue('1'),
      },
    }, { resources: c.resources, user: c.user, tmp });
    return job;
  }

  /** `<name>-<hash of the whole pod template>`. */
  public get jobName(): string {
    return renderedName(this.job);
  }

}
