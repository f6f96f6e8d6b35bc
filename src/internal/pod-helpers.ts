import { createHash } from 'crypto';
import { ApiObject, JsonPatch, Lazy, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ComputeResources, quantity, toContainerResources, writeExactResources } from './resources';
import { restrictedContainer } from './security';

/** JSON pointer of the pod spec inside a workload's manifest. */
export function podSpecPath(workload: kplus.AbstractPod): string {
  return workload instanceof kplus.CronJob ? '/spec/jobTemplate/spec/template/spec' : '/spec/template/spec';
}

/** Options for {@link addContainer}. */
export interface AddContainerOptions {
  /** Exact requests and limits. */
  readonly resources: ComputeResources;
  /** Add as an init container. */
  readonly init?: boolean;
  /** UID to run as. */
  readonly user?: number;
  /** Read-only root filesystem. */
  readonly readOnlyRootFilesystem?: boolean;
  /** An emptyDir for /tmp (needed with a read-only root filesystem). */
  readonly tmp?: kplus.Volume;
}

/**
 * Adds a container with the restricted security context and its requests and
 * limits (set through cdk8s-plus, so `container.resources` reads them; the
 * manifest holds them in canonical form, so `1Gi` stays `1Gi`).
 */
export function addContainer(workload: kplus.AbstractPod, props: kplus.ContainerProps, options: AddContainerOptions): kplus.Container {
  const full: kplus.ContainerProps = {
    securityContext: restrictedContainer(options.user, options.readOnlyRootFilesystem ?? true),
    ...props,
    // cdk8s-plus keeps the array it is given as the container's own list of
    // mounts: props shared by several containers (AppEnv's) must not share it
    volumeMounts: props.volumeMounts ? [...props.volumeMounts] : undefined,
    resources: toContainerResources(options.resources),
  };
  const c = options.init ? workload.addInitContainer(full) : workload.addContainer(full);
  if (options.tmp) c.mount('/tmp', options.tmp);
  writeExactResources(workload, options.init ? 'initContainers' : 'containers', c.name, options.resources);
  return c;
}

/** Adds labels to the pod template of a workload. */
export function addPodLabels(workload: kplus.AbstractPod, labels: Record<string, string>): void {
  for (const [k, v] of Object.entries(labels)) workload.podMetadata.addLabel(k, v);
}

/**
 * Turns off `enableServiceLinks` in the pod template: otherwise Kubernetes
 * injects `<SERVICE>_PORT=tcp://10.x:6379`-style variables for every Service
 * of the namespace (`redis`, `postgres`...), which shadow settings such as
 * `REDIS_PORT` that the app reads as a number. cdk8s-plus-28 has no prop for it.
 */
export function disableServiceLinks(workload: kplus.AbstractPod): void {
  ApiObject.of(workload).addJsonPatch(JsonPatch.add(`${podSpecPath(workload)}/enableServiceLinks`, false));
}

/**
 * JSON pointer of a container (found by name, among containers or init
 * containers) inside a workload's manifest, for the few fields cdk8s-plus-28
 * cannot set (probe HTTP headers).
 */
export function containerPath(workload: kplus.AbstractPod, name: string): string {
  const main = workload.containers.findIndex((c) => c.name === name);
  if (main >= 0) return `${podSpecPath(workload)}/containers/${main}`;
  const init = workload.initContainers.findIndex((c) => c.name === name);
  if (init >= 0) return `${podSpecPath(workload)}/initContainers/${init}`;
  throw new Error(`no container named '${name}' in ${workload.node.path}`);
}

/**
 * Makes the HTTP probes of a container send `Host: <host>`. Without it the
 * kubelet sends the pod IP, which Django (with DEBUG off) and Starlette's
 * TrustedHostMiddleware reject with 400 unless it is allowed, so the pod
 * never becomes Ready.
 */
export function addProbeHostHeader(workload: kplus.AbstractPod, container: string, host: string,
  probes: ReadonlyArray<'readinessProbe' | 'livenessProbe' | 'startupProbe'>): void {
  const obj = ApiObject.of(workload);
  const base = containerPath(workload, container);
  for (const probe of probes) obj.addJsonPatch(JsonPatch.add(`${base}/${probe}/httpGet/httpHeaders`, [{ name: 'Host', value: host }]));
}

/** Standard `app.kubernetes.io/*` labels (`instance` defaults to `name`). */
export function standardLabels(name: string, component: string, partOf: string, version?: string, instance = name): Record<string, string> {
  const l: Record<string, string> = {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': partOf,
    'app.kubernetes.io/managed-by': 'cdk8s',
  };
  if (version) l['app.kubernetes.io/version'] = version;
  return l;
}

/** Size of each writable-directory emptyDir. */
export const WRITABLE_DIRECTORY_SIZE = Size.mebibytes(100);

/**
 * Mounts an emptyDir (100Mi) at each of `dirs` in every container of
 * `workload`, init containers included (they run the app's code too). A
 * container that already mounts a path keeps its mount, and a volume already
 * mounted at a path is reused, so calling this twice is harmless. Call it
 * after the last container is added.
 */
