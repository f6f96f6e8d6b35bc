import { Size } from 'cdk8s';
import { IConstruct } from 'constructs';
import { resolveStorage, ResolvedStorage } from '../internal/storage';
import { aliased } from '../internal/dialect';

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
