import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gate, renderApp, synthesizeApp } from '../../deploy/app-synth';
import { readManifestFile } from '../../deploy/baseline';
import { buildEnvironment, dev, ENVIRONMENTS, prod } from '../../deploy/environments';
import { Manifest, renderFiles } from '../../deploy/synth';
import { toYaml } from '../../src/synth/yaml';

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

describe('secrets files at synth time', () => {
  test('a secrets.<env>.yaml the environment does not take is reported as a warning, and still checked', () => {
    // GIVEN secrets files for dev (which takes them) and prod (which references an existing Secret)
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'secrets.dev.yaml'), 'SECRET_KEY: "dev-secret-value"\n');
    fs.writeFileSync(path.join(dir, 'secrets.prod.yaml'), 'SECRET_KEY: "prod-secret-value"\n');
    const warnings: string[] = [];
    // WHEN
    synthesizeApp({ outdir: tmpdir(), secretsDir: dir, warn: (w) => warnings.push(w) });
    // THEN only prod's file is reported, through the synth's warn channel
    const unread = warnings.filter((w) => w.includes('is not read'));
    expect(unread).toEqual([expect.stringMatching(/^\[prod\] .*secrets\.prod\.yaml is not read: in production the API gateway references the existing Secret api-gateway-env/)]);
    expect(warnings.join('\n')).not.toContain('prod-secret-value');
    // AND it is still checked (a duplicate key fails)
    fs.writeFileSync(path.join(dir, 'secrets.prod.yaml'), 'SECRET_KEY: "a"\nSECRET_KEY: "b"\n');
    expect(() => renderApp({ only: ['prod'], secretsDir: dir, warn: () => undefined }))
      .toThrow(/\[prod\] .*secrets\.prod\.yaml:2: 'SECRET_KEY' \("<redacted>"\) is set twice, on lines 1 and 2/);
  });

  test('fails when .env.<env> sets a key twice, naming the file, both lines and the key', () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, '.env.prod'), `JWT_SECRET_KEY=${'k'.repeat(40)}\nJWT_SECRET_KEY=${'j'.repeat(40)}\n`);
    expect(() => renderApp({ only: ['prod'], secretsDir: dir, warn: () => undefined }))
      .toThrow(/\[prod\] .*\.env\.prod:2: 'JWT_SECRET_KEY' \("<redacted>"\) is set twice, on lines 1 and 2/);
    expect(() => renderApp({ only: ['prod'], secretsDir: dir, warn: () => undefined })).not.toThrow('k'.repeat(40));
  });
});

/** Rewrites the files of `<dir>` with `edit` applied to each object (as an earlier release wrote them, say). */
function rewrite(dir: string, edit: (o: Manifest) => void): void {
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    const docs = readManifestFile(file);
    docs.forEach(edit);
    fs.writeFileSync(file, toYaml(docs));
  }
}

