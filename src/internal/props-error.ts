import { IConstruct } from 'constructs';

/**
 * Thrown when a construct receives props it cannot honour. The message names
 * the construct path, the field, the value received and what is allowed, e.g.
 * `dev/Api: 'autoscaling.minReplicas' (7) must be at most 'autoscaling.maxReplicas' (6)`.
 */
export class PropsError extends Error {
  constructor(
    /** Construct path (or chart/config name) the bad value was given to. */
    public readonly path: string,
    /** Dotted prop name, e.g. `autoscaling.minReplicas`. */
    public readonly field: string,
    /** The value received. */
    public readonly value: unknown,
    /** What is allowed instead. */
    public readonly allowed: string,
  ) {
    super(`${path || '<root>'}: '${field}' (${show(value)}) ${allowed}`);
    this.name = 'PropsError';
  }
}

/** Renders a value for an error message. */
export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** The path used in error messages for a construct (or a plain label). */
export function pathOf(scope: IConstruct | string): string {
  return typeof scope === 'string' ? scope : scope.node.path;
}

/** Throws a {@link PropsError}. */
export function fail(scope: IConstruct | string, field: string, value: unknown, allowed: string): never {
  throw new PropsError(pathOf(scope), field, value, allowed);
}
