import { NEEDS_API_ACCESS_ANNOTATION, SINGLETON_LABEL } from '../internal/vocabulary';

/* The policy gate's rule table (see policy.ts). */

/** How bad a violation is: errors fail the synth, warnings are printed. */
export enum Severity {
  /** Fails `Policy.enforce` and the synth. */
  ERROR = 'error',
  /** Reported, never fails. */
  WARNING = 'warning',
}

/** A rule of the gate. */
export interface PolicyRule {
  /** Stable id, used in exemption annotations, e.g. `PSS-RUN-AS-NON-ROOT`. */
  readonly id: string;
  /** Severity of its violations. */
  readonly severity: Severity;
  /** What the rule requires (one sentence, for the README). */
  readonly description: string;
}

/** Prefix of the exemption annotations; the rule id follows. */
export const EXEMPTION_ANNOTATION_PREFIX = 'erp-k8s.io/policy-exempt.';

/** Every rule: severity and what it requires, in the order they are checked. */
export const RULES = {
  'PSS-RUN-AS-NON-ROOT': [Severity.ERROR,
    'Pods run as non-root: runAsNonRoot true on the pod or on every container (init included), never false, and never runAsUser 0.'],
  'PSS-PRIVILEGE-ESCALATION': [Severity.ERROR, 'Every container sets allowPrivilegeEscalation: false.'],
  'PSS-CAPABILITIES': [Severity.ERROR, "Every container drops ALL capabilities and adds none but NET_BIND_SERVICE."],
  'PSS-SECCOMP': [Severity.ERROR, 'The seccomp profile is RuntimeDefault or Localhost, on the pod or on every container.'],
  'PSS-PRIVILEGED': [Severity.ERROR, 'No privileged container.'],
  'PSS-HOST-NAMESPACES': [Severity.ERROR, 'No hostNetwork, hostPID or hostIPC.'],
  'PSS-HOST-PORTS': [Severity.ERROR, 'No container port sets a hostPort.'],
  'PSS-HOST-PATH': [Severity.ERROR, 'No hostPath volume.'],
  'PSS-VOLUME-TYPES': [Severity.ERROR,
    'Volumes are only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or secret.'],
  'REL-RESOURCES': [Severity.ERROR, 'Every container (init included) has cpu and memory requests and limits.'],
  'REL-PROBES': [Severity.ERROR, 'Every long-running container (Deployment, StatefulSet, DaemonSet) has a readinessProbe and a livenessProbe.'],
  'REL-PDB': [Severity.ERROR, 'A Deployment or StatefulSet with more than one replica (or an HPA maxReplicas above one) '
    + 'is selected by a PodDisruptionBudget in its namespace.'],
  'REL-IMAGE-TAG': [Severity.ERROR, 'Images are pinned: no untagged or :latest image (unless allowLatest, for development).'],
  'REL-SINGLETON': [Severity.ERROR, `A workload labelled ${SINGLETON_LABEL}: "true" has one replica, the Recreate strategy and no HPA.`],
  'SEC-NO-LITERAL-SECRET': [Severity.ERROR, 'No Secret with literal data or stringData in the output.'],
  'SEC-AUTOMOUNT-TOKEN': [Severity.ERROR,
    'Pods do not mount a ServiceAccount token (automountServiceAccountToken: false on the pod or its ServiceAccount) '
    + `unless the workload is annotated ${NEEDS_API_ACCESS_ANNOTATION}: "<reason>".`],
  'SEC-DEFAULT-DENY': [Severity.ERROR,
    'Every namespace with workloads has a default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules).'],
  'SEC-NETWORK-ALLOW': [Severity.ERROR, "Every workload's pods are selected by a NetworkPolicy that allows some traffic."],
  'DATA-PVC-KEEP': [Severity.WARNING, 'PersistentVolumeClaims carry the annotation helm.sh/resource-policy: keep.'],
  'DATA-STS-RETENTION': [Severity.ERROR,
    'A StatefulSet with volumeClaimTemplates sets persistentVolumeClaimRetentionPolicy whenDeleted and whenScaled to Retain.'],
  'POLICY-EXEMPTION': [Severity.ERROR,
    `An exemption annotation ${EXEMPTION_ANNOTATION_PREFIX}<RULE-ID> names a known rule and gives a non-empty reason.`],
} as const satisfies Record<string, readonly [Severity, string]>;

/** The id of a rule. */
export type RuleId = keyof typeof RULES;

/**
 * Every rule of the gate, in the order they are checked.
 * @deprecated use `Policy.RULES`
 */
export const POLICY_RULES: readonly PolicyRule[] = Object.entries(RULES)
  .map(([id, [severity, description]]) => ({ id, severity, description }));
