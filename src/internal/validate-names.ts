/** Kubernetes names: DNS labels and subdomains, host names, namespaces, names derived from a base, labels. */
import { IConstruct } from 'constructs';
import { fail } from './props-error';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Lower-case DNS labels joined by dots (length limits checked separately). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A dotted-quad IPv4 address. */
export const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** A DNS-1123 label: lower-case alphanumerics and '-', at most `max` (63) characters. */
export function checkDnsLabel(scope: IConstruct | string, field: string, value: string, max = 63): string {
  if (typeof value !== 'string' || !DNS_LABEL.test(value) || value.length > max) {
    fail(scope, field, value,
      `must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${max} characters`);
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

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A DNS-1035 label, as the API server requires of Service names: lower-case
 * letters, digits and '-', starting with a letter, at most `max` (63) characters.
 */
export function checkDns1035Label(scope: IConstruct | string, field: string, value: string, max = 63): string {
  if (typeof value !== 'string' || !DNS_1035_LABEL.test(value) || value.length > max) {
    fail(scope, field, value, "must be a DNS-1035 label (it names a Service): lower-case letters, digits and '-', "
      + `starting with a letter and ending with a letter or digit, at most ${max} characters`);
  }
  return value;
}

/** A namespace name: a DNS-1123 label of at most 63 characters (`Prod` and 64 characters are refused). */
export function checkNamespace(scope: IConstruct | string, field: string, value: string): string {
  if (typeof value !== 'string' || !DNS_LABEL.test(value) || value.length > 63) {
    fail(scope, field, value, "must be a namespace name (DNS-1123 label): lower-case letters, digits and '-', "
      + 'starting and ending with a letter or digit, at most 63 characters');
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
    const name = `${base}${suffix}`;
    fail(scope, field, base, `is too long: the ${kind} '${name}' would have ${name.length} characters and Kubernetes allows ${max}; `
      + `use at most ${max - suffix.length} characters`);
  }
  return base;
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
  if (!labels || Object.keys(labels).length === 0) {
    fail(scope, field, labels, 'must hold at least one label, or every pod in the namespace would be a client');
  }
  return checkLabels(scope, field, labels);
}
