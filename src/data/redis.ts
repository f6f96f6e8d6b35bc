import { ApiObject, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkAppObjects } from '../synth/app-objects';
import { REDIS_PROPS, checkShape } from '../internal/props-shape';
import { checkHost } from './database';
import { clientsOnlyPolicy } from '../internal/network-policies';
import { addContainer, claimTemplate, disableServiceLinks, stableHeadlessService, stableIdentity, stablePods, standardLabels } from '../internal/pod-helpers';
import { checkResources, ComputeResources, parseBytes, resources } from '../internal/resources';
import { restrictedPod } from '../internal/security';
import { checkClientLabels, checkDnsSubdomain, checkImage, checkInt, checkPort, fail } from '../internal/validate';

/** How pods reach Redis (Celery broker, cache). */
export interface RedisConnection {
  /** Host name, e.g. `redis`. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** Database index. */
  readonly database: number;
  /** `redis://<host>:<port>/<database>`, for CELERY_BROKER_URL / REDIS_URL. */
  readonly url: string;
  /** Labels a pod must carry to be admitted by the NetworkPolicy. */
  readonly clientLabels: Record<string, string>;
}

/** Anything that hands out a {@link RedisConnection}. */
export interface IRedis {
  /** The connection details. */
  readonly connection: RedisConnection;
}

/** Data kept on a volume (append-only file) across restarts. */
export interface RedisPersistence {
  /** Size of the `redis-data` PVC. @default '1Gi' */
  readonly size?: string;
  /** Storage class. @default - the cluster's default storage class */
  readonly storageClassName?: string;
}

/** Properties of {@link Redis}. */
export interface RedisProps {
  /** Run Redis in the cluster; `false`: use an external one (`host`). @default true */
  readonly enabled?: boolean;
  /** Host of the external Redis; only with `enabled: false`. @default - none: required when `enabled` is false */
  readonly host?: string;
  /** TCP port. @default 6379 */
  readonly port?: number;
  /** Database index in the URL. @default 0 */
  readonly database?: number;
  /** Image, pinned. @default 'docker.io/library/redis:7.2.5-alpine' */
  readonly image?: string;
  /** Requests and limits. @default 100m/128Mi requests, 500m/256Mi limits */
  readonly resources?: ComputeResources;
  /** Keep data on a PVC (AOF); `false`: in memory only, lost on restart. @default false */
  readonly persistence?: RedisPersistence | false;
  /** Labels that make a pod a client. @default { 'erp-k8s.io/redis-client': 'true' } */
  readonly clientLabels?: Record<string, string>;
  /** A NetworkPolicy admitting only client pods to the port. @default true */
  readonly networkPolicy?: boolean;
}

const NAME = 'redis';
const USER = 999; // the official image's redis UID

/**
 * A minimal Redis for the Celery broker and cache in development (seeds 001,
 * 003, 004): StatefulSet and Service `redis`, non-root, read-only root
 * filesystem, probes, resources, optional persistence, and a NetworkPolicy
 * that admits only client pods (there is no password: the policy is the
 * access control, so keep it on). With `enabled: false` it only describes an
 * external Redis, so the application code does not change.
 */
export class Redis extends Construct implements IRedis {
  /** What the app connects to. */
  public readonly connection: RedisConnection;
  /** The StatefulSet (id 'Resource'); undefined when external. */
  public readonly statefulSet?: kplus.StatefulSet;
  /** Service `redis`; undefined when external. */
  public readonly service?: kplus.Service;
  /** The NetworkPolicy, if any. */
  public readonly networkPolicy?: kplus.k8s.KubeNetworkPolicy;

