/**
 * The import boundaries of eslint.config.js (`npm run lint`, run by CI) fire:
 * the library never imports the repository's deployment, constructs never
 * import the offline gates or the synthesis machinery, internals import no construct area, gate or synth, and
 * the construct areas are layered data <- migrations <- app <- gateway.
 * Each snippet is linted as if it were a file at `filePath`, with the
 * repository's own config.
 */
import * as path from 'path';
import { ESLint, Linter } from 'eslint';

const ROOT = path.join(__dirname, '..', '..');
// the repository's config, loaded here: ESLint would load the file with a dynamic
// import(), which jest's module sandbox refuses without --experimental-vm-modules
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config file, read as Node does
const config: Linter.Config[] = require(path.join(ROOT, 'eslint.config.js'));
const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: true, overrideConfig: config });

/** The messages of `no-restricted-imports` for `code` linted as the file `file` (relative to the repository). */
async function boundaryMessages(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  const other = result.messages.filter((m: Linter.LintMessage) => m.ruleId !== 'no-restricted-imports');
  expect(other).toEqual([]);
  return result.messages.map((m: Linter.LintMessage) => m.message);
}

const use = (from: string) => `import { thing } from '${from}';\n\nexport const used = thing;\n`;

describe('import boundaries (eslint.config.js)', () => {
  test.each([
    ['src/app/erp-api.ts', '../gates/policy', 'constructs must not import the offline gates'],
    ['src/data/redis.ts', '../gates/schema-validator', 'constructs must not import the offline gates'],
    ['src/gateway/api-gateway-chart.ts', '../gates/policy', 'constructs must not import the offline gates'],
    ['src/migrations/migrations.ts', '../gates/policy', 'constructs must not import the offline gates'],
    ['src/app/erp-api.ts', '../../deploy/environments', "must not import the repository's deployment"],
    ['src/synth/erp-synth.ts', '../../deploy/x', "must not import the repository's deployment"],
    ['src/gates/policy.ts', '../../deploy/secret-values', "must not import the repository's deployment"],
    ['src/internal/pod-helpers.ts', '../app/erp-api', 'must not import a construct area or the synthesis machinery'],
    ['src/internal/validate.ts', '../data/redis', 'must not import a construct area or the synthesis machinery'],
    ['src/internal/resources.ts', '../synth/erp-synth', 'must not import a construct area or the synthesis machinery'],
    ['src/internal/server-form.ts', '../gates/policy', 'src/internal holds shared helpers: it must not import the offline gates'],
    ['src/app/erp-api.ts', '../synth/erp-synth', 'constructs must not import the synthesis machinery'],
    ['src/data/redis.ts', '../synth/prepare-app', 'constructs must not import the synthesis machinery'],
    ['src/data/database.ts', '../migrations/migrations', 'this area must not import migrations, app, gateway'],
    ['src/data/redis.ts', '../app/erp-api', 'this area must not import migrations, app, gateway'],
    ['src/migrations/db-steps.ts', '../app/erp-api', 'this area must not import app, gateway'],
    ['src/migrations/migrations.ts', '../gateway/api-gateway-chart', 'this area must not import app, gateway'],
    ['src/app/erp-api.ts', '../gateway/api-gateway-values', 'this area must not import gateway'],
  ])('%s importing %s is refused', async (file, from, why) => {
    const messages = await boundaryMessages(file, use(from));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(why);
  });

  test.each([
    ['src/app/erp-api.ts', '../internal/validate'],
    ['src/app/erp-api.ts', '../data/database'],
    ['src/internal/pod-helpers.ts', './resources'],
    ['src/gates/policy.ts', '../internal/vocabulary'],
    ['src/synth/erp-synth.ts', '../gates/policy'],
    ['src/app/erp-api.ts', '../internal/app-objects'],
    ['src/app/erp-api.ts', '../migrations/migration-job'],
    ['src/migrations/db-steps.ts', '../data/app-env'],
    ['src/gateway/api-gateway-chart.ts', '../app/web-service'],
    ['deploy/main.ts', '../src/gates/policy'],
    ['test/app/erp-api.test.ts', '../../deploy/environments'],
  ])('%s importing %s is allowed', async (file, from) => {
    expect(await boundaryMessages(file, use(from))).toEqual([]);
  });
});
