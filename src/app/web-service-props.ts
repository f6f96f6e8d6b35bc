import { Duration } from 'cdk8s';

/**
 * The props ErpApi and ApiGatewayChart share, with the same names and
 * defaults: migrations (besides the framework, delivery and resources,
 * whose defaults differ), the user, and the termination sequence.
 */
export interface WebServiceProps {
  /** Run migrations in an init container of every pod, before the server starts (seed `runOnStartup`). @default true */
  readonly runMigrationsOnStartup?: boolean;
  /** Create the migration Job (seed `migrations.enabled`). @default true */
  readonly migrationJob?: boolean;
  /**
   * Dump the database right before each release migrates, when the
   * `database` has backups (`CostMgmtPostgres` with `backup`): the migration
   * Job and the migrate init containers wait for the dump (seed 004: "a
   * database backup before every deployment").
   * @default true
   */
  readonly preMigrationBackup?: boolean;
  /** Release id (commit hash) in the migration Job name. @default - hash of image and commands */
  readonly releaseId?: string;
  /** UID (and GID, fsGroup) of every container. @default 1000 */
  readonly user?: number;
  /**
   * How long a terminating pod keeps serving before the server gets SIGTERM
   * (a `preStop` sleep): the time the Service endpoints and the Ingress
   * controller need to stop sending it new requests, so rollouts drop none.
   * @default Duration.seconds(10)
   */
  readonly preStopDelay?: Duration;
  /**
   * Time from the start of termination to SIGKILL: the preStop delay, then
   * the server's graceful shutdown (in-flight requests, WebSocket close).
   * Must exceed `preStopDelay`.
   * @default Duration.minutes(2)
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * Prefer to run replicas on different nodes and zones (a soft pod
   * anti-affinity: scheduling never fails because of it). Not applied when a
   * ReadWriteOnce media volume pins the replicas to one node.
   * @default true
   */
  readonly spread?: boolean;
}
