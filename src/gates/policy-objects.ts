import type { PolicyOptions } from './policy';

/*
 * The policy gate's view of synthesized objects (see policy.ts): plain JSON
 * read defensively, pod templates and containers found per kind, label
 * selectors, and the context every rule gets.
 */

export type Rec = Readonly<Record<string, unknown>>;
export const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Rec : {});
export const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
export const strings = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(rec(v)).filter((e): e is [string, string] => typeof e[1] === 'string'));
export const isEmpty = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'object' && Object.keys(v).length === 0);

/** A synthesized object, with the fields the rules use. */
export interface Obj {
  readonly raw: Rec;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** A pod template inside a workload (or a Pod). */
export interface PodTemplate {
  readonly object: Obj;
  readonly pod: Rec;
  /** JSON pointer of the pod spec. */
  readonly path: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly longRunning: boolean;
}

export interface Container {
  readonly c: Rec;
  readonly path: string;
  readonly name: string;
  readonly init: boolean;
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'ClusterIssuer', 'PersistentVolume', 'StorageClass',
  'PriorityClass', 'CustomResourceDefinition', 'IngressClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']);
const POD_SPEC_PATHS: Record<string, readonly string[]> = {
  Pod: [], Deployment: ['spec', 'template'], StatefulSet: ['spec', 'template'], DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'], Job: ['spec', 'template'], CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};
const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);
export const ALLOWED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

export function normalize(raw: unknown, defaultNamespace: string): Obj {
  const r = rec(raw);
  const meta = rec(r.metadata);
  const kind = typeof r.kind === 'string' ? r.kind : '';
  const namespace = CLUSTER_SCOPED.has(kind) ? undefined : typeof meta.namespace === 'string' ? meta.namespace : defaultNamespace;
  const name = typeof meta.name === 'string' ? meta.name : '';
  return { raw: r, kind, name, namespace, labels: strings(meta.labels), annotations: strings(meta.annotations) };
}

export function podTemplate(object: Obj): PodTemplate | undefined {
  const steps = POD_SPEC_PATHS[object.kind];
  if (!steps) return undefined;
  const template = steps.reduce<Rec>((at, step) => rec(at[step]), object.raw);
  const meta = object.kind === 'Pod' ? { labels: object.labels, annotations: object.annotations } : rec(template.metadata);
  return {
    object, pod: rec(template.spec), path: `/${[...steps, 'spec'].join('/')}`,
    labels: strings(meta.labels), annotations: strings(meta.annotations), longRunning: LONG_RUNNING.has(object.kind),
  };
}

export function containers(t: PodTemplate): Container[] {
  const of = (field: string, init: boolean): Container[] => list(t.pod[field]).map((c, i) => ({
    c: rec(c), path: `${t.path}/${field}/${i}`, name: String(rec(c).name ?? i), init,
  }));
  return [...of('initContainers', true), ...of('containers', false)];
}

/** Kubernetes label selector semantics; a missing selector selects nothing. */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  if (typeof selector !== 'object' || selector === null) return false;
  const s = rec(selector);
  if (!Object.entries(strings(s.matchLabels)).every(([k, v]) => labels[k] === v)) return false;
  return list(s.matchExpressions).every((e) => {
    const { key, operator, values } = rec(e);
    const has = typeof key === 'string' && key in labels;
    const inValues = has && list(values).includes(labels[key as string]);
    switch (operator) {
      case 'In': return inValues;
      case 'NotIn': return !inValues;
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: return false;
    }
  });
}

/** The tag of an image reference, '' if untagged; undefined if pinned by digest. */
export function imageTag(image: string): string | undefined {
  if (image.includes('@')) return undefined;
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : '';
}

/** Reports a violation of the rule being checked. */
export type Report = (object: Obj, path: string, message: string) => void;

/** What the rules look at: the objects, their pod templates and indexes. */
export interface Context {
  readonly objects: readonly Obj[];
  readonly templates: readonly PodTemplate[];
  readonly options: PolicyOptions;
  /** `ns/Kind/name` of every HPA target -> the HPA's name and maxReplicas. */
  readonly hpaTargets: ReadonlyMap<string, { readonly name: string; readonly maxReplicas: number }>;
  readonly inNamespace: (kind: string, namespace: string | undefined) => Obj[];
}

/** Calls `check` for every container of every pod template. */
export const perContainer = (check: (c: Container, t: PodTemplate, report: (path: string, message: string) => void) => void) =>
  (ctx: Context, report: Report): void => {
    for (const t of ctx.templates) for (const c of containers(t)) check(c, t, (p, m) => report(t.object, p, m));
  };

/** Calls `check` for every pod template. */
export const perTemplate = (check: (t: PodTemplate, report: (path: string, message: string) => void, ctx: Context) => void) =>
  (ctx: Context, report: Report): void => {
    for (const t of ctx.templates) check(t, (p, m) => report(t.object, p, m), ctx);
  };

/** The {@link Context} of a set of objects. */
export function policyContext(objects: readonly unknown[], options: PolicyOptions): Context {
  const objs = objects.map((o) => normalize(o, options.defaultNamespace ?? 'default'));
  const templates = objs.map(podTemplate).filter((t): t is PodTemplate => t !== undefined);
  const hpaTargets = new Map<string, { name: string; maxReplicas: number }>();
  for (const o of objs.filter((x) => x.kind === 'HorizontalPodAutoscaler')) {
    const spec = rec(o.raw.spec);
    const ref = rec(spec.scaleTargetRef);
    const maxReplicas = typeof spec.maxReplicas === 'number' ? spec.maxReplicas : 1;
    hpaTargets.set(`${o.namespace}/${String(ref.kind)}/${String(ref.name)}`, { name: o.name, maxReplicas });
  }
  // objects by kind and namespace: the rules look up PDBs, NetworkPolicies and
  // ServiceAccounts per pod template, which must not scan every object (a
  // synth of hundreds of stacks would be quadratic)
  const index = new Map<string, Obj[]>();
  const keyOf = (kind: string, ns: string | undefined) => `${kind}\0${ns === undefined ? '' : `=${ns}`}`;
  for (const o of objs) {
    const same = index.get(keyOf(o.kind, o.namespace));
    if (same) same.push(o);
    else index.set(keyOf(o.kind, o.namespace), [o]);
  }
  const none: Obj[] = [];
  return { objects: objs, templates, options, hpaTargets, inNamespace: (kind, ns) => index.get(keyOf(kind, ns)) ?? none };
}
