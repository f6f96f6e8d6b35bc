import { checkResources } from '../resources';
import { checkCron, checkDnsLabel, checkHostname, checkImage, checkInt, checkNonEmpty, fail } from '../validate';
import { EnvironmentConfig } from './config';

const FALSE = /^(false|0|no|off)$/i;

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
  if (c.api.autoscaling) {
    checkInt(where, 'api.autoscaling.minReplicas', c.api.autoscaling.minReplicas, 1, 1000);
    checkInt(where, 'api.autoscaling.maxReplicas', c.api.autoscaling.maxReplicas, 1, 1000);
    if (c.api.autoscaling.minReplicas > c.api.autoscaling.maxReplicas) {
      fail(where, 'api.autoscaling.minReplicas', c.api.autoscaling.minReplicas, `must be at most 'api.autoscaling.maxReplicas' (${c.api.autoscaling.maxReplicas})`);
    }
  }
  if (c.api.resources) checkResources(where, 'api.resources', c.api.resources);
  for (const [k, r] of Object.entries(c.sizing ?? {})) if (r) checkResources(where, `sizing.${k}`, r);
  checkInt(where, 'celery.workerReplicas', c.celery.workerReplicas, 1, 1000);
  checkInt(where, 'celery.concurrency', c.celery.concurrency, 1, 256);
  checkInt(where, 'gateway.replicas', c.gateway.replicas, 1, 1000);
  checkCron(where, 'backups.schedule', c.backups.schedule);
  checkInt(where, 'backups.retentionDays', c.backups.retentionDays, 1, 3650);
  for (const [k, v] of Object.entries(c.appSettings)) {
    if (/(SECRET|PASSWORD|TOKEN|_KEY)$/.test(k)) {
      fail(where, `appSettings.${k}`, '<redacted>', "looks like a secret: put it in the git-ignored .env.<env> file that becomes the 'erp-api-env' Secret, not in committed config");
    }
    checkNonEmpty(where, `appSettings.${k}`, v);
  }
  if (!c.production) return;

  // seed 002 production checklist
  const s = c.appSettings;
  if (!FALSE.test(s.DEBUG ?? '')) fail(where, 'appSettings.DEBUG', s.DEBUG, "must be 'False' in production");
  const origins = (s.ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  if (origins.length === 0 || origins.some((o) => o.includes('*'))) {
    fail(where, 'appSettings.ALLOWED_ORIGINS', s.ALLOWED_ORIGINS, "must list the allowed origins explicitly in production (e.g. 'https://erp.example.com'), no '*'");
  }
  for (const o of origins) {
    if (!/^https:\/\/[a-z0-9.-]+(:\d+)?$/.test(o)) fail(where, 'appSettings.ALLOWED_ORIGINS', o, "must be an https:// origin (scheme and host, no path) in production");
  }
  if (!FALSE.test(s.ALLOW_REGISTRATION ?? '')) fail(where, 'appSettings.ALLOW_REGISTRATION', s.ALLOW_REGISTRATION, "must be 'False' in production");
  if (c.allowLatestImages) fail(where, 'allowLatestImages', true, 'must be false in production: pin every image');
  if (!c.tlsIssuer) fail(where, 'tlsIssuer', c.tlsIssuer, 'must name a cert-manager ClusterIssuer in production: every Ingress serves TLS');
  if (secrets) {
    const jwt = secrets.JWT_SECRET_KEY;
    if (jwt !== undefined && jwt.length < 32) fail(where, 'secrets.JWT_SECRET_KEY', `<${jwt.length} characters>`, 'must be at least 32 characters in production (generate one: openssl rand -hex 32)');
    const boot = secrets.BOOTSTRAP_KEY;
    if (boot !== undefined && boot.length < 16) fail(where, 'secrets.BOOTSTRAP_KEY', `<${boot.length} characters>`, 'must be at least 16 characters in production (openssl rand -hex 16)');
    if (secrets.DEBUG !== undefined && !FALSE.test(secrets.DEBUG)) fail(where, 'secrets.DEBUG', secrets.DEBUG, "must be 'False' in production");
  }
}
