import { Duration, Size } from 'cdk8s';
import { IConstruct } from 'constructs';
import { fail } from './validate';

/*
 * Plain-JavaScript safety: TypeScript refuses a misspelt prop or a string
 * where an array goes, JavaScript (and a values file spread into props) does
 * not. Each public props interface has a shape here, checked at the top of
 * its constructor: an unknown key is refused with the closest known one, a
 * value of the wrong runtime type with the type expected.
 * test/props-shape.test.ts keeps every shape equal to its interface.
 */

/** What a prop holds at run time. */
export type PropType =
  | 'string' | 'number' | 'boolean' | 'string[]' | 'number[]' | 'array' | 'Duration' | 'Size'
  /** A map of strings (env, labels). */
  | 'map'
  /** An object not described here (a construct, a choice class, an interface such as IDatabase). */
  | 'object'
  | 'any'
  | PropsShape;

/** The keys of a props interface and what each holds. */
export class PropsShape {
  constructor(
    /** Interface name, for messages and the drift test. */
    public readonly name: string,
    public readonly keys: Readonly<Record<string, PropType>>,
    /** Whether `false` is accepted instead (props typed `X | false`). */
    public readonly orFalse = false,
  ) {}

  /** The same shape, `false` accepted too. */
  public orFalseToo(): PropsShape {
    return new PropsShape(this.name, this.keys, true);
  }
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The known key closest to `key`: the smallest case-insensitive edit
 * distance, less half the length of the prefix they share (`replicas` is
 * nearer `replicaCount` than `redis`).
 */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  const a = key.toLowerCase();
  for (const k of known) {
    const b = k.toLowerCase();
    let prefix = 0;
    while (prefix < a.length && a[prefix] === b[prefix]) prefix++;
    const score = levenshtein(a, b) - prefix / 2;
    if (score < bestScore) [best, bestScore] = [k, score];
  }
  return best;
}

