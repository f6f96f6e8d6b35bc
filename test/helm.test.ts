import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { renderApp } from '../src/app-synth';

// Runs the real cdk8s CLI on the compiled app (npm test builds lib/ first).
const root = path.join(__dirname, '..');

describe('Helm output: cdk8s synth --format helm, one environment per invocation', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-helm-'));
  const chart = path.join(out, 'prod');

  beforeAll(() => {
    if (!fs.existsSync(path.join(root, 'lib/src/main.js'))) throw new Error('lib/ is missing: run `npm run build` (npm test does)');
    execFileSync(path.join(root, 'node_modules/.bin/cdk8s'),
      ['synth', '--no-check-upgrade', '--format', 'helm', '--chart-version', '0.1.0', '-o', chart],
      { cwd: root, env: { ...process.env, ERP_ENV: 'prod' }, stdio: 'pipe' });
  }, 60_000);

  test('writes a chart: Chart.yaml and the environment\'s templates, in apply order, without the Namespace', () => {
    const meta = Yaml.load(path.join(chart, 'Chart.yaml'))[0];
    expect(meta).toMatchObject({ apiVersion: 'v2', version: '0.1.0' });
    // the namespace (and the Secrets you create in it) must exist before `helm install -n`
    expect(fs.readdirSync(path.join(chart, 'templates', 'prod'))).toEqual([
      '10-config.k8s.yaml', '20-infrastructure.k8s.yaml', '30-migrations.k8s.yaml', '40-workloads.k8s.yaml', '50-operations.k8s.yaml',
    ]);
    expect(fs.existsSync(path.join(chart, 'templates', 'construct-metadata.json'))).toBe(false);
  });

  test('the migration Job really is a pre-install/pre-upgrade hook, the bootstrap a post-install one', () => {
    const jobs = Yaml.load(path.join(chart, 'templates', 'prod', '30-migrations.k8s.yaml'));
    const api = jobs.find((j: any) => j.metadata.name.startsWith('erp-api-migrate-'));
    expect(api.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '0', 'helm.sh/hook-delete-policy': 'before-hook-creation',
    });
    const ops = Yaml.load(path.join(chart, 'templates', 'prod', '50-operations.k8s.yaml'));
    expect(ops.find((o: any) => o.metadata.name.startsWith('erp-api-bootstrap-')).metadata.annotations['helm.sh/hook']).toBe('post-install,post-upgrade');
  });

  test('templates hold no Go-template delimiters that Helm would try to render', () => {
    for (const f of fs.readdirSync(path.join(chart, 'templates', 'prod'))) {
      expect(fs.readFileSync(path.join(chart, 'templates', 'prod', f), 'utf8')).not.toMatch(/\{\{|\}\}/);
    }
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
    expect(stderr).toContain(`synth failed; nothing was written to ${out} (the cdk8s CLI empties its output folder before it runs the app; \`npm run synth -- -o ${out}\` keeps it on failure):`);
    expect(stderr).toMatch(/'environment' \("qa"\) is unknown/);
  }, 60_000);
});
