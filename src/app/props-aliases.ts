import { Size, SizeRoundingBehavior } from 'cdk8s';
import { IConstruct } from 'constructs';
import { fail } from '../internal/validate';

/*
 * The one props dialect (AWS CDK guidelines) and its deprecated aliases:
 * each alias is mapped to the canonical form in the resolve step of its
 * construct; old and new given together for one setting is a synth error
 * naming both.
 */

/**
 * The value of a setting that also has a deprecated alias: `value` (the
 * canonical `field`) or else `oldValue` (the deprecated `oldField`); both
 * given is an error.
 */
export function canonical<T>(scope: IConstruct, field: string, value: T | undefined, oldField: string, oldValue: T | undefined): T | undefined {
  if (value !== undefined && oldValue !== undefined) {
    fail(scope, field, value, `cannot be combined with its deprecated alias '${oldField}' (${JSON.stringify(oldValue)}): set '${field}' only`);
  }
  return value ?? oldValue;
}

/**
 * The options of a feature that is on by default, or `undefined` when it is
 * turned off: by `enabled: false`, or by the deprecated `false`.
 */
export function enabledFeature<T extends { readonly enabled?: boolean }>(value: T | false | undefined): T | undefined {
  if (value === false || value?.enabled === false) return undefined;
  return value ?? ({} as T);
}

/** A {@link Size}, or the deprecated quantity string (`'20Gi'`), as the quantity written to the manifest. */
export function sizeQuantity(scope: IConstruct, field: string, value: Size | string): string {
  if (typeof value === 'string') return value;
  if (!(value instanceof Size)) fail(scope, field, value, "must be a cdk8s Size (e.g. Size.gibibytes(20)); a quantity string such as '20Gi' is " +
    "deprecated");
  const mib = value.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!Number.isInteger(mib) || mib < 1) fail(scope, field, `${mib}Mi`, 'must be a whole number of mebibytes, at least 1 (e.g. Size.gibibytes(20))');
  return mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`;
}
