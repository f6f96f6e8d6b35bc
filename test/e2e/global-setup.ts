/**
 * Global setup of `npm run test:e2e` (every *.e2e.ts file relies on it):
 * the bundled kubectl and helm on PATH, a reachable cluster (a failure with
 * what to do, never a skip), the stand-in images (built when
 * ERP_K8S_CLUSTER_SH names ../shared/k8s/cluster.sh), the S3 server of the
 * off-site backups (test/e2e/s3.ts, an empty bucket every run), and the CRDs
 * of the cluster prerequisites.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import { buildEnvironment } from '../../deploy/environments/erp-environment';
import { renderFiles } from '../../deploy/synth';
import { e2eEnvironments, externalServers, fastApiApp, imagesOf, v2 } from './apps';
import { kubectl, kubectlAsync, list, say, useBundledTools } from './kube';
import { deployS3, RCLONE_IMAGE, S3_IMAGE } from './s3';

const ROOT = path.resolve(__dirname, '../..');

/** Fails with what to do when no cluster answers. */
export function requireCluster(): void {
  const where = process.env.KUBECONFIG ? `KUBECONFIG=${process.env.KUBECONFIG}` : 'the default kubeconfig (~/.kube/config; KUBECONFIG is not set)';
  try {
    kubectl(['get', '--raw', '/readyz', '--request-timeout=15s']);
  } catch (e) {
    throw new Error(`npm run test:e2e needs a reachable Kubernetes cluster, and none answered through ${where}:\n  ${String(e).split('\n')[0]}\n` +
      'Start one (kind create cluster, minikube start, or here: eval "$(../shared/k8s/cluster.sh up)") and run again. ' +
      'This is a failure, not a skip.', { cause: e });
  }
  const nodes = list('default', 'nodes');
  const kubelets = nodes.map((n) => `${n.metadata.name} ${n.status.nodeInfo.kubeletVersion}`).join(', ');
  const client = JSON.parse(kubectl(['version', '--client', '-o', 'json'])).clientVersion.gitVersion;
  say('cluster', `${where}: ${nodes.length} node(s), ${kubelets}; kubectl ${client}`);
}

/**
 * Every image the suite deploys: each environment (v1 and v2), the FastAPI app, the external servers, and the S3
 * server with the rclone image its helpers run (test/e2e/s3.ts).
 */
function e2eImages(): string[] {
  const objects = Object.values(e2eEnvironments()).flatMap((c) => [c, v2(c)])
    .flatMap((c) => renderFiles(buildEnvironment(c).charts).flatMap((f) => f.objects));
  return [...new Set([...imagesOf([...objects, ...fastApiApp(), ...externalServers()]), S3_IMAGE, RCLONE_IMAGE])].sort();
}

function buildImages(images: string[]): void {
  const clusterSh = process.env.ERP_K8S_CLUSTER_SH;
  if (!clusterSh) {
    say('images', `ERP_K8S_CLUSTER_SH is not set: the cluster must already pull ${images.join(', ')} (see README, Testing)`);
    return;
  }
  const t0 = Date.now();
  execFileSync('bash', [path.join(ROOT, 'test/e2e/images/build.sh'), '--cluster-sh', clusterSh, ...images], { stdio: 'inherit', env: process.env });
  say('images', `${images.length} images built and pushed in ${Math.round((Date.now() - t0) / 1000)}s`);
}

/**
 * Cluster prerequisites of staging and prod (README, "Cluster prerequisites"):
 * the ServiceMonitor (Prometheus operator) and VerticalPodAutoscaler CRDs.
 * Only the definitions: no operator acts on the objects here.
 */
async function installCrds(): Promise<void> {
  for (const f of ['monitoring.coreos.com_servicemonitors.yaml', 'vpa-v1-crd-gen.yaml']) {
    await kubectlAsync(['apply', '--server-side', '--force-conflicts', '-f', path.join(ROOT, 'imports/crds', f)]);
  }
  for (const crd of ['servicemonitors.monitoring.coreos.com', 'verticalpodautoscalers.autoscaling.k8s.io']) {
    await kubectlAsync(['wait', '--for=condition=Established', `crd/${crd}`, '--timeout=60s']);
  }
  say('cluster', 'CRDs of the prerequisites installed: ServiceMonitor, VerticalPodAutoscaler');
}

export default async function globalSetup(): Promise<void> {
  useBundledTools();
  requireCluster();
  buildImages(e2eImages());
  await deployS3({ fresh: true });
  await installCrds();
}
