import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkDnsLabel, checkPort } from './validate';

/** Where ingress traffic may come from: a namespace (by name) and optionally pods in it. */
export interface TrafficSource {
  /** Namespace name (matched on `kubernetes.io/metadata.name`). */
  readonly namespace: string;
  /** Pod labels inside that namespace. @default - every pod of the namespace */
  readonly podLabels?: Record<string, string>;
}

/**
 * The ingress-nginx controller, the default source of HTTP traffic.
 * @deprecated use `NetworkPolicies.INGRESS_NGINX`
 */
export const INGRESS_NGINX: TrafficSource = { namespace: 'ingress-nginx', podLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } };

/**
 * Prometheus (kube-prometheus-stack in `monitoring`), the default scraper.
 * @deprecated use `NetworkPolicies.PROMETHEUS`
 */
export const PROMETHEUS: TrafficSource = { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' } };

const DNS_PORTS = [{ protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) }, { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) }];

/** Egress rule that admits cluster DNS (kube-dns / CoreDNS in kube-system). */
export function dnsEgressRule(): k8s.NetworkPolicyEgressRule {
  return {
    to: [{
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
      podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
    }],
    ports: DNS_PORTS,
  };
}

/** A NetworkPolicy peer for a traffic source. */
export function peerOf(source: TrafficSource, scope: Construct, field: string): k8s.NetworkPolicyPeer {
  checkDnsLabel(scope, `${field}.namespace`, source.namespace);
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': source.namespace } },
    podSelector: source.podLabels ? { matchLabels: source.podLabels } : undefined,
  };
}

/** TCP ports as NetworkPolicy ports. */
export function tcpPorts(scope: Construct, field: string, ports: number[]): k8s.NetworkPolicyPort[] {
  return ports.map((p, i) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(checkPort(scope, `${field}[${i}]`, p)) }));
}

/**
 * The namespace's default-deny policy: every pod is isolated for ingress and
 * egress until a policy allows something.
 * @deprecated use `NetworkPolicies.defaultDeny`
 */
export function defaultDeny(scope: Construct, id: string, namespace?: string): k8s.KubeNetworkPolicy {
  return new k8s.KubeNetworkPolicy(scope, id, {
    metadata: { name: 'default-deny-all', namespace },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  });
}

/**
 * The policy of a server (PostgreSQL, Redis): only pods carrying
 * `clientLabels` may reach `port`, and the server opens no connection itself.
 */
export function clientsOnlyPolicy(scope: Construct, name: string, serverLabels: Record<string, string>,
  clientLabels: Record<string, string>, port: number): k8s.KubeNetworkPolicy {
  return new k8s.KubeNetworkPolicy(scope, 'NetworkPolicy', {
    metadata: { name, labels: serverLabels },
    spec: {
      podSelector: { matchLabels: serverLabels },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: { matchLabels: clientLabels } }], ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) }] }],
      egress: [],
    },
  });
}

/** The traffic sources the constructs allow by default, and the namespace's default-deny policy. */
export class NetworkPolicies {
  /** The ingress-nginx controller, the default source of HTTP traffic. */
  public static readonly INGRESS_NGINX: TrafficSource = INGRESS_NGINX;
  /** Prometheus (kube-prometheus-stack in `monitoring`), the default scraper. */
  public static readonly PROMETHEUS: TrafficSource = PROMETHEUS;

  /**
   * The namespace's default-deny NetworkPolicy `default-deny-all`: every pod
   * is isolated for ingress and egress until a policy allows something.
   * @param namespace @default - the chart's namespace
   */
  public static defaultDeny(scope: Construct, id: string, namespace?: string): k8s.KubeNetworkPolicy {
    return defaultDeny(scope, id, namespace);
  }

  private constructor() {}
}
