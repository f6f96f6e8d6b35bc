/**
 * What the e2e cluster cannot show: it stores NetworkPolicies but does not
 * enforce them. So, for every environment, this test walks the output in
 * apply order (dist/<env>/ file order, which the Argo CD sync waves follow)
 * and checks that each pod's egress to DNS, PostgreSQL, Redis and the
 * Kubernetes API is allowed by a policy applied no later than the pod, and
 * that in-cluster servers admit it. With the namespace's deny-all in force,
 * a missing allow would otherwise only show on a cluster that enforces them.
 */
import { ENVIRONMENTS } from '../src/environments';
import { buildEnvironment } from '../src/environments/erp-environment';
import { renderFiles } from '../src/synthesizer';
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
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) for (const e of c.env ?? []) if (e.value !== undefined) env.set(e.name, e.value);
  const needs: Need[] = [];
  const host = env.get('DB_HOST') ?? env.get('PGHOST');
  const port = env.get('DB_PORT') ?? env.get('PGPORT');
  if (host && port) needs.push({ what: `PostgreSQL ${host}:${port}`, protocol: 'TCP', port: Number(port), dns: true, server: host === 'postgres' ? 'postgres' : undefined });
  const redis = env.get('REDIS_URL') ?? env.get('CELERY_BROKER_URL');
  if (redis) {
    const u = new URL(redis);
    needs.push({ what: `Redis ${u.hostname}:${u.port}`, protocol: 'TCP', port: Number(u.port || 6379), dns: true, server: u.hostname === 'redis' ? 'redis' : undefined });
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

describe.each(Object.keys(ENVIRONMENTS))('%s: every pod may reach what it needs, by a policy applied no later than the pod', (name) => {
  const files = renderFiles(buildEnvironment(ENVIRONMENTS[name]).charts);
  const placed: Placed[] = files.flatMap((f, i) => f.objects.map((o) => ({ o, file: i })));
  const policies = placed.filter((p) => p.o.kind === 'NetworkPolicy');
  const pods = placed.filter((p) => WORKLOADS.includes(p.o.kind));

  test('the namespace denies everything first (00-namespace)', () => {
    const deny = policies.find((p) => Object.keys(p.o.spec.podSelector ?? {}).length === 0 && !p.o.spec.ingress && !p.o.spec.egress);
    expect(deny?.file).toBe(0);
    expect(deny!.o.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  });

  test.each(pods.map((p) => [`${p.o.kind}/${p.o.metadata.name}`, p] as const))('%s', (_id, pod) => {
    const labels = template(pod.o).metadata.labels as Record<string, string>;
    const mine = policies.filter((p) => matches(p.o.spec.podSelector?.matchLabels, labels));
    const egressPolicies = mine.filter((p) => (p.o.spec.policyTypes ?? []).includes('Egress'));
    const missing: string[] = [];
    for (const need of needsOf(pod.o)) {
      const allows = (protocol: string, port: number, dns: boolean) => egressPolicies
        .filter((p) => p.file <= pod.file)
        .some((p) => (p.o.spec.egress ?? []).some((r: Manifest) => ruleAllows(r, protocol, port, dns)));
      if (!allows(need.protocol, need.port, false)) missing.push(`egress to ${need.what}`);
      if (need.dns && !allows('UDP', 53, true)) missing.push(`DNS (UDP 53 to kube-dns) for ${need.what}`);
      if (need.server) {
        // the in-cluster server's policy admits this pod, and is applied no later than it
        const server = policies.find((p) => p.o.metadata.name === need.server);
        const admits = server && server.file <= pod.file && (server.o.spec.ingress ?? []).some((r: Manifest) =>
          (r.from ?? []).some((peer: Manifest) => !peer.namespaceSelector && matches(peer.podSelector?.matchLabels, labels)));
        if (!admits) missing.push(`${need.server}'s ingress policy admitting it`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('every pod that connects anywhere is covered (the walk above saw them)', () => {
    expect(pods.filter((p) => needsOf(p.o).length > 0).length).toBeGreaterThan(5);
  });
});
