import { ApiObject, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { claimTemplate, containerPath } from './pod-helpers';
import { aliased, storageQuantity } from './dialect';
import { quantity } from './resources';
import { checkDnsSubdomain } from './validate';

/** The storage of a volume, resolved: its size as a quantity and its storage class. */
export interface ResolvedStorage {
  /** Kubernetes quantity, e.g. `20Gi`. */
  readonly size: string;
  /** Storage class; undefined for the cluster's default. */
  readonly storageClassName?: string;
}

/** Checks a volume's size (named `sizeField` in messages) and storage class (`classField`). */
export function resolveStorage(scope: IConstruct | string, sizeField: string, size: Size | string,
  classField: string, storageClassName?: string): ResolvedStorage {
  return {
    size: storageQuantity(scope, sizeField, size),
    storageClassName: storageClassName === undefined ? undefined : checkDnsSubdomain(scope, classField, storageClassName),
  };
}

/** Options of {@link addClaimTemplate}. */
export interface ClaimTemplateOptions {
  /** Name of the claim template (and of the volume mounted). */
  readonly name: string;
  /** Labels of the claims. */
  readonly labels: Record<string, string>;
  /** Size and class. */
  readonly storage: ResolvedStorage;
  /** The container that mounts it. */
  readonly container: kplus.Container;
  /** Where. */
  readonly mountPath: string;
}

/**
 * A StatefulSet's data volume: a claim template (see `claimTemplate`), its
 * claims retained when the StatefulSet is deleted or scaled down, and its
 * mount in `container`. The mount is a JSON patch (the claim comes from the
 * template, not from a pod volume cdk8s-plus knows), aimed at the container
 * by name; call it after the container's other mounts.
 */
export function addClaimTemplate(sts: kplus.StatefulSet, o: ClaimTemplateOptions): void {
  const obj = ApiObject.of(sts);
  const mount = { name: o.name, mountPath: o.mountPath };
  const mounts = `${containerPath(sts, o.container.name)}/volumeMounts`;
  obj.addJsonPatch(o.container.mounts.length ? JsonPatch.add(`${mounts}/-`, mount) : JsonPatch.add(mounts, [mount]));
  obj.addJsonPatch(JsonPatch.add('/spec/volumeClaimTemplates', [claimTemplate(o.name, o.labels, o.storage.size, o.storage.storageClassName)]));
  obj.addJsonPatch(JsonPatch.add('/spec/persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' }));
}

/**
 * A PersistentVolumeClaim's requested storage, exact (cdk8s-plus' `Size`
 * would render `1Gi` as `1024Mi`; the quantity is written as the API server
 * stores it, so re-applies change nothing).
 */
export function setClaimSize(claim: kplus.PersistentVolumeClaim, size: string): void {
  ApiObject.of(claim).addJsonPatch(JsonPatch.add('/spec/resources', { requests: { storage: quantity(size) } }));
}

/** The volume props of a construct: the size (`Size`, or its deprecated alias) and the storage class. */
export interface VolumeProps {
  /** Canonical size. */
  readonly volumeSize?: Size;
  /** Storage class. */
  readonly storageClassName?: string;
}

/**
 * A volume's size and class: `volumeSize` or its deprecated string alias
 * (`deprecated`, named `deprecatedField`: a quantity string or a `Size`), not both; `prefix` is the path of
 * the props in messages (`'backup.'`).
 */
export function volumeStorage(scope: IConstruct | string, prefix: string, props: VolumeProps, deprecatedField: string,
  deprecated: Size | string | undefined, defaultSize: Size): ResolvedStorage {
  const size = aliased<Size | string>(scope, `${prefix}volumeSize`, props.volumeSize, `${prefix}${deprecatedField}`, deprecated);
  const field = deprecated !== undefined ? deprecatedField : 'volumeSize';
  return resolveStorage(scope, `${prefix}${field}`, size ?? defaultSize, `${prefix}storageClassName`, props.storageClassName);
}
