import { Size } from 'cdk8s';
import { IConstruct } from 'constructs';
import { resolveStorage, ResolvedStorage } from '../internal/storage';
import { fail } from '../internal/validate';

/**
 * A prop and its deprecated alias (its former name or form): the value of
 * whichever is given. Giving both is an error naming both.
 */
export function aliased<T>(scope: IConstruct | string, field: string, value: T | undefined,
  deprecatedField: string, deprecated: T | undefined): T | undefined {
  if (value !== undefined && deprecated !== undefined) {
    fail(scope, deprecatedField, deprecated, `cannot be combined with '${field}' (its deprecated alias); keep '${field}' only`);
  }
  return value ?? deprecated;
}

/**
 * The options of an optional feature (the prop `field`), or `undefined` when
 * it is off: `{ enabled: false }`, or `false` (the deprecated form of it).
 * Without options, `whenAbsent` tells whether the feature is on by default.
 * Options of a feature turned off are refused: one of the two is a mistake.
 */
export function enabledOptions<T extends { readonly enabled?: boolean }>(scope: IConstruct | string, field: string, value: T | false | undefined,
  whenAbsent: boolean): T | undefined {
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

/** The volume props of the data constructs: the size (`Size`, or its deprecated string alias) and the storage class. */
export interface VolumeProps {
  /** Canonical size. */
  readonly volumeSize?: Size;
  /** Storage class. */
  readonly storageClassName?: string;
}

/**
 * A volume's size and class: `volumeSize` or its deprecated string alias
 * (`deprecated`, named `deprecatedField`), not both; `prefix` is the path of
 * the props in messages (`'backup.'`).
 */
export function volumeStorage(scope: IConstruct | string, prefix: string, props: VolumeProps, deprecatedField: string, deprecated: string | undefined,
  defaultSize: Size): ResolvedStorage {
  const size = aliased<Size | string>(scope, `${prefix}volumeSize`, props.volumeSize, `${prefix}${deprecatedField}`, deprecated);
  const field = deprecated !== undefined ? deprecatedField : 'volumeSize';
  return resolveStorage(scope, `${prefix}${field}`, size ?? defaultSize, `${prefix}storageClassName`, props.storageClassName);
}
