import { createHash } from 'crypto';
import { ApiObject, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PostgresServerConfig, POSTGRES_NAME as NAME, ResolvedPostgres } from './postgres-config';
import { postgresConfig, postgresInitSql, postgresPreStartScript, postgresStartScript, PostgresTlsFiles } from './postgres-sql';
import { addServerService, addStatefulServer, StatefulServerOptions } from './stateful-server';
import { addContainer } from '../internal/pod-helpers';
import { addClaimTemplate } from '../internal/storage';

const PORT_NAME = 'postgresql';
/** The sclorg image's postgres UID/GID. */
export const POSTGRES_USER = 26;
const DATA_DIR = '/var/lib/postgresql/data';
const APP_SRC = '/opt/app-root/src';
const ROLE_SECRETS_DIR = '/etc/postgresql-roles';
const TLS_DIR = '/etc/postgresql-tls';
const TLS_FILES: PostgresTlsFiles = { certFile: `${TLS_DIR}/tls.crt`, keyFile: `${TLS_DIR}/tls.key` };

/** The hooks the sclorg image runs (config, PGDATA, init SQL at every start): ConfigMap key → [path under APP_SRC, content]. */
export function serverFiles(server: PostgresServerConfig, databaseName: string): { files: Record<string, [string, string]>; initSql: string } {
  const initSql = postgresInitSql({ databaseName, extensions: [...server.extensions], roles: [...server.roles], databases: [...server.databases] });
  const files: Record<string, [string, string]> = {
    'erp-k8s.conf': ['postgresql-cfg/erp-k8s.conf', postgresConfig([...server.preload], server.tls ? TLS_FILES : undefined)],
    'pgdata.sh': ['postgresql-pre-start/erp-k8s-pgdata.sh', postgresPreStartScript(`${DATA_DIR}/pgdata`)],
    'init.sh': ['postgresql-start/erp-k8s-init.sh',
      postgresStartScript({ sqlFile: `${APP_SRC}/erp-k8s/init.sql`, roles: [...server.roles], passwordDir: ROLE_SECRETS_DIR })],
    'init.sql': ['erp-k8s/init.sql', initSql],
  };
  return { files, initSql };
}

/** What {@link addPostgresServer} makes. */
export interface PostgresServerObjects {
  readonly statefulSet: kplus.StatefulSet;
  readonly headless: kplus.Service;
  readonly service: kplus.Service;
}

/** Inputs of {@link addPostgresServer}. */
export interface PostgresServerInputs {
  readonly config: ResolvedPostgres;
  readonly server: PostgresServerConfig;
  readonly labels: Record<string, string>;
  readonly configMap: kplus.ConfigMap;
  readonly files: Record<string, [string, string]>;
  readonly roleSecretNames: Record<string, string>;
}

/** The server: headless Service, StatefulSet (pod, probes, mounts, data volume) and Service `postgres`. */
export function addPostgresServer(scope: Construct, i: PostgresServerInputs): PostgresServerObjects {
  const { labels, server } = i;
  const port = i.config.connection.port;
  const checksum = createHash('sha256').update(JSON.stringify(i.configMap.data)).digest('hex');
  const o: StatefulServerOptions = {
    name: NAME, labels, port, portName: PORT_NAME, user: POSTGRES_USER,
    podAnnotations: { 'erp-k8s.io/config-checksum': checksum },
    podManagementPolicy: kplus.PodManagementPolicy.ORDERED_READY,
    terminationGracePeriod: Duration.seconds(60),
  };
  const { headless, statefulSet: sts } = addStatefulServer(scope, o);
  const container = addServerContainer(scope, sts, i.config, server);
  mountServerVolumes(scope, container, i);
  addClaimTemplate(sts, { name: 'postgresql-data', labels, storage: server.storage, container, mountPath: DATA_DIR });
  ApiObject.of(sts).addDependency(i.configMap);
  const service = addServerService(scope, o, sts);
  return { statefulSet: sts, headless, service };
}

