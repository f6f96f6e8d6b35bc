import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { renderApp } from '../../deploy/app-synth';
import type { Manifest } from '../../deploy/synth';

// Runs the real cdk8s CLI on the compiled app (npm test builds lib/ first).
const root = path.join(__dirname, '..', '..');

const CHART_FILES = ['10-config.k8s.yaml', '20-infrastructure.k8s.yaml', '30-migrations.k8s.yaml', '40-workloads.k8s.yaml', '50-operations.k8s.yaml'];

describe('npm run synth -- --format helm: one chart per environment, through the same gates and guard', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'erp-helm-')), 'helm');
  const synth = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [path.join(root, 'scripts/synth.js'), ...args],
    { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });

  beforeAll(() => {
    const r = synth(['--format', 'helm', '--chart-version', '1.2.3', '-o', out]);
    if (r.status !== 0) throw new Error(r.stderr);
  }, 60_000);

  test.each(['dev', 'staging', 'prod'])('%s: Chart.yaml named erp-<env> with the version given, templates in apply order, no crds/, no Namespace',
    (env) => {
    const chart = path.join(out, env);
    expect(fs.readdirSync(chart).sort()).toEqual(['Chart.yaml', 'templates']);
    const meta = Yaml.load(path.join(chart, 'Chart.yaml'))[0];
    expect(meta).toMatchObject({ apiVersion: 'v2', name: `erp-${env}`, version: '1.2.3', type: 'application' });
    // the namespace (and the Secrets you create in it) must exist before `helm install -n`
    expect(fs.readdirSync(path.join(chart, 'templates'))).toEqual(CHART_FILES);
    for (const f of CHART_FILES) {
      const text = fs.readFileSync(path.join(chart, 'templates', f), 'utf8');
      expect(text).not.toMatch(/^kind: Namespace$/m);
      expect(text).not.toContain('{{'); // Helm would take it for an action
    }
  });

  test('the templates are dist/<env>/ without the namespace file, byte for byte', () => {
    const plain = renderApp({ only: ['prod'], secretsDir: root, env: process.env, warn: () => undefined }).outputs.prod;
    for (const f of plain.filter((x) => !x.name.startsWith('00-'))) {
      expect(fs.readFileSync(path.join(out, 'prod', 'templates', f.name), 'utf8')).toBe(f.text);
    }
  });

  test('the chart version defaults to package.json\'s; the migration Job and its egress policy are pre-install hooks, the policy first', () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'erp-helm-')), 'helm');
    expect(synth(['--format', 'helm', '-o', dir], { ERP_ENV: 'prod' }).status).toBe(0);
    expect(fs.readdirSync(dir)).toEqual(['prod']);
    expect(Yaml.load(path.join(dir, 'prod', 'Chart.yaml'))[0].version).toBe(JSON.parse(fs.readFileSync(path.join(root, 'package.json'),
      'utf8')).version);
    const jobs = Yaml.load(path.join(dir, 'prod', 'templates', '30-migrations.k8s.yaml'));
    const api = jobs.find((j: Manifest) => j.metadata.name.startsWith('erp-api-migrate-'));
    expect(api.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '0', 'helm.sh/hook-delete-policy': 'before-hook-creation',
    });
    const policy = Yaml.load(path.join(dir, 'prod', 'templates',
      '10-config.k8s.yaml')).find((o: Manifest) => o.metadata.name === 'erp-api-migrate-egress');
    expect(policy.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-1' });
    const ops = Yaml.load(path.join(dir, 'prod', 'templates', '50-operations.k8s.yaml'));
    const bootstrap = ops.find((o: Manifest) => o.metadata.name.startsWith('erp-api-bootstrap-'));
    expect(bootstrap.metadata.annotations['helm.sh/hook']).toBe('post-install,post-upgrade');
  }, 60_000);

  test('a failed synth leaves the charts byte-identical', () => {
    const before = fs.readFileSync(path.join(out, 'prod', 'Chart.yaml'), 'utf8');
    const r = synth(['--format', 'helm', '--chart-version', 'not-semver', '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`synth failed; ${out} was left as it was`);
    expect(r.stderr).toContain("Helm chart 'version' (\"not-semver\") must be SemVer 2");
    expect(fs.readFileSync(path.join(out, 'prod', 'Chart.yaml'), 'utf8')).toBe(before);
    expect(fs.readdirSync(out).sort()).toEqual(['dev', 'prod', 'staging']);
  }, 60_000);

  test('fails when --format is neither plain nor helm, or helm is combined with --stdout', () => {
    expect(synth(['--format', 'kustomize']).stderr).toContain('\'--format\' ("kustomize") must be \'plain\' or \'helm\'');
    expect(synth(['--format', 'helm', '--stdout']).stderr).toContain("'--format helm' writes chart folders and cannot be combined with '--stdout'");
  });
});

