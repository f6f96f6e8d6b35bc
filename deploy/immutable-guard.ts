/*
 * The immutable-field guard: compares the objects about to be written with
 * the ones written last time (what `kubectl apply` applied, or will compare
 * against) and reports every change the API server rejects on apply with
 * "field is immutable", with the way out. Pure: two lists of objects in,
 * findings out; reading the previous output is the caller's business.
 */

import { RULES, groupKind } from './immutable/rules';
import { short } from './immutable/differences';
import { ImmutableChange, KubeObject, Pair } from './immutable/types';
import { serverForm } from '../src/internal/server-form';

export type { ImmutableChange, KubeObject };

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
    : `'${change.field}' (${change.differences.map((d) => `${d.path}: ${short(d.before)} -> ${short(d.after)}`).join('; ')}`
      + `${change.more ? '; ...' : ''})`;
  return `${where}: ${what} is immutable, Kubernetes rejects this apply. Way out: ${change.wayOut}`;
}
