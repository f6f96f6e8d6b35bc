import { IConstruct } from 'constructs';
import { ErrorCode } from './error-code';

/** What a props error carries besides its message. */
export interface PropsErrorDetails {
  /** Construct path (or chart/config name) the bad value was given to. */
  readonly path: string;
  /** Dotted prop name, e.g. `autoscaling.minReplicas`. */
  readonly field: string;
  /** The value received. */
  readonly value: unknown;
  /** What is allowed instead. */
  readonly allowed: string;
}

class PropsErrorImpl extends Error implements PropsErrorDetails {
  public readonly code = ErrorCode.PROPS;
  constructor(public readonly path: string, public readonly field: string, public readonly value: unknown, public readonly allowed: string) {
    super(`${path || '<root>'}: '${field}' (${show(value)}) ${allowed}`);
    this.name = 'PropsError';
  }
}

/**
 * Thrown when a construct receives props it cannot honour: a plain `Error`
 * with `code` {@link ErrorCode.PROPS}, whose message names the construct
 * path, the field, the value received and what is allowed, e.g.
 * `dev/Api: 'autoscaling.minReplicas' (7) must be at most 'autoscaling.maxReplicas' (6)`.
 * `err instanceof PropsError` keeps working in TypeScript and JavaScript.
 *
 * @deprecated test `err.code === ErrorCode.PROPS` (an error class cannot
 * cross to Python, Java, .NET or Go, so the class is not part of the jsii API)
 */
export const PropsError: new (path: string, field: string, value: unknown, allowed: string) => PropsError = PropsErrorImpl;
/** @deprecated see the value `PropsError` */
export type PropsError = Error & PropsErrorDetails & { readonly code: ErrorCode };

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
