/*
 * The immutable-field guard: compares the objects about to be written with
 * the ones written last time (what `kubectl apply` applied, or will compare
 * against) and reports every change the API server rejects on apply with
 * "field is immutable", with the way out. Pure: two lists of objects in,
 * findings out; reading the previous output is the caller's business.
 */

import { serverForm } from '../src/internal/server-form';

/** A Kubernetes object as synthesized (or read back from YAML). */
export type KubeObject = Record<string, any>;

/** One change Kubernetes refuses on apply. */
export interface ImmutableChange {
  /** `Kind/name`, e.g. `StatefulSet/postgres`. */
  readonly object: string;
  /** The object's namespace. @default - none (cluster-scoped or unset) */
  readonly namespace?: string;
  /** The immutable field, e.g. `spec.selector`. */
  readonly field: string;
  /** Where it differs (sub-paths of {@link field}), old and new value, at most a few. */
  readonly differences: ReadonlyArray<{ readonly path: string; readonly before: unknown; readonly after: unknown }>;
  /** More differences than listed. @default false */
  readonly more?: boolean;
  /** What to do instead. */
  readonly wayOut: string;
}

interface Pair {
  readonly before: KubeObject;
  readonly after: KubeObject;
  readonly name: string;
  /** `-n <ns> ` for kubectl commands, or ''. */
  readonly ns: string;
}

type Rule = (p: Pair) => Omit<ImmutableChange, 'object' | 'namespace'> | undefined;

const MAX_DIFFERENCES = 3;
/** Values longer than this (as JSON) are cut in messages. */
const SHORT = 120;

/** The identity of an object: API group (not version), kind, namespace, name. */
export function objectKey(o: KubeObject): string | undefined {
  const name = o?.metadata?.name;
  if (typeof o?.kind !== 'string' || typeof name !== 'string') return undefined;
  const apiVersion: string = typeof o.apiVersion === 'string' ? o.apiVersion : '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return `${group}\0${o.kind}\0${o.metadata.namespace ?? ''}\0${name}`;
}

/**
 * Every change from `before` to `after` that the API server rejects on
 * apply. Objects are matched by API group, kind, namespace and name; added
 * and removed objects, and fields Kubernetes lets you change, are fine.
 */
export function findImmutableChanges(before: readonly KubeObject[], after: readonly KubeObject[]): ImmutableChange[] {
  const old = new Map<string, KubeObject>();
  for (const o of before) {
    const key = objectKey(o);
    // both sides as the server stores them (e.g. claim templates with apiVersion, kind and status filled in)
    if (key !== undefined && RULES[groupKind(o)]) old.set(key, serverForm(o));
  }
  const changes: ImmutableChange[] = [];
  if (old.size === 0) return changes;
  for (const given of after) {
    const rules = RULES[groupKind(given)];
    if (!rules) continue;
    const o = serverForm(given);
    const key = objectKey(o);
    const previous = key === undefined ? undefined : old.get(key);
    if (!previous) continue;
    const namespace: string | undefined = o.metadata.namespace;
    const pair: Pair = { before: previous, after: o, name: o.metadata.name, ns: namespace ? `-n ${namespace} ` : '' };
    for (const rule of rules) {
      const change = rule(pair);
      if (change) changes.push({ object: `${o.kind}/${o.metadata.name}`, ...(namespace ? { namespace } : {}), ...change });
    }
  }
  return changes;
}

/**
 * One line per change: the environment, the object, the field, old -> new
 * and the way out, e.g.
 * `[prod] StatefulSet/postgres (namespace erp-prod): 'spec.serviceName' ("postgres" -> "pg") is immutable,
 * Kubernetes rejects this apply. Way out: ...`
 */
export function formatImmutableChange(change: ImmutableChange, environment?: string): string {
  const where = `${environment ? `[${environment}] ` : ''}${change.object}${change.namespace ? ` (namespace ${change.namespace})` : ''}`;
  const [first] = change.differences;
  const what = change.differences.length === 1 && !change.more
    ? `'${first.path}' (${short(first.before)} -> ${short(first.after)})`
    : `'${change.field}' (${change.differences.map((d) => `${d.path}: ${short(d.before)} -> ${short(d.after)}`).join('; ')}${change.more ? '; ...' : ''})`;
  return `${where}: ${what} is immutable, Kubernetes rejects this apply. Way out: ${change.wayOut}`;
}

