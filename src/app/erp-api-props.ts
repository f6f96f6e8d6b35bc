import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { VerticalPodAutoscalerSpecUpdatePolicyUpdateMode as VpaMode } from '../../imports/vpa-autoscaling.k8s.io';
import { IDatabase } from '../data/database';
import { MigrationDelivery } from '../migrations/delivery';
import { Migrations } from '../migrations/migrations';
import { TrafficSource } from '../internal/network-policies';
import { ErpApiProbes } from './probes';
import type { IRedis } from '../data/redis';
import { ComputeResources } from '../internal/resources';
import { WebServiceProps } from './web-service-props';

export { VpaMode };

/** Horizontal autoscaling of the API. */
export interface ErpApiAutoscaling {
  /** `false` turns it off. @default true */
  readonly enabled?: boolean;
  /** @default 1 */
  readonly minReplicas?: number;
  /** @default 6 */
  readonly maxReplicas?: number;
  /** Average CPU utilisation target, percent of requests. @default 70 */
  readonly cpuUtilization?: number;
  /** Average memory utilisation target, percent of requests. @default 75 */
  readonly memoryUtilization?: number;
}

/** Vertical Pod Autoscaler of the API. */
export interface ErpApiVpa {
  /** `false` turns it off. @default true */
  readonly enabled?: boolean;
  /**
   * VPA update mode. With the HPA on (it scales on CPU and memory) only
   * `Off` is allowed: the VPA then only recommends, so the two never fight
   * over the same metric. Without the HPA, `Recreate` (the seed's) applies
   * the recommendations.
   * @default - 'Off' when autoscaling is on, 'Recreate' otherwise
   */
  readonly updateMode?: VpaMode;
}

/** The media volume (Django MEDIA_ROOT). */
export interface ErpApiMedia {
  /** `false` turns it off. @default true */
  readonly enabled?: boolean;
  /**
   * Size of the volume.
   * @default Size.gibibytes(20)
   */
  readonly volumeSize?: Size;
  /**
   * Size of the volume.
   * @deprecated use `volumeSize` (a `Size`); a quantity string (`'20Gi'`) is still accepted here
   */
  readonly size?: Size | string;
  /** @default 'local-path' */
  readonly storageClassName?: string;
  /** @default '/app/media' */
  readonly mountPath?: string;
  /**
   * ReadWriteOnce (the seed's) can be mounted by pods on one node only: with
   * more than one replica the pods are pinned to one node (required pod
   * affinity). ReadWriteMany (needs an RWX storage class such as NFS/CephFS)
   * lets them spread.
   * @default kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE
   */
  readonly accessMode?: kplus.PersistentVolumeAccessMode;
}

/** The Ingress. */
export interface ErpApiIngress {
  /** `false`: no Ingress. @default true */
  readonly enabled?: boolean;
  /** Public host name, e.g. `erpapi.masterspace.co.ke` (required while enabled). */
  readonly host: string;
  /** @default 'nginx' */
  readonly className?: string;
  /**
   * cert-manager ClusterIssuer that issues the certificate (TLS on, HTTP
   * redirected to HTTPS).
   * @default - none: TLS only if `tlsSecretName` is set (a Secret you provide)
   */
  readonly clusterIssuer?: string;
  /** Secret holding the certificate; setting it turns TLS on. @default '<name>-tls' when `clusterIssuer` is set, else no TLS */
  readonly tlsSecretName?: string;
  /** WebSocket (Django Channels) proxy timeouts. @default Duration.hours(1) */
  readonly websocketTimeout?: Duration;
  /**
   * Largest request body the Ingress accepts (`proxy-body-size`): ingress-nginx
   * answers 413 above its 1m default, too small for uploads to the media volume.
   * @default Size.mebibytes(100)
   */
  readonly maxBodySize?: Size;
}

/** Prometheus scraping. */
export interface ErpApiMetrics {
  /** `false` turns it off. @default true */
  readonly enabled?: boolean;
  /** Container port named `metrics`. @default 8001 */
  readonly port?: number;
  /** @default '/metrics' */
  readonly path?: string;
  /** @default Duration.seconds(30) */
  readonly interval?: Duration;
  /**
   * Extra labels of the ServiceMonitor, for the Prometheus that selects it
   * (kube-prometheus-stack selects `release: <its release name>` by default).
   * @default {}
   */
  readonly serviceMonitorLabels?: Record<string, string>;
}

