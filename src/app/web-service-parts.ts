import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { stablePods } from '../internal/pod-helpers';
import { fail } from '../internal/validate';

/**
 * Pieces every HTTP server workload shares (ErpApi, ApiGatewayChart): a
 * termination sequence that drops no request, a soft spread over nodes and
 * zones, and the Ingress body size.
 */

/** Resolved termination: a preStop sleep, then SIGTERM, then SIGKILL after `grace`. */
export interface Termination {
  readonly preStopDelay: Duration;
  readonly grace: Duration;
}

/** Defaults and checks `preStopDelay` (10 s) and `terminationGracePeriod` (2 min). */
export function checkTermination(scope: IConstruct, preStopDelay?: Duration, terminationGracePeriod?: Duration): Termination {
  const delay = preStopDelay ?? Duration.seconds(10);
  const grace = terminationGracePeriod ?? Duration.minutes(2);
  const seconds = (d: Duration) => d.toSeconds({ integral: false });
  if (!Number.isInteger(seconds(delay)) || seconds(delay) < 1) {
    fail(scope, 'preStopDelay', `${seconds(delay)}s`, 'must be a whole number of seconds, at least 1s');
  }
  if (!Number.isInteger(seconds(grace)) || seconds(grace) <= seconds(delay)) {
    fail(scope, 'terminationGracePeriod', `${seconds(grace)}s`,
      `must be whole seconds and exceed 'preStopDelay' (${seconds(delay)}s): the server needs time after the preStop sleep to finish in-flight ` +
        `requests`);
  }
  return { preStopDelay: delay, grace };
}

/**
 * Prefers different nodes (weight 100) and zones (weight 50) for the
 * workload's replicas: a soft pod anti-affinity, so a single-node or
 * single-zone cluster still schedules every replica.
 */
export function softSpread(workload: kplus.Deployment): void {
  const pods = stablePods(workload);
  workload.scheduling.separate(pods, { topology: kplus.Topology.HOSTNAME, weight: 100 });
  workload.scheduling.separate(pods, { topology: kplus.Topology.ZONE, weight: 50 });
}

/** ingress-nginx `proxy-body-size` for a {@link Size}: whole mebibytes, e.g. `100m`. */
export function bodySize(scope: IConstruct, field: string, size: Size): string {
  const mib = size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!Number.isInteger(mib) || mib < 1) fail(scope, field, `${mib}Mi`, 'must be a whole number of mebibytes, at least 1 (e.g. Size.mebibytes(100))');
  return `${mib}m`;
}
