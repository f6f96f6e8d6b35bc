#!/usr/bin/env node
/*
 * npm run jsii:python: the Python package that jsii-pacmak makes from the jsii
 * assembly (.jsii), built and checked offline (PyPI is not reachable here).
 *
 *   1. .jsii: `jsii --silence-warnings=reserved-word` when it is missing or
 *      older than its inputs (src/, imports/, package.json, tsconfig.jsii.json);
 *   2. `jsii-pacmak -t python --code-only` into dist-jsii/python-src/
 *      (setup.py, pyproject.toml, src/erp_k8s/...). --code-only because
 *      pacmak's own build makes a venv and pip-installs setuptools and build
 *      from PyPI;
 *   3. the JavaScript bundle inside (src/erp_k8s/_jsii/*.jsii.tgz, made by
 *      `npm pack`) must hold package/.jsii: the jsii runtime loads the
 *      assembly from it;
 *   4. `py_compile` of every generated .py file (bytecode into a temp folder:
 *      nothing is written beside the sources);
 *   5. the wheel, with the build backend pyproject.toml names
 *      (setuptools.build_meta) from Debian's python3-setuptools and
 *      python3-wheel: no pip, no venv, no network. It goes to dist-jsii/python/,
 *      where pacmak puts it. The jsii runtime (PyPI "jsii"), cdk8s, constructs
 *      and publication are only listed in it as requirements, never installed;
 *   6. the generated Python signature of ErpApi.__init__ and of ErpApiProps:
 *      printed and written to dist-jsii/python/ErpApi.signature.py.
 *
 * Python: Debian's /usr/bin/python3 (where apt installs setuptools and wheel),
 * not a pyenv/venv python3 earlier on PATH; ERP_K8S_PYTHON overrides it.
 * Exits non-zero, saying what failed and how to fix it, on any failure.
 *
 * api-docs.js uses ensureAssembly() (step 1) too.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { JSII_ARGS, jsiiCommand, jsiiEnv } = require('./jsii');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const outRoot = path.join(root, 'dist-jsii');
const srcOut = path.join(outRoot, 'python-src');
const wheelOut = path.join(outRoot, 'python');
const PYTHON = process.env.ERP_K8S_PYTHON || (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const APT = 'apt-get install -y --no-install-recommends';

// the jsii tools (jsii, jsii-pacmak) run with jsii.js' environment: Node 20's end-of-life banner silenced
const toolEnv = jsiiEnv();

class Failure extends Error {}

function run(cmd, args, options = {}) {
  return spawnSync(cmd, args, { cwd: root, env: toolEnv, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
}

function newestMtime(p) {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted file changes its folder
  for (const entry of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

/** Builds .jsii with jsii when it is missing or older than what it is compiled from. Returns what it did. */
function ensureAssembly() {
  const assembly = path.join(root, '.jsii');
  const inputs = ['src', 'imports', 'package.json', 'tsconfig.jsii.json'];
  const have = fs.existsSync(assembly) ? fs.statSync(assembly).mtimeMs : 0;
  const newest = inputs.map((i) => [i, newestMtime(path.join(root, i))]).sort((a, b) => b[1] - a[1])[0];
  if (have && have >= newest[1]) return '.jsii is up to date';
  console.log(`== ${have ? `.jsii is older than ${newest[0]}` : 'no .jsii'}: npx jsii ${JSII_ARGS.join(' ')}`);
  const [command, jsiiArgs] = jsiiCommand(root);
  const r = run(command, jsiiArgs, { stdio: 'inherit' });
  if (r.error) throw new Failure(`could not run jsii (${r.error.message}): run npm ci`);
  if (r.status !== 0) throw new Failure('jsii could not compile the assembly (errors above): fix them, then run this again');
  if (!fs.existsSync(assembly)) throw new Failure('jsii succeeded but wrote no .jsii at the repository root');
  return '.jsii rebuilt';
}

