import { ApiObject, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { onRender, RenderedManifest } from './render-hook';
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
    fail(scope, field, value,
      "must be a Kubernetes byte quantity such as '512Mi', '2Gi' or '20Gi' (suffixes Ki, Mi, Gi, Ti, or k, M, G, T; no spaces)");
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

/**
 * A shorthand: `resources('300m', '1Gi', '2000m', '3Gi')`.
 * @deprecated use `Resources.of('300m', '1Gi', '2000m', '3Gi')`
 */
export function resources(requestCpu: string, requestMemory: string, limitCpu: string, limitMemory: string): ComputeResources {
  return { requests: { cpu: requestCpu, memory: requestMemory }, limits: { cpu: limitCpu, memory: limitMemory } };
}

/** Requests and limits of a container, written the short way. */
export class Resources {
  /** Requests and limits: `Resources.of('300m', '1Gi', '2000m', '3Gi')`. */
  public static of(requestCpu: string, requestMemory: string, limitCpu: string, limitMemory: string): ComputeResources {
    return resources(requestCpu, requestMemory, limitCpu, limitMemory);
  }

  private constructor() {}
}

/** A quantity value for a JSON patch on a typed `k8s.Kube*` object (cdk8s-plus objects are). */
export function quantity(value: string): k8s.Quantity {
  // canonical, as the API server stores it ('2000m' is '2'): re-applies change nothing
  return k8s.Quantity.fromString(canonicalQuantity(value));
}

/** A CPU quantity as cdk8s-plus' `Cpu` (`'250m'` is `Cpu.millis(250)`, `'2'` is `Cpu.units(2)`). */
export function toCpu(value: string): kplus.Cpu {
  return value.endsWith('m') ? kplus.Cpu.millis(Number(value.slice(0, -1))) : kplus.Cpu.units(Number(value));
}

const SIZE_UNITS: Record<string, (amount: number) => Size> = {
  Mi: Size.mebibytes, Gi: Size.gibibytes, Ti: Size.tebibytes, Pi: Size.pebibyte,
};

/**
 * A byte quantity as cdk8s' `Size`: in the unit it is written in (`'3Gi'` is
 * `Size.gibibytes(3)`) when cdk8s-plus can render it as whole mebibytes,
 * otherwise as (possibly fractional) mebibytes (`'512M'`, `'100Ki'`).
 */
export function toSize(value: string): Size {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(Mi|Gi|Ti|Pi)$/.exec(value);
  const mebibytes = parseBytes('', 'memory', value) / 2 ** 20;
  return m && Number.isInteger(mebibytes) ? SIZE_UNITS[m[2]](Number(m[1])) : Size.mebibytes(mebibytes);
}

/** Requests and limits as cdk8s-plus' `ContainerProps.resources`. */
export function toContainerResources(r: ComputeResources): kplus.ContainerResources {
  return {
    cpu: { request: toCpu(r.requests.cpu), limit: toCpu(r.limits.cpu) },
    memory: { request: toSize(r.requests.memory), limit: toSize(r.limits.memory) },
  };
}

/** Requests and limits as the manifest holds them: canonical quantities, as the API server stores them. */
export function manifestResources(r: ComputeResources): Record<'requests' | 'limits', Record<'cpu' | 'memory', string>> {
  const both = (q: ResourceQuantities) => ({ cpu: canonicalQuantity(q.cpu), memory: canonicalQuantity(q.memory) });
  return { requests: both(r.requests), limits: both(r.limits) };
}

type Json = Record<string, unknown>;

/** The pod spec inside a rendered workload (Deployment, StatefulSet, Job, CronJob or Pod). */
function renderedPodSpec(manifest: RenderedManifest): Json {
  const spec = manifest.spec as Json;
  const jobTemplate = spec.jobTemplate as { spec: { template: { spec: Json } } } | undefined;
  return jobTemplate?.spec.template.spec ?? (spec.template as { spec: Json } | undefined)?.spec ?? spec;
}

/**
 * Writes a container's requests and limits into the workload's manifest in
 * canonical form (cdk8s-plus renders memory in `Mi`: `1Gi` would be
 * `1024Mi`, a perpetual diff against what the API server stores). The
 * container is found by name when the workload is rendered, among its
 * containers or init containers (`list`).
 */
export function writeExactResources(workload: kplus.AbstractPod, list: 'containers' | 'initContainers', name: string,
  r: ComputeResources): void {
  const exact = manifestResources(r);
  onRender(ApiObject.of(workload), (manifest) => {
    const container = (renderedPodSpec(manifest)[list] as Json[] | undefined)?.find((c) => c.name === name);
    if (!container) throw new Error(`${workload.node.path}: no container named '${name}' among the ${list} to write resources to`);
    container.resources = { limits: { ...exact.limits }, requests: { ...exact.requests } };
  });
}
