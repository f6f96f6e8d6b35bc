import { Cron, CronOptions, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ErpApi } from './erp-api';
import { addDatabaseInitContainers } from './migration-job';
import { ArgoCdHook, HelmHook, MigrationDelivery } from './migrations';
import { addContainer, addPodLabels, standardLabels } from './pod-helpers';
import { checkResources, ComputeResources, resources } from './resources';
import { restrictedPod } from './security';
import { checkCron, checkDnsSubdomain, fail } from './validate';

/** The one-off bootstrap (seed 002): RBAC seed data and the first admin. */
export interface ErpBootstrapOptions {
  /** Admin user name. @default 'admin' */
  readonly adminUsername?: string;
  /** Admin e-mail. */
  readonly adminEmail: string;
  /**
   * Secret holding the admin password (created by you, never by this library).
   * @default { name: 'erp-admin', key: 'password' }
   */
  readonly adminPasswordSecret?: { readonly name: string; readonly key: string };
  /** Bootstrap CLI. @default 'erp-bootstrap' */
  readonly cli?: string;
}

/** Scheduled maintenance (seed 002 "Recommended Schedule"). */
export interface ErpMaintenanceOptions {
  /** Daily health check. @default '0 6 * * *' */
  readonly healthCheckSchedule?: string;
  /** Daily data-integrity check. @default '30 6 * * *' */
  readonly integrityCheckSchedule?: string;
  /** Monthly cleanup. @default '0 3 1 * *' */
  readonly cleanupSchedule?: string;
  /** Run the cleanup for real (`--execute`); otherwise a dry run. @default false */
  readonly cleanupExecute?: boolean;
  /** Script directory inside the image. @default 'scripts/prod' */
  readonly scriptDir?: string;
  /** IANA time zone of the schedules. @default 'UTC' */
  readonly timeZone?: string;
}

/** Properties of {@link ErpOperations}. */
export interface ErpOperationsProps {
  /** The API whose image, environment and database the jobs use. */
  readonly api: ErpApi;
  /** Bootstrap Job; omit for none. @default - no bootstrap Job */
  readonly bootstrap?: ErpBootstrapOptions;
  /** Maintenance CronJobs; `false` for none. @default - all three, cleanup as a dry run */
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
 * Day-2 operations from seed 002 as Kubernetes objects: a bootstrap Job
 * ordered after migrations (Helm post-install / Argo CD PostSync) and safe to
 * run twice, and maintenance CronJobs (health, integrity, cleanup).
 */
export class ErpOperations extends Construct {
  /** The bootstrap Job, if any. */
  public readonly bootstrapJob?: kplus.Job;
  /** Maintenance CronJobs by name. */
  public readonly cronJobs: Record<string, kplus.CronJob> = {};

