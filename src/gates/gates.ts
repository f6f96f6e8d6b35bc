import { assertPolicy, checkPolicy, Exemption, formatExemptions, formatViolations, PolicyOptions, PolicyResult, Violation } from './policy';
import { POLICY_RULES, PolicyRule } from './policy-rules';
import { assertValidManifests, formatSchemaErrors, SchemaError, validateManifests } from './schema-validator';

/* eslint-disable @typescript-eslint/no-explicit-any -- the gates take plain objects of any shape (JSON); jsii renders `any` in every language */

/*
 * The offline gates as classes with static methods: the form every jsii
 * language can call (Python: `Policy.check(objects)`). The free functions of
 * policy.ts and schema-validator.ts remain for TypeScript, deprecated.
 */

/**
 * The policy gate: rules every synthesized object set must keep (Pod Security
 * Standard "restricted", reliability, security, data safety), checked on the
 * plain objects of a synth (`Testing.synth(chart)`, `chart.toJson()`).
 *
 * An object opts out of one rule with the annotation
 * `erp-k8s.io/policy-exempt.<RULE-ID>: "<reason>"`.
 */
export class Policy {
  /** Every rule of the gate, in the order they are checked. */
  public static readonly RULES: PolicyRule[] = POLICY_RULES.map((r) => ({ ...r }));

  /** Checks the objects; never throws for a violation. */
  public static check(objects: any[], options: PolicyOptions = {}): PolicyResult {
    return checkPolicy(objects, options);
  }

  /**
   * Checks the objects and throws an `Error` with `code`
   * {@link ErrorCode.POLICY} (and the `result`) when a rule of severity
   * error is broken; returns the result (warnings included) otherwise.
   */
  public static enforce(objects: any[], options: PolicyOptions = {}): PolicyResult {
    return assertPolicy(objects, options);
  }

  /** One line per violation: severity, rule, object, path and message. */
  public static formatViolations(violations: Violation[]): string {
    return formatViolations(violations);
  }

  /** One line per exemption: rule, object, reason and how many violations it suppressed. */
  public static formatExemptions(exemptions: Exemption[]): string {
    return formatExemptions(exemptions);
  }

  private constructor() {}
}

/**
 * The schema gate: synthesized objects against the strict Kubernetes 1.28
 * schemas (unknown fields refused) and the CRD schemas of `imports/`,
 * offline.
 */
export class ManifestSchema {
  /** Every violation of every object (an empty list when all are valid). */
  public static validate(objects: any[]): SchemaError[] {
    return validateManifests(objects);
  }

  /** Throws an `Error` with `code` {@link ErrorCode.SCHEMA} (and the `errors`) when an object is invalid. */
  public static enforce(objects: any[]): void {
    assertValidManifests(objects);
  }

  /** One line per violation: object, JSON pointer and message. */
  public static formatErrors(errors: SchemaError[]): string {
    return formatSchemaErrors(errors);
  }

  private constructor() {}
}
