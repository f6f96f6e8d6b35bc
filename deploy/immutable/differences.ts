import { compareQuantities } from './quantities';
import { ImmutableChange, KubeObject, Pair } from './types';

/*
 * How the guard compares a field of two versions of an object: as the API
 * server stores it (unset, empty and defaulted values alike), leaf by leaf,
 * quantities by value, with short values for messages.
 */

/** One leaf where two versions differ. */
export interface Difference {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

/** A change found by a rule (the guard adds which object). */
export type Finding = Omit<ImmutableChange, 'object' | 'namespace'>;

export const MAX_DIFFERENCES = 3;
/** Values longer than this (as JSON) are cut in messages. */
const SHORT = 120;

/** A change of `field` as a whole (shown whole when short, else by sub-path). */
export function changed(p: Pair, field: string, wayOut: string): Finding | undefined {
  const differences = differencesAt(p, field);
  if (differences.length === 0) return undefined;
  const before = get(p.before, field);
  const after = get(p.after, field);
  const whole = short(before, Infinity).length <= SHORT && short(after, Infinity).length <= SHORT;
  return { field, ...(whole ? { differences: [{ path: field, before, after }] } : listed(differences)), wayOut };
}

export function listed(differences: Difference[]): Pick<ImmutableChange, 'differences' | 'more'> {
  return differences.length > MAX_DIFFERENCES ? { differences: differences.slice(0, MAX_DIFFERENCES), more: true } : { differences };
}

export function differencesAt(p: Pair, field: string): Difference[] {
  const out: Difference[] = [];
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

export function get(o: KubeObject, dotted: string): unknown {
  let v: unknown = o;
  for (const k of dotted.split('.')) v = v === null || typeof v !== 'object' ? undefined : (v as Record<string, unknown>)[k];
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The label of an array item in a path: its name when both sides agree on one, else its index. */
function itemLabel(a: unknown, b: unknown, i: number): string {
  const name = (x: unknown) => {
    if (!isPlainObject(x)) return undefined;
    return typeof x.name === 'string' ? x.name : isPlainObject(x.metadata) ? x.metadata.name : undefined;
  };
  const n = name(a);
  return typeof n === 'string' && n === name(b) ? n : String(i);
}

/** Quantities sit in `resources.requests` / `resources.limits` maps. */
const QUANTITY_PATH = /\.resources\.(requests|limits)(\.[A-Za-z0-9_-]+|\[".*"\])$/;

/**
 * Collects the leaf paths where `a` and `b` differ (maps compared by key,
 * lists by position, quantities by value), up to one more than shown.
 */
function diff(a: unknown, b: unknown, at: string, out: Difference[]): void {
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
export function short(v: unknown, max = SHORT): string {
  if (v === undefined) return '(unset)';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