// ---- the rules

const WORKLOAD_SELECTOR: Record<string, (p: Pair) => string> = {
  Deployment: (p) => `delete the Deployment (\`kubectl ${p.ns}delete deployment ${p.name}\`; its pods go with it) and apply again, or keep the old selector`,
  DaemonSet: (p) => `delete the DaemonSet (\`kubectl ${p.ns}delete daemonset ${p.name}\`; its pods go with it) and apply again, or keep the old selector`,
  StatefulSet: (p) => `delete the StatefulSet (\`kubectl ${p.ns}delete statefulset ${p.name}\`; its PVCs stay) and apply again, or keep the old selector`,
  Job: (p) => jobWayOut(p),
};

const selector: Rule = (p) => changed(p, 'spec.selector', WORKLOAD_SELECTOR[p.after.kind](p));

function jobWayOut(p: Pair): string {
  const annotations = p.after.metadata?.annotations ?? {};
  const hook = annotations['helm.sh/hook'] !== undefined || annotations['argocd.argoproj.io/hook'] !== undefined;
  return `delete the Job (\`kubectl ${p.ns}delete job ${p.name}\`) or give it a new name (e.g. after a hash of its pod template)`
    + (hook ? '; as a Helm/Argo CD hook it is deleted first by that tool, but a plain `kubectl apply` still fails' : '');
}

const jobTemplate: Rule = (p) => changed(p, 'spec.template', jobWayOut(p));

const orphanStatefulSet = (p: Pair) => `\`kubectl ${p.ns}delete statefulset ${p.name} --cascade=orphan\` (its pods and PVCs stay) and apply again`;

const serviceName: Rule = (p) => changed(p, 'spec.serviceName', `${orphanStatefulSet(p)}, or keep the old value`);
const podManagementPolicy: Rule = (p) => changed(p, 'spec.podManagementPolicy', `${orphanStatefulSet(p)}, or keep the old value`);

const volumeClaimTemplates: Rule = (p) => {
  const field = 'spec.volumeClaimTemplates';
  const differences = differencesAt(p, field);
  if (differences.length === 0) return undefined;
  // only storage sizes changed: say how to grow (or not shrink) the claims
  const sizes = differences.every((d) => /\.spec\.resources\.requests\.storage$/.test(d.path));
  const grows = sizes && differences.every((d) => compareQuantities(d.before, d.after) === -1);
  const shrinks = sizes && differences.some((d) => compareQuantities(d.before, d.after) === 1);
  let wayOut: string;
  if (grows) {
    const claims = differences.map((d) => expandCommand(p, /\[([^\]]+)\]\.spec/.exec(d.path)?.[1] ?? '<template>', d.after));
    wayOut = `expand the PVC (${claims.join(', ')}, if the storage class allows expansion), then ${orphanStatefulSet(p)}`;
  } else if (shrinks) {
    wayOut = `a PVC never shrinks: keep the old size; or ${orphanStatefulSet(p)}: existing PVCs keep their size, only new replicas get the new one`;
  } else {
    wayOut = `${orphanStatefulSet(p)}: existing PVCs keep their old spec, only PVCs created from now on follow the new template; or keep the old template`;
  }
  return { field, ...listed(differences), wayOut };
};

/** The command that grows the PVC of each replica (`<template>-<statefulset>-<ordinal>`). */
function expandCommand(p: Pair, template: string, storage: unknown): string {
  const replicas = typeof p.after.spec?.replicas === 'number' ? p.after.spec.replicas : 1;
  const patch = `-p '${JSON.stringify({ spec: { resources: { requests: { storage } } } })}'`;
  return replicas > 1
    ? `\`for i in $(seq 0 ${replicas - 1}); do kubectl ${p.ns}patch pvc ${template}-${p.name}-$i ${patch}; done\``
    : `\`kubectl ${p.ns}patch pvc ${template}-${p.name}-0 ${patch}\``;
}

const PVC_SPEC = 'a PVC\'s spec is fixed at creation (only its size can grow): keep the old value, or create a PVC under a new name and copy the data over'
  + ' (deleting and re-creating this one loses its data unless its PersistentVolume is Retain)';

