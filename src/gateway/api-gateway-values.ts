import { ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { CostMgmtPostgresProps } from '../data/postgres-props';
import { IDatabase } from '../data/database';
import { MigrationDelivery } from '../migrations/delivery';
import { Migrations } from '../migrations/migrations';
import { TrafficSource } from '../internal/network-policies';
import { ErpApiProbes } from '../app/probes';
import { RedisProps } from '../data/redis';
import { ComputeResources } from '../internal/resources';
import { WebServiceProps } from '../app/web-service-props';

/** `image` of {@link ApiGatewayChartProps}. */
export interface ApiGatewayImage {
  /** @default 'devyusupov/statushawk-api-gateway' */
  readonly repository?: string;
  /**
   * Image tag. The seed's values.yaml says `latest`; the default here is a
   * pinned version instead (project rule: no `:latest` defaults, every pod
   * of a release runs the same code). `latest` is still accepted unless
   * `production` is true. A digest pins the image too: `sha256:<64 hex>`
   * (or `1.2.0@sha256:<64 hex>`), or `repository: 'repo@sha256:<64 hex>'`
   * without a tag; the default `appVersion` is then the tag, else the
   * digest's first 12 hex digits.
   * @default '1.0.0' (none when `repository` holds a digest)
   */
  readonly tag?: string;
}

/** `service` of {@link ApiGatewayChartProps}. */
export interface ApiGatewayService {
  /** ClusterIP, NodePort or LoadBalancer. @default kplus.ServiceType.CLUSTER_IP */
  readonly type?: kplus.ServiceType;
  /** Service port (also the container port). @default 8000 */
  readonly port?: number;
}

/** One host of the Ingress. */
export interface ApiGatewayIngressHost {
  /** Fully qualified host name (a leading `*.` wildcard is allowed). */
  readonly host: string;
  /** Path prefixes routed to the Service. @default ['/'] */
  readonly paths?: string[];
}

/**
 * TLS of the Ingress: one certificate for every host.
 * @deprecated use `ingress.clusterIssuer` and `ingress.tlsSecretName`
 */
export interface ApiGatewayIngressTls {
  /** Secret holding the certificate (made by cert-manager when `clusterIssuer` is set). @default '<name>-tls' */
  readonly secretName?: string;
  /** cert-manager ClusterIssuer that issues the certificate. @default - none: the Secret is provided by you */
  readonly clusterIssuer?: string;
}

/** `ingress` of {@link ApiGatewayChartProps}. */
export interface ApiGatewayIngress {
  /** @default true */
  readonly enabled?: boolean;
  /** IngressClass. @default 'nginx' */
  readonly className?: string;
  /** Hosts and paths; must not be empty while enabled. @default [{ host: 'api-gateway.statushawk.internal', paths: ['/'] }] */
  readonly hosts?: ApiGatewayIngressHost[];
  /**
   * cert-manager ClusterIssuer that issues the certificate (TLS on, one
   * certificate for every host).
   * @default - none: TLS only if `tlsSecretName` is set (a Secret you provide)
   */
  readonly clusterIssuer?: string;
  /** Secret holding the certificate; setting it turns TLS on. @default '<name>-tls' when `clusterIssuer` is set, else no TLS */
  readonly tlsSecretName?: string;
  /**
   * TLS (`tls: {}` is TLS with the Secret `<name>-tls`).
   * @deprecated use `clusterIssuer` and `tlsSecretName`
   */
  readonly tls?: ApiGatewayIngressTls;
  /** Extra annotations. @default {} */
  readonly annotations?: Record<string, string>;
}

/**
 * The nested `migrations` of {@link ApiGatewayChartProps}.
 * @deprecated use the flat props, as on ErpApi: `migrations` (a `Migrations`, was `framework`),
 * `runMigrationsOnStartup`, `migrationJob`, `preMigrationBackup`, `migrationDelivery`, `releaseId`, `migrationResources`
 */
export interface ApiGatewayMigrations {
  /**
   * Framework. The gateway's migration lock is its own: it never waits for
   * (or holds up) the ERP's migrations in another database.
   * @default - Migrations.django({ lockKey: API_GATEWAY_LOCK_KEY }) (7245502); with `shareDatabase`,
   * Migrations.django() (ErpApi's 7245501: one schema, one lock)
   */
  readonly framework?: Migrations;
  /** Migrate in an init container of every pod, before the server starts. @default true */
  readonly runOnStartup?: boolean;
  /** Create the migration Job. @default true */
  readonly job?: boolean;
  /**
   * Dump the database right before each release migrates, when `database`
   * has backups; every migrator of the release waits for the dump (see
   * `ErpApiProps.preMigrationBackup`).
   * @default true
   */
  readonly preMigrationBackup?: boolean;
  /**
   * How the Job is delivered. Helm runs pre-install hooks before any release
   * object exists, and this chart's ServiceAccount, Secret and (in dev)
   * PostgreSQL are release objects, so the default hooks are post-install
   * and pre-upgrade (Argo CD: a Sync hook in wave 1, after the chart's
   * objects). On first install the init containers migrate before any pod
   * is Ready; on upgrade the Job migrates before the new pods roll out.
   * @default MigrationDelivery.all({ helmHooks: [POST_INSTALL, PRE_UPGRADE], argoCdHook: SYNC, syncWave: 1 })
   */
  readonly delivery?: MigrationDelivery;
  /** Release id (commit hash) in the Job name. @default - hash of image and commands */
  readonly releaseId?: string;
  /** Resources of the Job and the init containers. @default - the app's `resources` */
  readonly resources?: ComputeResources;
}

/** `networkPolicy` of {@link ApiGatewayChartProps}. */
export interface ApiGatewayNetworkPolicy {
  /** @default true */
  readonly enabled?: boolean;
  /**
   * Who may reach the HTTP port: the ingress controller.
   * @default [{ namespace: 'ingress-nginx', podLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } }]
   */
  readonly ingressFrom?: TrafficSource[];
  /**
   * Where the database is. @default - the in-chart PostgreSQL pods; an
   * external database's IPv4 address; otherwise any address on the
   * database port
   */
  readonly databasePeers?: kplus.k8s.NetworkPolicyPeer[];
  /** Further TCP ports open to any destination (e.g. 443). @default [] */
  readonly egressPorts?: number[];
  /** Further egress rules, as written. @default [] */
  readonly extraEgress?: kplus.k8s.NetworkPolicyEgressRule[];
  /** Also a deny-all policy for the chart's pods (kept if the allow policy is removed). @default true */
  readonly defaultDeny?: boolean;
}

/**
 * `postgresql` of {@link ApiGatewayChartProps}: CostMgmtPostgres in this
 * chart, for local development. Every CostMgmtPostgres prop can be set, with
 * the gateway's own defaults where they differ:
 *
 * - `enabled`: run PostgreSQL in this chart (Helm's `postgresql.enabled`);
 *   default `false` here (else the gateway uses `database`);
 * - `databaseName` and `username`: default `'api_gateway'`;
 * - `roles` and `databases`: default `[]`;
 * - `backup`: default `{ enabled: false }` (development data);
 * - `volumeSize`: default `Size.gibibytes(1)`.
 */
export interface ApiGatewayPostgresql extends CostMgmtPostgresProps {}

/**
 * `redis` of {@link ApiGatewayChartProps}: Redis in this chart, for local
 * development (sets REDIS_URL). Every Redis prop can be set; `enabled` (run
 * Redis in this chart, Helm's `redis.enabled`) defaults to `false` here.
 */
export interface ApiGatewayRedis extends RedisProps {}

/**
 * The "values" of {@link ApiGatewayChart}: the seed-003 values.yaml, typed.
 * Nested values merge with their defaults field by field, as Helm merges
 * values files (`image: { tag: '1.2.0' }` keeps the repository); lists
 * (`ingress.hosts`, `allowedHosts`) replace the default.
 */
export interface ApiGatewayChartProps extends ChartProps, WebServiceProps {
  /**
   * Django ALLOWED_HOSTS (set as a comma-separated variable). Required: the
   * seed's "missing ALLOWED_HOSTS returns 400" becomes a synth-time error.
   * Every Ingress host must be allowed. `*` is refused in production.
   */
  readonly allowedHosts: string[];
  /** Production rules: no `latest` tag, no `*` host, no DEBUG, no values-supplied Secret, no dev dependencies. @default false */
  readonly production?: boolean;
  /**
   * Base name of every object (the Helm release name): a DNS-1035 label (the
   * Service is called `<name>`) of at most 31 characters, so that the
   * pre-migration dump Job `<name>-pre-migration-backup-<10 hex>` fits in 63.
   * @default 'api-gateway'
   */
  readonly name?: string;
  /** Chart version (semver): bump it when the templates change. @default '0.1.0' */
  readonly chartVersion?: string;
  /** App version (`app.kubernetes.io/version`). @default - the image tag, or the first 12 hex digits of a digest-only image */
  readonly appVersion?: string;
  /** Replicas of the server. @default 2 */
  readonly replicas?: number;
  /**
   * Replicas of the server.
   * @deprecated use `replicas`
   */
  readonly replicaCount?: number;
  /** @default devyusupov/statushawk-api-gateway:1.0.0 */
  readonly image?: ApiGatewayImage;
  /** @default ClusterIP, port 8000 */
  readonly service?: ApiGatewayService;
  /** @default enabled, class nginx, api-gateway.statushawk.internal with paths ['/'], no TLS */
  readonly ingress?: ApiGatewayIngress;
  /** @default 100m/256Mi requests, 500m/512Mi limits */
  readonly resources?: ComputeResources;
  /** Plain variables, merged over the defaults. @default { DEBUG: 'False', DJANGO_SETTINGS_MODULE: 'config.settings.production' } */
  readonly env?: Record<string, string>;
  /**
   * Secret values given at synth time (see `loadSecretValues`: a git-ignored
   * `secrets.<env>.yaml` or API_GATEWAY_* variables). The chart then creates
   * the Secret `<name>-env`; refused in production.
   * @default - no Secret is created: `existingSecret` is referenced
   */
  readonly secretValues?: Record<string, string>;
  /** Secret (created by you) loaded with envFrom when `secretValues` is absent. @default '<name>-env' */
  readonly existingSecret?: string;
  /**
   * Database to connect to (adds DB_* variables, and the TLS variables and
   * CA mount its connection asks for). The gateway's own, e.g.
   * `postgres.databaseFor('api_gateway')`.
   * @default - the in-chart PostgreSQL when enabled, else the connection comes from the Secret
   */
  readonly database?: IDatabase;
  /**
   * Share `database` with another application of the App (e.g. ErpApi's
   * `koku`). Without it, that is a synth-time error: the two Django projects
   * would share django_migrations, auth and sessions tables and the owner
   * role. With it, the default migration lock is ErpApi's, so the two
   * never migrate the one schema at once.
   * @default false
   */
  readonly shareDatabase?: boolean;
  /**
   * Framework. The gateway's migration lock is its own: it never waits for
   * (or holds up) the ERP's migrations in another database. (An
   * `ApiGatewayMigrations` object is the deprecated nested form.)
   * @default - Migrations.django({ lockKey: API_GATEWAY_LOCK_KEY }) (7245502); with `shareDatabase`,
   * Migrations.django() (ErpApi's 7245501: one schema, one lock)
   */
  readonly migrations?: Migrations | ApiGatewayMigrations;
  /**
   * How the migration Job is delivered. Helm runs pre-install hooks before
   * any release object exists, and this chart's ServiceAccount, Secret and
   * (in dev) PostgreSQL are release objects, so the default hooks are
   * post-install and pre-upgrade (Argo CD: a Sync hook in wave 1, after the
   * chart's objects). On first install the init containers migrate before
   * any pod is Ready; on upgrade the Job migrates before the new pods roll out.
   * @default MigrationDelivery.all({ helmHooks: [POST_INSTALL, PRE_UPGRADE], argoCdHook: SYNC, syncWave: 1 })
   */
  readonly migrationDelivery?: MigrationDelivery;
  /** Resources of the migration Job and the init containers. @default - the app's `resources` */
  readonly migrationResources?: ComputeResources;
  /** Probes. @default - readiness 30s/10s, liveness 60s/20s on /api/health/, startup budget 5 min */
  readonly probes?: ErpApiProbes;
  /** @default - see ApiGatewayNetworkPolicy */
  readonly networkPolicy?: ApiGatewayNetworkPolicy;
  /** @default disabled */
  readonly postgresql?: ApiGatewayPostgresql;
  /** @default disabled */
  readonly redis?: ApiGatewayRedis;
}
