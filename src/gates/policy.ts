import { NEEDS_API_ACCESS_ANNOTATION, SINGLETON_LABEL } from '../internal/vocabulary';

/**
 * The policy gate: rules every synthesized object set must keep (Pod Security
 * Standard "restricted", reliability, security, data safety), checked on the
 * plain objects of a synth (`Testing.synth(chart)`, `chart.toJson()`).
 *
 * An object opts out of one rule with the annotation
 * `erp-k8s.io/policy-exempt.<RULE-ID>: "<reason>"`; the exemption is reported
 * with its reason, and an empty reason is itself an error.
 */

/** How bad a violation is: errors fail the synth, warnings are printed. */
export type Severity = 'error' | 'warning';

/** A rule of the gate. */
export interface PolicyRule {
  /** Stable id, used in exemption annotations, e.g. `PSS-RUN-AS-NON-ROOT`. */
  readonly id: string;
  /** Severity of its violations. */
  readonly severity: Severity;
  /** What the rule requires (one sentence, for the README). */
  readonly description: string;
}

/** One object breaking one rule. */
export interface Violation {
  /** The rule broken. */
  readonly ruleId: string;
  /** The rule's severity. */
  readonly severity: Severity;
  /** What is wrong and how to fix it. */
  readonly message: string;
  /** Kind of the object. */
  readonly kind: string;
  /** `metadata.name` of the object. */
  readonly name: string;
  /** Namespace of the object. @default - cluster-scoped object */
  readonly namespace?: string;
  /** JSON pointer of the offending field in the object (`''` for the object itself). */
  readonly path: string;
}

/** A rule skipped for one object by its exemption annotation. */
export interface Exemption {
  /** The rule skipped. */
  readonly ruleId: string;
  /** Kind of the object. */
  readonly kind: string;
  /** `metadata.name` of the object. */
  readonly name: string;
  /** Namespace of the object. @default - cluster-scoped object */
  readonly namespace?: string;
  /** The reason given in the annotation. */
  readonly reason: string;
  /** How many violations the exemption suppressed (0: the exemption may be stale). */
  readonly suppressed: number;
}

/** The outcome of {@link checkPolicy}. */
export interface PolicyResult {
  /** Every violation, errors and warnings, grouped by rule in {@link POLICY_RULES} order. */
  readonly violations: Violation[];
  /** Every valid exemption annotation found. */
  readonly exemptions: Exemption[];
}

/** Options of {@link checkPolicy}. */
export interface PolicyOptions {
  /** Allow `:latest` and untagged images (development environments only). @default false */
  readonly allowLatest?: boolean;
  /** Namespace of namespaced objects that have no `metadata.namespace`. @default 'default' */
  readonly defaultNamespace?: string;
}

/** Thrown by {@link assertPolicy} when there are error-severity violations. */
export class PolicyError extends Error {
  constructor(
    /** The full result (warnings included). */
    public readonly result: PolicyResult,
  ) {
    super(formatViolations(result.violations.filter((v) => v.severity === 'error')));
    this.name = 'PolicyError';
  }
}

/** Prefix of the exemption annotations; the rule id follows. */
export const EXEMPTION_ANNOTATION_PREFIX = 'erp-k8s.io/policy-exempt.';
export { NEEDS_API_ACCESS_ANNOTATION, SINGLETON_LABEL };

