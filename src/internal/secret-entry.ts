import { IConstruct } from 'constructs';
import { checkEnvName, fail } from './validate';

/**
 * Values that mark a placeholder (as in the committed `secrets.example.yaml`):
 * a secret containing one is refused, so an example value never reaches a
 * cluster.
 */
export const SECRET_PLACEHOLDER = /change[-_]?me/i;

/** The committed example file; never loaded. */
export const SECRET_EXAMPLE_FILE = 'secrets.example.yaml';

/**
 * Checks one secret entry: a variable name, a non-empty string, no
 * placeholder. Messages never show the value. Also used by the charts.
 */
export function checkSecretEntry(where: IConstruct | string, field: string, key: string, value: unknown): void {
  checkEnvName(where, field, key);
  if (typeof value !== 'string') {
    fail(where, field, `<${typeof value}>`, 'must be a quoted string (YAML reads yes/no/on/off and numbers as other types)');
  }
  if (value === '') fail(where, field, '<empty>', 'must not be empty');
  if (SECRET_PLACEHOLDER.test(value)) {
    fail(where, field, '<redacted>', `is a placeholder from ${SECRET_EXAMPLE_FILE}; put the real value in your git-ignored secrets.<env>.yaml`);
  }
}