describe('the immutable-field guard at synth time', () => {
  const secretsDir = tmpdir();
  const quiet = { secretsDir, warn: () => undefined };
  /** A Deployment's selector as an older release had it. */
  const olderSelector = (o: Manifest) => {
    if (o.kind === 'Deployment') o.spec.selector.matchLabels = { ...o.spec.selector.matchLabels, 'example.com/release': 'v0' };
  };

  test('refuses a change Kubernetes rejects on apply, against what dist/<env>/ holds now, and writes nothing', () => {
    // GIVEN dev's output as an older release wrote it (another Deployment selector)
    const out = tmpdir();
    synthesizeApp({ outdir: out, only: ['dev', 'prod'], ...quiet });
    rewrite(path.join(out, 'dev'), olderSelector);
    const before = snapshot(out);
    // WHEN / THEN every refusal names the environment, the object, the field, old -> new and the way out
    let message = '';
    try {
      synthesizeApp({ outdir: out, only: ['dev', 'prod'], ...quiet });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^\[dev\] Deployment\/erp-api-app \(namespace erp-dev\): 'spec\.selector(\.matchLabels\["example\.com\/release"\])?' \(.*"v0".* -> .*\) is immutable, Kubernetes rejects this apply\. Way out: delete the Deployment \(`kubectl -n erp-dev delete deployment erp-api-app`; its pods go with it\) and apply again, or keep the old selector$/m);
    expect(message).toMatch(/change\(s\) above would fail `kubectl apply` \(compared with .*\/<env>\/\)\. .*ERP_ALLOW_IMMUTABLE_CHANGES=1/);
    expect(message).not.toContain('[prod]');
    expect(snapshot(out)).toEqual(before);
  });

  test('refuses a larger database volume and a Job\'s new template under its old name, read back from the YAML written earlier', () => {
    // GIVEN dev's output as a release with a smaller PostgreSQL volume and another image in its Jobs wrote it
    const out = tmpdir();
    synthesizeApp({ outdir: out, only: ['dev'], ...quiet });
    const jobs: string[] = [];
    rewrite(path.join(out, 'dev'), (o) => {
      if (o.kind === 'StatefulSet' && o.metadata.name === 'postgres') o.spec.volumeClaimTemplates[0].spec.resources.requests.storage = '1Gi';
      if (o.kind === 'Job') {
        o.spec.template.spec.containers[0].image = 'registry.example.com/old:0.9';
        jobs.push(o.metadata.name);
      }
    });
    // WHEN / THEN
    let message = '';
    try {
      synthesizeApp({ outdir: out, only: ['dev'], ...quiet });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^\[dev\] StatefulSet\/postgres \(namespace erp-dev\): 'spec\.volumeClaimTemplates\[postgresql-data\]\.spec\.resources\.requests\.storage' \("1Gi" -> "\d+Gi"\) is immutable.*Way out: expand the PVC \(`kubectl -n erp-dev patch pvc postgresql-data-postgres-0 .*`kubectl -n erp-dev delete statefulset postgres --cascade=orphan`/m);
    expect(jobs.length).toBeGreaterThan(0);
    const image = String.raw`'spec\.template\.spec\.containers\[[^\]]+\]\.image' \("registry\.example\.com/old:0\.9" -> `;
    for (const job of jobs) expect(message).toMatch(new RegExp(`^\\[dev\\] Job/${job} .*${image}.*Way out: delete the Job`, 'm'));
  });

  test('allowImmutableChanges turns the refusals into warnings that still give the way out', () => {
    const out = tmpdir();
    synthesizeApp({ outdir: out, only: ['dev'], ...quiet });
    const fresh = snapshot(out);
    rewrite(path.join(out, 'dev'), olderSelector);
    const warnings: string[] = [];
    synthesizeApp({ outdir: out, only: ['dev'], secretsDir, allowImmutableChanges: true, warn: (w) => warnings.push(w) });
    expect(warnings.join('\n')).toMatch(/\[dev\] Deployment\/erp-api-app .* is immutable.*Way out: delete the Deployment.*\(allowed by ERP_ALLOW_IMMUTABLE_CHANGES\)/);
    expect(snapshot(out)).toEqual(fresh);
  });

  test('compares with a baseline folder named by the user instead', () => {
    const released = tmpdir();
    synthesizeApp({ outdir: released, only: ['dev'], ...quiet });
    rewrite(path.join(released, 'dev'), olderSelector);
    const out = tmpdir();
    expect(() => synthesizeApp({ outdir: out, only: ['dev'], baseline: released, ...quiet })).toThrow(/\[dev\] Deployment\/erp-api-app .*is immutable/);
    expect(fs.readdirSync(out)).toEqual([]);
    expect(() => renderApp({ only: ['dev'], baseline: released, ...quiet })).toThrow(/is immutable/);
    expect(Object.keys(renderApp({ only: ['dev'], ...quiet }).outputs)).toEqual(['dev']); // no baseline: nothing compared
  });

  test('reads an earlier output written by other tools (JSON, a List, another layout)', () => {
    const released = tmpdir();
    synthesizeApp({ outdir: released, only: ['dev'], ...quiet });
    const dir = path.join(released, 'dev');
    const objects = fs.readdirSync(dir).flatMap((f) => readManifestFile(path.join(dir, f)));
    for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
    objects.forEach(olderSelector);
    const [first, ...rest] = objects;
    fs.writeFileSync(path.join(dir, 'first.yaml'), `---\n${JSON.stringify(first)}\n`); // flow style
    fs.writeFileSync(path.join(dir, 'all.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rest }, null, 1));
    expect(() => synthesizeApp({ outdir: tmpdir(), only: ['dev'], baseline: released, ...quiet }))
      .toThrow(/\[dev\] Deployment\/erp-api-app .*is immutable/);
  });

  test('an unreadable earlier output is reported, not fatal', () => {
    const out = tmpdir();
    fs.mkdirSync(path.join(out, 'dev'));
    fs.writeFileSync(path.join(out, 'dev', '40-workloads.k8s.yaml'), 'kind: [unclosed\n');
    const warnings: string[] = [];
    synthesizeApp({ outdir: out, only: ['dev'], secretsDir, warn: (w) => warnings.push(w) });
    expect(warnings.join('\n')).toMatch(/\[dev\] the immutable-field guard could not read .*dev .*nothing was compared/);
  });
});

describe('writing', () => {
  const secretsDir = tmpdir();
  const quiet = { secretsDir, warn: () => undefined };

  test('an environment whose folder already holds exactly this output is left untouched', () => {
    const out = tmpdir();
    synthesizeApp({ outdir: out, only: ['dev'], ...quiet });
    const inode = fs.statSync(path.join(out, 'dev')).ino;
    const result = synthesizeApp({ outdir: out, only: ['dev'], ...quiet });
    expect(result.unchanged).toEqual(['dev']);
    expect(fs.statSync(path.join(out, 'dev')).ino).toBe(inode);
    expect(result.files).toHaveLength(fs.readdirSync(path.join(out, 'dev')).length);
  });

  test('only the environments asked for are written; the others are kept as they are', () => {
    const out = tmpdir();
    synthesizeApp({ outdir: out, ...quiet });
    fs.writeFileSync(path.join(out, 'dev', '99-kept.yaml'), 'kind: Kept\n');
    const others = () => Object.fromEntries(Object.entries(snapshot(out)).filter(([f]) => !f.startsWith('prod')));
    const before = others();
    synthesizeApp({ outdir: out, only: ['prod'], ...quiet });
    expect(others()).toEqual(before);
  });

  test('staging folders abandoned by a killed synth are cleaned up; live ones are not', () => {
    const out = tmpdir();
    const dead = '.dev.staging-999999999-0badc0de';
    const live = `.dev.staging-${process.ppid}-0badc0de`;
    fs.mkdirSync(path.join(out, dead));
    fs.mkdirSync(path.join(out, live));
    synthesizeApp({ outdir: out, only: ['dev'], ...quiet });
    expect(fs.readdirSync(out).sort()).toEqual([live, 'dev'].sort());
  });
});

describe('npm run synth and cdk8s synth (the routes users run), in a copy of the project', () => {
  // package.json and cdk8s.yaml copied; lib/, node_modules/ and scripts/ linked
  // (npm test has just built lib/). The CLI's scratch folder is moved into the
  // copy so that parallel test files do not share it.
  const root = path.join(__dirname, '..', '..');
  const work = tmpdir();
  const dist = path.join(work, 'dist');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(ERP_|CDK8S_|npm_)/.test(k)) env[k] = v;

  function run(cmd: string, args: string[], extra: Record<string, string> = {}) {
    const r = spawnSync(cmd, args, { cwd: work, env: { ...env, ...extra }, encoding: 'utf8', timeout: 120_000 });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const npmSynth = (extra?: Record<string, string>, args: string[] = []) => run('npm', ['run', '--silent', 'synth', ...(args.length ? ['--',
    ...args] : [])], extra);
  const cdk8sSynth = (extra?: Record<string, string>, args: string[] = []) => run(path.join(work, 'node_modules', '.bin', 'cdk8s'), ['synth',
    '--no-check-upgrade', ...args], extra);
  const breakProd = () => fs.writeFileSync(path.join(work, '.env.prod'), 'JWT_SECRET_KEY=too-short\n');
  const fixProd = () => fs.rmSync(path.join(work, '.env.prod'), { force: true });

  beforeAll(() => {
    if (!fs.existsSync(path.join(root, 'lib/deploy/main.js'))) throw new Error('lib/ is missing: run `npm run build` (npm test does)');
    fs.copyFileSync(path.join(root, 'package.json'), path.join(work, 'package.json'));
    const config = fs.readFileSync(path.join(root, 'cdk8s.yaml'), 'utf8');
    const scratch = /^output:\s*(\S+)\s*$/m.exec(config)![1];
    expect(config.split(scratch).length - 1).toBe(2); // `output:` and the app's --cli-scratch
    fs.writeFileSync(path.join(work, 'cdk8s.yaml'), config.split(scratch).join('.cdk8s-scratch'));
    for (const d of ['lib', 'node_modules', 'scripts']) fs.symlinkSync(path.join(root, d), path.join(work, d));
    const first = npmSynth();
    expect(first.stderr).toMatch(/^synth: dist\/dev\/ \(\d+ objects\), dist\/staging\/ \(\d+ objects\), dist\/prod\/ \(\d+ objects\)$/m);
    expect(first.status).toBe(0);
  }, 120_000);

  afterEach(fixProd);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true })); // removes the links, not what they point to

  test('npm run synth: a failing environment leaves dist/ byte-identical', () => {
    const before = snapshot(dist);
    breakProd();
    const r = npmSynth();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/synth failed; dist was left as it was:\n\[prod\] .*'secrets\.JWT_SECRET_KEY'/);
    expect(snapshot(dist)).toEqual(before);
  }, 60_000);

  test('cdk8s synth (the CLI empties its output folder first): a failing environment leaves dist/ byte-identical', () => {
    const before = snapshot(dist);
    breakProd();
    const r = cdk8sSynth();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/synth failed; dist was left as it was:\n\[prod\] .*'secrets\.JWT_SECRET_KEY'/);
    expect(snapshot(dist)).toEqual(before);
  }, 60_000);

  const routes = [['npm run synth', npmSynth], ['cdk8s synth', cdk8sSynth]] as const;
  test.each(routes)('ERP_ENV=prod %s writes dist/prod and keeps dist/dev and dist/staging', (label, synth) => {
    fs.writeFileSync(path.join(dist, 'dev', 'kept-by-erp-env.txt'), 'not ours\n');
    fs.rmSync(path.join(dist, 'prod'), { recursive: true });
    const others = () => Object.fromEntries(Object.entries(snapshot(dist)).filter(([f]) => !f.startsWith('prod')));
    const before = others();
    const r = synth({ ERP_ENV: 'prod' });
    expect(r.status).toBe(0);
    expect(others()).toEqual(before);
    expect(fs.readdirSync(path.join(dist, 'prod')).length).toBeGreaterThan(3);
    if (label === 'cdk8s synth') {
      // the CLI lists (and would validate) links to what the app wrote into dist/
      expect(r.stdout).toContain('  - .cdk8s-scratch/prod/40-workloads.k8s.yaml');
      expect(fs.readFileSync(path.join(work, '.cdk8s-scratch', 'prod', '40-workloads.k8s.yaml'), 'utf8'))
        .toBe(fs.readFileSync(path.join(dist, 'prod', '40-workloads.k8s.yaml'), 'utf8'));
    }
    fs.rmSync(path.join(dist, 'dev', 'kept-by-erp-env.txt'));
  }, 60_000);

  test('npm run synth refuses an immutable-field change, and writes it with ERP_ALLOW_IMMUTABLE_CHANGES=1', () => {
    rewrite(path.join(dist, 'dev'), (o) => {
      if (o.kind === 'Deployment') o.spec.selector.matchLabels = { ...o.spec.selector.matchLabels, 'example.com/release': 'v0' };
    });
    const before = snapshot(dist);
    const refused = npmSynth();
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/synth failed; dist was left as it was:\n\[dev\] Deployment\/.* is immutable, Kubernetes rejects this apply\. Way out: delete the Deployment/);
    expect(snapshot(dist)).toEqual(before);
    const allowed = npmSynth({ ERP_ALLOW_IMMUTABLE_CHANGES: '1' });
    expect(allowed.status).toBe(0);
    expect(allowed.stderr).toMatch(/\[dev\] Deployment\/.* is immutable.*Way out: delete the Deployment.*\(allowed by ERP_ALLOW_IMMUTABLE_CHANGES\)/);
  }, 60_000);

  test('npm run --silent synth -- --stdout prints one valid YAML stream, files joined by ---', () => {
    const r = npmSynth({ ERP_ENV: 'dev,prod' }, ['--stdout']);
    expect(r.status).toBe(0);
    const files = ['dev', 'prod'].flatMap((e) => fs.readdirSync(path.join(dist, e)).sort().map((f) => fs.readFileSync(path.join(dist, e, f),
      'utf8')));
    expect(r.stdout).toBe(files.join('---\n'));
  }, 60_000);
});

describe('scripts/synth.js compiles lib/ only when a source changed, and never synthesizes from a failed build', () => {
  // a one-file project with this repository's scripts/synth.js: tsc is quick on it
  const root = path.join(__dirname, '..', '..');
  const work = tmpdir();
  const source = path.join(work, 'deploy', 'main.ts');
  const mainTs = (version: string) => 'export function main(args: string[]): number {\n'
    + `  (globalThis as any).process.stdout.write(\`${version} \${args.join(' ')}\`);\n  return 0;\n}\n`;
  const synth = (...args: string[]) => spawnSync(process.execPath, [path.join(work, 'scripts', 'synth.js'), ...args], { cwd: work, encoding: 'utf8',
    timeout: 60_000 });
  const edit = (file: string, text: string) => fs.writeFileSync(file, text);

  beforeAll(() => {
    fs.mkdirSync(path.join(work, 'deploy'));
    fs.mkdirSync(path.join(work, 'scripts'));
    fs.copyFileSync(path.join(root, 'scripts', 'synth.js'), path.join(work, 'scripts', 'synth.js'));
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'));
    fs.writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'commonjs', target: 'es2022', lib: ['es2022'], skipLibCheck: true, rootDir: '.', outDir: 'lib',
        types: [] },
      include: ['deploy/**/*.ts'],
    }));
    fs.writeFileSync(path.join(work, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json' }));
    fs.writeFileSync(source, mainTs('v1'));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('--build always compiles; then an unchanged tree runs without tsc, passing the arguments on', () => {
    expect(synth('--build').status).toBe(0);
    const warm = synth('-o', 'out');
    expect(warm.stderr).toBe('');
    expect(warm.stdout).toBe('v1 -o out');
  }, 60_000);

  test('an edited source, or a compiled file deleted by hand, is compiled first', () => {
    edit(source, mainTs('v2'));
    const edited = synth();
    expect(edited.stderr).toContain('synth: sources changed since the last build; compiling src/ and deploy/ to lib/ (tsc)...');
    expect(edited.stdout).toBe('v2 ');
    fs.rmSync(path.join(work, 'lib', 'deploy', 'main.js'));
    expect(synth().stdout).toBe('v2 ');
    expect(synth().stderr).toBe('');
  }, 60_000);

  test('a type error: tsc fails, the app does not run, and every later run compiles again until it is fixed', () => {
    edit(source, `${mainTs('v3')}const broken: number = 'not a number';\n`);
    const failed = synth();
    expect(failed.stderr).toMatch(/deploy\/main\.ts.*error TS2322/); // tsc's report, on stderr (the cdk8s CLI swallows the app's stdout)
    expect(failed.stderr).toMatch(/synth failed: tsc exited with \d+; nothing was written/);
    expect(failed.stdout).toBe(''); // not run from the lib/ tsc emitted anyway
    expect(failed.status).not.toBe(0);
    expect(fs.existsSync(path.join(work, 'lib', '.build-stamp'))).toBe(false); // so the next run compiles again
    edit(source, mainTs('v3'));
    expect(synth().stdout).toBe('v3 ');
  }, 60_000);
});