const RULES = {
  'PSS-RUN-AS-NON-ROOT': ['error', 'Pods run as non-root: runAsNonRoot true on the pod or on every container (init included), never false, and never runAsUser 0.'],
  'PSS-PRIVILEGE-ESCALATION': ['error', 'Every container sets allowPrivilegeEscalation: false.'],
  'PSS-CAPABILITIES': ['error', "Every container drops ALL capabilities and adds none but NET_BIND_SERVICE."],
  'PSS-SECCOMP': ['error', 'The seccomp profile is RuntimeDefault or Localhost, on the pod or on every container.'],
  'PSS-PRIVILEGED': ['error', 'No privileged container.'],
  'PSS-HOST-NAMESPACES': ['error', 'No hostNetwork, hostPID or hostIPC.'],
  'PSS-HOST-PORTS': ['error', 'No container port sets a hostPort.'],
  'PSS-HOST-PATH': ['error', 'No hostPath volume.'],
  'PSS-VOLUME-TYPES': ['error', 'Volumes are only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or secret.'],
  'REL-RESOURCES': ['error', 'Every container (init included) has cpu and memory requests and limits.'],
  'REL-PROBES': ['error', 'Every long-running container (Deployment, StatefulSet, DaemonSet) has a readinessProbe and a livenessProbe.'],
  'REL-PDB': ['error', 'A Deployment or StatefulSet with more than one replica (or an HPA maxReplicas above one) is selected by a PodDisruptionBudget in its namespace.'],
  'REL-IMAGE-TAG': ['error', 'Images are pinned: no untagged or :latest image (unless allowLatest, for development).'],
  'REL-SINGLETON': ['error', `A workload labelled ${SINGLETON_LABEL}: "true" has one replica, the Recreate strategy and no HPA.`],
  'SEC-NO-LITERAL-SECRET': ['error', 'No Secret with literal data or stringData in the output.'],
  'SEC-AUTOMOUNT-TOKEN': ['error', `Pods do not mount a ServiceAccount token (automountServiceAccountToken: false on the pod or its ServiceAccount) unless the workload is annotated ${NEEDS_API_ACCESS_ANNOTATION}: "<reason>".`],
  'SEC-DEFAULT-DENY': ['error', 'Every namespace with workloads has a default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules).'],
  'SEC-NETWORK-ALLOW': ['error', "Every workload's pods are selected by a NetworkPolicy that allows some traffic."],
  'DATA-PVC-KEEP': ['warning', 'PersistentVolumeClaims carry the annotation helm.sh/resource-policy: keep.'],
  'DATA-STS-RETENTION': ['error', 'A StatefulSet with volumeClaimTemplates sets persistentVolumeClaimRetentionPolicy whenDeleted and whenScaled to Retain.'],
  'POLICY-EXEMPTION': ['error', `An exemption annotation ${EXEMPTION_ANNOTATION_PREFIX}<RULE-ID> names a known rule and gives a non-empty reason.`],
} as const satisfies Record<string, readonly [Severity, string]>;

type RuleId = keyof typeof RULES;

/** Every rule of the gate, in the order they are checked. */
export const POLICY_RULES: readonly PolicyRule[] = Object.entries(RULES).map(([id, [severity, description]]) => ({ id, severity, description }));

type Rec = Readonly<Record<string, unknown>>;
const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Rec : {});
const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const strings = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(rec(v)).filter((e): e is [string, string] => typeof e[1] === 'string'));
const isEmpty = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'object' && Object.keys(v).length === 0);

