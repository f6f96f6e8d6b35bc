#!/usr/bin/env node
/*
 * npm run test:pack — the contract with our users, end to end:
 *
 *  1. `npm pack` (prepack builds lib/) and check the tarball's file list;
 *  2. install the tarball into a fresh temporary cdk8s project, next to the
 *     versions of cdk8s, cdk8s-plus-28 and constructs our own `npm ci`
 *     installed (from the npm cache: --offline, falling back to
 *     --prefer-offline);
 *  3. copy examples/consumer/main.ts and its tsconfig.json there verbatim,
 *     compile it against the installed package's .d.ts (through `exports`,
 *     and type-check it through the classic `main`/`types` too), run it,
 *     and check the synthesized manifests;
 *  4. check that the package uses the consumer's cdk8s (peer dependencies,
 *     no nested copy);
 *  5. check that README.md shows examples/consumer/main.ts verbatim between
 *     `<!-- example:start -->` and `<!-- example:end -->`;
 *  6. make a project the way `cdk8s init typescript-app` does (the CLI's own
 *     template from node_modules/cdk8s-cli), show that its tsconfig (lib
 *     es2016) refuses the example, apply README.md's changes (cdk8s-plus-28
 *     for cdk8s-plus-33, lib/target es2022), install the tarball, compile
 *     with the project's `npm run compile`, run the example and compare its
 *     manifests with step 3's.
 *
 * Prints every check and "N passed, N failed"; exits 1 on any failure.
 * KEEP_PACK_TMP=1 keeps the temporary folder for a look around.
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const YAML = require(path.join(root, 'node_modules', 'yaml'));
const EXAMPLE = path.join(root, 'examples', 'consumer', 'main.ts');
const PEERS = ['cdk8s', 'cdk8s-plus-28', 'constructs'];
const started = Date.now();

let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    const detail = fn();
    passed++;
    console.log(`  ok    ${name}${typeof detail === 'string' && detail ? ` (${detail})` : ''}`);
  } catch (e) {
    failed++;
    console.log(`  FAIL  ${name}\n        ${String(e instanceof Error ? e.message : e).split('\n').join('\n        ')}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}
function run(cmd, args, options = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${e.status}):\n${(e.stdout || '') + (e.stderr || '')}`.trim(), { cause: e });
  }
}
/**
 * npm without the npm_* variables of an enclosing `npm run`: they describe
 * this package and the parent's command line, not the child's (the child
 * still reads the same .npmrc files).
 */
function npm(args, cwd) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|INIT_CWD$)/i.test(k)));
  return run('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], { cwd, env });
}
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-k8s-pack-'));
const consumer = path.join(tmp, 'consumer');
const outdir = path.join(tmp, 'dist');

