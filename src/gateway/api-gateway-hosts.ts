import { IConstruct } from 'constructs';
import { DNS_SUBDOMAIN, fail, IPV4 } from '../internal/validate';

/*
 * The gateway's host names and chart version: Django's ALLOWED_HOSTS, the
 * Ingress hosts it must allow, the probes' Host header, Chart.yaml's semver.
 */

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/** A semantic version such as `0.1.0` (Helm's Chart.yaml `version`). */
export function checkSemver(scope: IConstruct | string, field: string, value: string): string {
  if (typeof value !== 'string' || !SEMVER.test(value)) {
    fail(scope, field, value, "must be a semantic version such as '0.1.0' (MAJOR.MINOR.PATCH); bump it when the templates change");
  }
  return value;
}

/**
 * One Django ALLOWED_HOSTS entry: a host name, `.domain` (the domain and
 * its subdomains), an IPv4 address, or `*` (refused in production).
 */
export function checkAllowedHost(scope: IConstruct | string, field: string, value: string, production: boolean): string {
  if (value === '*') {
    if (production) fail(scope, field, value, "accepts any Host header and is refused when 'production' is true; list the real host names");
    return value;
  }
  const bare = typeof value === 'string' && value.startsWith('.') ? value.slice(1) : value;
  const ok = typeof bare === 'string' && bare.length <= 253
    && ((bare === value && IPV4.test(bare)) || (DNS_SUBDOMAIN.test(bare) && bare.split('.').every((l) => l.length <= 63)));
  if (ok) return value;
  return fail(scope, field, value, "must be a host name ('api.example.com', 'localhost'), a domain with a leading dot ('.example.com'), an IPv4 " +
    "address or '*' (no scheme, port, path, comma or space)");
}

/** Whether Django's ALLOWED_HOSTS `patterns` accept requests for `host` (an Ingress host, maybe `*.domain`). */
export function djangoAllows(patterns: readonly string[], host: string): boolean {
  const h = host.toLowerCase();
  return patterns.some((p) => {
    const pat = p.toLowerCase();
    if (pat === '*') return true;
    if (h.startsWith('*.')) return pat.startsWith('.') && h.slice(1).endsWith(pat);
    return pat === h || (pat.startsWith('.') && (h.endsWith(pat) || h === pat.slice(1)));
  });
}

/**
 * The Host header the kubelet's probes send. Without one the kubelet sends
 * the pod IP, which Django rejects with 400 (DisallowedHost) unless it is in
 * ALLOWED_HOSTS, so readiness would never pass. `undefined` when `*` allows
 * any host.
 */
export function probeHost(allowedHosts: readonly string[]): string | undefined {
  if (allowedHosts.includes('*')) return undefined;
  const first = allowedHosts[0];
  return first.startsWith('.') ? first.slice(1) : first;
}
