import { ApiObject, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { canonicalQuantity } from './server-form';
import { fail } from './validate';

/**
 * CPU and memory for one container, written as Kubernetes quantities
 * (`'300m'`, `'2'`, `'768Mi'`, `'3Gi'`), the notation of the seeds' Helm values.
 *
 * Quantities are kept as given: `'1Gi'` stays `'1Gi'` in the manifest
 * (cdk8s-plus' `Size` would render it `1024Mi`), so what you read in the
 * seed is what `kubectl get -o yaml` shows.
 */
export interface ComputeResources {
  /** What the scheduler reserves. */
  readonly requests: ResourceQuantities;
  /** The hard ceiling (CPU throttled, memory OOM-killed). */
  readonly limits: ResourceQuantities;
}

/** A CPU and a memory quantity. */
export interface ResourceQuantities {
  /** CPU, e.g. `'300m'` or `'2'`. */
  readonly cpu: string;
  /** Memory, e.g. `'768Mi'` or `'3Gi'`. */
  readonly memory: string;
}

const CPU = /^(\d+(\.\d+)?|\.\d+)m?$/;
const BYTES = /^(\d+(\.\d+)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const FACTORS: Record<string, number> = {
  '': 1, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18,
  'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60,
};

/** Parses a CPU quantity into cores; throws a precise error when it is not one. */
export function parseCpu(scope: IConstruct | string, field: string, value: string): number {
  if (typeof value !== 'string' || !CPU.test(value)) {
    fail(scope, field, value, "must be a CPU quantity such as '250m' or '2' (cores, or millicores with 'm')");
  }
  const cores = value.endsWith('m') ? Number(value.slice(0, -1)) / 1000 : Number(value);
  if (!(cores > 0)) fail(scope, field, value, 'must be greater than zero');
  return cores;
}

/** Parses a byte quantity (memory, storage); throws a precise error when it is not one. */
export function parseBytes(scope: IConstruct | string, field: string, value: string): number {
  const m = typeof value === 'string' ? BYTES.exec(value) : null;
  if (!m) {
    fail(scope, field, value, "must be a Kubernetes byte quantity such as '512Mi', '2Gi' or '20Gi' (suffixes Ki, Mi, Gi, Ti, or k, M, G, T; no spaces)");
  }
  const bytes = Number(m[1]) * FACTORS[m[3] ?? ''];
  if (!(bytes > 0)) fail(scope, field, value, 'must be greater than zero');
  return bytes;
}

/** Checks every quantity and that no request exceeds its limit. */
export function checkResources(scope: IConstruct | string, field: string, r: ComputeResources): ComputeResources {
  if (!r || !r.requests || !r.limits) {
    fail(scope, field, r, "must give both 'requests' and 'limits' with 'cpu' and 'memory'");
  }
  const reqCpu = parseCpu(scope, `${field}.requests.cpu`, r.requests.cpu);
  const limCpu = parseCpu(scope, `${field}.limits.cpu`, r.limits.cpu);
  const reqMem = parseBytes(scope, `${field}.requests.memory`, r.requests.memory);
  const limMem = parseBytes(scope, `${field}.limits.memory`, r.limits.memory);
  if (reqCpu > limCpu) fail(scope, `${field}.requests.cpu`, r.requests.cpu, `must not exceed '${field}.limits.cpu' (${r.limits.cpu})`);
  if (reqMem > limMem) fail(scope, `${field}.requests.memory`, r.requests.memory, `must not exceed '${field}.limits.memory' (${r.limits.memory})`);
  return r;
}

/** A shorthand: `resources('300m', '1Gi', '2000m', '3Gi')`. */
export function resources(requestCpu: string, requestMemory: string, limitCpu: string, limitMemory: string): ComputeResources {
  return { requests: { cpu: requestCpu, memory: requestMemory }, limits: { cpu: limitCpu, memory: limitMemory } };
}

/** A quantity value for a JSON patch on a typed `k8s.Kube*` object (cdk8s-plus objects are). */
export function quantity(value: string): k8s.Quantity {
  // canonical, as the API server stores it ('2000m' is '2'): re-applies change nothing
  return k8s.Quantity.fromString(canonicalQuantity(value));
}

/**
 * Writes exact quantities into a container of a cdk8s-plus workload
 * (a typed `k8s.Kube*` object: its serializer reads `Quantity` objects, so
 * plain strings would come out as null). `containerPath` is a JSON pointer
 * such as `/spec/template/spec/initContainers/0`.
 */
export function patchResources(obj: ApiObject, containerPath: string, r: ComputeResources): void {
  obj.addJsonPatch(JsonPatch.add(`${containerPath}/resources`, {
    requests: { cpu: quantity(r.requests.cpu), memory: quantity(r.requests.memory) },
    limits: { cpu: quantity(r.limits.cpu), memory: quantity(r.limits.memory) },
  }));
}