function main() {
  // 1. pack
  console.log(`npm pack (prepack: npm run build) -> ${tmp}`);
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', tmp, '--loglevel=error'], root));
  const tarball = path.join(tmp, packed.filename);
  const files = packed.files.map((f) => f.path).sort();
  console.log(`tarball ${packed.filename}: ${kib(packed.size)} packed, ${kib(packed.unpackedSize)} unpacked, ${packed.entryCount} files`);
  const byTop = {};
  for (const f of files) {
    const top = f.split('/').slice(0, f.startsWith('lib/') ? 2 : 1).join('/');
    byTop[top] = (byTop[top] || 0) + 1;
  }
  console.log(`  ${Object.entries(byTop).map(([k, n]) => `${k}${n > 1 ? ` (${n})` : ''}`).join(', ')}`);

  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  /** The bundled dependencies and, transitively, their dependencies (as installed here). */
  const bundledClosure = (names) => {
    const seen = new Set();
    const visit = (name) => {
      if (seen.has(name)) return;
      seen.add(name);
      const dep = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8'));
      for (const d of Object.keys(dep.dependencies ?? {})) visit(d);
    };
    names.forEach(visit);
    return seen;
  };
  check('tarball holds the built library, its runtime data and the docs', () => {
    const required = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'API.md', 'API.python.md', '.jsii',
      'lib/src/index.js', 'lib/src/index.d.ts',
      'imports/validation/strict-schemas.json', pkg.main, pkg.types, pkg.exports['.'].default, pkg.exports['.'].types]
      .map((f) => f.replace(/^\.\//, ''));
    const missing = [...new Set(required)].filter((f) => !files.includes(f));
    assert(missing.length === 0, `missing: ${missing.join(', ')}`);
  });
  check('tarball holds no tests, sources, examples, scripts, dist/ or the repo\'s own app', () => {
    // node_modules/: only the bundled dependencies and theirs (jsii ships non-jsii runtime dependencies inside the package)
    const bundled = new RegExp(`^node_modules/(${[...bundledClosure(pkg.bundledDependencies ?? [])].join('|') || '-'})/`);
    const forbidden = files.filter((f) => (/^(test|src|examples|scripts|dist|dist-jsii|node_modules|coverage|\.ci|imports\/(crds|k8s-schema))\//.test(f)
      && !bundled.test(f))
      || /^imports\/[^/]+\.ts$/.test(f) || /^lib\/test\//.test(f) || /\.tgz$/.test(f) || /(^|\/)\.env/.test(f) || /^secrets\./.test(f)
      || /^lib\/deploy\//.test(f) || /^deploy\//.test(f));
    assert(forbidden.length === 0, `should not be packed: ${forbidden.join(', ')}`);
  });
  check('every relative require/import in lib/ resolves inside the tarball', () => {
    const extract = path.join(tmp, 'extract');
    fs.mkdirSync(extract);
    run('tar', ['-xzf', tarball, '-C', extract]);
    const base = path.join(extract, 'package');
    const broken = [];
    for (const f of files.filter((x) => /^lib\/.*\.(js|d\.ts)$/.test(x))) {
      const text = fs.readFileSync(path.join(base, f), 'utf8');
      for (const m of text.matchAll(/(?:require\(|from\s+|import\()["'](\.[^"']+)["']/g)) {
        const target = path.resolve(path.dirname(path.join(base, f)), m[1]);
        const ok = ['.js', '.d.ts', '/index.js', '/index.d.ts', ''].some((ext) => fs.existsSync(target + ext) && fs.statSync(target + ext).isFile());
        if (!ok) broken.push(`${f} -> ${m[1]}`);
      }
    }
    assert(broken.length === 0, broken.join('\n'));
  });
  check('cdk8s, cdk8s-plus-28 and constructs are peer dependencies, not dependencies', () => {
    for (const p of PEERS) {
      assert(pkg.peerDependencies && pkg.peerDependencies[p], `${p} is not in peerDependencies`);
      assert(!(pkg.dependencies && pkg.dependencies[p]), `${p} is also in dependencies (the consumer would get a second copy)`);
    }
    return PEERS.map((p) => `${p}@${pkg.peerDependencies[p]}`).join(', ');
  });

  // 2. a fresh cdk8s project
  fs.mkdirSync(consumer);
  npm(['init', '-y', '--loglevel=error'], consumer);
  const peers = PEERS.map((p) => `${p}@${require(path.join(root, 'node_modules', p, 'package.json')).version}`);
  const installArgs = ['install', '--loglevel=error', tarball, ...peers];
  let mode = '--offline';
  try {
    npm([...installArgs, '--offline'], consumer);
  } catch (e) {
    mode = '--prefer-offline';
    console.log(`  (offline install failed, retrying with --prefer-offline: ${String(e.message).split('\n')[0]})`);
    npm([...installArgs, '--prefer-offline'], consumer);
  }
  console.log(`installed the tarball + ${peers.join(' ')} into ${consumer} (npm install ${mode})`);

  check('npm ls: the consumer\'s tree is complete and peer ranges are satisfied', () => {
    npm(['ls', '--all', '--loglevel=error'], consumer);
  });
  check('the package uses the consumer\'s cdk8s, cdk8s-plus-28 and constructs (no nested copy)', () => {
    const script = `
      const path = require('path');
      const from = path.dirname(require.resolve('erp-k8s'));
      const out = {};
      for (const p of ${JSON.stringify(PEERS)}) out[p] = [require.resolve(p, { paths: [from] }), require.resolve(p)];
      // isPrototypeOf, not instanceof: cdk8s' Chart overrides Symbol.hasInstance
      out.chart = require('cdk8s').Chart.prototype.isPrototypeOf(require('erp-k8s').ApiGatewayChart.prototype);
      out.construct = require('constructs').Construct.prototype.isPrototypeOf(require('erp-k8s').ErpApi.prototype);
      console.log(JSON.stringify(out));`;
    const out = JSON.parse(run('node', ['-e', script], { cwd: consumer }));
    for (const p of PEERS) assert(out[p][0] === out[p][1], `${p}: the package loads ${out[p][0]}, the consumer ${out[p][1]}`);
    assert(out.chart, 'ApiGatewayChart is not a Chart of the consumer\'s cdk8s');
    assert(out.construct, 'ErpApi is not a Construct of the consumer\'s constructs');
    // its own node_modules holds only the bundled dependencies (jsii bundles non-jsii runtime dependencies), never a peer
    for (const p of PEERS) assert(!fs.existsSync(path.join(consumer, 'node_modules', 'erp-k8s', 'node_modules', p)), `a nested copy of ${p}`);
  });

  // 3. the README's example, verbatim
  const example = fs.readFileSync(EXAMPLE, 'utf8');
  fs.writeFileSync(path.join(consumer, 'main.ts'), example);
  const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
  // The example's tsconfig (module nodenext: package.json "exports"), and the
  // classic main/types resolution of older setups; the library's .d.ts are
  // checked too (skipLibCheck off).
  fs.copyFileSync(path.join(path.dirname(EXAMPLE), 'tsconfig.json'), path.join(consumer, 'tsconfig.json'));
  fs.writeFileSync(path.join(consumer, 'tsconfig.node10.json'), JSON.stringify({
    extends: './tsconfig.json',
    compilerOptions: { module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '5.0', skipLibCheck: false, noEmit: true },
  }, null, 2) + '\n');
  let compiled = false;
  check('the example compiles with examples/consumer/tsconfig.json ("exports", module nodenext)', () => {
    run(tsc, ['-p', 'tsconfig.json', '--skipLibCheck', 'false'], { cwd: consumer });
    compiled = true;
  });
  check('the example type-checks via "main"/"types" (moduleResolution node10)', () => {
    run(tsc, ['-p', 'tsconfig.node10.json'], { cwd: consumer });
  });
  let manifests = {};
  check('the example synthesizes (node main.js, CDK8S_OUTDIR set)', () => {
    assert(compiled, 'not compiled');
    const t0 = Date.now();
    run('node', ['main.js'], { cwd: consumer, env: { ...process.env, CDK8S_OUTDIR: outdir } });
    const written = fs.readdirSync(outdir).sort();
    for (const f of written) {
      manifests[f] = YAML.parseAllDocuments(fs.readFileSync(path.join(outdir, f), 'utf8')).map((d) => d.toJS()).filter(Boolean);
    }
    return `${Date.now() - t0} ms: ${written.map((f) => `${f} (${manifests[f].length} objects)`).join(', ')}`;
  });
  const named = (o, name) => name === undefined || (typeof name === 'string' ? o.metadata.name === name : name.test(o.metadata.name));
  const find = (file, kind, name) => (manifests[file] || []).filter((o) => o.kind === kind && named(o, name));
  const one = (file, kind, name) => {
    const found = find(file, kind, name);
    const all = (manifests[file] || []).map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
    assert(found.length === 1, `${file}: expected one ${kind} ${name}, found ${found.length} (${all})`);
    return found[0];
  };
  check('data.k8s.yaml: PostgreSQL StatefulSet, Redis, backup CronJob, default-deny NetworkPolicy', () => {
    const pg = one('data.k8s.yaml', 'StatefulSet', 'postgres');
    assert(pg.spec.volumeClaimTemplates[0].metadata.name === 'postgresql-data', 'no postgresql-data claim template');
    one('data.k8s.yaml', 'StatefulSet', 'redis');
    one('data.k8s.yaml', 'CronJob', 'postgres-backup');
    assert(find('data.k8s.yaml', 'NetworkPolicy').some((p) => JSON.stringify(p.spec.podSelector) === '{}'), 'no default-deny policy');
  });
  check('web.k8s.yaml: API Deployment, migration Job, Ingress, HPA, Celery worker and beat', () => {
    const app = one('web.k8s.yaml', 'Deployment', 'erp-api-app');
    const container = app.spec.template.spec.containers[0];
    assert(container.image === 'registry.example.com/shop/api:1.4.2', `image ${container.image}`);
    assert((container.env || []).some((e) => e.name === 'DB_HOST'), 'the API has no DB_HOST from CostMgmtPostgres');
    const job = one('web.k8s.yaml', 'Job', /^erp-api-migrate-/);
    assert(JSON.stringify(job).includes('migrate'), 'the Job does not migrate');
    const ing = one('web.k8s.yaml', 'Ingress', undefined);
    assert(ing.spec.rules[0].host === 'shop.example.com', `ingress host ${ing.spec.rules[0].host}`);
    one('web.k8s.yaml', 'HorizontalPodAutoscaler', undefined);
    one('web.k8s.yaml', 'Deployment', 'erp-api-celery-worker');
    const beat = one('web.k8s.yaml', 'Deployment', 'erp-api-celery-beat');
    assert(beat.spec.replicas === 1 && beat.spec.strategy.type === 'Recreate', 'beat is not a singleton');
  });
  check('gateway.k8s.yaml: gateway Deployment, Service, Ingress with the allowed host', () => {
    const dep = one('gateway.k8s.yaml', 'Deployment', undefined);
    const env = dep.spec.template.spec.containers[0].env || [];
    assert(env.some((e) => e.name === 'ALLOWED_HOSTS' && e.value === 'gateway.shop.example.com'), 'ALLOWED_HOSTS not set');
    one('gateway.k8s.yaml', 'Service', undefined);
    const ing = one('gateway.k8s.yaml', 'Ingress', undefined);
    assert(ing.spec.rules[0].host === 'gateway.shop.example.com', `ingress host ${ing.spec.rules[0].host}`);
  });
  check('every object is in namespace "shop" and no Secret carries data', () => {
    const all = Object.values(manifests).flat();
    assert(all.length > 0, 'nothing synthesized');
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass', 'StorageClass']);
    const stray = all.filter((o) => !clusterScoped.has(o.kind) && o.metadata.namespace !== 'shop');
    assert(stray.length === 0, `not in shop: ${stray.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
    const secrets = all.filter((o) => o.kind === 'Secret' && (o.data || o.stringData));
    assert(secrets.length === 0, `Secrets with data: ${secrets.map((o) => o.metadata.name).join(', ')}`);
    return `${all.length} objects`;
  });

  // 6. the same example in a project made the way `cdk8s init typescript-app`
  // makes it: the CLI's own template, with what README.md ("In a project made
  // by `cdk8s init typescript-app`") says to change, and nothing else.
  initProject(tarball, example);

  // 5. README
  check('README.md shows examples/consumer/main.ts verbatim between <!-- example:start --> and <!-- example:end -->', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const m = readme.match(/<!-- example:start -->\s*```(?:ts|typescript)\n([\s\S]*?)```\s*<!-- example:end -->/);
    assert(m, 'markers not found: paste this into README.md ("Using the constructs in your own project"):\n'
      + '<!-- example:start -->\n```ts\n<contents of examples/consumer/main.ts>\n```\n<!-- example:end -->');
    assert(m[1] === example, 'the README example differs from examples/consumer/main.ts: paste the file between the markers again');
  });
}

/**
 * `cdk8s init typescript-app`, offline: sscaff copies the CLI's template
 * folder, replacing `{{ $base }}` with the folder name and the versions with
 * those of the cdk8s, cdk8s-plus-33 and constructs next to the CLI, then runs
 * `npm install`. Here: the template files of the cdk8s-cli in our
 * node_modules, the dependencies it would pin (`^<version>`), except
 * cdk8s-plus-33 replaced by cdk8s-plus-28 (README), installed with the tarball
 * from the npm cache. Its dev tools (cdk8s-cli, jest, ts-node, @types/*) are
 * not installed: `npm run compile` (tsc --build) and `node main.js` run the
 * app, as `cdk8s synth` with `app: node main.js` would.
 */
function initProject(tarball, example) {
  const template = path.join(root, 'node_modules', 'cdk8s-cli', 'templates', 'typescript-app');
  const dir = path.join(tmp, 'init-app');
  const out = path.join(tmp, 'init-dist');
  const version = (p) => require(path.join(root, 'node_modules', p, 'package.json')).version;
  const plus33 = version('cdk8s-plus-33');
  const fill = (text) => text.replace(/\{\{ \$base \}\}/g, 'init-app')
    .replace(/\{\{ cdk8s_core_version \}\}/g, version('cdk8s'))
    .replace(/\{\{ cdk8s_plus_version \}\}/g, plus33)
    .replace(/\{\{ constructs_version \}\}/g, version('constructs'))
    .replace(/\{\{ cdk8s_cli_spec \}\}/g, `^${version('cdk8s-cli')}`);
  let templatePkg;
  check('cdk8s init typescript-app, from the CLI\'s own template (cdk8s-cli ' + version('cdk8s-cli') + ')', () => {
    fs.mkdirSync(dir);
    // main.test.ts (and its snapshot) import the template's MyChart: README says to delete them
    for (const f of ['package.json', 'tsconfig.json', 'cdk8s.yaml', 'jest.config.js', '{{}}.gitignore']) {
      fs.writeFileSync(path.join(dir, f.replace('{{}}', '')), fill(fs.readFileSync(path.join(template, f), 'utf8')));
    }
    templatePkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const lib = JSON.parse(fs.readFileSync(path.join(dir, 'tsconfig.json'), 'utf8')).compilerOptions.lib;
    assert(templatePkg.dependencies['cdk8s-plus-33'], 'the template no longer depends on cdk8s-plus-33: update README.md');
    return `dependencies ${Object.entries(templatePkg.dependencies).map(([k, v]) => `${k}@${v}`).join(', ')}; tsconfig lib ${JSON.stringify(lib)}`;
  });
  check('README advice applied: cdk8s-plus-33 -> cdk8s-plus-28, erp-k8s installed (npm install, from the cache)', () => {
    assert(templatePkg, 'no project');
    delete templatePkg.dependencies['cdk8s-plus-33'];
    const keep = ['typescript'];
    templatePkg.devDependencies = Object.fromEntries(Object.entries(templatePkg.devDependencies).filter(([k]) => keep.includes(k)));
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(templatePkg, null, 2) + '\n');
    const args = ['install', '--loglevel=error', tarball, `cdk8s-plus-28@${version('cdk8s-plus-28')}`,
      ...Object.keys(templatePkg.dependencies).map((p) => `${p}@${version(p)}`), `typescript@${version('typescript')}`];
    let mode = '--offline';
    try {
      npm([...args, mode], dir);
    } catch {
      mode = '--prefer-offline';
      npm([...args, mode], dir);
    }
    npm(['ls', '--all', '--loglevel=error'], dir);
    const deps = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).dependencies;
    return `npm install ${mode}: ${Object.entries(deps).map(([k, v]) => `${k}@${v}`).join(', ')}`;
  });
  fs.writeFileSync(path.join(dir, 'main.ts'), example);
  check('with the template\'s tsconfig (lib es2016) the example does not compile: flatMap needs es2019', () => {
    try {
      run(path.join(dir, 'node_modules', '.bin', 'tsc'), ['--build'], { cwd: dir });
    } catch (e) {
      assert(/flatMap/.test(e.message), `failed, but not on flatMap:\n${e.message}`);
      return 'TS2550 on flatMap, as README.md says';
    }
    throw new Error('it compiles: README.md\'s tsconfig advice is no longer needed');
  });
  let compiled = false;
  check('with README\'s tsconfig change ("lib": ["es2022"], "target": "ES2022") `npm run compile` succeeds', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    for (const advice of ['`"lib": ["es2022"]` and `"target": "ES2022"`', '`npm uninstall cdk8s-plus-33 && npm install erp-k8s cdk8s-plus-28`']) {
      assert(readme.includes(advice), `README.md no longer says ${advice}: update this test with it`);
    }
    const tsconfigPath = path.join(dir, 'tsconfig.json');
    const tsconfig = JSON.parse(fs.readFileSync(tsconfigPath, 'utf8'));
    tsconfig.compilerOptions.lib = ['es2022'];
    tsconfig.compilerOptions.target = 'ES2022';
    fs.writeFileSync(tsconfigPath, JSON.stringify(tsconfig, null, 2) + '\n');
    npm(['run', 'compile', '--silent'], dir);
    compiled = true;
  });
  check('the example runs there and writes the same manifests as in the plain project', () => {
    assert(compiled, 'not compiled');
    run('node', ['main.js'], { cwd: dir, env: { ...process.env, CDK8S_OUTDIR: out } });
    const written = fs.readdirSync(out).sort();
    const expected = fs.readdirSync(outdir).sort();
    assert(JSON.stringify(written) === JSON.stringify(expected), `files ${written.join(', ')}, expected ${expected.join(', ')}`);
    const differ = written.filter((f) => fs.readFileSync(path.join(out, f), 'utf8') !== fs.readFileSync(path.join(outdir, f), 'utf8'));
    assert(differ.length === 0, `differ from the plain project's: ${differ.join(', ')}`);
    return written.join(', ');
  });
}

try {
  main();
} catch (e) {
  failed++;
  console.log(`  FAIL  ${e instanceof Error ? e.message : e}`);
} finally {
  if (process.env.KEEP_PACK_TMP) console.log(`kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exitCode = failed ? 1 : 0;
