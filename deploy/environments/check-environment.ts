import { checkDatabaseTls, checkHost, checkServerVersion, PostgresSslMode } from '../../src/data/database';
import { checkResources } from '../../src/internal/resources';
import {
  checkCron, checkDnsLabel, checkDnsSubdomain, checkHostname, checkImage, checkInt, checkNonEmpty, checkNoUrlCredentials, checkPort,
  checkSqlIdentifier, fail,
} from '../../src/internal/validate';
import { EnvironmentConfig, ExternalServerDatabase } from './config';

const FALSE = /^(false|0|no|off)$/i;

const SECRET_FILE = "the git-ignored .env.<env> file that becomes the 'erp-api-env' Secret";

/**
 * Validates an environment's config before anything is built. With
 * `production: true` the seed-002 checklist applies: DEBUG off, restricted
 * CORS, registration closed, pinned images, TLS; and, when the app's secret
 * values are given (from the git-ignored `.env.<env>` file), JWT_SECRET_KEY of
 * at least 32 characters and BOOTSTRAP_KEY of at least 16.
 */
export function checkEnvironment(c: EnvironmentConfig, secrets?: Record<string, string>): void {
  const where = `environments/${c.name}`;
  checkDnsLabel(where, 'name', c.name);
  checkDnsLabel(where, 'namespace', c.namespace);
  checkImage(where, 'images.api', c.images.api, !c.allowLatestImages);
  checkImage(where, 'images.gateway', c.images.gateway, !c.allowLatestImages);
  checkHostname(where, 'api.host', c.api.host);
  checkHostname(where, 'gateway.host', c.gateway.host);
  checkInt(where, 'api.replicas', c.api.replicas, 1, 1000);
  const autoscaling = c.api.autoscaling;
  if (autoscaling) {
    checkInt(where, 'api.autoscaling.minReplicas', autoscaling.minReplicas, 1, 1000);
    checkInt(where, 'api.autoscaling.maxReplicas', autoscaling.maxReplicas, 1, 1000);
    if (autoscaling.minReplicas > autoscaling.maxReplicas) {
      fail(where, 'api.autoscaling.minReplicas', autoscaling.minReplicas,
        `must be at most 'api.autoscaling.maxReplicas' (${autoscaling.maxReplicas})`);
    }
  }
  if (c.api.resources) checkResources(where, 'api.resources', c.api.resources);
  for (const [k, r] of Object.entries(c.sizing ?? {})) if (r) checkResources(where, `sizing.${k}`, r);
  checkInt(where, 'celery.workerReplicas', c.celery.workerReplicas, 1, 1000);
  checkInt(where, 'celery.concurrency', c.celery.concurrency, 1, 256);
  checkInt(where, 'gateway.replicas', c.gateway.replicas, 1, 1000);
  checkDatabases(where, c);
  checkCron(where, 'backups.schedule', c.backups.schedule);
  checkInt(where, 'backups.retentionDays', c.backups.retentionDays, 1, 3650);
  checkAppSettings(where, c.appSettings);
  if (c.production) checkProduction(where, c, secrets);
}

/** Committed app settings hold no secret, neither by name nor inside a URL. */
function checkAppSettings(where: string, settings: Record<string, string>): void {
  for (const [k, v] of Object.entries(settings)) {
    if (/(SECRET|PASSWORD|TOKEN|_KEY)$/.test(k)) {
      fail(where, `appSettings.${k}`, '<redacted>', `looks like a secret: put it in ${SECRET_FILE}, not in committed config`);
    }
    checkNonEmpty(where, `appSettings.${k}`, v);
    checkNoUrlCredentials(where, `appSettings.${k}`, v, `put it in ${SECRET_FILE}, or leave the connection to 'database' / 'redis'`);
  }
}

