import * as kplus from 'cdk8s-plus-28';

/** The UID/GID our containers run as unless a construct's props say otherwise. */
export const DEFAULT_USER = 1000;

/**
 * The container security context of the Pod Security Standard "restricted"
 * profile: non-root, no privilege escalation, every capability dropped,
 * RuntimeDefault seccomp, read-only root filesystem (writable paths are
 * emptyDir or PVC mounts).
 */
export function restrictedContainer(user = DEFAULT_USER, readOnlyRootFilesystem = true): kplus.ContainerSecurityContextProps {
  return {
    ensureNonRoot: true,
    user,
    group: user,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem,
    capabilities: { drop: [kplus.Capability.ALL] },
    seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
  };
}

/** Pod-level security context matching {@link restrictedContainer}. */
export function restrictedPod(user = DEFAULT_USER, fsGroup = user): kplus.PodSecurityContextProps {
  return {
    ensureNonRoot: true,
    user,
    group: user,
    fsGroup,
    fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH,
  };
}
