import {
  ALLOWED_VOLUMES, Context, containers, imageTag, isEmpty, list, perContainer, perTemplate, rec, Report, selects,
} from './policy-objects';
import { RuleId } from './policy-rules';
import { NEEDS_API_ACCESS_ANNOTATION, SINGLETON_LABEL } from '../internal/vocabulary';

/* The check of each rule of the policy gate (the rules are in policy-rules.ts). */

/** A rule's check: reports each violation it finds. */
export type Check = (ctx: Context, report: Report) => void;

/** Every rule's check but POLICY-EXEMPTION's (checkPolicy reads the annotations itself), in rule order. */
export const CHECKS: Record<Exclude<RuleId, 'POLICY-EXEMPTION'>, Check> = {
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
    if (added.length > 0) report(`${path}/securityContext/capabilities/add`,
      `container '${name}' adds ${added.join(', ')}; only NET_BIND_SERVICE is allowed`);
  }),
  'PSS-SECCOMP': perTemplate((t, report) => {
    const ok = (v: unknown) => v === 'RuntimeDefault' || v === 'Localhost';
    const podType = rec(rec(t.pod.securityContext).seccompProfile).type;
    if (podType !== undefined && !ok(podType)) report(`${t.path}/securityContext/seccompProfile/type`,
      `the pod's seccomp profile is ${String(podType)}; use RuntimeDefault`);
    for (const { c, path, name } of containers(t)) {
      const type = rec(rec(c.securityContext).seccompProfile).type;
      if (type !== undefined ? !ok(type) : !ok(podType)) {
        report(`${path}/securityContext/seccompProfile/type`,
          `container '${name}' has ${type === undefined ? 'no seccomp profile' : `seccomp profile ${String(type)}`} (nor does the pod); use `
            + `RuntimeDefault`);
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
    for (const probe of ['readinessProbe', 'livenessProbe']) if (c[probe] === undefined) report(`${path}/${probe}`,
      `long-running container '${name}' has no ${probe}`);
  }),
  'REL-PDB': perTemplate((t, report, ctx) => {
    const { object } = t;
    if (object.kind !== 'Deployment' && object.kind !== 'StatefulSet') return;
    const replicas = typeof rec(object.raw.spec).replicas === 'number' ? rec(object.raw.spec).replicas as number : 1;
    const hpa = ctx.hpaTargets.get(`${object.namespace}/${object.kind}/${object.name}`);
    const most = Math.max(replicas, hpa?.maxReplicas ?? 0);
    if (most <= 1) return;
    if (!ctx.inNamespace('PodDisruptionBudget', object.namespace).some((pdb) => selects(rec(pdb.raw.spec).selector, t.labels))) {
      report('',
        `runs up to ${most} replicas${hpa ? ` (HPA ${hpa.name})` : ''} but no PodDisruptionBudget in namespace ${object.namespace} selects its pods`);
    }
  }),
  'REL-IMAGE-TAG': (ctx, report) => {
    if (ctx.options.allowLatest) return;
    perContainer(({ c, path, name }, _t, r) => {
      const tag = typeof c.image === 'string' ? imageTag(c.image) : '';
      if (tag === '' || tag === 'latest') r(`${path}/image`,
        `container '${name}' uses ${tag ? 'the :latest tag' : 'an untagged image'} (${String(c.image)}); pin a version or digest`);
    })(ctx, report);
  },
  'REL-SINGLETON': perTemplate((t, report, ctx) => {
    const { object } = t;
    if (object.labels[SINGLETON_LABEL] !== 'true' && t.labels[SINGLETON_LABEL] !== 'true') return;
    const spec = rec(object.raw.spec);
    if (spec.replicas !== undefined && spec.replicas !== 1) report('/spec/replicas', `singleton must have replicas 1, not ${String(spec.replicas)}`);
    if (object.kind === 'Deployment' && rec(spec.strategy).type !== 'Recreate') report('/spec/strategy/type',
      'singleton Deployment must use the Recreate strategy, so two pods never overlap');
    const hpa = ctx.hpaTargets.get(`${object.namespace}/${object.kind}/${object.name}`);
    if (hpa) report('', `singleton must not be scaled by HorizontalPodAutoscaler ${hpa.name}`);
  }),
  'SEC-NO-LITERAL-SECRET': (ctx, report) => {
    for (const o of ctx.objects.filter((x) => x.kind === 'Secret')) {
      for (const field of ['data', 'stringData']) {
        if (!isEmpty(o.raw[field])) report(o, `/${field}`,
          `Secret carries literal ${field} (${Object.keys(rec(o.raw[field])).join(', ')}); create it out of band or with a generator Job`);
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
      : `pods mount a ServiceAccount token; set automountServiceAccountToken: false or annotate the workload ${NEEDS_API_ACCESS_ANNOTATION}: `
        + `"<reason>"`);
  }),
  'SEC-DEFAULT-DENY': (ctx, report) => {
    for (const ns of new Set(ctx.templates.map((t) => t.object.namespace))) {
      const denies = ctx.inNamespace('NetworkPolicy', ns).some(({ raw }) => {
        const spec = rec(raw.spec);
        const types = list(spec.policyTypes);
        return isEmpty(spec.podSelector) && types.includes('Ingress') && types.includes('Egress')
          && isEmpty(list(spec.ingress)) && isEmpty(list(spec.egress));
      });
      if (!denies) {
        const nsObject = ctx.objects.find((o) => o.kind === 'Namespace' && o.name === ns)
          ?? { raw: {}, kind: 'Namespace', name: ns ?? '', labels: {}, annotations: {} };
        report(nsObject, '',
          `namespace ${ns} has workloads but no default-deny NetworkPolicy (podSelector {}, policyTypes [Ingress, Egress], no rules)`);
      }
    }
  },
  'SEC-NETWORK-ALLOW': perTemplate((t, report, ctx) => {
    const allowed = ctx.inNamespace('NetworkPolicy', t.object.namespace).some(({ raw }) => {
      const spec = rec(raw.spec);
      return selects(spec.podSelector, t.labels) && (list(spec.ingress).length > 0 || list(spec.egress).length > 0);
    });
    if (!allowed) report('',
      `no NetworkPolicy that allows traffic selects its pods (labels ${JSON.stringify(t.labels)}); with default-deny they can talk to nothing`);
  }),
  'DATA-PVC-KEEP': (ctx, report) => {
    for (const o of ctx.objects.filter((x) => x.kind === 'PersistentVolumeClaim')) {
      if (o.annotations['helm.sh/resource-policy'] !== 'keep') report(o, '/metadata/annotations',
        'PersistentVolumeClaim lacks helm.sh/resource-policy: keep; helm uninstall would delete its data');
    }
  },
  'DATA-STS-RETENTION': (ctx, report) => {
    for (const o of ctx.objects.filter((x) => x.kind === 'StatefulSet')) {
      const spec = rec(o.raw.spec);
      const policy = rec(spec.persistentVolumeClaimRetentionPolicy);
      if (list(spec.volumeClaimTemplates).length > 0 && (policy.whenDeleted !== 'Retain' || policy.whenScaled !== 'Retain')) {
        report(o, '/spec/persistentVolumeClaimRetentionPolicy',
          `StatefulSet with volumeClaimTemplates must set persistentVolumeClaimRetentionPolicy {whenDeleted: Retain, whenScaled: Retain} (got `
            + `${JSON.stringify(spec.persistentVolumeClaimRetentionPolicy ?? null)})`);
      }
    }
  },
};
