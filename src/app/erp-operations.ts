import { Cron, Duration } from 'cdk8s';
import { cronFields } from '../internal/cron';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkAppObjects } from '../internal/app-objects';
import { ERP_OPERATIONS_PROPS, checkShape } from '../internal/props-shape';
import { IErpApp } from './erp-app';
import { enabledOptions } from '../internal/dialect';
import { addDatabaseInitContainers } from '../migrations/db-steps';
import { ArgoCdHook, HelmHook, MigrationDelivery } from '../migrations/delivery';
import { BOOTSTRAP_ENV } from '../migrations/bootstrap-scripts';
import { OperationsCommandOptions } from '../migrations/migrations';
import {
  addContainer, addPodLabels, disableServiceLinks, mountWritableDirectories, stableIdentity, standardLabels, templateHashedName,
} from '../internal/pod-helpers';
import { checkResources, ComputeResources, resources } from '../internal/resources';
import { restrictedPod } from '../internal/security';
import { checkCron, checkDnsSubdomain, checkTimeZone, fail } from '../internal/validate';

/** A key of a Secret: where a value you keep out of the manifests is read from. */
export interface SecretKeyReference {
  /** Name of the Secret. */
  readonly name: string;
  /** Key in the Secret. */
  readonly key: string;
}

/**
 * The one-off bootstrap: the first admin, created only if absent (safe to run
 * twice). What runs is the framework's ({@link Migrations.bootstrapCommand}):
 * Django creates a superuser with `manage.py shell`; FastAPI (seed 002) runs
 * `erp-bootstrap --seed-rbac` then `--bootstrap-admin`. The password comes
 * from a Secret through the environment, never a command line.
 */
export interface ErpBootstrapOptions {
  /** Admin user name. @default 'admin' */
  readonly adminUsername?: string;
  /** Admin e-mail. */
  readonly adminEmail: string;
  /**
   * Secret holding the admin password (created by you, never by this library).
   * @default { name: 'erp-admin', key: 'password' }
   */
  readonly adminPasswordSecret?: SecretKeyReference;
  /**
   * Name of the bootstrap CLI's `console_scripts` entry point (FastAPI only;
   * Django uses `manage.py shell`).
   * @default 'erp-bootstrap'
   */
  readonly cli?: string;
}

/**
 * Scheduled maintenance (seed 002 "Recommended Schedule"). What runs is the
 * framework's: seed 002's `scripts/prod/*.py` for FastAPI, built-in
 * management commands for Django (see {@link Migrations.healthCheckCommand}).
 */
export interface ErpMaintenanceOptions {
  /** `false`: no maintenance CronJobs. @default true */
  readonly enabled?: boolean;
  /** Daily health check. @default '0 6 * * *' */
  readonly healthCheckSchedule?: string;
  /** Daily data-integrity check. @default '30 6 * * *' */
  readonly integrityCheckSchedule?: string;
  /** Monthly cleanup. @default '0 3 1 * *' */
  readonly cleanupSchedule?: string;
  /**
   * Run the cleanup for real (`--execute`); otherwise a dry run. FastAPI
   * only: Django's cleanup is `clearsessions`, which has no dry run and only
   * ever removes expired sessions, whatever this says.
   * @default false
   */
  readonly cleanupExecute?: boolean;
  /** Script directory inside the image (FastAPI only). @default 'scripts/prod' */
  readonly scriptDir?: string;
  /** IANA time zone of the schedules, spelt as in the time zone database (`Africa/Nairobi`; case-sensitive). @default 'UTC' */
  readonly timeZone?: string;
}

