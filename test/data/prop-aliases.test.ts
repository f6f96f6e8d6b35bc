/**
 * The props dialect of the data constructs: every deprecated alias (a
 * former name or form) gives the same manifests as its canonical prop, and
 * giving both is an error naming both.
 */
import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { CostMgmtPostgres } from '../../src/data/cost-mgmt-postgres';
import { CostMgmtPostgresProps } from '../../src/data/postgres-props';
import { PostgresBackup } from '../../src/data/postgres-backup';
import { PostgresBackupProps } from '../../src/data/backup-options';
import { Redis, RedisProps } from '../../src/data/redis';
import { storageQuantity } from '../../src/internal/dialect';
import { Manifest, one } from '../util';

const chart = () => new Chart(Testing.app(), 'test', { namespace: 'erp' });

function postgres(props: CostMgmtPostgresProps): Manifest[] {
  const c = chart();
  new CostMgmtPostgres(c, 'Postgres', props);
  return Testing.synth(c) as Manifest[];
}

function redis(props: RedisProps): Manifest[] {
  const c = chart();
  new Redis(c, 'Redis', props);
  return Testing.synth(c) as Manifest[];
}

const connection = { host: 'db.example.com', port: 5432, databaseName: 'app', secretName: 'app-db', clientLabels: {}, serverVersion: 15 };
function backup(props: Partial<PostgresBackupProps>): Manifest[] {
  const c = chart();
  new PostgresBackup(c, 'Backup', { name: 'app', connection, labels: { app: 'backup' }, ...props });
  return Testing.synth(c) as Manifest[];
}

describe('deprecated aliases give the manifests of their canonical props', () => {
  test.each<[string, CostMgmtPostgresProps, CostMgmtPostgresProps]>([
    ['storageSize -> volumeSize', { storageSize: '10Gi' }, { volumeSize: Size.gibibytes(10) }],
    ['storageSize (Mi) -> volumeSize', { storageSize: '512Mi' }, { volumeSize: Size.mebibytes(512) }],
    ['existingSecret -> secretName', { existingSecret: 'pg' }, { secretName: 'pg' }],
    ['existingSecret -> secretName (external)', { enabled: false, host: 'db', version: 15, existingSecret: 'pg' },
      { enabled: false, host: 'db', version: 15, secretName: 'pg' }],
    ['backup: false -> backup.enabled: false', { backup: false }, { backup: { enabled: false } }],
    ['backup.size -> backup.volumeSize', { backup: { size: '5Gi' } }, { backup: { volumeSize: Size.gibibytes(5) } }],
  ])('CostMgmtPostgres %s', (_name, old, canonical) => {
    // GIVEN the deprecated and the canonical form / WHEN synthesized / THEN the same manifests
    expect(postgres(canonical)).toEqual(postgres(old));
  });

  test('backup: { enabled: false } makes no backup objects; { enabled: true } is the default', () => {
    const off = postgres({ backup: { enabled: false } });
    expect(off.filter((o) => o.kind === 'CronJob')).toEqual([]);
    expect(postgres({ backup: { enabled: true } })).toEqual(postgres({}));
  });

  test.each<[string, RedisProps, RedisProps]>([
    ['persistence.size -> persistence.volumeSize', { persistence: { size: '2Gi', storageClassName: 'ssd' } },
      { persistence: { volumeSize: Size.gibibytes(2), storageClassName: 'ssd' } }],
    ['persistence: false -> persistence.enabled: false', { persistence: false }, { persistence: { enabled: false } }],
    ['persistence: {} -> persistence.enabled: true', { persistence: {} }, { persistence: { enabled: true } }],
  ])('Redis %s', (_name, old, canonical) => {
    // GIVEN the deprecated and the canonical form / WHEN synthesized / THEN the same manifests
    expect(redis(canonical)).toEqual(redis(old));
  });

  test('persistence.enabled: false is the default (in memory)', () => {
    expect(redis({ persistence: { enabled: false } })).toEqual(redis({}));
    expect(one(redis({ persistence: { volumeSize: Size.gibibytes(3) } }), 'StatefulSet').spec.volumeClaimTemplates[0].spec.resources)
      .toEqual({ requests: { storage: '3Gi' } });
  });

  const offsite = { endpoint: 'https://minio.example.com:9000', bucket: 'erp-backups' };
  test.each<[string, Partial<PostgresBackupProps>, Partial<PostgresBackupProps>]>([
    ['retentionDays -> retention', { retentionDays: 30 }, { retention: Duration.days(30) }],
    ['offsite.credentialsSecret -> offsite.credentialsSecretName', { offsite: { ...offsite, credentialsSecret: 's3' } },
      { offsite: { ...offsite, credentialsSecretName: 's3' } }],
    ['offsite.retentionDays -> offsite.retention', { offsite: { ...offsite, credentialsSecretName: 's3', retentionDays: 90 } },
      { offsite: { ...offsite, credentialsSecretName: 's3', retention: Duration.days(90) } }],
  ])('PostgresBackup %s', (_name, old, canonical) => {
    // GIVEN the deprecated and the canonical form / WHEN synthesized / THEN the same manifests
    expect(backup(canonical)).toEqual(backup(old));
  });

  test('PostgresBackup size -> volumeSize', () => {
    expect(backup({ volumeSize: Size.gibibytes(7) })).toEqual(backup({ size: '7Gi' }));
    expect(one(backup({ volumeSize: Size.gibibytes(7) }), 'PersistentVolumeClaim').spec.resources).toEqual({ requests: { storage: '7Gi' } });
  });
});