const storageClassName: Rule = (p) => changed(p, 'spec.storageClassName', PVC_SPEC);
const accessModes: Rule = (p) => changed(p, 'spec.accessModes', PVC_SPEC);
const storageShrink: Rule = (p) => {
  const field = 'spec.resources.requests.storage';
  const before = get(p.before, field);
  const after = get(p.after, field);
  if (compareQuantities(before, after) !== 1) return undefined;
  return {
    field,
    differences: [{ path: field, before, after }],
    wayOut: `a PVC never shrinks: keep ${short(before)} (or more), or create a smaller PVC under a new name and copy the data over`,
  };
};

const serviceDelete = (p: Pair) => `delete the Service (\`kubectl ${p.ns}delete service ${p.name}\`; clients briefly lose it) and apply again`;

const clusterIP: Rule = (p) => {
  const field = 'spec.clusterIP';
  const before = get(p.before, field);
  const after = get(p.after, field);
  // unset: the API server keeps the address it allocated
  if (after === undefined || after === '' || after === before) return undefined;
  return { field, differences: [{ path: field, before, after }], wayOut: `${serviceDelete(p)}, or keep the old clusterIP (or leave it unset)` };
};

const externalName: Rule = (p) => {
  const field = 'spec.type';
  const before = get(p.before, field) ?? 'ClusterIP';
  const after = get(p.after, field) ?? 'ClusterIP';
  if ((before === 'ExternalName') === (after === 'ExternalName')) return undefined;
  return { field, differences: [{ path: field, before, after }], wayOut: serviceDelete(p) };
};

/** Rules by `<group>/<Kind>`. */
const RULES: Record<string, Rule[]> = {
  'apps/Deployment': [selector],
  'apps/DaemonSet': [selector],
  'apps/StatefulSet': [selector, volumeClaimTemplates, serviceName, podManagementPolicy],
  'batch/Job': [selector, jobTemplate],
  '/PersistentVolumeClaim': [storageClassName, accessModes, storageShrink],
  '/Service': [clusterIP, externalName],
};

/** The kinds the guard looks at (in their API group). */
export const GUARDED_KINDS: ReadonlySet<string> = new Set(Object.keys(RULES).map((k) => k.slice(k.indexOf('/') + 1)));

function groupKind(o: KubeObject): string {
  const apiVersion: string = typeof o?.apiVersion === 'string' ? o.apiVersion : '';
  return `${apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : ''}/${o?.kind}`;
}

/** A change of `field` as a whole (shown whole when short, else by sub-path). */
function changed(p: Pair, field: string, wayOut: string): Omit<ImmutableChange, 'object' | 'namespace'> | undefined {
  const differences = differencesAt(p, field);
  if (differences.length === 0) return undefined;
  const before = get(p.before, field);
  const after = get(p.after, field);
  const whole = short(before, Infinity).length <= SHORT && short(after, Infinity).length <= SHORT;
  return { field, ...(whole ? { differences: [{ path: field, before, after }] } : listed(differences)), wayOut };
}

function listed(differences: Array<{ path: string; before: unknown; after: unknown }>): Pick<ImmutableChange, 'differences' | 'more'> {
  return differences.length > MAX_DIFFERENCES ? { differences: differences.slice(0, MAX_DIFFERENCES), more: true } : { differences };
}

function differencesAt(p: Pair, field: string): Array<{ path: string; before: unknown; after: unknown }> {
  const out: Array<{ path: string; before: unknown; after: unknown }> = [];
  const key = field.slice(field.lastIndexOf('.') + 1);
  diff(stored(get(p.before, field), key), stored(get(p.after, field), key), field, out);
  return out;
}

/**
 * Values the API server stores exactly as if the field were unset, in pod
 * and claim templates: zero values of plain (non-pointer) fields, which it
 * drops, and defaults it fills in. Removing `hostNetwork: false` or
 * `protocol: TCP` from a Job's template changes nothing on the server.
 * Pointer fields (automountServiceAccountToken, runAsUser, ...) are not
 * here: for them `false` / `0` and unset differ.
 */
