import { compareQuantities } from './quantities';
import { changed, differencesAt, get, listed, short } from './differences';
import { KubeObject, Pair, Rule } from './types';

/* The immutable fields the guard knows, kind by kind, each with its way out. */

/** Way out of a workload's selector change: delete it (`what` happens then) and apply again. */
function deleteWorkload(kind: string, what: string): (p: Pair) => string {
  return (p) => `delete the ${kind} (\`kubectl ${p.ns}delete ${kind.toLowerCase()} ${p.name}\`; ${what}) and apply again, or keep the old selector`;
}

const WORKLOAD_SELECTOR: Record<string, (p: Pair) => string> = {
  Deployment: deleteWorkload('Deployment', 'its pods go with it'),
  DaemonSet: deleteWorkload('DaemonSet', 'its pods go with it'),
  StatefulSet: deleteWorkload('StatefulSet', 'its PVCs stay'),
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
    wayOut = `${orphanStatefulSet(p)}: existing PVCs keep their old spec, only PVCs created from now on follow the new template; `
      + 'or keep the old template';
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

const PVC_SPEC = 'a PVC\'s spec is fixed at creation (only its size can grow): keep the old value, '
  + 'or create a PVC under a new name and copy the data over'
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
export const RULES: Record<string, Rule[]> = {
  'apps/Deployment': [selector],
  'apps/DaemonSet': [selector],
  'apps/StatefulSet': [selector, volumeClaimTemplates, serviceName, podManagementPolicy],
  'batch/Job': [selector, jobTemplate],
  '/PersistentVolumeClaim': [storageClassName, accessModes, storageShrink],
  '/Service': [clusterIP, externalName],
};

/** The kinds the guard looks at (in their API group). */
export const GUARDED_KINDS: ReadonlySet<string> = new Set(Object.keys(RULES).map((k) => k.slice(k.indexOf('/') + 1)));

/** `<group>/<Kind>` of an object, the key of {@link RULES}. */
export function groupKind(o: KubeObject): string {
  const apiVersion: string = typeof o?.apiVersion === 'string' ? o.apiVersion : '';
  return `${apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : ''}/${o?.kind}`;
}
