import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { disableServiceLinks, stableHeadlessService, stableIdentity, stablePods } from '../internal/pod-helpers';
import { restrictedPod } from '../internal/security';

/** Options of {@link addStatefulServer}. */
export interface StatefulServerOptions {
  /** Name of the StatefulSet and of its Services (`<name>`, `<name>-headless`). */
  readonly name: string;
  /** Labels of every object and of the pod. */
  readonly labels: Record<string, string>;
  /** The server's TCP port, and its name. */
  readonly port: number;
  readonly portName: string;
  /** UID (and GID, fsGroup) of the pod. */
  readonly user: number;
  /** Annotations of the pod. @default - none */
  readonly podAnnotations?: Record<string, string>;
  /** @default - the StatefulSet default (OrderedReady) left unset */
  readonly podManagementPolicy?: kplus.PodManagementPolicy;
  /** @default - the Kubernetes default (30s) */
  readonly terminationGracePeriod?: Duration;
}

/** What {@link addStatefulServer} makes. */
export interface StatefulServer {
  /** The headless Service (id 'Headless') that names the pods. */
  readonly headless: kplus.Service;
  /** The StatefulSet (id 'Resource'): one replica, stable selector, no API token, restricted pod, no service links. */
  readonly statefulSet: kplus.StatefulSet;
}

/**
 * The skeleton of a single-replica server (PostgreSQL, Redis): its headless
 * Service and its StatefulSet, both with stable selectors; the caller adds
 * the container, then {@link addServerService}.
 */
export function addStatefulServer(scope: Construct, o: StatefulServerOptions): StatefulServer {
  const { name, labels, port } = o;
  const headless = new kplus.Service(scope, 'Headless', {
    metadata: { name: `${name}-headless`, labels },
    clusterIP: 'None',
    ports: [{ name: o.portName, port, targetPort: port }],
  });
  const statefulSet = new kplus.StatefulSet(scope, 'Resource', {
    metadata: { name, labels },
    podMetadata: { labels, ...(o.podAnnotations ? { annotations: o.podAnnotations } : {}) },
    select: false,
    replicas: 1,
    service: headless,
    podManagementPolicy: o.podManagementPolicy,
    automountServiceAccountToken: false,
    securityContext: restrictedPod(o.user, o.user),
    terminationGracePeriod: o.terminationGracePeriod,
  });
  stableIdentity(statefulSet, labels);
  stableHeadlessService(headless, statefulSet);
  disableServiceLinks(statefulSet);
  return { headless, statefulSet };
}

/** The server's ClusterIP Service (id 'Service', named `<name>`), selecting its pods. */
export function addServerService(scope: Construct, o: StatefulServerOptions, statefulSet: kplus.StatefulSet): kplus.Service {
  return new kplus.Service(scope, 'Service', {
    metadata: { name: o.name, labels: o.labels },
    type: kplus.ServiceType.CLUSTER_IP,
    selector: stablePods(statefulSet),
    ports: [{ name: o.portName, port: o.port, targetPort: o.port }],
  });
}
