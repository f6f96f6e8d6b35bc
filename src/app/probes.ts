import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { checkInt, DNS_SUBDOMAIN, fail, IPV4 } from '../internal/validate';

/** Health probes of an HTTP service. */
export interface ErpApiProbes {
  /** Health path for readiness, liveness and startup. @default '/api/v1/core/health/' */
  readonly path?: string;
  /**
   * `Host` header of the HTTP probes. Without one the kubelet sends the pod
   * IP, which Django (DEBUG off) and TrustedHostMiddleware refuse with 400:
   * the pod would never become Ready. It must be one of the app's
   * ALLOWED_HOSTS.
   * @default - ErpApi: the Ingress host, or its Service name without an Ingress; ApiGatewayChart: the first of `allowedHosts`
   */
  readonly host?: string;
  /** @default Duration.seconds(30) */
  readonly readinessInitialDelay?: Duration;
  /** @default Duration.seconds(10) */
  readonly readinessPeriod?: Duration;
  /** @default Duration.seconds(60) */
  readonly livenessInitialDelay?: Duration;
  /** @default Duration.seconds(20) */
  readonly livenessPeriod?: Duration;
  /** Failures before liveness restarts / readiness removes the pod. @default 3 */
  readonly failureThreshold?: number;
  /** Timeout of one probe call. @default Duration.seconds(5) */
  readonly timeout?: Duration;
  /**
   * Time the server may take to answer its first health check after its
   * container starts (init containers, i.e. migrations, run before and do
   * not count). A startup probe holds liveness off for this long.
   * @default Duration.minutes(5)
   */
  readonly startupTimeout?: Duration;
  /**
   * Use a startup probe. Without one, the liveness window (initial delay +
   * period x failureThreshold) must cover `startupTimeout`, or the kubelet
   * kills pods that are still starting.
   * @default true
   */
  readonly startupProbe?: boolean;
}

/** Resolved probes. */
export interface ResolvedProbes {
  readonly path: string;
  /** The Host header, if any. */
  readonly host?: string;
  /** The probes a container gets (startup only when enabled). */
  readonly kinds: ReadonlyArray<'readinessProbe' | 'livenessProbe' | 'startupProbe'>;
  readonly startupTimeout: Duration;
  readonly livenessWindow: Duration;
  readonly startupWindow?: Duration;
  readiness(port: number): kplus.Probe;
  liveness(port: number): kplus.Probe;
  startup(port: number): kplus.Probe | undefined;
}

/** Resolves and validates {@link ErpApiProbes}. */
export function httpProbes(scope: IConstruct, p: ErpApiProbes = {}, defaultPath = '/api/v1/core/health/', defaultHost?: string): ResolvedProbes {
  const path = p.path ?? defaultPath;
  const host = p.host ?? defaultHost;
  if (host !== undefined) checkHostHeader(scope, 'probes.host', host);
  if (typeof path !== 'string' || !path.startsWith('/') || /\s/.test(path)) {
    fail(scope, 'probes.path', path, "must be an absolute URL path such as '/api/v1/core/health/'");
  }
  const failureThreshold = checkInt(scope, 'probes.failureThreshold', p.failureThreshold ?? 3, 1, 100);
  const timeout = p.timeout ?? Duration.seconds(5);
  const rDelay = p.readinessInitialDelay ?? Duration.seconds(30);
  const rPeriod = p.readinessPeriod ?? Duration.seconds(10);
  const lDelay = p.livenessInitialDelay ?? Duration.seconds(60);
  const lPeriod = p.livenessPeriod ?? Duration.seconds(20);
  const startupTimeout = p.startupTimeout ?? Duration.minutes(5);
  const useStartup = p.startupProbe ?? true;
  const startupPeriod = Duration.seconds(10);
  const startupThreshold = Math.max(1, Math.ceil(startupTimeout.toSeconds() / startupPeriod.toSeconds()));
  for (const [field, d] of [['readinessPeriod', rPeriod], ['livenessPeriod', lPeriod], ['timeout', timeout]] as const) {
    if (d.toSeconds() < 1) fail(scope, `probes.${field}`, `${d.toSeconds()}s`, 'must be at least 1s');
  }
  if (timeout.toSeconds() >= lPeriod.toSeconds()) {
    fail(scope, 'probes.timeout', `${timeout.toSeconds()}s`, `must be shorter than 'probes.livenessPeriod' (${lPeriod.toSeconds()}s)`);
  }
  const http = (delay: Duration, period: Duration, threshold = failureThreshold) => (port: number) =>
    kplus.Probe.fromHttpGet(path, { port, initialDelaySeconds: delay, periodSeconds: period, timeoutSeconds: timeout, failureThreshold: threshold });
  return {
    path,
    host,
    kinds: useStartup ? ['readinessProbe', 'livenessProbe', 'startupProbe'] : ['readinessProbe', 'livenessProbe'],
    startupTimeout,
    livenessWindow: Duration.seconds(lDelay.toSeconds() + lPeriod.toSeconds() * failureThreshold),
    startupWindow: useStartup ? Duration.seconds(startupPeriod.toSeconds() * startupThreshold) : undefined,
    readiness: http(rDelay, rPeriod),
    liveness: http(lDelay, lPeriod),
    startup: (port) => useStartup ? http(Duration.seconds(0), startupPeriod, startupThreshold)(port) : undefined,
  };
}

/**
 * Checks that the time budgets agree: the kubelet must not kill a pod that is
 * still starting, and the rollout must not be declared failed while pods are
 * still waiting for the database.
 */
export function checkProbeBudget(scope: IConstruct, probes: ResolvedProbes, progressDeadline: Duration, waitBudget: Duration): void {
  const start = probes.startupTimeout.toSeconds();
  if (!probes.startupWindow && probes.livenessWindow.toSeconds() < start) {
    fail(scope, 'probes.livenessInitialDelay', `window ${probes.livenessWindow.toSeconds()}s`,
      `gives the server less time than 'probes.startupTimeout' (${start}s) before liveness kills it; raise the liveness ` +
        `delay/period/failureThreshold or enable the startup probe`);
  }
  const needed = waitBudget.toSeconds() + start;
  if (progressDeadline.toSeconds() <= needed) {
    fail(scope, 'progressDeadline', `${progressDeadline.toSeconds()}s`,
      `must exceed the wait-for-database budget (${waitBudget.toSeconds()}s) plus 'probes.startupTimeout' (${start}s) = ${needed}s, or healthy ` +
        `rollouts are reported failed`);
  }
}

/** A host name or IPv4 address for a probe's Host header. */
function checkHostHeader(scope: IConstruct, field: string, value: string): string {
  if (typeof value !== 'string' || value.length > 253 || (!DNS_SUBDOMAIN.test(value) && !IPV4.test(value))) {
    fail(scope, field, value, "must be a host name from the app's ALLOWED_HOSTS, e.g. 'erp.example.com' or 'erp-api' (no scheme, port or path)");
  }
  return value;
}
