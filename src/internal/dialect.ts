import { Size } from 'cdk8s';
import { IConstruct } from 'constructs';
import { parseBytes } from './resources';
import { fail } from './validate';

/*
 * The one props dialect of the library (AWS CDK guidelines: flat, the same
 * names for the same ideas, `{ enabled: false }` to turn a feature off,
 * `Duration`/`Size` types) and its deprecated aliases. Each construct maps
 * an alias to the canonical prop in its resolve step with these helpers, so
 * every alias behaves alike: it still works, and giving it together with
 * its canonical prop is an error naming both.
 */

/**
 * The value of a setting that has a deprecated alias: `value` (the canonical
 * `field`) or else `deprecated` (the alias `deprecatedField`). Both given is
 * an error naming both.
 */
export function aliased<T>(scope: IConstruct | string, field: string, value: T | undefined,
  deprecatedField: string, deprecated: T | undefined): T | undefined {
  if (value !== undefined && deprecated !== undefined) {
    fail(scope, field, value,
      `cannot be combined with its deprecated alias '${deprecatedField}' (${JSON.stringify(deprecated)}): set '${field}' only`);
  }
  return value ?? deprecated;
}

/**
 * The options of an optional feature (the prop `field`), or `undefined` when
 * it is off: `{ enabled: false }`, or `false` (the deprecated form of it).
 * Without options, `whenAbsent` tells whether the feature is on by default.
 * Options of a feature turned off are refused: one of the two is a mistake.
 */
export function enabledOptions<T extends { readonly enabled?: boolean }>(scope: IConstruct | string, field: string,
  value: T | false | undefined, whenAbsent: boolean): T | undefined {
  if (value === false) return undefined;
  if (value?.enabled === false) {
    const others = Object.keys(value).filter((k) => k !== 'enabled' && (value as Record<string, unknown>)[k] !== undefined);
    if (others.length) {
      fail(scope, `${field}.enabled`, false, `turns '${field}' off: drop its other options too (${others.join(', ')}), or turn it on`);
    }
    return undefined;
  }
  if (value === undefined) return whenAbsent ? ({} as T) : undefined;
  return value;
}

/**
 * A volume size as a Kubernetes quantity: a `Size` (the canonical form) or,
 * for the deprecated string props, a quantity such as `'20Gi'` (checked).
 */
export function storageQuantity(scope: IConstruct | string, field: string, value: Size | string): string {
  if (typeof value === 'string') {
    parseBytes(scope, field, value);
    return value;
  }
  if (!(value instanceof Size)) {
    fail(scope, field, value, "must be a cdk8s Size (e.g. Size.gibibytes(20)); a quantity string such as '20Gi' is deprecated");
  }
  const kib = value.toKibibytes();
  if (!(kib > 0)) fail(scope, field, `${kib}Ki`, 'must be greater than zero');
  return `${kib}Ki`;
}
