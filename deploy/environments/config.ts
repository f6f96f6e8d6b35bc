import { PostgresSslMode } from '../../src/data/database';
import { OffsiteBackupOptions } from '../../src/data/backup-options';
import { ComputeResources } from '../../src/internal/resources';

/** In-cluster PostgreSQL (CostMgmtPostgres in the infrastructure chart). */
export interface InClusterDatabase {
  readonly mode: 'in-cluster';
  /** PVC size. */
  readonly size: string;
  /** Storage class. @default - the cluster default */
  readonly storageClassName?: string;
}

/** A database on a PostgreSQL server this project does not run. */
export interface ExternalServerDatabase {
  readonly host: string;
  readonly port: number;
  readonly databaseName: string;
  /** Secret with keys username and password (created by you; `database` may be there too). */
  readonly secretName: string;
  /** The server's PostgreSQL major version (seed 004: 15): the backup client must match it. */
  readonly version: number;
  /** libpq sslmode of every client. @default PostgresSslMode.REQUIRE */
  readonly sslMode?: PostgresSslMode;
  /** Secret (created by you) with the key `ca.crt`; required for verify-ca / verify-full. @default - none */
  readonly caSecretName?: string;
}

/** A PostgreSQL server this project does not run. */
export interface ExternalDatabaseConfig extends ExternalServerDatabase {
  readonly mode: 'external';
}

/**
 * Requests and limits per component, over the constructs' defaults (the
 * seeds' figures). The committed environments leave them unset; a small
 * cluster (kind, minikube, a 2-CPU test node) sets lower requests the way a
 * user sizes an app for it.
 */
export interface EnvironmentSizing {
  readonly api?: ComputeResources;
  readonly migrations?: ComputeResources;
  readonly celeryWorker?: ComputeResources;
  readonly celeryBeat?: ComputeResources;
  /** The wait init containers of the Celery pods. */
  readonly celeryInit?: ComputeResources;
  readonly gateway?: ComputeResources;
  readonly postgres?: ComputeResources;
  readonly redis?: ComputeResources;
  /** Bootstrap Job and maintenance CronJobs. */
  readonly operations?: ComputeResources;
  readonly backup?: ComputeResources;
  readonly credentials?: ComputeResources;
}

/** Redis run in the infrastructure chart, or an external one. */
export type RedisConfig = { readonly mode: 'in-cluster' } | { readonly mode: 'external'; readonly host: string; readonly port: number };

/**
 * Everything that differs between environments, and nothing else: the
 * constructs are the same for all of them.
 */
export interface EnvironmentConfig {
  /** dev, staging or prod: the folder under dist/. */
  readonly name: string;
  /** Namespace of every object. */
  readonly namespace: string;
  /** Production rules apply (seed 002 checklist): DEBUG off, strong keys, TLS, no `latest`... */
  readonly production: boolean;
  /** Images, pinned. */
  readonly images: { readonly api: string; readonly gateway: string };
  /** Allow `latest`/untagged images (development only). */
  readonly allowLatestImages: boolean;
  /** Release id (commit hash) for the migration Job name. @default - hash of image + commands */
  readonly releaseId?: string;
  /** The ERP API. */
  readonly api: {
    readonly host: string;
    /** Fixed replicas when autoscaling is off. */
    readonly replicas: number;
    /** HPA bounds, or false. */
    readonly autoscaling: { readonly minReplicas: number; readonly maxReplicas: number } | false;
    /** @default - the construct's (seed 000) */
    readonly resources?: ComputeResources;
    /** Storage class of the media PVC. */
    readonly mediaStorageClass: string;
    /** ReadWriteMany lets replicas spread over nodes (needs an RWX class); ReadWriteOnce pins them to one node. */
    readonly mediaAccessMode: 'ReadWriteOnce' | 'ReadWriteMany';
  };
  /** Celery. */
  readonly celery: { readonly workerReplicas: number; readonly concurrency: number };
  /** The API gateway (seed 003). */
  readonly gateway: {
    readonly host: string;
    readonly replicas: number;
    readonly allowedHosts: string[];
    /**
     * The gateway's own database when `database` is external (required then).
     * In-cluster, the server creates role and database `api_gateway` for it.
     * @default - in-cluster: database `api_gateway` on the environment's server
     */
    readonly database?: ExternalServerDatabase;
  };
  /** cert-manager ClusterIssuer; undefined = no TLS (dev). */
  readonly tlsIssuer?: string;
  /** Database. */
  readonly database: InClusterDatabase | ExternalDatabaseConfig;
  /** Redis (Celery broker, cache). */
  readonly redis: RedisConfig;
  /** Backups: pg_dump CronJob. */
  readonly backups: {
    readonly schedule: string;
    readonly retentionDays: number;
    readonly size: string;
    /** Copies of every set in object storage (seed 004: off-site, 30 days in production). @default - local only */
    readonly offsite?: OffsiteBackupOptions;
    /** Archive the API's media uploads with every backup (seed 004). @default true */
    readonly media?: boolean;
  };
  /** ServiceMonitor + VPA recommendations. */
  readonly monitoring: boolean;
  /**
   * Non-secret application settings (seed 002 .env): APP_ENV, DEBUG,
   * ALLOWED_ORIGINS, ALLOW_REGISTRATION, ALLOW_BOOTSTRAP_WHEN_USERS_EXIST.
   * Secrets (JWT_SECRET_KEY, BOOTSTRAP_KEY, ...) go in the `erp-api-env`
   * Secret, never here.
   */
  readonly appSettings: Record<string, string>;
  /** Admin e-mail for the bootstrap Job. */
  readonly adminEmail: string;
  /** Run the monthly cleanup for real. */
  readonly cleanupExecute: boolean;
  /** Per-component resources. @default - the constructs' defaults (seed figures) */
  readonly sizing?: EnvironmentSizing;
}