const TYPE_NAMES: Record<string, string> = {
  'string': 'a string',
  'number': 'a number',
  'boolean': 'a boolean (true or false)',
  'string[]': "an array of strings, one item per argument (e.g. ['gunicorn', 'config.wsgi', '--bind', '0.0.0.0:8000']), not one string",
  'number[]': 'an array of numbers',
  'array': 'an array',
  'Duration': "a cdk8s Duration (e.g. Duration.seconds(30)), not a number or a string",
  'Size': "a cdk8s Size (e.g. Size.mebibytes(100)), not a number or a string",
  'map': "an object of string values (e.g. { KEY: 'value' })",
  'object': 'an object',
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matches(type: Exclude<PropType, PropsShape>, value: unknown): boolean {
  switch (type) {
    case 'string': case 'number': case 'boolean': return typeof value === type && !(type === 'number' && Number.isNaN(value));
    case 'string[]': return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'number[]': return Array.isArray(value) && value.every((v) => typeof v === 'number');
    case 'array': return Array.isArray(value);
    case 'Duration': return value instanceof Duration;
    case 'Size': return value instanceof Size;
    case 'map': return isPlainObject(value);
    case 'object': return typeof value === 'object' && value !== null;
    default: return true;
  }
}

/**
 * Checks `value` against `shape`: unknown keys and values of the wrong
 * runtime type fail with the construct path, the prop, the value and what is
 * expected. `undefined` props are left to the constructor (defaults, required).
 */
export function checkShape(scope: IConstruct | string, value: unknown, shape: PropsShape, prefix = ''): void {
  if (value === undefined || value === null) return;
  const field = (k: string) => `${prefix}${k}`;
  if (value === false && shape.orFalse) return;
  if (!isPlainObject(value)) {
    fail(scope, prefix.replace(/\.$/, '') || 'props', value, `must be an object (${shape.name})${shape.orFalse ? ' or false' : ''}`);
  }
  const known = Object.keys(shape.keys);
  for (const [k, v] of Object.entries(value)) {
    const type = shape.keys[k];
    if (type === undefined) {
      if (v === undefined) continue;
      const near = closest(k, known);
      fail(scope, field(k), v, `is not a prop of ${shape.name}${near ? `; did you mean '${field(near)}'?` : ''} (known: ${known.join(', ')})`);
    }
    if (v === undefined || v === null || type === 'any') continue;
    if (type instanceof PropsShape) checkShape(scope, v, type, `${field(k)}.`);
    else if (!matches(type, v)) fail(scope, field(k), v, `must be ${TYPE_NAMES[type]}`);
  }
}

const QUANTITIES = new PropsShape('ResourceQuantities', { cpu: 'string', memory: 'string' });
const RESOURCES = new PropsShape('ComputeResources', { requests: QUANTITIES, limits: QUANTITIES });
const PROBES = new PropsShape('ErpApiProbes', {
  path: 'string', host: 'string', readinessInitialDelay: 'Duration', readinessPeriod: 'Duration', livenessInitialDelay: 'Duration',
  livenessPeriod: 'Duration', failureThreshold: 'number', timeout: 'Duration', startupTimeout: 'Duration', startupProbe: 'boolean',
});

/** {@link ErpApiProps}. */
export const ERP_API_PROPS = new PropsShape('ErpApiProps', {
  image: 'string', allowLatestImage: 'boolean', name: 'string', envSecretName: 'string', database: 'object', redis: 'object', env: 'map',
  migrations: 'object', runMigrationsOnStartup: 'boolean', migrationJob: 'boolean', preMigrationBackup: 'boolean', migrationDelivery: 'object',
  releaseId: 'string', migrationResources: RESOURCES, resources: RESOURCES, port: 'number', command: 'string[]', user: 'number', replicas: 'number',
  autoscaling: new PropsShape('ErpApiAutoscaling', {
    enabled: 'boolean', minReplicas: 'number', maxReplicas: 'number', cpuUtilization: 'number', memoryUtilization: 'number',
  }, true),
  vpa: new PropsShape('ErpApiVpa', { enabled: 'boolean', updateMode: 'string' }, true),
  probes: PROBES,
  // size (deprecated): a Size or a quantity string
  media: new PropsShape('ErpApiMedia', {
    enabled: 'boolean', volumeSize: 'Size', size: 'any', storageClassName: 'string', mountPath: 'string', accessMode: 'string',
  }, true),
  ingress: new PropsShape('ErpApiIngress', {
    enabled: 'boolean', host: 'string', className: 'string', clusterIssuer: 'string', tlsSecretName: 'string', websocketTimeout: 'Duration',
    maxBodySize: 'Size',
  }),
  metrics: new PropsShape('ErpApiMetrics', {
    enabled: 'boolean', port: 'number', path: 'string', interval: 'Duration', serviceMonitorLabels: 'map',
  }, true),
  progressDeadline: 'Duration', preStopDelay: 'Duration', terminationGracePeriod: 'Duration', spread: 'boolean',
  networkPolicy: new PropsShape('ErpApiNetworkPolicy', {
    enabled: 'boolean', ingressFrom: 'array', metricsFrom: 'array', egressPorts: 'number[]',
  }, true),
  labels: 'map',
});

/** {@link CeleryPairProps}. */
export const CELERY_PAIR_PROPS = new PropsShape('CeleryPairProps', {
  api: 'object', celeryApp: 'string',
  worker: new PropsShape('CeleryWorkerOptions', {
    concurrency: 'number', replicas: 'number', resources: RESOURCES, taskTimeLimit: 'Duration', terminationGracePeriod: 'Duration',
    queues: 'string[]', logLevel: 'string', heartbeatInterval: 'Duration', heartbeatMaxAge: 'Duration', startupTimeout: 'Duration',
  }),
  beat: new PropsShape('CeleryBeatOptions', {
    replicas: 'number', scheduler: 'string', resources: RESOURCES, logLevel: 'string', heartbeatInterval: 'Duration',
    heartbeatMaxAge: 'Duration', startupTimeout: 'Duration',
  }),
  initResources: RESOURCES, migrationWaitTimeout: 'Duration',
});

/** {@link ErpOperationsProps}. */
export const ERP_OPERATIONS_PROPS = new PropsShape('ErpOperationsProps', {
  api: 'object',
  bootstrap: new PropsShape('ErpBootstrapOptions', {
    adminUsername: 'string', adminEmail: 'string', cli: 'string',
    adminPasswordSecret: new PropsShape('adminPasswordSecret', { name: 'string', key: 'string' }),
  }),
  maintenance: new PropsShape('ErpMaintenanceOptions', {
    enabled: 'boolean', healthCheckSchedule: 'string', integrityCheckSchedule: 'string', cleanupSchedule: 'string', cleanupExecute: 'boolean',
    scriptDir: 'string', timeZone: 'string',
  }, true),
  bootstrapDelivery: 'object', resources: RESOURCES,
});

const OFFSITE_BACKUP = new PropsShape('OffsiteBackupOptions', {
  endpoint: 'string', bucket: 'string', prefix: 'string', credentialsSecretName: 'string', credentialsSecret: 'string', region: 'string',
  provider: 'string', forcePathStyle: 'boolean', retention: 'Duration', retentionDays: 'number', image: 'string',
});

/** {@link PostgresBackupOptions} (CostMgmtPostgresProps.backup; `false`: the deprecated form of `{ enabled: false }`). */
export const POSTGRES_BACKUP_OPTIONS = new PropsShape('PostgresBackupOptions', {
  enabled: 'boolean', schedule: 'string', timeZone: 'string', retention: 'Duration', retentionDays: 'number', volumeSize: 'Size', size: 'string',
  storageClassName: 'string', volume: 'object', image: 'string', clientVersion: 'number', databases: 'array', archives: 'array',
  offsite: OFFSITE_BACKUP, restore: 'boolean', preMigrationTimeout: 'Duration', resources: RESOURCES, timeout: 'Duration', initialBackup: 'boolean',
}, true);

/** {@link CostMgmtPostgresProps}. */
export const COST_MGMT_POSTGRES_PROPS = new PropsShape('CostMgmtPostgresProps', {
  enabled: 'boolean', host: 'string', port: 'number', databaseName: 'string', username: 'string', secretName: 'string', existingSecret: 'string',
  image: 'string', volumeSize: 'Size', storageSize: 'string', storageClassName: 'string', resources: RESOURCES, extensions: 'string[]',
  roles: 'string[]', databases: 'array',
  sharedPreloadLibraries: 'string[]', startupTimeout: 'Duration', credentialsImage: 'string', credentialsResources: RESOURCES,
  backup: POSTGRES_BACKUP_OPTIONS, clientLabels: 'map', networkPolicy: 'boolean',
  version: 'number', sslMode: 'string', caSecretName: 'string', tls: 'object',
});

/** {@link RedisProps}. */
export const REDIS_PROPS = new PropsShape('RedisProps', {
  enabled: 'boolean', host: 'string', port: 'number', database: 'number', image: 'string', resources: RESOURCES,
  persistence: new PropsShape('RedisPersistence', { enabled: 'boolean', volumeSize: 'Size', size: 'string', storageClassName: 'string' }, true),
  clientLabels: 'map', networkPolicy: 'boolean',
});

/** {@link ApiGatewayChartProps} (ChartProps included). */
export const API_GATEWAY_CHART_PROPS = new PropsShape('ApiGatewayChartProps', {
  namespace: 'string', labels: 'map', disableResourceNameHashes: 'boolean',
  allowedHosts: 'string[]', production: 'boolean', name: 'string', chartVersion: 'string', appVersion: 'string',
  replicas: 'number', replicaCount: 'number',
  image: new PropsShape('ApiGatewayImage', { repository: 'string', tag: 'string' }),
  service: new PropsShape('ApiGatewayService', { type: 'string', port: 'number' }),
  ingress: 'object', resources: RESOURCES, env: 'map', secretValues: 'map', existingSecret: 'string', database: 'object', shareDatabase: 'boolean',
  migrations: 'object', runMigrationsOnStartup: 'boolean', migrationJob: 'boolean', preMigrationBackup: 'boolean', migrationDelivery: 'object',
  releaseId: 'string', migrationResources: RESOURCES, probes: PROBES, networkPolicy: 'object', postgresql: 'object', redis: 'object', user: 'number',
  preStopDelay: 'Duration', terminationGracePeriod: 'Duration', spread: 'boolean',
});
