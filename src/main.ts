import { synthesizeApp } from './app-synth';

// The cdk8s CLI passes the output folder in CDK8S_OUTDIR (`-o`, `--stdout`
// and `--format helm` all rely on it); `dist` when run by hand.
const outdir = process.env.CDK8S_OUTDIR ?? 'dist';
// One environment alone: ERP_ENV=prod npm run synth (comma-separated for several).
const only = process.env.ERP_ENV ? process.env.ERP_ENV.split(',').map((s) => s.trim()).filter(Boolean) : undefined;

try {
  synthesizeApp({ outdir, only, env: process.env });
} catch (e) {
  process.stderr.write(`synth failed; dist/ was left as it was:\n${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
