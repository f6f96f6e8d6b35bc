import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderApp, RenderAppOptions, SynthesisResult, synthesizeApp } from './app-synth';
import { fixCliChart, packageVersion, synthesizeHelmCharts } from './helm-synth';
import { RenderedFile } from './synth';

export { chartOptions, synthesizeHelmCharts } from './helm-synth';

/*
 * The app. Two ways in:
 *
 * - `npm run synth` (scripts/synth.js) builds lib/ when a source changed and
 *   calls {@link main} in its own process: `-o DIR`, `--stdout`.
 * - the cdk8s CLI runs this file (cdk8s.yaml `app`) with CDK8S_OUTDIR set.
 *   The CLI deletes that folder BEFORE running the app (cdk8s-cli
 *   lib/cli/cmds/synth.js), so a failed synth would already have wiped it.
 *   cdk8s.yaml therefore gives the CLI a scratch folder (`output`, passed
 *   here as `--cli-scratch`): when CDK8S_OUTDIR is that folder, the app
 *   writes dist/ itself, all or nothing, and links the files into the
 *   scratch folder for the CLI's listing (and its validation plugins).
 *   `cdk8s synth -o DIR` writes DIR (which the CLI has emptied), `--stdout`
 *   and `--format helm` work as the CLI documents them.
 */

/** The output folder of `npm run synth` and `cdk8s synth`. */
export const DEFAULT_OUTDIR = 'dist';

/** The one file written for `cdk8s synth --stdout`. */
const STDOUT_FILE = 'erp-k8s.k8s.yaml';

/** The output folder of `npm run synth -- --format helm`. */
export const DEFAULT_HELM_OUTDIR = path.join('dist', 'helm');

interface Args {
  readonly output?: string;
  readonly stdout: boolean;
  readonly cliScratch?: string;
  readonly helm: boolean;
  readonly chartVersion?: string;
}

const USAGE = 'usage: npm run synth [-- -o DIR | --stdout | --format helm [--chart-version X.Y.Z] [-o DIR]]'
  + '   (ERP_ENV=prod,staging to choose environments; see README "Quick start", "Helm")';

function parseArgs(argv: readonly string[]): Args {
  let output: string | undefined;
  let stdout = false;
  let cliScratch: string | undefined;
  let format = 'plain';
  let chartVersion: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined || v.startsWith('-')) throw new Error(`'${a}' needs a value\n${USAGE}`);
      return v;
    };
    if (a === '-o' || a === '--output' || a.startsWith('--output=')) output = value();
    else if (a === '--stdout' || a === '-p') stdout = true;
    else if (a === '--cli-scratch' || a.startsWith('--cli-scratch=')) cliScratch = value();
    else if (a === '--format' || a.startsWith('--format=')) format = value();
    else if (a === '--chart-version' || a.startsWith('--chart-version=')) chartVersion = value();
    else throw new Error(`unknown argument '${a}'\n${USAGE}`);
  }
  if (format !== 'plain' && format !== 'helm') throw new Error(`'--format' (${JSON.stringify(format)}) must be 'plain' or 'helm'\n${USAGE}`);
  if (output !== undefined && stdout) throw new Error(`'--output' and '--stdout' cannot be combined\n${USAGE}`);
  if (format === 'helm' && stdout) throw new Error(`'--format helm' writes chart folders and cannot be combined with '--stdout'\n${USAGE}`);
  if (chartVersion !== undefined && format !== 'helm') throw new Error(`'--chart-version' needs '--format helm'\n${USAGE}`);
  return { output, stdout, cliScratch, helm: format === 'helm', chartVersion };
}

/**
 * `cdk8s synth --format helm` runs the app with CDK8S_OUTDIR = <chart>/templates
 * after writing <chart>/Chart.yaml. A Helm release lives in a namespace that
 * must exist before `helm install -n`, so the chart leaves the Namespace out.
 */
function isHelmTemplates(outdir: string, env: NodeJS.ProcessEnv): boolean {
  return env.ERP_HELM === '1'
    || (path.basename(outdir) === 'templates' && fs.existsSync(path.join(outdir, '..', 'Chart.yaml')));
}

/**
 * `cdk8s synth --stdout` runs the app with CDK8S_OUTDIR = a fresh
 * `<tmpdir>/cdk8s-XXXXXX`, then streams every file in it to stdout, all at
 * once and without `---` between files (cdk8s-cli 2.x): documents of two
 * files would run together. Written as one file, the stream is valid YAML.
 */
function isCliStdoutFolder(outdir: string): boolean {
  const dir = path.resolve(outdir);
  return /^cdk8s-[A-Za-z0-9]{6}$/.test(path.basename(dir))
    && path.dirname(dir) === path.resolve(os.tmpdir())
    && fs.existsSync(dir) && fs.readdirSync(dir).length === 0;
}

/** Every file of every environment as one YAML stream. */
function oneStream(outputs: Record<string, RenderedFile[]>): string {
  return Object.values(outputs).flat().map((f) => f.text).join('---\n');
}

/** Hard-links (or copies) the written files into the cdk8s CLI's scratch folder. */
function mirror(files: readonly string[], outdir: string, scratch: string): void {
  fs.rmSync(scratch, { recursive: true, force: true });
  for (const file of files) {
    const target = path.join(scratch, path.relative(outdir, file));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    try {
      fs.linkSync(file, target);
    } catch {
      fs.copyFileSync(file, target);
    }
  }
}

