// Prints the final numbers recorded by the integration tests.
const fs = require('fs');
const path = require('path');

module.exports = async () => {
  const file = process.env.ERP_IT_SUMMARY;
  if (!file || !fs.existsSync(file)) return;
  const rows = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const secs = ((Date.now() - Number(process.env.ERP_IT_STARTED)) / 1000).toFixed(1);
  process.stdout.write('\n[summary] integration run against real PostgreSQL + Django\n');
  for (const { key, value } of rows) process.stdout.write(`[summary]   ${key}: ${value}\n`);
  process.stdout.write(`[summary]   wall time: ${secs} s\n`);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
};