/** The seed-002 production checklist. */
function checkProduction(where: string, c: EnvironmentConfig, secrets?: Record<string, string>): void {
  const s = c.appSettings;
  if (!FALSE.test(s.DEBUG ?? '')) fail(where, 'appSettings.DEBUG', s.DEBUG, "must be 'False' in production");
  const origins = (s.ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  if (origins.length === 0 || origins.some((o) => o.includes('*'))) {
    fail(where, 'appSettings.ALLOWED_ORIGINS', s.ALLOWED_ORIGINS,
      "must list the allowed origins explicitly in production (e.g. 'https://erp.example.com'), no '*'");
  }
  for (const o of origins) {
    if (!/^https:\/\/[a-z0-9.-]+(:\d+)?$/.test(o)) fail(where, 'appSettings.ALLOWED_ORIGINS', o, "must be an https:// origin (scheme and host, no path) in production");
  }
  if (!FALSE.test(s.ALLOW_REGISTRATION ?? '')) fail(where, 'appSettings.ALLOW_REGISTRATION', s.ALLOW_REGISTRATION, "must be 'False' in production");
  if (c.allowLatestImages) fail(where, 'allowLatestImages', true, 'must be false in production: pin every image');
  if (!c.tlsIssuer) fail(where, 'tlsIssuer', c.tlsIssuer, 'must name a cert-manager ClusterIssuer in production: every Ingress serves TLS');
  // seed 002: "Enable SSL for database connection"
  const external: Array<[string, ExternalServerDatabase | undefined]> = [
    ['database', c.database.mode === 'external' ? c.database : undefined], ['gateway.database', c.gateway.database],
  ];
  for (const [field, db] of external) {
    if (db?.sslMode === PostgresSslMode.DISABLE || db?.sslMode === PostgresSslMode.PREFER) {
      fail(where, `${field}.sslMode`, db.sslMode,
        "must be 'require', 'verify-ca' or 'verify-full' in production: the connection to an external server leaves the cluster");
    }
  }
  if (secrets) checkProductionSecrets(where, secrets);
}

/** The app's secret values, when given: long enough keys, DEBUG off. */
function checkProductionSecrets(where: string, secrets: Record<string, string>): void {
  const jwt = secrets.JWT_SECRET_KEY;
  if (jwt !== undefined && jwt.length < 32) {
    fail(where, 'secrets.JWT_SECRET_KEY', `<${jwt.length} characters>`,
      'must be at least 32 characters in production (generate one: openssl rand -hex 32)');
  }
  const boot = secrets.BOOTSTRAP_KEY;
  if (boot !== undefined && boot.length < 16) {
    fail(where, 'secrets.BOOTSTRAP_KEY', `<${boot.length} characters>`, 'must be at least 16 characters in production (openssl rand -hex 16)');
  }
  if (secrets.DEBUG !== undefined && !FALSE.test(secrets.DEBUG)) fail(where, 'secrets.DEBUG', secrets.DEBUG, "must be 'False' in production");
}

/** The external databases (the app's and the gateway's): each field, and one database per application. */
function checkDatabases(where: string, c: EnvironmentConfig): void {
  const gw = c.gateway.database;
  if (c.database.mode !== 'external') {
    if (gw !== undefined) {
      fail(where, 'gateway.database', gw,
        "only applies when 'database.mode' is 'external'; in-cluster, the server creates role and database api_gateway for the gateway");
    }
    return;
  }
  checkExternalDatabase(where, 'database', c.database);
  if (gw === undefined) {
    fail(where, 'gateway.database', gw, "is required when 'database.mode' is 'external': the gateway gets its own database and role " +
      "(e.g. { host, port, databaseName: 'api_gateway', secretName: 'api-gateway-database-credentials', version })");
  }
  checkExternalDatabase(where, 'gateway.database', gw);
  if (gw.host === c.database.host && gw.port === c.database.port && gw.databaseName === c.database.databaseName) {
    fail(where, 'gateway.database.databaseName', gw.databaseName,
      "must differ from 'database.databaseName' on the same server (one database per application), e.g. 'api_gateway'");
  }
}

function checkExternalDatabase(where: string, field: string, db: ExternalServerDatabase): void {
  checkHost(where, `${field}.host`, db.host);
  checkPort(where, `${field}.port`, db.port);
  checkSqlIdentifier(where, `${field}.databaseName`, db.databaseName);
  checkDnsSubdomain(where, `${field}.secretName`, db.secretName);
  if (db.version === undefined) {
    fail(where, `${field}.version`, undefined, "is required: the server's PostgreSQL major version (e.g. 15), which the backup client must match");
  }
  checkServerVersion(where, `${field}.version`, db.version);
  checkDatabaseTls(where, db.sslMode, db.caSecretName, { sslMode: `${field}.sslMode`, caSecretName: `${field}.caSecretName` });
}
