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

/**
 * The macros Kubernetes CronJobs accept, each as the five fields
 * `Cron.schedule` writes for it (see `cronFields` in cron.ts).
 */
export const CRON_MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

/** The five fields of a schedule and the values each takes. */
const CRON_FIELDS: ReadonlyArray<readonly [name: string, values: string]> = [
  ['minute', '0-59'], ['hour', '0-23'], ['day-of-month', '1-31'], ['month', '1-12 or JAN-DEC'], ['day-of-week', '0-6 or SUN-SAT'],
];

/*
 * Kubernetes parses a CronJob's schedule with robfig/cron's standard parser:
 * each field a list of `*`, `?`, a value or a range low-high, each with an
 * optional /step, values being numbers or three-letter names. cron-parser
 * checks the values (bounds, names, low <= high, step >= 1, a day that
 * exists in the month) but also reads what Kubernetes refuses (a seconds
 * field, L, W, #, H, 7 for Sunday): the field syntax below and the
 * day-of-week check keep those out.
 */
const CRON_VALUE = '(?:\\d+|[A-Za-z]{3})';
const CRON_ITEM = `(?:\\*|\\?|${CRON_VALUE}(?:-${CRON_VALUE})?)(?:/\\d+)?`;
const CRON_FIELD = new RegExp(`^${CRON_ITEM}(?:,${CRON_ITEM})*$`);

/** cron-parser, loaded on first use (it brings luxon: ~20 ms nobody without a schedule should pay). */
function cronParser(): typeof import('cron-parser').CronExpressionParser {
  return (require('cron-parser') as typeof import('cron-parser')).CronExpressionParser;
}

/** Whether cron-parser reads the expression. */
function parsesAsCron(expr: string): boolean {
  try {
    cronParser().parse(expr);
    return true;
  } catch {
    return false;
  }
}

/**
 * A cron schedule as Kubernetes CronJobs accept it: five fields (minute hour
 * day-of-month month day-of-week) with names such as SUN or JAN, ranges,
 * lists and steps, or one of the {@link CRON_MACROS}. Refused: what the
 * API server refuses, and a day the month never has (`0 0 31 2 *`, a
 * CronJob that never runs).
 */
export function checkCron(scope: IConstruct | string, field: string, value: string): string {
  const refuse = (why?: string): never => fail(scope, field, value, "must be a five-field cron expression such as '0 2 * * *' or '0 2 * * SUN' "
    + `(minute hour day-of-month month day-of-week) or one of ${Object.keys(CRON_MACROS).join(', ')}${why ? `: ${why}` : ''}`);
  if (typeof value !== 'string') refuse();
  if (Object.hasOwn(CRON_MACROS, value)) return value;
  if (value.startsWith('@')) refuse(`${value.split(/\s/)[0]} is not one of the macros`);
  if (/^(CRON_)?TZ=/.test(value.trim())) refuse("a time zone goes in 'timeZone', not in the schedule");
  const fields = value.trim().split(/\s+/);
  if (fields.length !== 5) refuse(`it has ${value.trim() === '' ? 0 : fields.length} field(s)`);
  fields.forEach((f, i) => {
    const [name, values] = CRON_FIELDS[i];
    const inField = (why: string) => refuse(`the ${name} field ${JSON.stringify(f)} ${why}`);
    if (!CRON_FIELD.test(f)) inField(`must be a list of *, ?, values (${values}), ranges low-high and steps /n (Kubernetes reads no L, W, # or H)`);
    if (name === 'day-of-week' && f.split(',').some((item) => item.split('/')[0].split('-').some((v) => Number(v) === 7))) {
      inField('holds 7: Kubernetes takes 0-6 or SUN-SAT (Sunday is 0)');
    }
  });
  if (parsesAsCron(fields.join(' '))) return value;
  // name the field: the first one cron-parser refuses alone
  fields.forEach((f, i) => {
    const alone = CRON_FIELDS.map((_, j) => (j === i ? f : '*')).join(' ');
    if (!parsesAsCron(alone)) refuse(`the ${CRON_FIELDS[i][0]} field ${JSON.stringify(f)} takes ${CRON_FIELDS[i][1]}, ranges low-high with low <= high and steps /n with n >= 1`);
  });
  return refuse(`day-of-month ${JSON.stringify(fields[2])} never falls in month ${JSON.stringify(fields[3])}: the CronJob would never run`);
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

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A DNS-1035 label, as the API server requires of Service names: lower-case
 * letters, digits and '-', starting with a letter, at most `max` (63) characters.
 */
export function checkDns1035Label(scope: IConstruct | string, field: string, value: string, max = 63): string {
  if (typeof value !== 'string' || !DNS_1035_LABEL.test(value) || value.length > max) {
    fail(scope, field, value, `must be a DNS-1035 label (it names a Service): lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, at most ${max} characters`);
  }
  return value;
}

/** A namespace name: a DNS-1123 label of at most 63 characters (`Prod` and 64 characters are refused). */
export function checkNamespace(scope: IConstruct | string, field: string, value: string): string {
  if (typeof value !== 'string' || !DNS_LABEL.test(value) || value.length > 63) {
    fail(scope, field, value, "must be a namespace name (DNS-1123 label): lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters");
  }
  return value;
}

/** Longest CronJob name: the controller names each Job `<cronjob>-<11 digits>`, and a Job's name is a label value (63). */
export const CRONJOB_NAME_MAX = 52;
/** Longest Job name: the Job controller copies it into the `job-name` label of its pods (a label value, 63). */
export const JOB_NAME_MAX = 63;

/**
 * A base name the library appends `suffix` to, for an object whose name may
 * be at most `max` characters (`kind` says which one, for the message).
 */
export function checkDerivedName(scope: IConstruct | string, field: string, base: string, suffix: string, kind: string, max: number): string {
  if (base.length + suffix.length > max) {
    fail(scope, field, base, `is too long: the ${kind} '${base}${suffix}' would have ${base.length + suffix.length} characters and Kubernetes allows ${max}; `
      + `use at most ${max - suffix.length} characters`);
  }
  return base;
}

/** A URL whose user-info carries a password: `scheme://user:password@host`, `redis://:password@host`. */
const URL_WITH_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#@]+)@/i;

/** The value with the password of every URL in it replaced by `***`, for messages. */
export function maskUrlPasswords(value: string): string {
  return value.replace(new RegExp(URL_WITH_PASSWORD.source, 'gi'), (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
}

/**
 * Refuses a plain (non-secret) setting holding a URL with a password in it
 * (`postgres://koku:s3cr3t@db/koku`): plain settings are written to dist/
 * in clear. The message shows the value with the password masked and says
 * where the credential goes instead (`wayOut`).
 */
export function checkNoUrlCredentials(scope: IConstruct | string, field: string, value: string, wayOut: string): string {
  if (typeof value === 'string' && URL_WITH_PASSWORD.test(value)) {
    fail(scope, field, maskUrlPasswords(value), `holds a password in a URL, which would be written in plain text to dist/; ${wayOut}`);
  }
  return value;
}

/**
 * A time zone as a CronJob's `timeZone` takes it: an IANA name the time zone
 * database knows (`UTC`, `Europe/Berlin`, `US/Eastern`), spelt with its
 * capitals (the API server's lookup is case-sensitive).
 */
export function checkTimeZone(scope: IConstruct | string, field: string, value: string): string {
  let known = typeof value === 'string' && /^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/.test(value);
  if (known) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: value });
    } catch {
      known = false;
    }
  }
  if (!known) fail(scope, field, value, "must be an IANA time zone such as 'UTC' or 'Europe/Berlin' (case-sensitive)");
  return value;
}
