# examples/consumer/main.ts in Python, against the bindings jsii-pacmak
# generates from the library (package erp_k8s), with cdk8s' own Python package.
from cdk8s import App, Chart, Duration
from erp_k8s import (
    ApiGatewayChart, ApiGatewayIngress, ApiGatewayIngressHost, CeleryPair, CostMgmtPostgres, ErpApi, ErpApiIngress,
    ManifestSchema, Migrations, NetworkPolicies, Policy, PostgresBackupOptions, PostgresDatabaseSpec, Redis,
)

app = App()  # writes to dist/ (or $CDK8S_OUTDIR)
namespace = "shop"

# PostgreSQL and Redis in their own chart: data outlives the application.
data = Chart(app, "data", namespace=namespace)
NetworkPolicies.default_deny(data, "DefaultDeny", namespace)  # deny all; each construct allows what it needs
# One database per application: the gateway gets its own role and database (api_gateway).
database = CostMgmtPostgres(
    data, "Postgres",
    roles=["api_gateway"],
    databases=[PostgresDatabaseSpec(name="api_gateway", owner="api_gateway")],
    backup=PostgresBackupOptions(retention=Duration.days(7)),  # every database, the roles, kept 7 days
)
redis = Redis(data, "Redis")

# The API (Deployment, Service, Ingress, HPA, migration Job...) and Celery worker + beat.
web = Chart(app, "web", namespace=namespace)
api = ErpApi(
    web, "Api",
    image="registry.example.com/shop/api:1.4.2",  # pinned: ':latest' is refused
    database=database,
    redis=redis,
    migrations=Migrations.django(),
    ingress=ErpApiIngress(host="shop.example.com", cluster_issuer="letsencrypt-prod"),
)
CeleryPair(web, "Celery", api=api)

# The API gateway: a Chart whose props are its Helm values.
ApiGatewayChart(
    app, "gateway",
    namespace=namespace,
    allowed_hosts=["gateway.shop.example.com"],
    ingress=ApiGatewayIngress(hosts=[ApiGatewayIngressHost(host="gateway.shop.example.com")]),
    database=database.database_for("api_gateway"),
)

# Optional: the same offline gates as erp-k8s's own environments.
objects = [obj for chart in app.charts for obj in chart.to_json()]
ManifestSchema.enforce(objects)  # Kubernetes 1.28 + CRD schemas
Policy.enforce(objects)  # Pod Security "restricted", resources, probes, PDBs, ...

app.synth()  # dist/data.k8s.yaml, dist/web.k8s.yaml, dist/gateway.k8s.yaml