  constructor(scope: Construct, id: string, props: RedisProps = {}) {
    super(scope, id);
    checkAppObjects(this);
    checkShape(this, props, REDIS_PROPS);
    const enabled = props.enabled ?? true;
    const port = checkPort(this, 'port', props.port ?? 6379);
    const database = checkInt(this, 'database', props.database ?? 0, 0, 15);
    const clientLabels = checkClientLabels(this, props.clientLabels ?? { 'erp-k8s.io/redis-client': 'true' });
    let host = NAME;
    if (!enabled) {
      for (const f of ['image', 'resources', 'persistence'] as const) {
        if (props[f] !== undefined) fail(this, f, props[f], "only applies to the in-cluster Redis; remove it or set 'enabled' to true");
      }
      if (props.host === undefined) fail(this, 'host', undefined, "is required when 'enabled' is false (the external Redis host, e.g. 'redis.example.com')");
      host = checkHost(this, 'host', props.host);
    } else if (props.host !== undefined) {
      fail(this, 'host', props.host, `only applies with 'enabled: false'; the in-cluster Redis is reached as '${NAME}'`);
    }
    this.connection = { host, port, database, url: `redis://${host}:${port}/${database}`, clientLabels };
    if (!enabled) return;

    const image = checkImage(this, 'image', props.image ?? 'docker.io/library/redis:7.2.5-alpine');
    const r = checkResources(this, 'resources', props.resources ?? resources('100m', '128Mi', '500m', '256Mi'));
    const persistence = props.persistence ?? false;
    const labels = standardLabels(NAME, 'cache', 'erp');

    const headless = new kplus.Service(this, 'Headless', {
      metadata: { name: `${NAME}-headless`, labels },
      clusterIP: 'None',
      ports: [{ name: NAME, port, targetPort: port }],
    });
    const sts = new kplus.StatefulSet(this, 'Resource', {
      metadata: { name: NAME, labels },
      podMetadata: { labels },
      select: false,
      replicas: 1,
      service: headless,
      automountServiceAccountToken: false,
      securityContext: restrictedPod(USER, USER),
    });
    this.statefulSet = sts;
    stableIdentity(sts, labels);
    stableHeadlessService(headless, sts);
    disableServiceLinks(sts);
    const ping = (period: number, failureThreshold: number, delay = 0) => kplus.Probe.fromCommand(
      ['sh', '-c', `redis-cli -h 127.0.0.1 -p ${port} ping | grep -q PONG`],
      { initialDelaySeconds: Duration.seconds(delay), periodSeconds: Duration.seconds(period), timeoutSeconds: Duration.seconds(3), failureThreshold },
    );
    const storage = persistence ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--save', '', '--appendonly', 'no'];
    const server = addContainer(sts, {
      name: NAME,
      image,
      // No password: `--protected-mode no` lets other pods in; the NetworkPolicy decides which.
      command: ['redis-server', '--port', String(port), '--bind', '0.0.0.0', '--protected-mode', 'no', '--dir', '/data', ...storage],
      ports: [{ number: port, name: NAME }],
      startup: ping(5, 60),
      readiness: ping(10, 3),
      liveness: ping(20, 3, 10),
    }, { resources: r, user: USER });

    const obj = ApiObject.of(sts);
    if (persistence) {
      const size = persistence.size ?? '1Gi';
      parseBytes(this, 'persistence.size', size);
      const storageClassName = persistence.storageClassName === undefined ? undefined
        : checkDnsSubdomain(this, 'persistence.storageClassName', persistence.storageClassName);
      // Mounted by JSON patch (the claim comes from the template, not from a pod volume); the only mount.
      obj.addJsonPatch(JsonPatch.add('/spec/template/spec/containers/0/volumeMounts', [{ name: `${NAME}-data`, mountPath: '/data' }]));
      obj.addJsonPatch(JsonPatch.add('/spec/volumeClaimTemplates', [claimTemplate(`${NAME}-data`, labels, size, storageClassName)]));
      obj.addJsonPatch(JsonPatch.add('/spec/persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' }));
    } else {
      server.mount('/data', kplus.Volume.fromEmptyDir(this, 'Data', 'data'));
    }

    this.service = new kplus.Service(this, 'Service', {
      metadata: { name: NAME, labels },
      type: kplus.ServiceType.CLUSTER_IP,
      selector: stablePods(sts),
      ports: [{ name: NAME, port, targetPort: port }],
    });

    if (props.networkPolicy ?? true) {
      this.networkPolicy = clientsOnlyPolicy(this, NAME, labels, clientLabels, port);
    }
  }
}
