/*
 * The benchmark's scenario, in one place: N tenant stacks in ONE cdk8s App,
 * each a Chart in its own namespace `tenant-<i>` holding ErpApi (pinned
 * image, external PostgreSQL `postgres`) + CeleryPair + the namespace's
 * default-deny NetworkPolicy. Used by scripts/bench-stacks.js (with the
 * published package) and test/erp-synth.test.ts (with the sources), so the
 * app the benchmark times is the app the differential test checks.
 */
'use strict';

/**
 * @param erp the erp-k8s module (`require('erp-k8s')`, or the sources in a test)
 * @param cdk8s the cdk8s module
 * @param n how many stacks
 * @param appProps props of the App (outdir, yamlOutputType, ...)
 * @returns the App
 */
function tenantApp(erp, cdk8s, n, appProps) {
  const { ErpApi, CeleryPair, ExternalDatabase, defaultDeny } = erp;
  const app = new cdk8s.App(appProps);
  for (let i = 0; i < n; i++) {
    const namespace = `tenant-${i}`;
    const chart = new cdk8s.Chart(app, namespace, { namespace });
    const api = new ErpApi(chart, 'Api', {
      image: 'registry.example.com/erp/api:1.4.2',
      database: ExternalDatabase.of({ host: 'postgres' }),
      ingress: { host: `${namespace}.erp.example.com` },
    });
    new CeleryPair(chart, 'Celery', { api });
    defaultDeny(chart, 'DefaultDeny', namespace);
  }
  return app;
}

module.exports = { tenantApp };
