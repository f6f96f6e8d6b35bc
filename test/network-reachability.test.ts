/**
 * What the e2e cluster cannot show: it stores NetworkPolicies but does not
 * enforce them. So, for every environment and every delivery tool, this test
 * works out when each object is created — `kubectl apply` in file order; Helm
 * install and upgrade with their hook phases and weights; Argo CD phases and
 * sync waves — and checks that each pod's egress to DNS, PostgreSQL, Redis
 * and the Kubernetes API is allowed by a policy that exists by the time the
 * pod starts, and that in-cluster servers admit it. With the namespace's
 * deny-all in force (00-namespace, applied before any tool runs), a missing
 * allow would otherwise only show on a cluster that enforces them: e.g. a
 * Helm pre-install hook runs before any ordinary object of its release.
 */
import { ENVIRONMENTS } from '../deploy/environments';
import { buildEnvironment } from '../deploy/environments/erp-environment';
import { renderFiles } from '../deploy/synth';
import { Manifest } from './util';

interface Placed { readonly o: Manifest; readonly file: number }
interface Need { readonly what: string; readonly protocol: 'TCP' | 'UDP'; readonly port: number; readonly dns?: boolean; readonly server?: string }

const WORKLOADS = ['Deployment', 'StatefulSet', 'Job', 'CronJob'];

const template = (o: Manifest): Manifest => (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template : o.spec.template);
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);

/** What a pod connects to, read from its containers' environment. */
function needsOf(o: Manifest): Need[] {
  const spec = template(o).spec;
  const env = new Map<string, string>();
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const e of c.env ?? []) if (e.value !== undefined) env.set(e.name, e.value);
  }
  const needs: Need[] = [];
  const host = env.get('DB_HOST') ?? env.get('PGHOST');
  const port = env.get('DB_PORT') ?? env.get('PGPORT');
  if (host && port) {
    const server = host === 'postgres' ? 'postgres' : undefined;
    needs.push({ what: `PostgreSQL ${host}:${port}`, protocol: 'TCP', port: Number(port), dns: true, server });
  }
  const redis = env.get('REDIS_URL') ?? env.get('CELERY_BROKER_URL');
  if (redis) {
    const u = new URL(redis);
    const server = u.hostname === 'redis' ? 'redis' : undefined;
    needs.push({ what: `Redis ${u.hostname}:${u.port}`, protocol: 'TCP', port: Number(u.port || 6379), dns: true, server });
  }
  if (spec.automountServiceAccountToken === true) needs.push({ what: 'the Kubernetes API', protocol: 'TCP', port: 443 });
  return needs;
}

/** Whether an egress rule admits a port (and, for DNS, kube-dns). */
function ruleAllows(rule: Manifest, protocol: string, port: number, toKubeDns: boolean): boolean {
  const portOk = !rule.ports || rule.ports.some((p: Manifest) => (p.protocol ?? 'TCP') === protocol && (p.port === undefined || p.port === port));
  if (!portOk) return false;
  if (!rule.to) return true;
  if (!toKubeDns) return true; // destinations are checked on the server side (its ingress policy)
  return rule.to.some((peer: Manifest) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'kube-system'
    && peer.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns');
}

/** The kinds in the order Helm installs them (helm.sh/helm/v3 pkg/releaseutil/kind_sorter.go, the part we use). */
const HELM_KIND_ORDER = ['Namespace', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodDisruptionBudget', 'ServiceAccount', 'Secret',
  'ConfigMap', 'PersistentVolumeClaim', 'Role', 'RoleBinding', 'Service', 'Pod', 'Deployment', 'HorizontalPodAutoscaler', 'StatefulSet',
  'Job', 'CronJob', 'Ingress'];
const kindIndex = (o: Manifest) => (HELM_KIND_ORDER.includes(o.kind) ? HELM_KIND_ORDER.indexOf(o.kind) : HELM_KIND_ORDER.length);

/** When an object is created: a tuple compared in order; undefined = not created by this run. */
type Step = number[];
const before = (a: Step, b: Step) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
};
const sameOrBefore = (a: Step, b: Step) => !before(b, a);

