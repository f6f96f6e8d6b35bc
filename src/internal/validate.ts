/**
 * Checks of construct props. Each throws a {@link PropsError} through
 * {@link fail}: construct path, field, the value received, what is allowed.
 * The checks live by theme (names, schedules, images; the generic field
 * checks here); every one stays importable from './validate'.
 */
import { IConstruct } from 'constructs';
import { fail } from './props-error';

export { fail, pathOf, PropsError, show } from './props-error';
export * from './validate-image';
export * from './validate-names';
export * from './validate-schedule';

/** An integer within [min, max]. */
export function checkInt(scope: IConstruct | string, field: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    fail(scope, field, value, `must be ${range}`);
  }
  return value;
}

/** A TCP port, 1-65535. */
export function checkPort(scope: IConstruct | string, field: string, value: number): number {
  return checkInt(scope, field, value, 1, 65535);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An environment variable name that shells and Kubernetes both accept (C identifier). */
export function checkEnvName(scope: IConstruct | string, field: string, value: string): string {
  if (typeof value !== 'string' || !ENV_NAME.test(value)) {
    fail(scope, field, value, "must be a C identifier: letters, digits and '_', not starting with a digit");
  }
  return value;
}

/** Rejects names given twice in a list. */
export function checkUnique(scope: IConstruct | string, field: string, values: readonly string[]): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) fail(scope, field, v, 'is given twice; each name must be unique');
    seen.add(v);
  }
}

const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A PostgreSQL identifier we interpolate into SQL and shell: lower-case
 * letters, digits and '_' only (no quoting needed, so no injection possible).
 */
export function checkSqlIdentifier(scope: IConstruct | string, field: string, value: string): string {
  if (typeof value !== 'string' || !SQL_IDENTIFIER.test(value)) {
    fail(scope, field, value, "must be a plain SQL identifier: lower-case letters, digits and '_', starting with a letter or '_', "
      + "at most 63 characters (quotes, spaces and ';' are refused)");
  }
  return value;
}

/** A non-empty string. */
export function checkNonEmpty(scope: IConstruct | string, field: string, value: string | undefined): string {
  if (typeof value !== 'string' || value.trim() === '') {
    fail(scope, field, value, 'is required and must not be empty');
  }
  return value;
}

/** A URL whose user-info carries a password: `scheme://user:password@host`, `redis://:password@host`. */
const URL_WITH_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#@]+)@/i;

/** The value with the password of every URL in it replaced by `***`, for messages. */
export function maskUrlPasswords(value: string): string {
  return value.replace(new RegExp(URL_WITH_PASSWORD.source, 'gi'), (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
}

/**
 * Refuses a plain (non-secret) setting holding a URL with a password in it
 * (`postgres://koku:s3cr3t@db/koku`): plain settings are written to dist/
 * in clear. The message shows the value with the password masked and says
 * where the credential goes instead (`wayOut`).
 */
export function checkNoUrlCredentials(scope: IConstruct | string, field: string, value: string, wayOut: string): string {
  if (typeof value === 'string' && URL_WITH_PASSWORD.test(value)) {
    fail(scope, field, maskUrlPasswords(value), `holds a password in a URL, which would be written in plain text to dist/; ${wayOut}`);
  }
  return value;
}
