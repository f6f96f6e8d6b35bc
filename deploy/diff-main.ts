import { selectEnvironments } from './app-synth';
import { diffManifests, formatDiff } from './env-diff';
import { buildEnvironment, ENVIRONMENTS } from './environments';
import { renderFiles } from './synth';

// npm run diff -- staging prod: what changes, object by object, when a
// release is promoted from the first environment to the second.
const [a, b] = process.argv.slice(2);
if (!a || !b) {
  process.stderr.write(`usage: npm run diff -- <from-env> <to-env>   (environments: ${Object.keys(ENVIRONMENTS).join(', ')})\n`);
  process.exit(2);
}
try {
  const [ea, eb] = selectEnvironments(ENVIRONMENTS, [a, b]);
  const objects = (c: typeof ea) => renderFiles(buildEnvironment(c).charts).flatMap((f) => f.objects);
  process.stdout.write(formatDiff(a, b, diffManifests(objects(ea), objects(eb))) + '\n');
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