/** A synthesized object, with the fields the rules use. */
interface Obj {
  readonly raw: Rec;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** A pod template inside a workload (or a Pod). */
interface PodTemplate {
  readonly object: Obj;
  readonly pod: Rec;
  /** JSON pointer of the pod spec. */
  readonly path: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly longRunning: boolean;
}

interface Container {
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
const ALLOWED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

function normalize(raw: unknown, defaultNamespace: string): Obj {
  const r = rec(raw);
  const meta = rec(r.metadata);
  const kind = typeof r.kind === 'string' ? r.kind : '';
  const namespace = CLUSTER_SCOPED.has(kind) ? undefined : typeof meta.namespace === 'string' ? meta.namespace : defaultNamespace;
  return { raw: r, kind, name: typeof meta.name === 'string' ? meta.name : '', namespace, labels: strings(meta.labels), annotations: strings(meta.annotations) };
}

function podTemplate(object: Obj): PodTemplate | undefined {
  const steps = POD_SPEC_PATHS[object.kind];
  if (!steps) return undefined;
  const template = steps.reduce<Rec>((at, step) => rec(at[step]), object.raw);
  const meta = object.kind === 'Pod' ? { labels: object.labels, annotations: object.annotations } : rec(template.metadata);
  return {
    object, pod: rec(template.spec), path: `/${[...steps, 'spec'].join('/')}`,
    labels: strings(meta.labels), annotations: strings(meta.annotations), longRunning: LONG_RUNNING.has(object.kind),
  };
}

function containers(t: PodTemplate): Container[] {
  const of = (field: string, init: boolean): Container[] => list(t.pod[field]).map((c, i) => ({
    c: rec(c), path: `${t.path}/${field}/${i}`, name: String(rec(c).name ?? i), init,
  }));
  return [...of('initContainers', true), ...of('containers', false)];
}

/** Kubernetes label selector semantics; a missing selector selects nothing. */
function selects(selector: unknown, labels: Record<string, string>): boolean {
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
function imageTag(image: string): string | undefined {
  if (image.includes('@')) return undefined;
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : '';
}

type Report = (object: Obj, path: string, message: string) => void;

interface Context {
  readonly objects: readonly Obj[];
  readonly templates: readonly PodTemplate[];
  readonly options: PolicyOptions;
  /** `ns/Kind/name` of every HPA target -> the HPA's name and maxReplicas. */
  readonly hpaTargets: ReadonlyMap<string, { readonly name: string; readonly maxReplicas: number }>;
  readonly inNamespace: (kind: string, namespace: string | undefined) => Obj[];
}

/** Calls `check` for every container of every pod template. */
const perContainer = (check: (c: Container, t: PodTemplate, report: (path: string, message: string) => void) => void) =>
  (ctx: Context, report: Report): void => {
    for (const t of ctx.templates) for (const c of containers(t)) check(c, t, (p, m) => report(t.object, p, m));
  };

/** Calls `check` for every pod template. */
const perTemplate = (check: (t: PodTemplate, report: (path: string, message: string) => void, ctx: Context) => void) =>
  (ctx: Context, report: Report): void => {
    for (const t of ctx.templates) check(t, (p, m) => report(t.object, p, m), ctx);
  };

const CHECKS: Record<Exclude<RuleId, 'POLICY-EXEMPTION'>, (ctx: Context, report: Report) => void> = {
  'PSS-RUN-AS-NON-ROOT': perTemplate((t, report) => {
    const podSc = rec(t.pod.securityContext);
    if (podSc.runAsNonRoot === false) report(`${t.path}/securityContext/runAsNonRoot`, 'the pod sets runAsNonRoot: false; set it to true');
    if (podSc.runAsUser === 0) report(`${t.path}/securityContext/runAsUser`, 'the pod runs as UID 0 (root)');
    for (const { c, path, name } of containers(t)) {
      const sc = rec(c.securityContext);
      if (sc.runAsNonRoot === false) report(`${path}/securityContext/runAsNonRoot`, `container '${name}' sets runAsNonRoot: false`);
      else if (sc.runAsNonRoot !== true && podSc.runAsNonRoot !== true) {
        report(`${path}/securityContext/runAsNonRoot`, `container '${name}' does not set runAsNonRoot: true (nor does the pod)`);
      }
      if (sc.runAsUser === 0) report(`${path}/securityContext/runAsUser`, `container '${name}' runs as UID 0 (root)`);
    }
  }),
  'PSS-PRIVILEGE-ESCALATION': perContainer(({ c, path, name }, _t, report) => {
    if (rec(c.securityContext).allowPrivilegeEscalation !== false) {
      report(`${path}/securityContext/allowPrivilegeEscalation`, `container '${name}' must set allowPrivilegeEscalation: false`);
    }
  }),
  'PSS-CAPABILITIES': perContainer(({ c, path, name }, _t, report) => {
    const caps = rec(rec(c.securityContext).capabilities);
    if (!list(caps.drop).includes('ALL')) report(`${path}/securityContext/capabilities/drop`, `container '${name}' must drop ALL capabilities`);
    const added = list(caps.add).filter((a) => a !== 'NET_BIND_SERVICE');
    if (added.length > 0) report(`${path}/securityContext/capabilities/add`, `container '${name}' adds ${added.join(', ')}; only NET_BIND_SERVICE is allowed`);
  }),
  'PSS-SECCOMP': perTemplate((t, report) => {
    const ok = (v: unknown) => v === 'RuntimeDefault' || v === 'Localhost';
    const podType = rec(rec(t.pod.securityContext).seccompProfile).type;
    if (podType !== undefined && !ok(podType)) report(`${t.path}/securityContext/seccompProfile/type`, `the pod's seccomp profile is ${String(podType)}; use RuntimeDefault`);
    for (const { c, path, name } of containers(t)) {
      const type = rec(rec(c.securityContext).seccompProfile).type;
      if (type !== undefined ? !ok(type) : !ok(podType)) {
        report(`${path}/securityContext/seccompProfile/type`, `container '${name}' has ${type === undefined ? 'no seccomp profile' : `seccomp profile ${String(type)}`} (nor does the pod); use RuntimeDefault`);
      }
    }
  }),
  'PSS-PRIVILEGED': perContainer(({ c, path, name }, _t, report) => {
    if (rec(c.securityContext).privileged === true) report(`${path}/securityContext/privileged`, `container '${name}' is privileged`);
  }),
  'PSS-HOST-NAMESPACES': perTemplate((t, report) => {
    for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) if (t.pod[field] === true) report(`${t.path}/${field}`, `the pod sets ${field}: true`);
  }),
  'PSS-HOST-PORTS': perContainer(({ c, path, name }, _t, report) => {
    list(c.ports).forEach((p, i) => {
      const hostPort = rec(p).hostPort;
      if (hostPort !== undefined && hostPort !== 0) report(`${path}/ports/${i}/hostPort`, `container '${name}' uses hostPort ${String(hostPort)}`);
    });
  }),
  'PSS-HOST-PATH': perTemplate((t, report) => {
    list(t.pod.volumes).forEach((v, i) => {
      if (rec(v).hostPath !== undefined) report(`${t.path}/volumes/${i}/hostPath`, `volume '${String(rec(v).name)}' is a hostPath volume`);
    });
  }),
  'PSS-VOLUME-TYPES': perTemplate((t, report) => {
    list(t.pod.volumes).forEach((v, i) => {
      for (const type of Object.keys(rec(v)).filter((k) => k !== 'name' && k !== 'hostPath' && !ALLOWED_VOLUMES.has(k))) {
        report(`${t.path}/volumes/${i}/${type}`, `volume '${String(rec(v).name)}' is of type ${type}, not allowed by the restricted profile`);
      }
    });
  }),
  'REL-RESOURCES': perContainer(({ c, path, name }, _t, report) => {
    const r = rec(c.resources);
    const missing = ['requests', 'limits'].flatMap((k) => ['cpu', 'memory'].filter((q) => rec(r[k])[q] === undefined).map((q) => `${k}.${q}`));
    if (missing.length > 0) report(`${path}/resources`, `container '${name}' has no ${missing.join(', ')}`);
  }),
  'REL-PROBES': perContainer(({ c, path, name, init }, t, report) => {
    if (!t.longRunning || init) return;
    for (const probe of ['readinessProbe', 'livenessProbe']) if (c[probe] === undefined) report(`${path}/${probe}`, `long-running container '${name}' has no ${probe}`);
  }),
  'REL-PDB': perTemplate((t, report, ctx) => {
    const { object } = t;
    if (object.kind !== 'Deployment' && object.kind !== 'StatefulSet') return;
    const replicas = typeof rec(object.raw.spec).replicas === 'number' ? rec(object.raw.spec).replicas as number : 1;
    const hpa = ctx.hpaTargets.get(`${object.namespace}/${object.kind}/${object.name}`);
    const most = Math.max(replicas, hpa?.maxReplicas ?? 0);
    if (most <= 1) return;
    if (!ctx.inNamespace('PodDisruptionBudget', object.namespace).some((pdb) => selects(rec(pdb.raw.spec).selector, t.labels))) {
      report('', `runs up to ${most} replicas${hpa ? ` (HPA ${hpa.name})` : ''} but no PodDisruptionBudget in namespace ${object.namespace} selects its pods`);
    }
  }),
  'REL-IMAGE-TAG': (ctx, report) => {
    if (ctx.options.allowLatest) return;
    perContainer(({ c, path, name }, _t, r) => {
      const tag = typeof c.image === 'string' ? imageTag(c.image) : '';
      if (tag === '' || tag === 'latest') r(`${path}/image`, `container '${name}' uses ${tag ? 'the :latest tag' : 'an untagged image'} (${String(c.image)}); pin a version or digest`);
    })(ctx, report);
  },
  'REL-SINGLETON': perTemplate((t, report, ctx) => {
    const { object } = t;
    if (object.labels[SINGLETON_LABEL] !== 'true' && t.labels[SINGLETON_LABEL] !== 'true') return;
    const spec = rec(object.raw.spec);
    if (spec.replicas !== undefined && spec.replicas !== 1) report('/spec/replicas', `singleton must have replicas 1, not ${String(spec.replicas)}`);
    if (object.kind === 'Deployment' && rec(spec.strategy).type !== 'Recreate') report('/spec/strategy/type', 'singleton Deployment must use the Recreate strategy, so two pods never overlap');
    const hpa = ctx.hpaTargets.get(`${object.namespace}/${object.kind}/${object.name}`);
    if (hpa) report('', `singleton must not be scaled by HorizontalPodAutoscaler ${hpa.name}`);
  }),
  'SEC-NO-LITERAL-SECRET': (ctx, report) => {
    for (const o of ctx.objects.filter((x) => x.kind === 'Secret')) {
      for (const field of ['data', 'stringData']) {
        if (!isEmpty(o.raw[field])) report(o, `/${field}`, `Secret carries literal ${field} (${Object.keys(rec(o.raw[field])).join(', ')}); create it out of band or with a generator Job`);
      }
    }
  },
  'SEC-AUTOMOUNT-TOKEN': perTemplate((t, report, ctx) => {
    if (t.pod.automountServiceAccountToken === false) return;
    const sa = typeof t.pod.serviceAccountName === 'string' ? t.pod.serviceAccountName : 'default';
    if (t.pod.automountServiceAccountToken === undefined && ctx.inNamespace('ServiceAccount', t.object.namespace)
      .some((o) => o.name === sa && o.raw.automountServiceAccountToken === false)) return;
    const reason = t.object.annotations[NEEDS_API_ACCESS_ANNOTATION] ?? t.annotations[NEEDS_API_ACCESS_ANNOTATION];
    if (reason !== undefined && reason.trim() !== '') return;
    report(`${t.path}/automountServiceAccountToken`, reason !== undefined
      ? `annotation ${NEEDS_API_ACCESS_ANNOTATION} needs a reason`
      : `pods mount a ServiceAccount token; set automountServiceAccountToken: false or annotate the workload ${NEEDS_API_ACCESS_ANNOTATION}: "<reason>"`);
  }),
  'SEC-DEFAULT-DENY': (ctx, report) => {
    for (const ns of new Set(ctx.templates.map((t) => t.object.namespace))) {
      const denies = ctx.inNamespace('NetworkPolicy', ns).some(({ raw }) => {
        const spec = rec(raw.spec);
        const types = list(spec.policyTypes);
        return isEmpty(spec.podSelector) && types.includes('Ingress') && types.includes('Egress') && isEmpty(list(spec.ingress)) && isEmpty(list(spec.egress));
      });
      if (!denies) {
        const nsObject = ctx.objects.find((o) => o.kind === 'Namespace' && o.name === ns)
          ?? { raw: {}, kind: 'Namespace', name: ns ?? '', labels: {}, annotations: {} };
        report(nsObject, '', `namespace ${ns} has workloads but no default-deny NetworkPolicy (podSelector {}, policyTypes [Ingress, Egress], no rules)`);
      }
    }
  },
  'SEC-NETWORK-ALLOW': perTemplate((t, report, ctx) => {
    const allowed = ctx.inNamespace('NetworkPolicy', t.object.namespace).some(({ raw }) => {
      const spec = rec(raw.spec);
      return selects(spec.podSelector, t.labels) && (list(spec.ingress).length > 0 || list(spec.egress).length > 0);
    });
    if (!allowed) report('', `no NetworkPolicy that allows traffic selects its pods (labels ${JSON.stringify(t.labels)}); with default-deny they can talk to nothing`);
  }),
  'DATA-PVC-KEEP': (ctx, report) => {
    for (const o of ctx.objects.filter((x) => x.kind === 'PersistentVolumeClaim')) {
      if (o.annotations['helm.sh/resource-policy'] !== 'keep') report(o, '/metadata/annotations', 'PersistentVolumeClaim lacks helm.sh/resource-policy: keep; helm uninstall would delete its data');
    }
  },
  'DATA-STS-RETENTION': (ctx, report) => {
    for (const o of ctx.objects.filter((x) => x.kind === 'StatefulSet')) {
      const spec = rec(o.raw.spec);
      const policy = rec(spec.persistentVolumeClaimRetentionPolicy);
      if (list(spec.volumeClaimTemplates).length > 0 && (policy.whenDeleted !== 'Retain' || policy.whenScaled !== 'Retain')) {
        report(o, '/spec/persistentVolumeClaimRetentionPolicy', `StatefulSet with volumeClaimTemplates must set persistentVolumeClaimRetentionPolicy {whenDeleted: Retain, whenScaled: Retain} (got ${JSON.stringify(spec.persistentVolumeClaimRetentionPolicy ?? null)})`);
      }
    }
  },
};

/** Checks every rule on the objects; exempted (object, rule) pairs are skipped and listed. */
export function checkPolicy(objects: readonly unknown[], options: PolicyOptions = {}): PolicyResult {
  const objs = objects.map((o) => normalize(o, options.defaultNamespace ?? 'default'));
  const templates = objs.map(podTemplate).filter((t): t is PodTemplate => t !== undefined);
  const hpaTargets = new Map<string, { name: string; maxReplicas: number }>();
  for (const o of objs.filter((x) => x.kind === 'HorizontalPodAutoscaler')) {
    const spec = rec(o.raw.spec);
    const ref = rec(spec.scaleTargetRef);
    hpaTargets.set(`${o.namespace}/${String(ref.kind)}/${String(ref.name)}`, { name: o.name, maxReplicas: typeof spec.maxReplicas === 'number' ? spec.maxReplicas : 1 });
  }
  // objects by kind and namespace: the rules look up PDBs, NetworkPolicies and
  // ServiceAccounts per pod template, which must not scan every object (a
  // synth of hundreds of stacks would be quadratic)
  const index = new Map<string, Obj[]>();
  for (const o of objs) {
    const key = `${o.kind}\0${o.namespace === undefined ? '' : `=${o.namespace}`}`;
    const same = index.get(key);
    if (same) same.push(o);
    else index.set(key, [o]);
  }
  const none: Obj[] = [];
  const ctx: Context = {
    objects: objs, templates, options, hpaTargets,
    inNamespace: (kind, ns) => index.get(`${kind}\0${ns === undefined ? '' : `=${ns}`}`) ?? none,
  };

  const violations: Violation[] = [];
  const exemptions = new Map<string, { -readonly [K in keyof Exemption]: Exemption[K] }>();
  const where = (o: Obj) => ({ kind: o.kind, name: o.name, ...(o.namespace !== undefined ? { namespace: o.namespace } : {}) });
  const keyOf = (o: Obj, ruleId: string) => `${o.kind}/${o.namespace ?? ''}/${o.name}/${ruleId}`;
  for (const o of objs) {
    for (const [key, reason] of Object.entries(o.annotations).filter(([k]) => k.startsWith(EXEMPTION_ANNOTATION_PREFIX))) {
      const ruleId = key.slice(EXEMPTION_ANNOTATION_PREFIX.length);
      const path = `/metadata/annotations/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      const bad = (message: string) => violations.push({ ruleId: 'POLICY-EXEMPTION', severity: RULES['POLICY-EXEMPTION'][0], message, ...where(o), path });
      if (!(ruleId in CHECKS)) bad(`exemption names an unknown rule '${ruleId}' (known: ${Object.keys(CHECKS).join(', ')})`);
      else if (reason.trim() === '') bad(`exemption from ${ruleId} gives no reason; write why the rule does not apply`);
      else exemptions.set(keyOf(o, ruleId), { ruleId, ...where(o), reason, suppressed: 0 });
    }
  }
  for (const [ruleId, check] of Object.entries(CHECKS) as [RuleId, (ctx: Context, report: Report) => void][]) {
    check(ctx, (o, path, message) => {
      const exempt = exemptions.get(keyOf(o, ruleId));
      if (exempt) exempt.suppressed++;
      else violations.push({ ruleId, severity: RULES[ruleId][0], message, ...where(o), path });
    });
  }
  const ranks = new Map(POLICY_RULES.map((r, i) => [r.id, i]));
  const order = (v: Violation) => ranks.get(v.ruleId) ?? -1;
  return {
    violations: violations.sort((a, b) => order(a) - order(b)),
    exemptions: [...exemptions.values()],
  };
}

/** Runs {@link checkPolicy}; throws a {@link PolicyError} if any violation is an error, else returns the result (warnings, exemptions). */
export function assertPolicy(objects: readonly unknown[], options: PolicyOptions = {}): PolicyResult {
  const result = checkPolicy(objects, options);
  if (result.violations.some((v) => v.severity === 'error')) throw new PolicyError(result);
  return result;
}

/** Renders violations one per line: `error PSS-SECCOMP Deployment erp/api /spec/...: message`. */
export function formatViolations(violations: readonly Violation[]): string {
  const errors = violations.filter((v) => v.severity === 'error').length;
  const head = `${violations.length} policy violation${violations.length === 1 ? '' : 's'} (${errors} error${errors === 1 ? '' : 's'}, ${violations.length - errors} warning${violations.length - errors === 1 ? '' : 's'})`;
  const lines = violations.map((v) => `  ${v.severity.padEnd(7)} ${v.ruleId} ${v.kind} ${v.namespace ? `${v.namespace}/` : ''}${v.name}${v.path ? ` ${v.path}` : ''}: ${v.message}`);
  return lines.length > 0 ? [`${head}:`, ...lines].join('\n') : head;
}

/** Renders exemptions one per line, for the synth log. */
export function formatExemptions(exemptions: readonly Exemption[]): string {
  return exemptions.map((e) => `  exempt  ${e.ruleId} ${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}: ${e.reason}${e.suppressed === 0 ? ' (suppressed nothing)' : ''}`).join('\n');
}
