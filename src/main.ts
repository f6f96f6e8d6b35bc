import * as fs from 'fs';
import * as path from 'path';
import { synthesizeApp } from './app-synth';

/**
 * `cdk8s synth --format helm` runs the app with CDK8S_OUTDIR = <chart>/templates
 * after writing <chart>/Chart.yaml. A Helm release lives in a namespace that
 * must exist before `helm install -n`, so the chart leaves the Namespace out.
 */
function isHelmTemplates(outdir: string): boolean {
  return process.env.ERP_HELM === '1'
    || (path.basename(outdir) === 'templates' && fs.existsSync(path.join(outdir, '..', 'Chart.yaml')));
}

// The cdk8s CLI passes the output folder in CDK8S_OUTDIR (`-o`, `--stdout`
// and `--format helm` all rely on it); `dist` when run by hand.
const outdir = process.env.CDK8S_OUTDIR ?? 'dist';
// One environment alone: ERP_ENV=prod npm run synth (comma-separated for several).
const only = process.env.ERP_ENV ? process.env.ERP_ENV.split(',').map((s) => s.trim()).filter(Boolean) : undefined;

try {
  synthesizeApp({ outdir, only, env: process.env, withNamespace: !isHelmTemplates(outdir) });
} catch (e) {
  process.stderr.write(`synth failed; ${outdir} was left as it was:\n${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