/** Writes every environment as one YAML stream: to stdout (`--stdout`), or into the cdk8s CLI's `--stdout` folder. */
function synthToStream(options: RenderAppOptions, cliOutdir: string | undefined, say: (s: string) => void): number {
  try {
    const text = oneStream(renderApp(options).outputs);
    if (cliOutdir === undefined) process.stdout.write(text);
    else fs.writeFileSync(path.join(cliOutdir, STDOUT_FILE), text);
    return 0;
  } catch (e) {
    say(`synth failed; nothing was printed:\n${message(e)}`);
    return 1;
  }
}

/** `--format helm`: each environment as a Helm chart. */
function synthToHelm(args: Args, options: RenderAppOptions, say: (s: string) => void): number {
  const outdir = args.output ?? DEFAULT_HELM_OUTDIR;
  try {
    const version = args.chartVersion ?? packageVersion();
    const result = synthesizeHelmCharts(outdir, version, options);
    const envs = Object.entries(result.objects)
      .map(([name, n]) => `${path.join(outdir, name)}/ (chart erp-${name} ${version}, ${n} objects`
        + `${result.unchanged.includes(name) ? ', unchanged' : ''})`);
    say(`synth: ${envs.join(', ')}`);
    return 0;
  } catch (e) {
    say(`synth failed; ${outdir} was left as it was:\n${message(e)}`);
    return 1;
  }
}

/** Where plain output goes: `-o`, CDK8S_OUTDIR or dist/, and the cdk8s CLI's scratch folder to link the files into, if any. */
function plainOutdir(args: Args, env: NodeJS.ProcessEnv): { outdir: string; scratch?: string } {
  const outdir = args.output ?? env.CDK8S_OUTDIR ?? DEFAULT_OUTDIR;
  if (args.output === undefined && args.cliScratch !== undefined && env.CDK8S_OUTDIR !== undefined
    && path.resolve(env.CDK8S_OUTDIR) === path.resolve(args.cliScratch)) {
    return { outdir: DEFAULT_OUTDIR, scratch: env.CDK8S_OUTDIR };
  }
  return { outdir };
}

/** The plain output (`<outdir>/<env>/`), then what the cdk8s CLI needs: its Chart.yaml fixed, its scratch folder filled. */
function synthToFolders(args: Args, options: RenderAppOptions, env: NodeJS.ProcessEnv, cliOutdir: string | undefined,
  say: (s: string) => void): number {
  const { outdir, scratch } = plainOutdir(args, env);
  const helm = isHelmTemplates(outdir, env);
  let result: SynthesisResult;
  try {
    result = synthesizeApp({ ...options, outdir, withNamespace: !helm });
  } catch (e) {
    let where = `${outdir} was left as it was`;
    if (cliOutdir !== undefined && scratch === undefined) {
      where = `nothing was written to ${outdir} (the cdk8s CLI empties its output folder before it runs the app`
        + `${helm ? ')' : `; \`npm run synth -- -o ${outdir}\` keeps it on failure)`}`;
    }
    say(`synth failed; ${where}:\n${message(e)}`);
    return 1;
  }
  const envs = Object.entries(result.objects)
    .map(([name, n]) => `${path.join(outdir, name)}/ (${n} objects${result.unchanged.includes(name) ? ', unchanged' : ''})`);
  say(`synth: ${envs.join(', ')}`);
  if (helm && cliOutdir !== undefined && path.basename(outdir) === 'templates') {
    try {
      fixCliChart(outdir, options.only, say);
    } catch (e) {
      say(`synth: could not fix the cdk8s CLI's Chart.yaml / crds/: ${message(e)}`);
      return 1;
    }
  }
  if (scratch !== undefined) {
    try {
      mirror(result.files, outdir, scratch);
    } catch (e) {
      // the output is written; only the CLI's listing misses it
      say(`synth: could not link the files into the cdk8s CLI's ${scratch}/: ${message(e)}`);
    }
  }
  return 0;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Synthesizes the environments named by ERP_ENV (all by default); returns
 * the exit code. Reads ERP_ENV, ERP_BASELINE, ERP_ALLOW_IMMUTABLE_CHANGES,
 * CDK8S_OUTDIR, ERP_HELM; messages go to stderr, YAML (`--stdout`) to stdout.
 */
export function main(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): number {
  const say = (s: string) => process.stderr.write(`${s}\n`);
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    say(`synth: ${message(e)}`);
    return 2;
  }
  const options: RenderAppOptions = {
    // One environment alone: ERP_ENV=prod npm run synth (comma-separated for several).
    only: env.ERP_ENV ? env.ERP_ENV.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    env,
    baseline: env.ERP_BASELINE || undefined,
    allowImmutableChanges: ['1', 'true', 'yes'].includes((env.ERP_ALLOW_IMMUTABLE_CHANGES ?? '').toLowerCase()),
    warn: say,
  };
  // the cdk8s CLI sets both (the second for its validation plugins)
  const cliOutdir = env.CDK8S_RECORD_CONSTRUCT_METADATA !== undefined ? env.CDK8S_OUTDIR : undefined;
  if (args.stdout) return synthToStream(options, undefined, say);
  if (cliOutdir !== undefined && isCliStdoutFolder(cliOutdir)) return synthToStream(options, cliOutdir, say);
  if (args.helm) return synthToHelm(args, options, say);
  return synthToFolders(args, options, env, cliOutdir, say);
}

if (require.main === module) process.exitCode = main();