function timed(label, timings, fn) {
  const t0 = Date.now();
  const result = fn();
  timings.push(`${label} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  return result;
}

function pacmak() {
  fs.rmSync(srcOut, { recursive: true, force: true });
  // -o (not jsii.outdir) and --no-npmignore: pacmak leaves .npmignore alone; "files" in package.json decides the bundle
  const r = run(bin('jsii-pacmak'), ['-t', 'python', '--code-only', '--no-force-subdirectory', '--no-npmignore', '-o', srcOut], {
    stdio: 'inherit',
  });
  if (r.error) throw new Failure(`could not run jsii-pacmak (${r.error.message}): run npm ci`);
  if (r.status !== 0) throw new Failure('jsii-pacmak -t python --code-only failed (output above)');
  const init = path.join(srcOut, 'src', 'erp_k8s', '__init__.py');
  if (!fs.existsSync(init)) throw new Failure(`jsii-pacmak wrote no ${path.relative(root, init)} (check jsii.targets.python in package.json)`);
}

function checkBundle() {
  const dir = path.join(srcOut, 'src', 'erp_k8s', '_jsii');
  const tgz = fs.readdirSync(dir).filter((f) => f.endsWith('.jsii.tgz'));
  if (tgz.length !== 1) throw new Failure(`expected one *.jsii.tgz in ${path.relative(root, dir)}, found ${tgz.length}`);
  const r = run('tar', ['-tzf', path.join(dir, tgz[0])]);
  if (r.error || r.status !== 0) throw new Failure(`tar could not list ${tgz[0]}: ${r.error ? r.error.message : r.stderr.trim()}`);
  const entries = r.stdout.split('\n');
  if (!entries.includes('package/.jsii') && !entries.includes('package/.jsii.gz')) {
    throw new Failure(
      `the JavaScript bundle in the Python package (${tgz[0]}) has no .jsii, so the jsii runtime could not load it: `
      + 'add ".jsii" to "files" in package.json (npm pack makes the bundle)',
    );
  }
  return `${tgz[0]} (${entries.filter(Boolean).length} entries, with .jsii)`;
}

/** Runs a Python snippet with Debian's interpreter; isolated (-I): no user site, no PYTHON* variables. */
function python(code, args, options = {}) {
  const r = run(PYTHON, ['-I', '-c', code, ...args], options);
  if (r.error) {
    throw new Failure(`could not run ${PYTHON} (${r.error.message}): ${APT} python3 (or point ERP_K8S_PYTHON at a Python 3.10+)`);
  }
  return r;
}

const COMPILE_PY = String.raw`
import ast, json, os, py_compile, sys, tempfile
src = sys.argv[1]
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(src) for f in fs if f.endswith('.py'))
errors = []
with tempfile.TemporaryDirectory() as tmp:
    for i, f in enumerate(files):
        try:
            py_compile.compile(f, cfile=os.path.join(tmp, '%d.pyc' % i), doraise=True)
        except py_compile.PyCompileError as e:
            errors.append({'file': f, 'error': e.msg.strip()})

def signature(path, name):
    text = open(path, encoding='utf8').read()
    lines = text.splitlines()
    for node in ast.parse(text).body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == '__init__'), None)
            if init is None:
                return None
            a = init.args
            # the verbatim lines: the class header up to its docstring, then def __init__(...) -> None: up to its docstring
            header = lines[node.lineno - 1:node.body[0].lineno - 1]
            sig = lines[init.lineno - 1:init.body[0].lineno - 1]
            return {
                'text': '\n'.join(header + ['    ...', ''] + sig + ['        ...']),
                'positional': [x.arg for x in a.args],
                'keywords': [x.arg for x in a.kwonlyargs],
                'required': [x.arg for x, d in zip(a.kwonlyargs, a.kw_defaults) if d is None],
            }
    return None

sigs = {}
if not errors:
    init = os.path.join(src, 'erp_k8s', '__init__.py')
    sigs = {n: signature(init, n) for n in ('ErpApi', 'ErpApiProps')}
print(json.dumps({'python': sys.version.split()[0], 'count': len(files), 'errors': errors, 'signatures': sigs}))
`;

function compile() {
  const r = python(COMPILE_PY, [path.join(srcOut, 'src')]);
  if (r.status !== 0) throw new Failure(`${PYTHON} failed while compiling the generated sources:\n${r.stderr.trim()}`);
  const result = JSON.parse(r.stdout);
  if (result.errors.length) {
    for (const e of result.errors) console.error(`${path.relative(root, e.file)}: ${e.error}`);
    throw new Failure(
      `${result.errors.length} of ${result.count} generated Python files do not compile with Python ${result.python} (above): `
      + 'a name or doc comment in the API that Python rejects, or a jsii-pacmak bug',
    );
  }
  if (result.count === 0) throw new Failure(`no .py files under ${path.relative(root, srcOut)}/src`);
  return result;
}

const WHEEL_PY = String.raw`
import sys
missing = []
for module, package in (('setuptools', 'python3-setuptools'), ('wheel', 'python3-wheel')):
    try:
        __import__(module)
    except ImportError:
        missing.append(package)
if missing:
    print('MISSING=' + ' '.join(missing))
    sys.exit(3)
from setuptools import build_meta
name = build_meta.build_wheel(sys.argv[1])
print('WHEEL=' + name)
`;

const WHEEL_CHECK_PY = String.raw`
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = z.namelist()
    meta = next(n for n in names if n.endswith('.dist-info/METADATA'))
    requires = [l.split(':', 1)[1].strip() for l in z.read(meta).decode().splitlines() if l.startswith('Requires-Dist:')]