  constructor(scope: Construct, id: string, props: ErpOperationsProps) {
    super(scope, id);
    const api = props.api;
    const r = checkResources(this, 'resources', props.resources ?? resources('100m', '256Mi', '500m', '512Mi'));
    const labels = (component: string) => ({ ...standardLabels(api.name, component, 'erp') });

    if (props.bootstrap) {
      const b = props.bootstrap;
      if (!b.adminEmail || !/^[^@\s'"]+@[^@\s'"]+\.[^@\s'"]+$/.test(b.adminEmail)) {
        fail(this, 'bootstrap.adminEmail', b.adminEmail, "must be an e-mail address such as 'admin@example.com'");
      }
      const username = b.adminUsername ?? 'admin';
      if (!/^[A-Za-z0-9_.@+-]{1,150}$/.test(username)) fail(this, 'bootstrap.adminUsername', username, "must be 1-150 letters, digits or '_.@+-'");
      const pw = b.adminPasswordSecret ?? { name: 'erp-admin', key: 'password' };
      checkDnsSubdomain(this, 'bootstrap.adminPasswordSecret.name', pw.name);
      const cli = b.cli ?? 'erp-bootstrap';
      if (!/^[\w./-]+$/.test(cli)) fail(this, 'bootstrap.cli', cli, 'must be a command name or path without spaces or shell characters');
      const delivery = props.bootstrapDelivery ?? MigrationDelivery.all({
        helmHooks: [HelmHook.POST_INSTALL, HelmHook.POST_UPGRADE], hookWeight: 10, argoCdHook: ArgoCdHook.POST_SYNC, syncWave: 10,
      });
      const tmp = kplus.Volume.fromEmptyDir(this, 'BootstrapTmp', 'tmp');
      this.bootstrapJob = new kplus.Job(this, 'Bootstrap', {
        metadata: { name: `${api.name}-bootstrap`, labels: labels('bootstrap'), annotations: delivery.annotations() },
        podMetadata: { labels: labels('bootstrap') },
        backoffLimit: 3,
        activeDeadline: Duration.minutes(20),
        ttlAfterFinished: Duration.days(1),
        serviceAccount: api.serviceAccount,
        automountServiceAccountToken: false,
        securityContext: restrictedPod(api.user),
        volumes: [tmp],
      });
      addPodLabels(this.bootstrapJob, api.appEnv.podLabels);
      addDatabaseInitContainers(this.bootstrapJob, { image: api.image, migrations: api.migrations, env: api.appEnv, resources: r, user: api.user, tmp, migrate: false });
      // Safe to run twice: seeding RBAC is idempotent, and an admin that
      // already exists (the CLI refuses with "... exists") is not a failure.
      const script = [
        'set -u',
        `${cli} --seed-rbac`,
        `out=$(${cli} --bootstrap-admin --username "$ADMIN_USERNAME" --email "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD" 2>&1); rc=$?`,
        'echo "$out"',
        'if [ "$rc" -ne 0 ] && echo "$out" | grep -qi "exist"; then echo "bootstrap: admin already exists, nothing to do"; exit 0; fi',
        'exit "$rc"',
      ].join('\n');
      const env = api.appEnv.containerProps();
      addContainer(this.bootstrapJob, {
        name: 'bootstrap',
        image: api.image,
        command: ['sh', '-c', script],
        envFrom: env.envFrom,
        envVariables: {
          ...env.envVariables,
          ADMIN_USERNAME: kplus.EnvValue.fromValue(username),
          ADMIN_EMAIL: kplus.EnvValue.fromValue(b.adminEmail),
          ADMIN_PASSWORD: kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(this, 'AdminSecret', pw.name), key: pw.key }),
        },
      }, { resources: r, user: api.user, tmp });
    }

    if (props.maintenance !== false) {
      const m = props.maintenance ?? {};
      const dir = m.scriptDir ?? 'scripts/prod';
      if (!/^[\w./-]+$/.test(dir)) fail(this, 'maintenance.scriptDir', dir, 'must be a relative path without spaces or shell characters');
      const jobs: Array<[string, string, string, string[]]> = [
        ['health-check', 'maintenance.healthCheckSchedule', m.healthCheckSchedule ?? '0 6 * * *', ['python', `${dir}/health_check.py`]],
        ['data-integrity', 'maintenance.integrityCheckSchedule', m.integrityCheckSchedule ?? '30 6 * * *', ['python', `${dir}/check_data_integrity.py`]],
        ['cleanup', 'maintenance.cleanupSchedule', m.cleanupSchedule ?? '0 3 1 * *',
          ['python', `${dir}/cleanup_old_data.py`, ...(m.cleanupExecute ? ['--execute'] : [])]],
      ];
      for (const [name, field, schedule, command] of jobs) {
        checkCron(this, field, schedule);
        const cronId = name.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
        const tmp = kplus.Volume.fromEmptyDir(this, `${cronId}Tmp`, 'tmp');
        const cj = new kplus.CronJob(this, cronId, {
          metadata: { name: `${api.name}-${name}`, labels: labels(`maintenance-${name}`) },
          podMetadata: { labels: labels(`maintenance-${name}`) },
          schedule: Cron.schedule(cronFields(schedule)),
          timeZone: m.timeZone ?? 'UTC',
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
        addPodLabels(cj, api.appEnv.podLabels);
        addContainer(cj, { name, image: api.image, command, ...api.appEnv.containerProps() }, { resources: r, user: api.user, tmp });
        this.cronJobs[name] = cj;
      }
    }
  }
}

/** Splits a validated five-field cron expression for `Cron.schedule`. */
export function cronFields(expr: string): CronOptions {
  const macros: Record<string, string> = {
    '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
    '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
  };
  const [minute, hour, day, month, weekDay] = (macros[expr] ?? expr).trim().split(/\s+/);
  return { minute, hour, day, month, weekDay };
}
