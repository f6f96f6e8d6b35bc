import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gate, parseDotenv, synthesizeApp } from '../src/app-synth';
import { buildEnvironment, dev, ENVIRONMENTS, prod } from '../src/environments';
import { renderFiles } from '../src/synthesizer';

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'erp-synth-'));
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

describe('synthesizeApp', () => {
  const secretsDir = tmpdir(); // no .env.* or secrets.*.yaml here

  test('a successful synth replaces dist/<env>/ whole: no stale files from an earlier run', () => {
    // GIVEN an earlier output with a file the app no longer writes
    const out = tmpdir();
    fs.mkdirSync(path.join(out, 'dev'));
    fs.writeFileSync(path.join(out, 'dev', '99-stale.k8s.yaml'), 'kind: Stale\n');
    // WHEN
    const result = synthesizeApp({ outdir: out, only: ['dev'], secretsDir, warn: () => undefined });
    // THEN
    expect(fs.readdirSync(path.join(out, 'dev')).sort()).toEqual([
      '00-namespace.k8s.yaml', '10-config.k8s.yaml', '20-infrastructure.k8s.yaml',
      '30-migrations.k8s.yaml', '40-workloads.k8s.yaml', '50-operations.k8s.yaml',
    ]);
    expect(result.objects.dev).toBeGreaterThan(30);
    expect(fs.readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]); // no staging leftovers
  });

  test('a failing synth leaves the previous output exactly as it was and lists every error', () => {
    // GIVEN a good earlier output
    const out = tmpdir();
    synthesizeApp({ outdir: out, secretsDir, warn: () => undefined });
    const before = snapshot(out);
    // WHEN one environment of three is invalid (prod with DEBUG on and no TLS)
    const broken = { ...ENVIRONMENTS, prod: { ...prod, tlsIssuer: undefined, appSettings: { ...prod.appSettings, DEBUG: 'True' } } };
    // THEN synth throws naming the environment, the field and the value
    expect(() => synthesizeApp({ outdir: out, environments: broken, secretsDir, warn: () => undefined }))
      .toThrow(/\[prod\] environments\/prod: 'appSettings.DEBUG' \("True"\) must be 'False' in production/);
    // AND nothing changed, not even the valid environments
    expect(snapshot(out)).toEqual(before);
  });

  test('the gate reports schema errors and policy violations of an environment', () => {
    // GIVEN dev's files with one container tampered with after synthesis
    const files = renderFiles(buildEnvironment(dev).charts);
    const dep = files.flatMap((f) => f.objects).find((o) => o.kind === 'Deployment' && o.metadata.name === 'erp-api-app')!;
    const app = dep.spec.template.spec.containers[0];
    delete app.resources;
    app.securityContext.runAsNonRoot = false;
    app.imagePullPolicy = 7;
    // WHEN
    const { errors } = gate(dev, files);
    // THEN both gates speak, naming the object and the path
    const text = errors.join('\n');
    expect(text).toContain('[dev] 1 schema error(s)');
    expect(text).toMatch(/Deployment.*erp-api-app.*\/spec\/template\/spec\/containers\/0\/imagePullPolicy/);
    expect(text).toContain('REL-RESOURCES');
    expect(text).toContain('PSS-RUN-AS-NON-ROOT');
  });

  test('an invalid config fails before anything is written', () => {
    const out = tmpdir();
    const broken = { dev: { ...dev, allowLatestImages: false, images: { ...dev.images, gateway: 'devyusupov/statushawk-api-gateway:latest' } } };
    expect(() => synthesizeApp({ outdir: out, environments: broken, secretsDir, warn: () => undefined }))
      .toThrow(/\[dev\] environments\/dev: 'images.gateway' \("devyusupov\/statushawk-api-gateway:latest"\) must be pinned/);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  test('an unknown environment is named with the known ones', () => {
    expect(() => synthesizeApp({ outdir: tmpdir(), only: ['qa'], secretsDir })).toThrow(/'environment' \("qa"\) is unknown; choose from dev, staging, prod/);
  });

  test('production secrets from the git-ignored .env.prod are validated, never written', () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, '.env.prod'), '# prod\nJWT_SECRET_KEY="too-short"\nBOOTSTRAP_KEY=0123456789abcdef\n');
    expect(() => synthesizeApp({ outdir: tmpdir(), only: ['prod'], secretsDir: dir }))
      .toThrow(/'secrets.JWT_SECRET_KEY' \("<9 characters>"\) must be at least 32 characters/);
    const good = 'JWT_SECRET_KEY=' + 'k'.repeat(40) + '\nBOOTSTRAP_KEY=' + 'b'.repeat(16) + '\n';
    fs.writeFileSync(path.join(dir, '.env.prod'), good);
    const out = tmpdir();
    synthesizeApp({ outdir: out, only: ['prod'], secretsDir: dir, warn: () => undefined });
    const all = Object.values(snapshot(out)).join('\n');
    expect(all).not.toContain('k'.repeat(40));
    expect(all).not.toContain('b'.repeat(16));
  });
});

describe('parseDotenv', () => {
  test('reads KEY=VALUE, quotes, comments and export', () => {
    expect(parseDotenv('# c\nA=1\nexport B="two words"\nC=\'x\'\n\n', '.env')).toEqual({ A: '1', B: 'two words', C: 'x' });
  });
  test('fails on a malformed line without showing its value', () => {
    expect(() => parseDotenv('A=1\nnot a pair\n', '.env.dev')).toThrow(/^\.env\.dev:2: 'line' \("not a pair"\) must be KEY=VALUE/);
  });
});
