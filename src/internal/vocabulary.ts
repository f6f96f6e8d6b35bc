/**
 * The labels and annotations constructs write and the policy gate reads:
 * their shared contract, so neither side imports the other.
 */

/** Label that marks a workload that must never run twice. */
export const SINGLETON_LABEL = 'erp-k8s.io/singleton';
/** Annotation (with a reason) on a workload whose pods need a ServiceAccount token. */
export const NEEDS_API_ACCESS_ANNOTATION = 'erp-k8s.io/needs-api-access';
