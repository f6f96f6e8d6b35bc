import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkAppObjects } from '../internal/app-objects';
import { REDIS_PROPS, checkShape } from '../internal/props-shape';
import { checkHost } from './database';
import { clientsOnlyPolicy } from '../internal/network-policies';
import { enabledOptions } from '../internal/dialect';
import { volumeStorage } from '../internal/storage';
import { addServerService, addStatefulServer, StatefulServerOptions } from './stateful-server';
import { addContainer, standardLabels } from '../internal/pod-helpers';
import { checkResources, ComputeResources, resources } from '../internal/resources';
import { addClaimTemplate, ResolvedStorage } from '../internal/storage';
import { checkClientLabels, checkImage, checkInt, checkPort, fail } from '../internal/validate';

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
  /** Keep data on a PVC; `false`: in memory only. @default true */
  readonly enabled?: boolean;
  /** Size of the `redis-data` PVC. @default Size.gibibytes(1) */
  readonly volumeSize?: Size;
  /**
   * Size of the `redis-data` PVC as a quantity string (`'1Gi'`).
   * @deprecated use `volumeSize` (`Size.gibibytes(1)`)
   * @default - see `volumeSize`
   */
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
  /**
   * Keep data on a PVC (AOF); `{ enabled: false }` (or `false`, its
   * deprecated form): in memory only, lost on restart.
   * @default - in memory only
   */
  readonly persistence?: RedisPersistence | false;
  /** Labels that make a pod a client. @default { 'erp-k8s.io/redis-client': 'true' } */
  readonly clientLabels?: Record<string, string>;
  /** A NetworkPolicy admitting only client pods to the port. @default true */
  readonly networkPolicy?: boolean;
}

const NAME = 'redis';
const USER = 999; // the official image's redis UID

/** {@link RedisProps}, checked, defaults applied, deprecated aliases mapped. */
interface ResolvedRedis {
  readonly connection: RedisConnection;
  readonly networkPolicy: boolean;
  /** The in-cluster server; undefined for an external one. */
  readonly server?: RedisServerConfig;
}

/** The in-cluster Redis' settings. */
interface RedisServerConfig {
  readonly image: string;
  readonly resources: ComputeResources;
  /** The data volume; undefined: in memory only. */
  readonly persistence?: ResolvedStorage;
}

/** Checks the props once and resolves them (errors name `scope`). */
function resolveRedis(scope: Construct, props: RedisProps): ResolvedRedis {
  const enabled = props.enabled ?? true;
  const port = checkPort(scope, 'port', props.port ?? 6379);
  const database = checkInt(scope, 'database', props.database ?? 0, 0, 15);
  const clientLabels = checkClientLabels(scope, props.clientLabels ?? { 'erp-k8s.io/redis-client': 'true' });
  let host = NAME;
  if (!enabled) {
    for (const f of ['image', 'resources', 'persistence'] as const) {
      if (props[f] !== undefined) fail(scope, f, props[f], "only applies to the in-cluster Redis; remove it or set 'enabled' to true");
    }
    if (props.host === undefined) fail(scope, 'host', undefined, "is required when 'enabled' is false (the external Redis host, e.g. " +
      "'redis.example.com')");
    host = checkHost(scope, 'host', props.host);
  } else if (props.host !== undefined) {
    fail(scope, 'host', props.host, `only applies with 'enabled: false'; the in-cluster Redis is reached as '${NAME}'`);
  }
  const connection = { host, port, database, url: `redis://${host}:${port}/${database}`, clientLabels };
  const networkPolicy = props.networkPolicy ?? true;
  if (!enabled) return { connection, networkPolicy };
  const image = checkImage(scope, 'image', props.image ?? 'docker.io/library/redis:7.2.5-alpine');
  const r = checkResources(scope, 'resources', props.resources ?? resources('100m', '128Mi', '500m', '256Mi'));
  const p = enabledOptions(scope, 'persistence', props.persistence, false);
  const persistence = p && volumeStorage(scope, 'persistence.', p, 'size', p.size, Size.gibibytes(1));
  return { connection, networkPolicy, server: { image, resources: r, persistence } };
}

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
    const config = resolveRedis(this, props);
    this.connection = config.connection;
    if (!config.server) return;
    const { port, clientLabels } = config.connection;
    const o: StatefulServerOptions = { name: NAME, labels: standardLabels(NAME, 'cache', 'erp'), port, portName: NAME, user: USER };
    const { statefulSet } = addStatefulServer(this, o);
    this.statefulSet = statefulSet;
    this.addServerContainer(statefulSet, config.server, port, o.labels);
    this.service = addServerService(this, o, statefulSet);
    if (config.networkPolicy) this.networkPolicy = clientsOnlyPolicy(this, NAME, o.labels, clientLabels, port);
  }

  /** The container: redis-server without password (the NetworkPolicy decides who connects), probes, its data volume. */
  private addServerContainer(sts: kplus.StatefulSet, server: RedisServerConfig, port: number, labels: Record<string, string>): void {
    const ping = (period: number, failureThreshold: number, delay = 0) => kplus.Probe.fromCommand(
      ['sh', '-c', `redis-cli -h 127.0.0.1 -p ${port} ping | grep -q PONG`],
      {
        initialDelaySeconds: Duration.seconds(delay), periodSeconds: Duration.seconds(period), timeoutSeconds: Duration.seconds(3),
        failureThreshold,
      },
    );
    const storage = server.persistence ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--save', '', '--appendonly', 'no'];
    const container = addContainer(sts, {
      name: NAME,
      image: server.image,
      // No password: `--protected-mode no` lets other pods in; the NetworkPolicy decides which.
      command: ['redis-server', '--port', String(port), '--bind', '0.0.0.0', '--protected-mode', 'no', '--dir', '/data', ...storage],
      ports: [{ number: port, name: NAME }],
      startup: ping(5, 60),
      readiness: ping(10, 3),
      liveness: ping(20, 3, 10),
    }, { resources: server.resources, user: USER });
    if (server.persistence) {
      addClaimTemplate(sts, { name: `${NAME}-data`, labels, storage: server.persistence, container, mountPath: '/data' });
    } else {
      container.mount('/data', kplus.Volume.fromEmptyDir(this, 'Data', 'data'));
    }
  }
}