print(json.dumps({'names': names, 'requires': requires}))
`;

function buildWheel() {
  fs.rmSync(wheelOut, { recursive: true, force: true });
  fs.mkdirSync(wheelOut, { recursive: true });
  // build in a copy: setuptools leaves build/ and *.egg-info beside the sources
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-k8s-wheel-'));
  try {
    fs.cpSync(srcOut, tmp, { recursive: true });
    const r = python(WHEEL_PY, [wheelOut], { cwd: tmp });
    const missing = /^MISSING=(.*)$/m.exec(r.stdout || '');
    if (missing) {
      throw new Failure(`${PYTHON} has no ${missing[1].replace(/python3-/g, '')} to build the wheel offline: ${APT} ${missing[1]}`);
    }
    const name = /^WHEEL=(.*)$/m.exec(r.stdout || '');
    if (r.status !== 0 || !name) {
      console.error(`${r.stdout}\n${r.stderr}`.trim());
      throw new Failure(`setuptools.build_meta.build_wheel failed with ${PYTHON} (output above)`);
    }
    const file = path.join(wheelOut, name[1].trim());
    const c = python(WHEEL_CHECK_PY, [file]);
    if (c.status !== 0) throw new Failure(`the wheel ${name[1]} is not a readable wheel:\n${c.stderr.trim()}`);
    const { names, requires } = JSON.parse(c.stdout);
    for (const must of ['erp_k8s/__init__.py', 'erp_k8s/py.typed', 'erp_k8s/_jsii/__init__.py']) {
      if (!names.includes(must)) throw new Failure(`the wheel ${name[1]} has no ${must}`);
    }
    if (!names.some((n) => /^erp_k8s\/_jsii\/.*\.jsii\.tgz$/.test(n))) throw new Failure(`the wheel ${name[1]} has no JavaScript bundle (*.jsii.tgz)`);
    return { file, size: fs.statSync(file).size, files: names.length, requires };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function main() {
  process.chdir(root);
  const timings = [];
  const t0 = Date.now();
  const assembly = timed('jsii', timings, ensureAssembly);
  timed('jsii-pacmak', timings, pacmak);
  const bundle = checkBundle();
  const compiled = timed('py_compile', timings, compile);
  const wheel = timed('wheel', timings, buildWheel);

  const { ErpApi, ErpApiProps } = compiled.signatures;
  if (!ErpApi || !ErpApiProps) {
    throw new Failure('ErpApi or ErpApiProps (with an __init__) not found in the generated erp_k8s/__init__.py: were they renamed?');
  }
  const sigFile = path.join(wheelOut, 'ErpApi.signature.py');
  fs.writeFileSync(sigFile, `# generated by jsii-pacmak (npm run jsii:python): erp_k8s/__init__.py\n\n${ErpApi.text}\n\n\n${ErpApiProps.text}\n`);
  const same = [...ErpApi.keywords].sort().join() === [...ErpApiProps.keywords].sort().join();

  const kb = (n) => `${Math.round(n / 1024)} KiB`;
  console.log('');
  console.log('== jsii:python summary');
  console.log(`assembly:   ${assembly}`);
  console.log(`sources:    ${path.relative(root, srcOut)}/ (jsii-pacmak --code-only), bundle ${bundle}`);
  console.log(`py_compile: ${compiled.count} .py files compiled with Python ${compiled.python} (${PYTHON}), 0 errors`);
  console.log(`wheel:      ${path.relative(root, wheel.file)} (${wheel.size} bytes, ${kb(wheel.size)}, ${wheel.files} files)`);
  console.log(`requires:   ${wheel.requires.join('; ')} (listed, not installed: PyPI is not reachable here)`);
  console.log(`timings:    ${timings.join(', ')}; total ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  console.log('');
  console.log(`-- ErpApi, as generated (also in ${path.relative(root, sigFile)}):`);
  console.log(ErpApi.text);
  console.log('');
  console.log(`-- ${ErpApiProps.text.split('\n')[0]} ${ErpApiProps.keywords.length} keyword-only arguments `
    + `(required: ${ErpApiProps.required.join(', ') || 'none'}), `
    + (same ? `the same names as ErpApi's after ${ErpApi.positional.slice(1).join(', ')}` : 'NOT the same names as ErpApi\'s keyword arguments'));
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(`jsii:python: ${e instanceof Failure ? e.message : (e && e.stack) || String(e)}`);
    process.exitCode = 1;
  }
}

module.exports = { ensureAssembly, Failure, toolEnv };