/** Network isolation of the app's pods (API, migration Job, Celery). */
export interface ErpApiNetworkPolicy {
  /** `false` turns it off. @default true */
  readonly enabled?: boolean;
  /** Who may send HTTP traffic to the API. @default [INGRESS_NGINX] */
  readonly ingressFrom?: TrafficSource[];
  /** Who may scrape the metrics port. @default [PROMETHEUS] */
  readonly metricsFrom?: TrafficSource[];
  /**
   * TCP ports the app's pods may open to any destination, besides cluster
   * DNS: PostgreSQL and Redis by default; add 443 for outbound HTTPS.
   * @default [5432, 6379] (plus the database's port)
   */
  readonly egressPorts?: number[];
}

/** Properties of {@link ErpApi}. */
export interface ErpApiProps extends WebServiceProps {
  /** Application image, pinned to a tag (`latest` is refused unless `allowLatestImage`). */
  readonly image: string;
  /** Allow `:latest` / untagged images (development only). @default false */
  readonly allowLatestImage?: boolean;
  /**
   * Base name of every object (`<name>-app`, `<name>-migrate-<id>`...): a
   * DNS-1035 label (the Service is called `<name>`, so it starts with a
   * letter) of at most 31 characters, so that the longest derived names fit
   * (`<name>-pre-migration-backup-<10 hex>`, a Job: 63; `<name>-data-integrity`,
   * a CronJob: 52).
   * @default 'erp-api'
   */
  readonly name?: string;
  /** Secret loaded with envFrom into every container. @default 'erp-api-env' */
  readonly envSecretName?: string;
  /** Database to connect to (adds DB_* variables and its client labels). @default - connection from `envSecretName` only */
  readonly database?: IDatabase;
  /** Redis (Celery broker, cache): adds REDIS_URL, CELERY_BROKER_URL and its client labels. @default - none */
  readonly redis?: IRedis;
  /** Plain environment variables, the same in every container. @default {} */
  readonly env?: Record<string, string>;
  /** Framework. @default Migrations.django() */
  readonly migrations?: Migrations;
  /** How the migration Job is delivered. @default MigrationDelivery.all() */
  readonly migrationDelivery?: MigrationDelivery;
  /** Resources of the migration Job and init containers. @default 250m/512Mi requests, 1000m/2Gi limits */
  readonly migrationResources?: ComputeResources;
  /** Resources of the app container. @default 300m/1Gi requests, 2000m/3Gi limits */
  readonly resources?: ComputeResources;
  /** HTTP port of the app. @default 8000 */
  readonly port?: number;
  /** Server command. @default - the framework's (uvicorn for Alembic), else the image's CMD */
  readonly command?: string[];
  /** Replicas when autoscaling is off. @default 1 */
  readonly replicas?: number;
  /**
   * HPA; `{ enabled: false }` turns it off (`false`: deprecated, use `{ enabled: false }`).
   * @default min 1, max 6, CPU 70 %, memory 75 %
   */
  readonly autoscaling?: ErpApiAutoscaling | false;
  /**
   * VPA; `{ enabled: false }` turns it off (`false`: deprecated, use `{ enabled: false }`).
   * @default - on, mode chosen from the HPA
   */
  readonly vpa?: ErpApiVpa | false;
  /** Probes. @default - readiness 30s/10s, liveness 60s/20s on /api/v1/core/health/, startup budget 5 min */
  readonly probes?: ErpApiProbes;
  /**
   * Media PVC; `{ enabled: false }` for none (`false`: deprecated, use `{ enabled: false }`).
   * @default 20Gi RWO local-path at /app/media
   */
  readonly media?: ErpApiMedia | false;
  /** Ingress. @default - no Ingress */
  readonly ingress?: ErpApiIngress;
  /**
   * ServiceMonitor; `{ enabled: false }` for none (`false`: deprecated, use `{ enabled: false }`).
   * @default port 8001, /metrics, every 30s
   */
  readonly metrics?: ErpApiMetrics | false;
  /** Rollout that makes no progress for this long is marked failed. @default Duration.minutes(10) */
  readonly progressDeadline?: Duration;
  /**
   * NetworkPolicies for the app's pods; `{ enabled: false }` for none (`false`: deprecated, use `{ enabled: false }`).
   * @default - HTTP from ingress-nginx, metrics from Prometheus, egress DNS + 5432 + 6379
   */
  readonly networkPolicy?: ErpApiNetworkPolicy | false;
  /** Labels added to every object. @default {} */
  readonly labels?: Record<string, string>;
}