interface Delivery {
  readonly name: string;
  /** When the object is created. */
  step(p: Placed): Step | undefined;
  /** Whether a policy created at `policy` exists when a pod created at `pod` starts. */
  inTime(policy: Step, pod: Step, podObject: Manifest): boolean;
  /**
   * Objects left by the previous release (an upgrade). Only a server's own
   * ingress policy may be one: the server itself (PostgreSQL, Redis) is
   * there from the previous release, and its policy with it.
   */
  previous?(p: Placed): boolean;
}

const annotations = (o: Manifest): Record<string, string> => o.metadata.annotations ?? {};
const helmHooks = (o: Manifest) => (annotations(o)['helm.sh/hook'] ?? '').split(',').filter(Boolean);
const isArgoHook = (o: Manifest) => argoHook(o) !== undefined;

/** Argo CD's phase of an object: its own hook, else Helm's mapped (pre-* PreSync, post-* PostSync), else Sync. */
function argoHook(o: Manifest): string | undefined {
  const own = annotations(o)['argocd.argoproj.io/hook'];
  if (own) return own;
  const helm = helmHooks(o);
  if (helm.some((h) => h.startsWith('pre-'))) return 'PreSync';
  if (helm.some((h) => h.startsWith('post-'))) return 'PostSync';
  return undefined;
}

/**
 * Helm install or upgrade: `pre-<action>` hooks one at a time by weight (then
 * kind), waiting for each Job; then every ordinary object in kind order; then
 * `post-<action>` hooks. A hook of other phases is not created at all. Pre-
 * hooks are not given the previous release's objects: a first install has
 * none, and a release that adds a policy must not count on the old one.
 */
function helm(action: 'install' | 'upgrade'): Delivery {
  return {
    name: `helm ${action}`,
    step: ({ o }) => {
      const hooks = helmHooks(o);
      const weight = Number(annotations(o)['helm.sh/hook-weight'] ?? '0');
      if (hooks.length === 0) return [1, 0, kindIndex(o)];
      if (hooks.includes(`pre-${action}`)) return [0, weight, kindIndex(o)];
      if (hooks.includes(`post-${action}`)) return [2, weight, kindIndex(o)];
      return undefined;
    },
    // one object after the other: anything created earlier exists
    inTime: (policy, pod) => before(policy, pod),
    previous: action === 'upgrade' ? ({ o }) => helmHooks(o).length === 0 : undefined,
  };
}

/**
 * Argo CD: PreSync, Sync, PostSync, each in sync waves; a wave's objects are
 * applied together (in parallel), so a hook Job needs its policies from an
 * earlier wave or phase. An ordinary workload may share its policy's wave:
 * its controller retries, a hook Job would count the failure.
 */
const ARGO_PHASES = ['PreSync', 'Sync', 'PostSync'];
const argoCd: Delivery = {
  name: 'Argo CD sync',
  step: ({ o }) => [ARGO_PHASES.indexOf(argoHook(o) ?? 'Sync'), Number(annotations(o)['argocd.argoproj.io/sync-wave'] ?? '0')],
  inTime: (policy, pod, o) => (o.kind === 'Job' && isArgoHook(o) ? before(policy, pod) : sameOrBefore(policy, pod)),
};

/** `kubectl apply -f dist/<env>/`: file by file, in name order. */
const kubectlApply: Delivery = {
  name: 'kubectl apply',
  step: ({ file }) => [file],
  inTime: (policy, pod) => sameOrBefore(policy, pod),
};

const DELIVERIES = [kubectlApply, helm('install'), helm('upgrade'), argoCd];