export function mountWritableDirectories(scope: Construct, idPrefix: string, workload: kplus.AbstractPod, dirs: readonly string[]): void {
  dirs.forEach((dir, i) => {
    const all = [...workload.initContainers, ...workload.containers];
    const existing = all.flatMap((c) => c.mounts).find((m) => m.path === dir)?.volume;
    const slug = dir.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50).replace(/-+$/, '');
    const volume = existing
      ?? kplus.Volume.fromEmptyDir(scope, `${idPrefix}Writable${i}`, `writable-${slug}-${i}`, { sizeLimit: WRITABLE_DIRECTORY_SIZE });
    for (const c of all) if (!c.mounts.some((m) => m.path === dir)) c.mount(dir, volume);
  });
}

/** The labels a workload's selector is made of: Kubernetes' recommended labels, never a construct path. */
export const SELECTOR_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component'] as const;

/**
 * Gives a workload an identity that survives refactors. cdk8s-plus selects
 * pods by `cdk8s.io/metadata.addr`, a hash of the construct path: renaming a
 * chart or a construct id changes it, and Kubernetes refuses the new
 * selector (`spec.selector: field is immutable`). Deployments and
 * StatefulSets (created with `select: false`) select on name, instance and
 * component instead; every pod template (Jobs and CronJobs too) loses the
 * path label, so a rename changes nothing that Kubernetes keeps.
 */
export function stableIdentity(workload: kplus.Workload, labels: Record<string, string>): void {
  if (workload instanceof kplus.Deployment || workload instanceof kplus.StatefulSet) {
    const selector: Record<string, string> = {};
    for (const k of SELECTOR_LABELS) {
      if (labels[k] === undefined) throw new Error(`${workload.node.path}: selector label ${k} is missing`);
      selector[k] = labels[k];
    }
    if (Object.keys(workload.matchLabels).some((k) => !(k in selector))) {
      throw new Error(`${workload.node.path}: create the workload with 'select: false' before giving it a stable selector`);
    }
    workload.select(kplus.LabelSelector.of({ labels: selector }));
  }
  for (const [k, v] of Object.entries(labels)) workload.podMetadata.addLabel(k, v);
  const template = workload instanceof kplus.CronJob ? '/spec/jobTemplate/spec/template' : '/spec/template';
  ApiObject.of(workload).addJsonPatch(JsonPatch.remove(`${template}/metadata/labels/cdk8s.io~1metadata.addr`));
}

/**
 * The pods of a workload, selected by its stable selector: for Services,
 * affinities and spreads. (Passing the workload itself would make
 * cdk8s-plus select on the construct-path label that {@link stableIdentity}
 * removes.)
 */
export function stablePods(workload: kplus.Deployment | kplus.StatefulSet): kplus.Pods {
  const existing = workload.node.tryFindChild('StablePods') as kplus.Pods | undefined;
  return existing ?? kplus.Pods.select(workload, 'StablePods', { labels: workload.matchLabels });
}

/**
 * A StatefulSet's governing (headless) Service: cdk8s-plus makes it select
 * the StatefulSet's construct-path label; this selects its stable labels instead.
 */
export function stableHeadlessService(service: kplus.Service, statefulSet: kplus.StatefulSet): void {
  for (const [k, v] of Object.entries(statefulSet.matchLabels)) service.selectLabel(k, v);
  ApiObject.of(service).addJsonPatch(JsonPatch.remove('/spec/selector/cdk8s.io~1metadata.addr'));
}

/** Length of the template hash in Job names. */
export const TEMPLATE_HASH_LENGTH = 10;

/**
 * A Job name `<prefix>-<hash>` where the hash covers the Job's whole pod
 * template as synthesized (image, command, env, resources, volumes, labels,
 * security context, patches included). A Job's template is immutable: the
 * same template is the same name (a second `kubectl apply` is a no-op), any
 * change is a new name (a new Job runs). Resolved when the Job is rendered,
 * so it sees everything added after the constructor too.
 */
export function templateHashedName(job: () => kplus.Job, prefix: string): string {
  let producing = false;
  return Lazy.any({
    produce: () => {
      if (producing) return prefix; // the template never contains the Job's own name
      producing = true;
      try {
        const template = ApiObject.of(job()).toJson().spec.template;
        return `${prefix}-${createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, TEMPLATE_HASH_LENGTH)}`;
      } finally {
        producing = false;
      }
    },
  }) as unknown as string;
}

/** The rendered name of an object (resolves a {@link templateHashedName}). */
export function renderedName(resource: kplus.Resource): string {
  return ApiObject.of(resource).toJson().metadata.name;
}

/**
 * A StatefulSet volume claim template (ReadWriteOnce, Filesystem), kept on
 * uninstall (`helm.sh/resource-policy: keep`). The renderer adds what the
 * API server stores besides (see `serverForm`).
 */
export function claimTemplate(name: string, labels: Record<string, string>, storage: string, storageClassName?: string): Record<string, unknown> {
  return {
    metadata: { name, labels, annotations: { 'helm.sh/resource-policy': 'keep' } },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName, resources: { requests: { storage: quantity(storage) } }, volumeMode: 'Filesystem' },
  };
}