const SAME_AS_UNSET: Record<string, readonly unknown[]> = {
  hostNetwork: [false], hostPID: [false], hostIPC: [false], stdin: [false], stdinOnce: [false], tty: [false], readOnly: [false],
  minReadySeconds: [0], initialDelaySeconds: [0], hostPort: [0],
  timeoutSeconds: [1], periodSeconds: [10], successThreshold: [1], failureThreshold: [3],
  protocol: ['TCP'], terminationMessagePath: ['/dev/termination-log'], terminationMessagePolicy: ['File'],
  dnsPolicy: ['ClusterFirst'], schedulerName: ['default-scheduler'], enableServiceLinks: [true], defaultMode: [420],
  volumeMode: ['Filesystem'],
};

/**
 * A value as the API server keeps it, for comparison: empty lists and maps
 * and nulls are unset (it compares nil and empty alike), and so are the
 * values of {@link SAME_AS_UNSET}.
 */
function stored(v: unknown, key?: string): unknown {
  if (v === null || v === undefined) return undefined;
  if (key !== undefined && SAME_AS_UNSET[key]?.includes(v)) return undefined;
  if (Array.isArray(v)) {
    return v.length === 0 ? undefined : v.map((x) => stored(x) ?? null);
  }
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const y = stored(x, k);
      if (y !== undefined) out[k] = y;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v;
}

function get(o: KubeObject, dotted: string): any {
  let v: any = o;
  for (const k of dotted.split('.')) v = v === null || typeof v !== 'object' ? undefined : v[k];
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The label of an array item in a path: its name when both sides agree on one, else its index. */
function itemLabel(a: unknown, b: unknown, i: number): string {
  const name = (x: unknown) => (isPlainObject(x) ? (typeof x.name === 'string' ? x.name : isPlainObject(x.metadata) ? x.metadata.name : undefined) : undefined);
  const n = name(a);
  return typeof n === 'string' && n === name(b) ? n : String(i);
}

/** Quantities sit in `resources.requests` / `resources.limits` maps. */
const QUANTITY_PATH = /\.resources\.(requests|limits)(\.[A-Za-z0-9_-]+|\[".*"\])$/;

/**
 * Collects the leaf paths where `a` and `b` differ (maps compared by key,
 * lists by position, quantities by value), up to one more than shown.
 */
function diff(a: unknown, b: unknown, at: string, out: Array<{ path: string; before: unknown; after: unknown }>): void {
  if (out.length > MAX_DIFFERENCES || a === b) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) diff(a[i], b[i], `${at}[${itemLabel(a[i], b[i], i)}]`, out);
    return;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) diff(a[k], b[k], `${at}${/^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`}`, out);
    return;
  }
  if (QUANTITY_PATH.test(at) && compareQuantities(a, b) === 0) return;
  out.push({ path: at, before: a, after: b });
}

/** Short JSON for a message; `(unset)` for a missing value. */
function short(v: unknown, max = SHORT): string {
  if (v === undefined) return '(unset)';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

// ---- Kubernetes quantities

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE]?)|[eE]([+-]?\d+))$/;
const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** A quantity as an exact fraction, or undefined when it is not one. */
function quantity(v: unknown): { num: bigint; den: bigint } | undefined {
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
  if (typeof s !== 'string') return undefined;
  const m = QUANTITY.exec(s.trim());
  if (!m) return undefined;
  const [, sign, number, binary, decimal, exponent] = m;
  const [whole, fraction = ''] = number.split('.');
  const pow10 = -fraction.length + (exponent !== undefined ? Number(exponent) : binary ? 0 : DECIMAL_SUFFIX[decimal ?? '']);
  if (Math.abs(pow10) > 1000) return undefined;
  let num = BigInt(`${whole || '0'}${fraction}`) * (sign === '-' ? -1n : 1n) * 2n ** BigInt(binary ? BINARY_SUFFIX[binary] : 0);
  let den = 1n;
  if (pow10 >= 0) num *= 10n ** BigInt(pow10);
  else den = 10n ** BigInt(-pow10);
  return { num, den };
}

/**
 * Compares two Kubernetes quantities by value (`20Gi` = `21474836480`,
 * `500m` < `1`): -1, 0 or 1; undefined when either is not a quantity.
 */
export function compareQuantities(a: unknown, b: unknown): -1 | 0 | 1 | undefined {
  const x = quantity(a);
  const y = quantity(b);
  if (!x || !y) return undefined;
  const l = x.num * y.den;
  const r = y.num * x.den;
  return l < r ? -1 : l > r ? 1 : 0;
}
