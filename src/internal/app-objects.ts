import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import {
  checkDns1035Label, checkDnsSubdomain, checkLabels, checkNamespace, CRONJOB_NAME_MAX, JOB_NAME_MAX, PropsError, show,
} from './validate';

/*
 * One validation on the root of every App holding one of our constructs:
 * every API object's name and namespace against the API server's rules for
 * its kind, its labels, and no two objects of one identity. Construct
 * validations run on every synth route (cdk8s' `App.synth`/`chart.toJson()`,
 * `synthesizeCharts`), so nothing the cluster would refuse reaches dist/.
 */

/** Roots that already carry the validation. */
const CHECKED = new WeakSet<IConstruct>();

/** Kinds without a namespace: their identity is group, kind and name. */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass',
  'PriorityClass', 'IngressClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'ClusterIssuer',
]);

/** Kinds whose names the API server checks as DNS-1123 subdomains (253 characters). */
const SUBDOMAIN_NAMED = new Set([
  'ConfigMap', 'Secret', 'ServiceAccount', 'PersistentVolumeClaim', 'Deployment', 'StatefulSet', 'DaemonSet',
  'Ingress', 'NetworkPolicy', 'HorizontalPodAutoscaler', 'PodDisruptionBudget',
]);

/** The name rule of a kind, as the API server applies it (kinds not listed are left to the schema gate). */
function checkObjectName(path: string, kind: string, name: string): void {
  const field = 'metadata.name';
  if (kind === 'Namespace') checkNamespace(path, field, name);
  else if (kind === 'Service') checkDns1035Label(path, field, name);
  else if (kind === 'CronJob' || kind === 'Job') {
    checkDnsSubdomain(path, field, name);
    const max = kind === 'CronJob' ? CRONJOB_NAME_MAX : JOB_NAME_MAX;
    if (name.length > max) {
      throw new PropsError(path, field, name, `is ${name.length} characters: a ${kind} name may have at most ${max} `
        + (kind === 'CronJob'
          ? '(the controller appends 11 characters to name each Job, and a Job name is a label value)'
          : '(it is the job-name label of its pods)'));
    }
  } else if (SUBDOMAIN_NAMED.has(kind)) checkDnsSubdomain(path, field, name);
}

/** An API object's labels (cdk8s keeps them private; read without resolving the object). */
function labelsOf(o: ApiObject): Record<string, string> {
  const labels = (o.metadata as unknown as { labels?: unknown }).labels;
  return labels && typeof labels === 'object' ? labels as Record<string, string> : {};
}

/**
 * The errors of every API object under `root`: names, namespaces and labels
 * Kubernetes would refuse, and objects defined twice (same API group, kind,
 * namespace and name: one would silently overwrite the other at apply).
 */
export function appObjectErrors(root: IConstruct): string[] {
  const errors: string[] = [];
  const seen = new Map<string, ApiObject>();
  const collect = (check: () => void) => {
    try {
      check();
    } catch (e) {
      if (!(e instanceof PropsError)) throw e;
      errors.push(e.message);
    }
  };
  for (const c of root.node.findAll()) {
    if (!(c instanceof ApiObject)) continue;
    const path = c.node.path;
    const name = c.metadata.name;
    const namespace = CLUSTER_SCOPED.has(c.kind) ? undefined : c.metadata.namespace;
    if (typeof namespace === 'string') collect(() => checkNamespace(path, 'metadata.namespace', namespace));
    collect(() => checkLabels(path, 'metadata.labels', labelsOf(c)));
    if (typeof name !== 'string') continue; // a lazy name (hash-named Jobs) is checked where it is made
    collect(() => checkObjectName(path, c.kind, name));
    const group = c.apiVersion.includes('/') ? c.apiVersion.split('/')[0] : '';
    const key = `${group}\0${c.kind}\0${namespace ?? ''}\0${name}`;
    const first = seen.get(key);
    if (first) {
      errors.push(new PropsError(path, 'metadata.name', name, `is already the name of ${first.node.path}: two ${c.kind} objects named ${show(name)}`
        + `${namespace ? ` in namespace ${show(namespace)}` : ''}, and the second would overwrite the first at apply; `
        + "give one of them another 'name' (or put it in another namespace)").message);
    } else {
      seen.set(key, c);
    }
  }
  return errors;
}

/**
 * Adds the {@link appObjectErrors} validation to the root of `scope` (once
 * per root). Every public construct calls it.
 */
export function checkAppObjects(scope: IConstruct): void {
  const root = scope.node.root;
  if (CHECKED.has(root)) return;
  CHECKED.add(root);
  root.node.addValidation({ validate: () => appObjectErrors(root) });
}
