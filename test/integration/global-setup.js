// Preflight for `npm run test:integration`: PostgreSQL server binaries and a
// python3 with Django + psycopg2 must be present. Missing ones fail the run
// (jest exits non-zero before any test), they are never skipped.
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async () => {
  const errors = [];
  const versions = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)) : [];
  const bins = process.env.ERP_IT_PG_BIN ? [process.env.ERP_IT_PG_BIN] : versions.sort((a, b) => b - a).map((v) => `/usr/lib/postgresql/${v}/bin`);
  const bin = bins.find((d) => fs.existsSync(path.join(d, 'initdb')));
  let pg = '';
  if (!bin) errors.push('PostgreSQL server (initdb) not found under /usr/lib/postgresql/*/bin');
  else {
    pg = spawnSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.trim();
    const lib = path.join(path.dirname(bin), 'lib', 'pg_stat_statements.so');
    if (!fs.existsSync(lib)) errors.push(`pg_stat_statements not found (${lib}); install postgresql-contrib`);
  }
  const pys = process.env.ERP_IT_PYTHON ? [process.env.ERP_IT_PYTHON] : ['/usr/bin/python3', 'python3'];
  let dj = '';
  for (const py of pys) {
    const probe = 'import django, psycopg2; print("%s (Django %s, psycopg2 %s)" '
      + '% (__import__("sys").executable, django.get_version(), psycopg2.__version__.split()[0]))';
    const r = spawnSync(py, ['-c', probe], { encoding: 'utf8' });
    if (r.status === 0) { dj = r.stdout.trim(); break; }
  }
  if (!dj) errors.push(`no python3 with django and psycopg2 (tried ${pys.join(', ')})`);
  if (errors.length) {
    throw new Error('integration prerequisites missing (run test/integration/setup.sh):\n  - ' + errors.join('\n  - ') +
      '\nThis is a failure, not a skip.');
  }
  const summary = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'erp-it-summary-')), 'summary.jsonl');
  fs.writeFileSync(summary, '');
  process.env.ERP_IT_SUMMARY = summary;
  process.env.ERP_IT_STARTED = String(Date.now());
  process.stdout.write(`\n[setup] PostgreSQL: ${pg} (${bin}); python: ${dj}\n` +
    '[setup] the manifests say `python`: a temp dir with python -> that python3 is put first on PATH of every command\n');
};
