import { IConstruct } from 'constructs';

/**
 * Thrown when a construct receives props it cannot honour. The message names
 * the construct path, the field, the value received and what is allowed, e.g.
 * `dev/Api: 'autoscaling.minReplicas' (7) must be at most 'autoscaling.maxReplicas' (6)`.
 */
export class PropsError extends Error {
  constructor(
    /** Construct path (or chart/config name) the bad value was given to. */
    public readonly path: string,
    /** Dotted prop name, e.g. `autoscaling.minReplicas`. */
    public readonly field: string,
    /** The value received. */
    public readonly value: unknown,
    /** What is allowed instead. */
    public readonly allowed: string,
  ) {
    super(`${path || '<root>'}: '${field}' (${show(value)}) ${allowed}`);
    this.name = 'PropsError';
  }
}

/** Renders a value for an error message. */
export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** The path used in error messages for a construct (or a plain label). */
export function pathOf(scope: IConstruct | string): string {
  return typeof scope === 'string' ? scope : scope.node.path;
}

/** Throws a {@link PropsError}. */
export function fail(scope: IConstruct | string, field: string, value: unknown, allowed: string): never {
  throw new PropsError(pathOf(scope), field, value, allowed);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Lower-case DNS labels joined by dots (length limits checked separately). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A dotted-quad IPv4 address. */
export const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** A DNS-1123 label: lower-case alphanumerics and '-', at most `max` (63) characters. */
export function checkDnsLabel(scope: IConstruct | string, field: string, value: string, max = 63): string {
  if (typeof value !== 'string' || !DNS_LABEL.test(value) || value.length > max) {
    fail(scope, field, value, `must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${max} characters`);
  }
  return value;
}

/** A DNS-1123 subdomain (Kubernetes object names such as Secrets and ConfigMaps). */
export function checkDnsSubdomain(scope: IConstruct | string, field: string, value: string): string {
  if (typeof value !== 'string' || !DNS_SUBDOMAIN.test(value) || value.length > 253) {
    fail(scope, field, value, "must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', at most 253 characters");
  }
  return value;
}

/** A fully qualified host name for an Ingress rule (a leading `*.` wildcard is allowed). */
export function checkHostname(scope: IConstruct | string, field: string, value: string): string {
  const bare = typeof value === 'string' && value.startsWith('*.') ? value.slice(2) : value;
  if (typeof bare !== 'string' || !DNS_SUBDOMAIN.test(bare) || !bare.includes('.') || bare.length > 253
    || bare.split('.').some((l) => l.length > 63)) {
    fail(scope, field, value, "must be a fully qualified lower-case DNS name such as 'erp.example.com' (no scheme, port or path)");
  }
  return value;
}

/** An integer within [min, max]. */
export function checkInt(scope: IConstruct | string, field: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    fail(scope, field, value, `must be ${range}`);
  }
  return value;
}

/** A TCP port, 1-65535. */
export function checkPort(scope: IConstruct | string, field: string, value: number): number {
  return checkInt(scope, field, value, 1, 65535);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An environment variable name that shells and Kubernetes both accept (C identifier). */
export function checkEnvName(scope: IConstruct | string, field: string, value: string): string {
  if (typeof value !== 'string' || !ENV_NAME.test(value)) {
    fail(scope, field, value, "must be a C identifier: letters, digits and '_', not starting with a digit");
  }
  return value;
}

/** Rejects names given twice in a list. */
export function checkUnique(scope: IConstruct | string, field: string, values: readonly string[]): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) fail(scope, field, v, 'is given twice; each name must be unique');
    seen.add(v);
  }
}

const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A PostgreSQL identifier we interpolate into SQL and shell: lower-case
 * letters, digits and '_' only (no quoting needed, so no injection possible).
 */
export function checkSqlIdentifier(scope: IConstruct | string, field: string, value: string): string {
  if (typeof value !== 'string' || !SQL_IDENTIFIER.test(value)) {
    fail(scope, field, value, "must be a plain SQL identifier: lower-case letters, digits and '_', starting with a letter or '_', at most 63 characters (quotes, spaces and ';' are refused)");
  }
  return value;
}

const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;
const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const CRON_RANGES: Array<[number, number]> = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];

/** A five-field cron schedule as Kubernetes CronJobs accept it (or a macro such as `@daily`). */
export function checkCron(scope: IConstruct | string, field: string, value: string): string {
  const bad = () => fail(scope, field, value, "must be a five-field cron expression such as '0 2 * * *' (minute hour day-of-month month day-of-week) or one of " + CRON_MACROS.join(', '));
  if (typeof value !== 'string') bad();
  if (CRON_MACROS.includes(value)) return value;
  const parts = value.trim().split(/\s+/);
  if (parts.length !== 5) bad();
  parts.forEach((p, i) => {
    if (!CRON_FIELD.test(p)) bad();
    for (const n of p.match(/\d+/g) ?? []) {
      const num = Number(n);
      const [lo, hi] = CRON_RANGES[i];
      if (!p.includes('/' + n) && (num < lo || num > hi)) bad();
    }
  });
  return value;
}

const IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

/** The tag of an image reference (`undefined` when untagged; digests count as pinned). */
export function imageTag(image: string): string | undefined {
  if (image.includes('@sha256:')) return image.split('@')[0].split('/').pop()!.split(':')[1] ?? 'digest';
  const last = image.split('/').pop()!;
  return last.includes(':') ? last.split(':')[1] : undefined;
}

/** An image reference. With `pinned`, `latest` and untagged images are refused. */
export function checkImage(scope: IConstruct | string, field: string, value: string, pinned = true): string {
  if (typeof value !== 'string' || !IMAGE.test(value)) {
    fail(scope, field, value, "must be an image reference such as 'registry.example.com/erp/api:1.4.2'");
  }
  const tag = imageTag(value);
  if (pinned && (tag === undefined || tag === 'latest')) {
    fail(scope, field, value, "must be pinned to a tag or digest other than 'latest' (e.g. 'erp/api:1.4.2'), so every pod runs the same code");
  }
  return value;
}

/** A non-empty string. */
export function checkNonEmpty(scope: IConstruct | string, field: string, value: string | undefined): string {
  if (typeof value !== 'string' || value.trim() === '') {
    fail(scope, field, value, 'is required and must not be empty');
  }
  return value;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** A Kubernetes label value: at most 63 alphanumerics, '-', '_' or '.', alphanumeric at both ends. */
export function checkLabelValue(scope: IConstruct | string, field: string, value: string): string {
  if (typeof value !== 'string' || !LABEL_VALUE.test(value)) {
    fail(scope, field, value, "must be a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit");
  }
  return value;
}

/** Labels as Kubernetes accepts them: key `[dns-prefix/]name`, value up to 63 characters. */
export function checkLabels(scope: IConstruct | string, field: string, labels: Record<string, string>): Record<string, string> {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) fail(scope, field, labels, 'must be a map of label keys to values');
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_KEY.test(k) || typeof v !== 'string' || !LABEL_VALUE.test(v)) {
      fail(scope, `${field}.${k}`, v, 'must be a Kubernetes label: key [dns-prefix/]name, value up to 63 letters, digits, \'-\', \'_\' or \'.\'');
    }
  }
  return labels;
}

/** Client labels (of a database or cache): at least one, each a valid Kubernetes label. */
export function checkClientLabels(scope: IConstruct | string, labels: Record<string, string>, field = 'clientLabels'): Record<string, string> {
  if (!labels || Object.keys(labels).length === 0) fail(scope, field, labels, 'must hold at least one label, or every pod in the namespace would be a client');
  return checkLabels(scope, field, labels);
}
