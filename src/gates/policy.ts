import { Check, CHECKS } from './policy-checks';
import { Obj, policyContext } from './policy-objects';
import { EXEMPTION_ANNOTATION_PREFIX, POLICY_RULES, PolicyRule, RULES, RuleId, Severity } from './policy-rules';
import { ErrorCode } from '../internal/error-code';
import { NEEDS_API_ACCESS_ANNOTATION, SINGLETON_LABEL } from '../internal/vocabulary';

export { EXEMPTION_ANNOTATION_PREFIX, NEEDS_API_ACCESS_ANNOTATION, POLICY_RULES, SINGLETON_LABEL };
export type { PolicyRule, Severity };

/**
 * The policy gate: rules every synthesized object set must keep (Pod Security
 * Standard "restricted", reliability, security, data safety), checked on the
 * plain objects of a synth (`Testing.synth(chart)`, `chart.toJson()`).
 *
 * An object opts out of one rule with the annotation
 * `erp-k8s.io/policy-exempt.<RULE-ID>: "<reason>"`; the exemption is reported
 * with its reason, and an empty reason is itself an error.
 *
 * Laid out as: policy-rules.ts (the rule table), policy-objects.ts (how
 * objects, pod templates and selectors are read), policy-checks.ts (one
 * check per rule), this file (the gate, exemptions, formatting).
 */

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

class PolicyErrorImpl extends Error {
  public readonly code = ErrorCode.POLICY;
  constructor(public readonly result: PolicyResult) {
    super(formatViolations(result.violations.filter((v) => v.severity === Severity.ERROR)));
    this.name = 'PolicyError';
  }
}

/**
 * Thrown by {@link assertPolicy} when there are error-severity violations: a
 * plain `Error` with `code` {@link ErrorCode.POLICY} and the full `result`
 * (warnings included). `err instanceof PolicyError` keeps working in
 * TypeScript and JavaScript.
 *
 * @deprecated test `err.code === ErrorCode.POLICY`, or call `Policy.check`
 * for the result without an error
 */
export const PolicyError: new (result: PolicyResult) => PolicyError = PolicyErrorImpl;
/** @deprecated see the value `PolicyError` */
export type PolicyError = Error & { readonly code: ErrorCode; readonly result: PolicyResult };

type MutableExemption = { -readonly [K in keyof Exemption]: Exemption[K] };

/** Where an object is, as violations and exemptions report it. */
const where = (o: Obj) => ({ kind: o.kind, name: o.name, ...(o.namespace !== undefined ? { namespace: o.namespace } : {}) });
const exemptionKey = (o: Obj, ruleId: string) => `${o.kind}/${o.namespace ?? ''}/${o.name}/${ruleId}`;

/** The valid exemption annotations of the objects, by object and rule; the invalid ones are POLICY-EXEMPTION violations. */
function readExemptions(objects: readonly Obj[], violations: Violation[]): Map<string, MutableExemption> {
  const exemptions = new Map<string, MutableExemption>();
  for (const o of objects) {
    for (const [key, reason] of Object.entries(o.annotations).filter(([k]) => k.startsWith(EXEMPTION_ANNOTATION_PREFIX))) {
      const ruleId = key.slice(EXEMPTION_ANNOTATION_PREFIX.length);
      const path = `/metadata/annotations/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      const severity = RULES['POLICY-EXEMPTION'][0];
      const bad = (message: string) => violations.push({ ruleId: 'POLICY-EXEMPTION', severity, message, ...where(o), path });
      if (!(ruleId in CHECKS)) bad(`exemption names an unknown rule '${ruleId}' (known: ${Object.keys(CHECKS).join(', ')})`);
      else if (reason.trim() === '') bad(`exemption from ${ruleId} gives no reason; write why the rule does not apply`);
      else exemptions.set(exemptionKey(o, ruleId), { ruleId, ...where(o), reason, suppressed: 0 });
    }
  }
  return exemptions;
}

/**
 * Checks every rule on the objects; exempted (object, rule) pairs are skipped and listed.
 * @deprecated use `Policy.check` (callable from every jsii language)
 */
export function checkPolicy(objects: readonly unknown[], options: PolicyOptions = {}): PolicyResult {
  const ctx = policyContext(objects, options);
  const violations: Violation[] = [];
  const exemptions = readExemptions(ctx.objects, violations);
  for (const [ruleId, check] of Object.entries(CHECKS) as [RuleId, Check][]) {
    check(ctx, (o, path, message) => {
      const exempt = exemptions.get(exemptionKey(o, ruleId));
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

/**
 * Runs {@link checkPolicy}; throws a {@link PolicyError} if any violation is an error, else returns the result (warnings, exemptions).
 * @deprecated use `Policy.enforce`
 */
export function assertPolicy(objects: readonly unknown[], options: PolicyOptions = {}): PolicyResult {
  const result = checkPolicy(objects, options);
  if (result.violations.some((v) => v.severity === Severity.ERROR)) throw new PolicyError(result);
  return result;
}

/**
 * Renders violations one per line: `error PSS-SECCOMP Deployment erp/api /spec/...: message`.
 * @deprecated use `Policy.formatViolations`
 */
export function formatViolations(violations: readonly Violation[]): string {
  const errors = violations.filter((v) => v.severity === Severity.ERROR).length;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const head = `${count(violations.length, 'policy violation')} (${count(errors, 'error')}, ${count(violations.length - errors, 'warning')})`;
  const lines = violations.map((v) => `  ${v.severity.padEnd(7)} ${v.ruleId} ${v.kind} ${v.namespace ? `${v.namespace}/` : ''}${v.name}`
    + `${v.path ? ` ${v.path}` : ''}: ${v.message}`);
  return lines.length > 0 ? [`${head}:`, ...lines].join('\n') : head;
}

/**
 * Renders exemptions one per line, for the synth log.
 * @deprecated use `Policy.formatExemptions`
 */
export function formatExemptions(exemptions: readonly Exemption[]): string {
  return exemptions.map((e) => `  exempt  ${e.ruleId} ${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}: ${e.reason}`
    + `${e.suppressed === 0 ? ' (suppressed nothing)' : ''}`).join('\n');
}
