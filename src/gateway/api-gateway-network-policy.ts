import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ApiGatewayNetworkPolicy } from './api-gateway-values';
import { databasePeers, IDatabase } from '../data/database';
import { dnsEgressRule, INGRESS_NGINX, peerOf, tcpPorts, TrafficSource } from '../internal/network-policies';
import { Redis } from '../data/redis';

/** `networkPolicy` of the gateway resolved: defaults applied (see {@link ApiGatewayNetworkPolicy}). */
export interface ResolvedGatewayNetworkPolicy {
  readonly ingressFrom: TrafficSource[];
  /** Where the database is; asked of the database when undefined. */
  readonly databasePeers?: kplus.k8s.NetworkPolicyPeer[];
  readonly egressPorts: number[];
  readonly extraEgress: kplus.k8s.NetworkPolicyEgressRule[];
  readonly defaultDeny: boolean;
}

/** Resolves `networkPolicy`: `undefined` when `enabled` is false. */
export function resolveGatewayNetworkPolicy(np: ApiGatewayNetworkPolicy = {}): ResolvedGatewayNetworkPolicy | undefined {
  if (!(np.enabled ?? true)) return undefined;
  return {
    ingressFrom: np.ingressFrom ?? [INGRESS_NGINX], databasePeers: np.databasePeers, egressPorts: np.egressPorts ?? [],
    extraEgress: np.extraEgress ?? [], defaultDeny: np.defaultDeny ?? true,
  };
}

/** Inputs of {@link gatewayNetworkPolicies}. */
export interface GatewayNetworkPoliciesOptions {
  /** Base name of the policies. */
  readonly name: string;
  /** The resolved `networkPolicy`. */
  readonly policy: ResolvedGatewayNetworkPolicy;
  /** Labels selecting every pod of the gateway (server and migration Job). */
  readonly pods: Record<string, string>;
  /** The HTTP container port. */
  readonly port: number;
  /** Labels of the policies. */
  readonly labels: Record<string, string>;
  /** The database, if known. */
  readonly database?: IDatabase;
  /** The in-chart Redis, if any. */
  readonly redis?: Redis;
}

/**
 * The gateway's NetworkPolicies: `<name>` admits HTTP only from the ingress
 * controller and lets the pods out only to cluster DNS, the database (its
 * pods or address when known), the in-chart Redis and what the values add;
 * `<name>-default-deny` isolates the same pods should the first be removed.
 * `egress` is the allow policy's egress, for the migration hook's own policy.
 */
export function gatewayNetworkPolicies(scope: Construct, o: GatewayNetworkPoliciesOptions): {
  allow: kplus.k8s.KubeNetworkPolicy; deny?: kplus.k8s.KubeNetworkPolicy; egress: kplus.k8s.NetworkPolicyEgressRule[];
} {
  const np = o.policy;
  const db = o.database?.connection;
  const dbPeers = np.databasePeers ?? databasePeers(o.database);
  const egress: kplus.k8s.NetworkPolicyEgressRule[] = [
    dnsEgressRule(),
    { to: dbPeers, ports: tcpPorts(scope, 'database.port', [db?.port ?? 5432]) },
  ];
  if (o.redis?.statefulSet) {
    const to = [{ podSelector: { matchLabels: o.redis.statefulSet.matchLabels } }];
    egress.push({ to, ports: tcpPorts(scope, 'redis.port', [o.redis.connection.port]) });
  }
  if (np.egressPorts.length) egress.push({ ports: tcpPorts(scope, 'networkPolicy.egressPorts', np.egressPorts) });
  egress.push(...np.extraEgress);
  const allow = new kplus.k8s.KubeNetworkPolicy(scope, 'NetworkPolicy', {
    metadata: { name: o.name, labels: o.labels },
    spec: {
      podSelector: { matchLabels: o.pods },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{
        from: np.ingressFrom.map((s, i) => peerOf(s, scope, `networkPolicy.ingressFrom[${i}]`)),
        ports: tcpPorts(scope, 'service.port', [o.port]),
      }],
      egress,
    },
  });
  const deny = np.defaultDeny ? new kplus.k8s.KubeNetworkPolicy(scope, 'DefaultDeny', {
    metadata: { name: `${o.name}-default-deny`, labels: o.labels },
    spec: { podSelector: { matchLabels: o.pods }, policyTypes: ['Ingress', 'Egress'] },
  }) : undefined;
  return { allow, deny, egress };
}
