import { App, Chart } from 'cdk8s';
import { CeleryPair, ErpApi, ExternalDatabase } from './index';

const app = new App();
const chart = new Chart(app, 'erp', { namespace: 'erp' });
const api = new ErpApi(chart, 'Api', {
  image: 'registry.example.com/erp/api:1.0.0',
  database: ExternalDatabase.of({ host: 'postgres' }),
  ingress: { host: 'erpapi.masterspace.co.ke', clusterIssuer: 'letsencrypt-prod' },
});
new CeleryPair(chart, 'Celery', { api });
app.synth();
