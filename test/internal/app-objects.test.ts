/**
 * What the API server would refuse is refused at synth (issue 16 step 3):
 * names and namespaces by the rules of their kind, label values, and two
 * objects of one identity anywhere in an App, on every synth route.
 */
import { App, Chart, Cron, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { CostMgmtPostgres, ErpApi, ErpOperations, PostgresBackup } from '../../src';
import { appObjectErrors } from '../../src/internal/app-objects';
import { Phase, renderFiles } from '../../deploy/synth';
import { synth } from '../util';

const IMAGE = 'registry.example.com/erp/api:1.4.2';

describe('duplicate objects', () => {
  test('fails when two ErpApi of one name are in two charts of one namespace, on every synth route', () => {
    // GIVEN two charts of one App, one namespace, each with an ErpApi named erp-api
    const app = Testing.app();
    const a = new Chart(app, 'a', { namespace: 'erp' });
    const b = new Chart(app, 'b', { namespace: 'erp' });
    new ErpApi(a, 'Api', { image: IMAGE });
    new ErpApi(b, 'Api', { image: IMAGE });
    const message = /b\/Api\/Resource\/Resource: 'metadata.name' \("erp-api-app"\) is already the name of a\/Api\/Resource\/Resource: two Deployment objects named "erp-api-app" in namespace "erp", and the second would overwrite the first at apply/;
    // THEN chart.toJson(), app.synth() and the fast path all refuse them
    expect(() => synth(b)).toThrow(message);
    expect(() => app.synth()).toThrow(message);
    expect(() => renderFiles([{ chart: a, phase: Phase.WORKLOADS }, { chart: b, phase: Phase.WORKLOADS }])).toThrow(message);
  });

  test('the same names in two namespaces are two objects', () => {
    const app = Testing.app();
    new ErpApi(new Chart(app, 'a', { namespace: 'erp-a' }), 'Api', { image: IMAGE });
    const b = new Chart(app, 'b', { namespace: 'erp-b' });
    new ErpApi(b, 'Api', { image: IMAGE });
    expect(() => synth(b)).not.toThrow();
    expect(appObjectErrors(app)).toEqual([]);
  });

  test('fails when an object of the user duplicates one of ours', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'erp' });
    new ErpApi(chart, 'Api', { image: IMAGE });
    new kplus.ConfigMap(chart, 'Mine', { metadata: { name: 'x' } });
    new kplus.ServiceAccount(chart, 'Sa', { metadata: { name: 'erp-api' } });
    expect(() => synth(chart)).toThrow(/test\/Sa\/Resource: 'metadata.name' \("erp-api"\) is already the name of test\/Api\/ServiceAccount\/Resource: two ServiceAccount objects/);
  });
});

describe('names, namespaces and labels by the rules of their kind', () => {
  /** A chart with an ErpApi (which adds the app-wide check) and one more object. */
  function withObject(add: (chart: Chart) => void, namespace = 'erp'): () => void {
    const chart = new Chart(Testing.app(), 'test', { namespace });
    new ErpApi(chart, 'Api', { image: IMAGE });
    add(chart);
    return () => synth(chart);
  }

  test.each<[string, (chart: Chart) => void, RegExp]>([
    ['a Service name starts with a digit', (c) => new kplus.Service(c, 'Svc', { metadata: { name: '9svc' }, ports: [{ port: 80 }] }),
      /test\/Svc\/Resource: 'metadata.name' \("9svc"\) must be a DNS-1035 label \(it names a Service\)/],
    ['a CronJob name has 53 characters', (c) => new kplus.CronJob(c, 'Cron', {
      metadata: { name: 'c'.repeat(53) }, schedule: Cron.daily(), containers: [{ image: IMAGE, securityContext: { user: 1000 } }],
    }), /test\/Cron\/Resource: 'metadata.name' \("c{53}"\) is 53 characters: a CronJob name may have at most 52/],
    ['a Job name has 64 characters', (c) => new kplus.Job(c, 'Job', {
      metadata: { name: 'j'.repeat(64) }, containers: [{ image: IMAGE, securityContext: { user: 1000 } }],
    }), /test\/Job\/Resource: 'metadata.name' \("j{64}"\) is 64 characters: a Job name may have at most 63/],
    ['a ConfigMap name has capitals', (c) => new kplus.ConfigMap(c, 'Cm', { metadata: { name: 'Settings' } }),
      /test\/Cm\/Resource: 'metadata.name' \("Settings"\) must be a DNS-1123 subdomain/],
    ['a label value has a space', (c) => new kplus.ConfigMap(c, 'Cm', { metadata: { name: 'settings', labels: { team: 'erp core' } } }),
      /test\/Cm\/Resource: 'metadata.labels.team' \("erp core"\) must be a Kubernetes label/],
  ])('fails when %s', (_n, add, message) => {
    expect(withObject(add)).toThrow(message);
  });

  test.each<[string, string, RegExp]>([
    ['upper case', 'Prod', /test\/Api\/Resource\/Resource: 'metadata.namespace' \("Prod"\) must be a namespace name \(DNS-1123 label\)/],
    ['64 characters', 'n'.repeat(64), /'metadata.namespace' \("n{64}"\) must be a namespace name \(DNS-1123 label\).* at most 63 characters/],
  ])('fails when a chart namespace has %s', (_n, namespace, message) => {
    expect(withObject(() => undefined, namespace)).toThrow(message);
  });

  test('the longest ErpApi name (31) with operations and a backed-up database fits every limit', () => {
    // GIVEN every construct that derives names from the API's, at the maximum
    const app = new App();
    const chart = new Chart(app, 'test', { namespace: 'erp' });
    const db = new CostMgmtPostgres(chart, 'Db', {});
    const api = new ErpApi(chart, 'Api', { image: IMAGE, name: 'a'.repeat(31), database: db });
    new ErpOperations(chart, 'Ops', { api, bootstrap: { adminEmail: 'admin@example.com' } });
    // THEN every Job is at most 63 characters and every CronJob at most 52
    const objs = synth(chart);
    const jobs = objs.filter((o) => o.kind === 'Job').map((o) => o.metadata.name as string);
    expect(jobs.some((n) => n.includes('-pre-migration-backup-'))).toBe(true);
    for (const n of jobs) expect(n.length).toBeLessThanOrEqual(63);
    for (const o of objs.filter((x) => x.kind === 'CronJob')) expect(o.metadata.name.length).toBeLessThanOrEqual(52);
  });
});

describe('PostgresBackup names', () => {
  function backup(name: string): () => void {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'erp' });
    const db = new CostMgmtPostgres(chart, 'Db', { backup: false });
    return () => new PostgresBackup(chart, 'Backup', { name, connection: db.connection, labels: { 'app.kubernetes.io/name': 'backup' } });
  }

  test.each<[string, string, RegExp]>([
    ['has 38 characters (the first-dump Job over 63)', 'b'.repeat(38),
      /^test: 'name' \("b{38}"\) is too long: the first-dump Job 'b{38}-backup-initial-0{10}' would have 64 characters and Kubernetes allows 63; use at most 37 characters/],
    ['is not a DNS label', 'Pg_Backup', /^test: 'name' \("Pg_Backup"\) must be a DNS-1123 label/],
  ])('fails when the name %s', (_n, name, message) => {
    expect(backup(name)).toThrow(message);
  });

  test('a name of 37 characters is accepted', () => {
    expect(backup('b'.repeat(37))).not.toThrow();
  });
});