describe('fails when', () => {
  test.each<[string, () => unknown, RegExp]>([
    ['storageSize and volumeSize', () => postgres({ storageSize: '10Gi', volumeSize: Size.gibibytes(10) }),
      /test\/Postgres: 'volumeSize' .*cannot be combined with its deprecated alias 'storageSize'/],
    ['existingSecret and secretName', () => postgres({ existingSecret: 'a', secretName: 'b' }),
      /test\/Postgres: 'secretName' .*cannot be combined with its deprecated alias 'existingSecret'/],
    ['backup.size and backup.volumeSize', () => postgres({ backup: { size: '1Gi', volumeSize: Size.gibibytes(1) } }),
      /'backup\.volumeSize' .*cannot be combined with its deprecated alias 'backup\.size'/],
    ['persistence.size and persistence.volumeSize', () => redis({ persistence: { size: '1Gi', volumeSize: Size.gibibytes(1) } }),
      /test\/Redis: 'persistence\.volumeSize' .*cannot be combined with its deprecated alias 'persistence\.size'/],
    ['backup.volumeSize with backup.volume',
      () => postgres({ backup: { volumeSize: Size.gibibytes(1), volume: kplus.Volume.fromEmptyDir(chart(), 'V', 'v') } }),
      /'backup\.volumeSize' .*cannot be combined with 'backup\.volume'/],
    ['volumeSize is zero', () => postgres({ volumeSize: Size.kibibytes(0) }), /'volumeSize' .*must be greater than zero/],
    ['volumeSize on an external server', () => postgres({ enabled: false, host: 'db', version: 15, volumeSize: Size.gibibytes(1) }),
      /'volumeSize' .*only applies to the in-cluster server/],
    ['volumeSize is a string (plain JavaScript)', () => postgres({ volumeSize: '10Gi' as unknown as Size }), /'volumeSize' .*must be a cdk8s Size/],
    ['retention and retentionDays', () => backup({ retention: Duration.days(7), retentionDays: 7 }),
      /'backup\.retention' .*cannot be combined with its deprecated alias 'backup\.retentionDays'/],
    ['retention is not whole days', () => backup({ retention: Duration.hours(36) }),
      /'backup\.retention' \("1 day 12 hours"\) must be a whole number of days/],
    ['retention is zero', () => backup({ retention: Duration.days(0) }), /'backup\.retention' .*from 1 to 3650/],
    ['offsite.credentialsSecret and offsite.credentialsSecretName',
      () => backup({ offsite: { endpoint: 'https://s3.example.com', bucket: 'bkt', credentialsSecret: 'a', credentialsSecretName: 'a' } }),
      /'backup\.offsite\.credentialsSecretName' .*cannot be combined with its deprecated alias 'backup\.offsite\.credentialsSecret'/],
    ['offsite without credentials', () => backup({ offsite: { endpoint: 'https://s3.example.com', bucket: 'bkt' } }),
      /'backup\.offsite\.credentialsSecretName' .*is required/],
    ['backup is turned off with options', () => postgres({ backup: { enabled: false, schedule: '0 3 * * *' } }),
      /test\/Postgres: 'backup\.enabled' \(false\) turns 'backup' off: drop its other options too \(schedule\)/],
    ['persistence is turned off with options', () => redis({ persistence: { enabled: false, volumeSize: Size.gibibytes(1) } }),
      /test\/Redis: 'persistence\.enabled' \(false\) turns 'persistence' off: drop its other options too \(volumeSize\)/],
    ['PostgresBackup is given enabled: false', () => backup({ enabled: false }), /'backup\.enabled' .*turns the backups off/],
  ])('%s', (_name, make, message) => {
    // GIVEN / WHEN / THEN
    expect(make).toThrow(message);
  });
});

test('storageQuantity: a Size as the quantity the API server stores', () => {
  expect(storageQuantity('x', 'size', Size.gibibytes(20))).toBe('20971520Ki');
  expect(storageQuantity('x', 'size', '20Gi')).toBe('20Gi');
  expect(() => storageQuantity('x', 'size', '20 GB')).toThrow(/'size'/);
});

test('the backup options are checked in plain JavaScript too: a misspelt key, a string volumeSize', () => {
  expect(() => postgres({ backup: { retentionDay: 7 } as never })).toThrow(/'backup\.retentionDay' .*did you mean 'backup\.retentionDays'/);
  expect(() => postgres({ backup: { volumeSize: '5Gi' as never } })).toThrow(/'backup\.volumeSize' .*must be a cdk8s Size/);
  expect(() => postgres({ backup: 'off' as never })).toThrow(/'backup' .*must be an object \(PostgresBackupOptions\) or false/);
});