describe.each(Object.keys(ENVIRONMENTS))('%s: every pod may reach what it needs, by a policy that exists when it starts', (name) => {
  const files = renderFiles(buildEnvironment(ENVIRONMENTS[name]).charts);
  const placed: Placed[] = files.flatMap((f, i) => f.objects.map((o) => ({ o, file: i })));
  const policies = placed.filter((p) => p.o.kind === 'NetworkPolicy');
  const pods = placed.filter((p) => WORKLOADS.includes(p.o.kind));

  test('the namespace denies everything first (00-namespace)', () => {
    const deny = policies.find((p) => Object.keys(p.o.spec.podSelector ?? {}).length === 0 && !p.o.spec.ingress && !p.o.spec.egress);
    expect(deny?.file).toBe(0);
    expect(deny!.o.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  });

  const cases = DELIVERIES.flatMap((d) => pods.filter((p) => d.step(p) !== undefined)
    .map((p) => [d.name, `${p.o.kind}/${p.o.metadata.name}${phaseOf(d, p)}`, d, p] as const));

  test.each(cases)('%s: %s', (_tool, _id, delivery, pod) => {
    const podStep = delivery.step(pod)!;
    const available = policies.filter((p) => {
      const s = delivery.step(p);
      return s !== undefined && delivery.inTime(s, podStep, pod.o);
    });
    const labels = template(pod.o).metadata.labels as Record<string, string>;
    const egressPolicies = available
      .filter((p) => matches(p.o.spec.podSelector?.matchLabels, labels) && (p.o.spec.policyTypes ?? []).includes('Egress'));
    const missing: string[] = [];
    for (const need of needsOf(pod.o)) {
      const allows = (protocol: string, port: number, dns: boolean) => egressPolicies
        .some((p) => (p.o.spec.egress ?? []).some((r: Manifest) => ruleAllows(r, protocol, port, dns)));
      if (!allows(need.protocol, need.port, false)) missing.push(`egress to ${need.what}`);
      if (need.dns && !allows('UDP', 53, true)) missing.push(`DNS (UDP 53 to kube-dns) for ${need.what}`);
      if (need.server) {
        // the in-cluster server's policy admits this pod, and exists by then
        const server = [...available, ...policies.filter((p) => delivery.previous?.(p))].find((p) => p.o.metadata.name === need.server);
        const admits = server && (server.o.spec.ingress ?? []).some((r: Manifest) =>
          (r.from ?? []).some((peer: Manifest) => !peer.namespaceSelector && matches(peer.podSelector?.matchLabels, labels)));
        if (!admits) missing.push(`${need.server}'s ingress policy admitting it`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('every pod that connects anywhere is covered (the walk above saw them)', () => {
    expect(pods.filter((p) => needsOf(p.o).length > 0).length).toBeGreaterThan(5);
  });

  test('every hook Job was checked under Helm or Argo CD in its hook phase', () => {
    const hooks = pods.filter((p) => helmHooks(p.o).length > 0 || isArgoHook(p.o)).map((p) => p.o.metadata.name);
    expect(hooks.length).toBeGreaterThanOrEqual(3); // API and gateway migrations, bootstrap (+ credentials where in-cluster)
    for (const h of hooks) expect(cases.some(([tool, id]) => tool !== 'kubectl apply' && id.includes(`/${h} (`))).toBe(true);
  });
});

/** " (pre-install, weight 0)", " (PreSync, wave 0)", " (file 30-migrations)": where the pod starts, for the test name. */
function phaseOf(d: Delivery, p: Placed): string {
  const o = p.o;
  if (d === kubectlApply) return ` (file ${p.file})`;
  if (d === argoCd) return ` (${argoHook(o) ?? 'Sync'}, wave ${annotations(o)['argocd.argoproj.io/sync-wave'] ?? '0'})`;
  const hooks = helmHooks(o);
  const phase = hooks.find((h) => h.endsWith(d.name.split(' ')[1]));
  return phase ? ` (${phase}, weight ${annotations(o)['helm.sh/hook-weight'] ?? '0'})` : ' (ordinary object)';
}