/** Properties of {@link ErpOperations}. */
export interface ErpOperationsProps {
  /** The application (an ErpApi) whose image, environment, database and framework the jobs use. */
  readonly api: IErpApp;
  /** Bootstrap Job; omit for none. @default - no bootstrap Job */
  readonly bootstrap?: ErpBootstrapOptions;
  /**
   * Maintenance CronJobs; `{ enabled: false }` for none (`false`: deprecated, use `{ enabled: false }`).
   * @default - all three, cleanup as a dry run
   */
  readonly maintenance?: ErpMaintenanceOptions | false;
  /**
   * How the bootstrap Job is ordered after migrations.
   * @default MigrationDelivery.all({ helmHooks: [POST_INSTALL, POST_UPGRADE], argoCdHook: POST_SYNC })
   */
  readonly bootstrapDelivery?: MigrationDelivery;
  /** Resources of every operations container. @default 100m/256Mi requests, 500m/512Mi limits */
  readonly resources?: ComputeResources;
}

/**
 * Day-2 operations as Kubernetes objects, the commands chosen by the API's
 * framework (`api.migrations`): a bootstrap Job ordered after migrations
 * (Helm post-install / Argo CD PostSync) and safe to run twice, and
 * maintenance CronJobs (health, integrity, cleanup).
 */
export class ErpOperations extends Construct {
  /** The bootstrap Job, if any. */
  public readonly bootstrapJob?: kplus.Job;
  /** Maintenance CronJobs by name. */
  public readonly cronJobs: Record<string, kplus.CronJob> = {};
  private readonly api: IErpApp;
  private readonly resources: ComputeResources;

  constructor(scope: Construct, id: string, props: ErpOperationsProps) {
    super(scope, id);
    checkAppObjects(this);
    checkShape(this, props, ERP_OPERATIONS_PROPS);
    this.api = props.api;
    if (!this.api) fail(this, 'api', this.api, 'is required: the ErpApi whose image, environment and database the jobs use');
    this.resources = checkResources(this, 'resources', props.resources ?? resources('100m', '256Mi', '500m', '512Mi'));
    if (props.bootstrap) this.bootstrapJob = this.addBootstrap(props.bootstrap, props.bootstrapDelivery);
    const maintenance = enabledOptions(this, 'maintenance', props.maintenance, true);
    if (maintenance) this.addMaintenance(maintenance);
  }

