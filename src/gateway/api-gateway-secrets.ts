import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkSecretEntry } from '../internal/secret-entry';
import { checkDnsSubdomain, fail } from '../internal/validate';

/** Annotation that tells the policy gate why a Secret with literal data is allowed. */
export const SECRET_POLICY_EXEMPTION: Record<string, string> = {
  'erp-k8s.io/policy-exempt.SEC-NO-LITERAL-SECRET': 'values supplied at synth time from a git-ignored file',
};

/** Inputs of {@link gatewayEnvSecret}. */
export interface GatewayEnvSecretOptions {
  /** Base name; the generated Secret is `<name>-env`. */
  readonly name: string;
  /** Values given at synth time. */
  readonly secretValues?: Record<string, string>;
  /** Secret to reference instead. */
  readonly existingSecret?: string;
  /** Production rules. */
  readonly production: boolean;
  /** Variables set by other means (plain env, database), which would shadow a Secret key. */
  readonly shadowing: readonly string[];
  /** Labels of the generated Secret. */
  readonly labels: Record<string, string>;
}

/**
 * The env Secret of a chart: created from synth-time values (id 'Secret'),
 * or, when there are none, a reference to a Secret made out of band (id
 * 'ExistingSecret'), so no value is invented and none comes from committed
 * code. Errors are reported against `scope` (the chart) and never show a value.
 */
export function gatewayEnvSecret(scope: Construct, o: GatewayEnvSecretOptions): kplus.ISecret {
  const generated = `${o.name}-env`;
  if (o.secretValues === undefined) {
    return kplus.Secret.fromSecretName(scope, 'ExistingSecret', checkDnsSubdomain(scope, 'existingSecret', o.existingSecret ?? generated));
  }
  if (o.existingSecret !== undefined) {
    fail(scope, 'existingSecret', o.existingSecret, "cannot be combined with 'secretValues': either the chart creates the Secret from synth-time " +
      "values, or it references yours");
  }
  if (o.production) {
    fail(scope, 'secretValues', '<redacted>', "are refused when 'production' is true: no secret value may be written to dist/; create the Secret " +
      "out of band and set 'existingSecret'");
  }
  const keys = Object.keys(o.secretValues);
  if (keys.length === 0) fail(scope, 'secretValues', {}, "must hold at least one key; omit it to reference 'existingSecret'");
  for (const key of keys) {
    checkSecretEntry(scope, `secretValues.${key}`, key, o.secretValues[key]);
    if (o.shadowing.includes(key)) {
      fail(scope, `secretValues.${key}`, '<redacted>', 'is also set as a plain variable (env, allowedHosts, database or redis), which would ' +
        'shadow it; keep it in one place');
    }
  }
  return new kplus.Secret(scope, 'Secret', {
    metadata: { name: generated, labels: o.labels, annotations: { ...SECRET_POLICY_EXEMPTION } },
    stringData: { ...o.secretValues },
  });
}
