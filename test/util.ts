import { Chart, Testing } from 'cdk8s';

/** A synthesized manifest object. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- synthesized YAML/JSON, read field by field in assertions
export type Manifest = Record<string, any>;

/** A fresh chart in a test app. */
export function testChart(namespace = 'erp'): Chart {
  return new Chart(Testing.app(), 'test', { namespace });
}

/** Synthesizes and returns the objects. */
export function synth(chart: Chart): Manifest[] {
  return Testing.synth(chart) as Manifest[];
}

/** The one object of this kind (and name). */
export function one(objs: Manifest[], kind: string, name?: string): Manifest {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (found.length !== 1) {
    const every = objs.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ');
    throw new Error(`expected one ${kind}${name ? ' ' + name : ''}, found ${found.length}: ${every}`);
  }
  return found[0];
}

/** All objects of a kind. */
export function all(objs: Manifest[], kind: string): Manifest[] {
  return objs.filter((o) => o.kind === kind);
}

/** Pod spec of a workload. */
export function podSpec(o: Manifest): Manifest {
  return o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec;
}

/** Every container (init first) of a workload. */
export function containers(o: Manifest): Manifest[] {
  const s = podSpec(o);
  return [...(s.initContainers ?? []), ...s.containers];
}

/** A container by name. */
export function container(o: Manifest, name: string): Manifest {
  const c = containers(o).find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name} in ${o.kind}/${o.metadata.name}`);
  return c;
}

/** The restricted-profile expectations for a container's security context. */
export const RESTRICTED = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};