  private addBootstrap(b: ErpBootstrapOptions, bootstrapDelivery?: MigrationDelivery): kplus.Job {
    const api = this.api;
    if (!b.adminEmail || !/^[^@\s'"]+@[^@\s'"]+\.[^@\s'"]+$/.test(b.adminEmail)) {
      fail(this, 'bootstrap.adminEmail', b.adminEmail, "must be an e-mail address such as 'admin@example.com'");
    }
    const username = b.adminUsername ?? 'admin';
    if (!/^[A-Za-z0-9_.@+-]{1,150}$/.test(username)) fail(this, 'bootstrap.adminUsername', username, "must be 1-150 letters, digits or '_.@+-'");
    const pw = b.adminPasswordSecret ?? { name: 'erp-admin', key: 'password' };
    checkDnsSubdomain(this, 'bootstrap.adminPasswordSecret.name', pw.name);
    const cli = b.cli ?? 'erp-bootstrap';
    if (!/^[A-Za-z0-9][\w.-]*$/.test(cli)) fail(this, 'bootstrap.cli', cli, "must be the name of a console_scripts entry point such as " +
      "'erp-bootstrap'");
    const delivery = bootstrapDelivery ?? MigrationDelivery.all({
      helmHooks: [HelmHook.POST_INSTALL, HelmHook.POST_UPGRADE], hookWeight: 10, argoCdHook: ArgoCdHook.POST_SYNC, syncWave: 10,
    });
    const labels = this.labels('bootstrap');
    const tmp = kplus.Volume.fromEmptyDir(this, 'BootstrapTmp', 'tmp');
    // named after its whole pod template: an image bump under plain `kubectl apply` is a new Job, not a rejected change
    const job: kplus.Job = new kplus.Job(this, 'Bootstrap', {
      metadata: { name: templateHashedName(() => job, `${api.name}-bootstrap`), labels, annotations: delivery.annotations() },
      podMetadata: { labels },
      backoffLimit: 3,
      activeDeadline: Duration.minutes(20),
      ttlAfterFinished: Duration.days(1),
      serviceAccount: api.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: restrictedPod(api.user),
      volumes: [tmp],
    });
    stableIdentity(job, labels);
    addDatabaseInitContainers(job, {
      image: api.image, migrations: api.migrations, env: api.appEnv, resources: this.resources, user: api.user, tmp, migrate: false,
    });
    addContainer(job, {
      name: 'bootstrap',
      image: api.image,
      command: api.migrations.bootstrapCommand({ cli }),
      ...api.appEnv.containerProps({
        [BOOTSTRAP_ENV.username]: kplus.EnvValue.fromValue(username),
        [BOOTSTRAP_ENV.email]: kplus.EnvValue.fromValue(b.adminEmail),
        [BOOTSTRAP_ENV.password]: kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(this, 'AdminSecret', pw.name), key: pw.key }),
      }),
    }, { resources: this.resources, user: api.user, tmp });
    this.finishPod(job, 'Bootstrap');
    return job;
  }

  private addMaintenance(m: ErpMaintenanceOptions): void {
    const api = this.api;
    const scriptDir = m.scriptDir ?? 'scripts/prod';
    if (!/^[\w./-]+$/.test(scriptDir)) fail(this, 'maintenance.scriptDir', scriptDir, 'must be a relative path without spaces or shell characters');
    const o: OperationsCommandOptions = { scriptDir, cleanupExecute: m.cleanupExecute ?? false };
    const timeZone = checkTimeZone(this, 'maintenance.timeZone', m.timeZone ?? 'UTC');
    const jobs: Array<[string, string, string, string[]]> = [
      ['health-check', 'maintenance.healthCheckSchedule', m.healthCheckSchedule ?? '0 6 * * *', api.migrations.healthCheckCommand(o)],
      ['data-integrity', 'maintenance.integrityCheckSchedule', m.integrityCheckSchedule ?? '30 6 * * *', api.migrations.dataIntegrityCommand(o)],
      ['cleanup', 'maintenance.cleanupSchedule', m.cleanupSchedule ?? '0 3 1 * *', api.migrations.cleanupCommand(o)],
    ];
    for (const [name, field, schedule, command] of jobs) {
      checkCron(this, field, schedule);
      const cronId = name.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
      const labels = this.labels(`maintenance-${name}`);
      const tmp = kplus.Volume.fromEmptyDir(this, `${cronId}Tmp`, 'tmp');
      const cj = new kplus.CronJob(this, cronId, {
        metadata: { name: `${api.name}-${name}`, labels },
        podMetadata: { labels },
        schedule: Cron.schedule(cronFields(schedule)),
        timeZone,
        concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
        startingDeadline: Duration.minutes(10),
        successfulJobsRetained: 3,
        failedJobsRetained: 3,
        backoffLimit: 2,
        activeDeadline: Duration.hours(1),
        serviceAccount: api.serviceAccount,
        automountServiceAccountToken: false,
        securityContext: restrictedPod(api.user),
        volumes: [tmp],
      });
      stableIdentity(cj, labels);
      addContainer(cj, { name, image: api.image, command, ...api.appEnv.containerProps() }, { resources: this.resources, user: api.user, tmp });
      this.finishPod(cj, cronId);
      this.cronJobs[name] = cj;
    }
  }

  private labels(component: string): Record<string, string> {
    return standardLabels(this.api.name, component, 'erp');
  }

  /** What every operations pod gets once its containers are in. */
  private finishPod(pod: kplus.AbstractPod, idPrefix: string): void {
    addPodLabels(pod, this.api.appEnv.podLabels);
    // REDIS_PORT=tcp://... from the `redis` Service breaks settings that read it as a number.
    disableServiceLinks(pod);
    mountWritableDirectories(this, idPrefix, pod, this.api.migrations.writableDirectories);
  }
}
