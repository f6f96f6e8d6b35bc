import { App, Chart, Duration } from 'cdk8s';
import {
  ApiGatewayChart, CeleryPair, CostMgmtPostgres, ErpApi, ManifestSchema, Migrations, NetworkPolicies, Policy, Redis,
} from 'erp-k8s';

const app = new App(); // writes to dist/ (or $CDK8S_OUTDIR)
const namespace = 'shop';

// PostgreSQL and Redis in their own chart: data outlives the application.
const data = new Chart(app, 'data', { namespace });
NetworkPolicies.defaultDeny(data, 'DefaultDeny', namespace); // deny all; each construct allows what it needs
// One database per application: the gateway gets its own role and database (api_gateway).
const database = new CostMgmtPostgres(data, 'Postgres', {
  roles: ['api_gateway'],
  databases: [{ name: 'api_gateway', owner: 'api_gateway' }],
  backup: { retention: Duration.days(7) }, // every database, the roles, kept 7 days; add `offsite` for an S3 copy
});
const redis = new Redis(data, 'Redis');

// The API (Deployment, Service, Ingress, HPA, migration Job...) and Celery worker + beat.
const web = new Chart(app, 'web', { namespace });
const api = new ErpApi(web, 'Api', {
  image: 'registry.example.com/shop/api:1.4.2', // pinned: ':latest' is refused
  database,
  redis,
  migrations: Migrations.django(),
  ingress: { host: 'shop.example.com', clusterIssuer: 'letsencrypt-prod' },
});
new CeleryPair(web, 'Celery', { api });

// The API gateway: a Chart whose props are its Helm values.
new ApiGatewayChart(app, 'gateway', {
  namespace,
  allowedHosts: ['gateway.shop.example.com'],
  ingress: { hosts: [{ host: 'gateway.shop.example.com' }] },
  database: database.databaseFor('api_gateway'),
});

// Optional: the same offline gates as erp-k8s's own environments.
const objects = app.charts.flatMap((chart) => chart.toJson());
ManifestSchema.enforce(objects); // Kubernetes 1.28 + CRD schemas
Policy.enforce(objects); // Pod Security "restricted", resources, probes, PDBs, ...

app.synth(); // dist/data.k8s.yaml, dist/web.k8s.yaml, dist/gateway.k8s.yaml