/** The server container: environment of the sclorg image, pg_isready probes, a fast shutdown. */
function addServerContainer(scope: Construct, sts: kplus.StatefulSet, config: ResolvedPostgres, server: PostgresServerConfig): kplus.Container {
  const { port, databaseName, secretName } = config.connection;
  const isReady = ['pg_isready', '-h', '127.0.0.1', '-p', String(port), '-q'];
  const probe = (period: number, failureThreshold: number, delay = 0) => kplus.Probe.fromCommand(isReady, {
    initialDelaySeconds: Duration.seconds(delay), periodSeconds: Duration.seconds(period), timeoutSeconds: Duration.seconds(5), failureThreshold,
  });
  const secret = kplus.Secret.fromSecretName(scope, 'Secret', secretName);
  return addContainer(sts, {
    name: NAME,
    image: server.image,
    ports: [{ number: port, name: PORT_NAME }],
    envVariables: {
      POSTGRESQL_DATABASE: kplus.EnvValue.fromValue(databaseName),
      POSTGRESQL_USER: kplus.EnvValue.fromValue(config.username),
      POSTGRESQL_PASSWORD: kplus.EnvValue.fromSecretValue({ secret, key: 'password' }),
      PGDATA: kplus.EnvValue.fromValue(`${DATA_DIR}/pgdata`),
      POSTGRESQL_LOG_DESTINATION: kplus.EnvValue.fromValue('/dev/stderr'),
    },
    startup: probe(10, Math.ceil(server.startupTimeout.toSeconds() / 10)),
    readiness: probe(10, 3, 5),
    liveness: probe(20, 6),
    // A fast shutdown: SIGTERM alone is a "smart" shutdown that waits for clients.
    lifecycle: { preStop: kplus.Handler.fromCommand(['pg_ctl', 'stop', '-m', 'fast', '-w', '-t', '50']) },
  }, { resources: server.resources, user: POSTGRES_USER });
}

/** The hooks (read-only), the writable directories, each role's password and the TLS key pair. */
function mountServerVolumes(scope: Construct, server: kplus.Container, i: PostgresServerInputs): void {
  const volume = (vid: string, name: string) => kplus.Volume.fromEmptyDir(scope, vid, name);
  server.mount(APP_SRC, kplus.Volume.fromConfigMap(scope, 'ConfigVolume', i.configMap, {
    name: 'config',
    items: Object.fromEntries(Object.entries(i.files).map(([k, [path]]) => [k, { path }])),
  }), { readOnly: true });
  server.mount('/var/lib/pgsql', volume('Home', 'home'));
  server.mount('/var/run/postgresql', volume('Socket', 'socket'));
  server.mount('/tmp', volume('Tmp', 'tmp'));
  for (const role of i.server.roles) {
    const s = kplus.Secret.fromSecretName(scope, `RoleSecret-${role}`, i.roleSecretNames[role]);
    server.mount(`${ROLE_SECRETS_DIR}/${role}`, kplus.Volume.fromSecret(scope, `RoleVolume-${role}`, s, {
      name: `role-${role.replace(/_/g, '-')}`, defaultMode: 0o440, items: { password: { path: 'password' } },
    }), { readOnly: true });
  }
  if (i.server.tls) {
    // root-owned files, group fsGroup (26), mode 0640: what PostgreSQL accepts for a key it does not own
    const tlsSecret = kplus.Secret.fromSecretName(scope, 'TlsSecret', i.server.tls.secretName);
    server.mount(TLS_DIR, kplus.Volume.fromSecret(scope, 'TlsVolume', tlsSecret, {
      name: 'tls', defaultMode: 0o640, items: { 'tls.crt': { path: 'tls.crt' }, 'tls.key': { path: 'tls.key' } },
    }), { readOnly: true });
  }
}