describe('cdk8s synth --format helm (the CLI route): the chart is renamed and keeps no crds/', () => {
  const chart = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'erp-helm-')), 'prod');

  beforeAll(() => {
    if (!fs.existsSync(path.join(root, 'lib/deploy/main.js'))) throw new Error('lib/ is missing: run `npm run build` (npm test does)');
    execFileSync(path.join(root, 'node_modules/.bin/cdk8s'),
      ['synth', '--no-check-upgrade', '--format', 'helm', '--chart-version', '0.1.0', '-o', chart],
      { cwd: root, env: { ...process.env, ERP_ENV: 'prod' }, stdio: 'pipe' });
  }, 60_000);

  test('Chart.yaml is erp-prod (not the checkout folder), no crds/, templates without the Namespace', () => {
    expect(Yaml.load(path.join(chart, 'Chart.yaml'))[0]).toMatchObject({ apiVersion: 'v2', name: 'erp-prod', version: '0.1.0' });
    expect(fs.existsSync(path.join(chart, 'crds'))).toBe(false);
    expect(fs.readdirSync(path.join(chart, 'templates', 'prod'))).toEqual(CHART_FILES);
    expect(fs.existsSync(path.join(chart, 'templates', 'construct-metadata.json'))).toBe(false);
  });
});

describe('cdk8s synth --stdout prints the manifests (the output folder comes from CDK8S_OUTDIR)', () => {
  // cdk8s-cli streams every file of its temporary folder to stdout at once and
  // without `---` between files: the app writes one file there.
  test('ERP_ENV=dev,prod --stdout: one valid YAML stream, every object whole, in apply order', () => {
    const stdout = execFileSync(path.join(root, 'node_modules/.bin/cdk8s'), ['synth', '--no-check-upgrade', '--stdout'],
      { cwd: root, env: { ...process.env, ERP_ENV: 'dev,prod' }, stdio: 'pipe' }).toString();
    const docs = parseAllDocuments(stdout, { version: '1.1' });
    expect(docs.flatMap((d) => d.errors)).toEqual([]);
    const objects = docs.map((d) => d.toJSON());
    const expected = renderApp({ only: ['dev', 'prod'], secretsDir: root, env: process.env, warn: () => undefined });
    expect(objects.length).toBe(expected.objects.dev + expected.objects.prod);
    expect(objects.every((o) => typeof o.kind === 'string' && typeof o.metadata?.name === 'string')).toBe(true);
    expect(objects[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'erp-dev' } });
    expect(objects[expected.objects.dev]).toMatchObject({ kind: 'Namespace', metadata: { name: 'erp-prod' } });
  }, 60_000);
});

describe('cdk8s synth -o DIR', () => {
  test('on failure says the CLI emptied DIR, and how to keep it', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'erp-cli-')), 'out');
    let stderr = '';
    try {
      execFileSync(path.join(root, 'node_modules/.bin/cdk8s'), ['synth', '--no-check-upgrade', '-o', out],
        { cwd: root, env: { ...process.env, ERP_ENV: 'qa' }, stdio: 'pipe' });
    } catch (e) {
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    expect(stderr).toContain(`synth failed; nothing was written to ${out} (the cdk8s CLI empties its output folder before it runs the app; \`npm `
      + `run synth -- -o ${out}\` keeps it on failure):`);
    expect(stderr).toMatch(/'environment' \("qa"\) is unknown/);
  }, 60_000);
});
