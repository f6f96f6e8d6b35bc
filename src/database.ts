import { IConstruct } from 'constructs';
import { checkDnsSubdomain, checkPort, checkSqlIdentifier, DNS_SUBDOMAIN, fail, IPV4 } from './validate';

/**
 * How application pods reach a PostgreSQL database. `CostMgmtPostgres`
 * produces one for its in-cluster server (or for an external one when
 * `enabled: false`); `ExternalDatabase.of()` describes any other.
 * ErpApi and CeleryPair consume it the same way in both cases.
 */
export interface DatabaseConnection {
  /** Host name the pods connect to, e.g. `postgres` or `db.example.com`. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** Database name. */
  readonly databaseName: string;
  /** Secret holding the keys `database`, `username` and `password`. */
  readonly secretName: string;
  /**
   * Labels a pod must carry to be admitted by the database's NetworkPolicy.
   * Consumers add them to their pod templates.
   */
  readonly clientLabels: Record<string, string>;
}

/** Anything that can hand out a {@link DatabaseConnection}. */
export interface IDatabase {
  /** The connection details application pods use. */
  readonly connection: DatabaseConnection;
}

/** Options for {@link ExternalDatabase.of}. */
export interface ExternalDatabaseOptions {
  /** Host name of the server. */
  readonly host: string;
  /**
   * TCP port.
   * @default 5432
   */
  readonly port?: number;
  /**
   * Database name.
   * @default 'koku'
   */
  readonly databaseName?: string;
  /**
   * Secret (created by you) with the keys `database`, `username`, `password`.
   * @default 'postgres-credentials'
   */
  readonly secretName?: string;
}

/** A PostgreSQL server this project does not run (managed service, existing VM...). */
export class ExternalDatabase implements IDatabase {
  /** Describes an existing server; validates the values it is given. */
  public static of(options: ExternalDatabaseOptions, where: IConstruct | string = 'ExternalDatabase'): ExternalDatabase {
    return new ExternalDatabase({
      host: checkHost(where, 'host', options.host),
      port: checkPort(where, 'port', options.port ?? 5432),
      databaseName: checkSqlIdentifier(where, 'databaseName', options.databaseName ?? 'koku'),
      secretName: checkDnsSubdomain(where, 'secretName', options.secretName ?? 'postgres-credentials'),
      clientLabels: {},
    });
  }

  private constructor(public readonly connection: DatabaseConnection) {}
}

/** A host name or IPv4 address. */
export function checkHost(scope: IConstruct | string, field: string, value: string): string {
  if (typeof value !== 'string' || (!DNS_SUBDOMAIN.test(value) && !IPV4.test(value)) || value.length > 253) {
    fail(scope, field, value, "must be a lower-case DNS name or IPv4 address, e.g. 'postgres' or 'db.example.com'");
  }
  return value;
}

/**
 * The environment variables that carry a connection into a container:
 * DB_HOST, DB_PORT, DB_NAME as values, DB_USER and DB_PASSWORD from the Secret.
 */
export const DATABASE_ENV_NAMES = ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_PASSWORD'] as const;
