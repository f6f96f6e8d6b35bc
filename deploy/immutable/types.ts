/* Types of the immutable-field guard (see ../immutable-guard.ts). */

/** A Kubernetes object as synthesized (or read back from YAML). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- read field by field, from YAML as well as from synth
export type KubeObject = Record<string, any>;

/** One change Kubernetes refuses on apply. */
export interface ImmutableChange {
  /** `Kind/name`, e.g. `StatefulSet/postgres`. */
  readonly object: string;
  /** The object's namespace. @default - none (cluster-scoped or unset) */
  readonly namespace?: string;
  /** The immutable field, e.g. `spec.selector`. */
  readonly field: string;
  /** Where it differs (sub-paths of {@link field}), old and new value, at most a few. */
  readonly differences: ReadonlyArray<{ readonly path: string; readonly before: unknown; readonly after: unknown }>;
  /** More differences than listed. @default false */
  readonly more?: boolean;
  /** What to do instead. */
  readonly wayOut: string;
}

/** An object as written last time and as about to be written. */
export interface Pair {
  readonly before: KubeObject;
  readonly after: KubeObject;
  readonly name: string;
  /** `-n <ns> ` for kubectl commands, or ''. */
  readonly ns: string;
}

/** A rule: the immutable change it finds in a pair, if any. */
export type Rule = (p: Pair) => Omit<ImmutableChange, 'object' | 'namespace'> | undefined;
