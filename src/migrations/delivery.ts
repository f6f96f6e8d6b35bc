/** Helm hook phases a migration Job can run in. */
export enum HelmHook {
  PRE_INSTALL = 'pre-install',
  PRE_UPGRADE = 'pre-upgrade',
  POST_INSTALL = 'post-install',
  POST_UPGRADE = 'post-upgrade',
}

/** Argo CD hook phases. */
export enum ArgoCdHook {
  PRE_SYNC = 'PreSync',
  SYNC = 'Sync',
  POST_SYNC = 'PostSync',
}

/** Options for {@link MigrationDelivery}. */
export interface MigrationDeliveryOptions {
  /**
   * Helm hook phases.
   * @default [HelmHook.PRE_INSTALL, HelmHook.PRE_UPGRADE]
   */
  readonly helmHooks?: HelmHook[];
  /**
   * `helm.sh/hook-weight`.
   * @default 0
   */
  readonly hookWeight?: number;
  /**
   * Argo CD hook phase. Argo CD maps both Helm pre-install and pre-upgrade to
   * PreSync; use SYNC (with a sync wave after the database) when the database
   * is deployed in the same sync, or PreSync would run before it exists.
   * @default ArgoCdHook.PRE_SYNC
   */
  readonly argoCdHook?: ArgoCdHook;
  /**
   * `argocd.argoproj.io/sync-wave`.
   * @default 0
   */
  readonly syncWave?: number;
}

/**
 * How a delivery tool should treat the migration Job.
 *
 * | tool | honours |
 * |------|---------|
 * | `kubectl apply` | the unique name: a new release id is a new Job; the same id is a no-op |
 * | Helm | `helm.sh/hook*` annotations |
 * | Argo CD | `argocd.argoproj.io/hook*` and `sync-wave` (it ignores Helm hooks when its own are present) |
 *
 * `MigrationDelivery.all()` (the default) carries all three, which is safe
 * together: each tool reads only its own annotations, and the name is unique
 * per release in every case.
 */
export class MigrationDelivery {
  /** Helm hook + Argo CD hook + unique name. */
  public static all(options: MigrationDeliveryOptions = {}): MigrationDelivery {
    return new MigrationDelivery(true, true, options);
  }

  /** Helm hook annotations only (and the unique name). */
  public static helm(options: MigrationDeliveryOptions = {}): MigrationDelivery {
    return new MigrationDelivery(true, false, options);
  }

  /** Argo CD hook and sync wave only (and the unique name). */
  public static argoCd(options: MigrationDeliveryOptions = {}): MigrationDelivery {
    return new MigrationDelivery(false, true, options);
  }

  /** A plain, uniquely named Job for `kubectl apply`. */
  public static plain(): MigrationDelivery {
    return new MigrationDelivery(false, false, {});
  }

  private constructor(
    /** Whether the Job carries Helm hook annotations. */
    public readonly usesHelm: boolean,
    /** Whether the Job carries Argo CD hook annotations and a sync wave. */
    public readonly usesArgoCd: boolean,
    /** The hook phases, weight and sync wave asked for. */
    public readonly options: MigrationDeliveryOptions,
  ) {}

  /** The annotations to put on the Job. */
  public annotations(): Record<string, string> {
    return hookAnnotations(hooksOf(this), 0);
  }
}

/** The hooks a {@link MigrationDelivery} asks for, with their defaults applied. */
interface Hooks {
  /** Helm phases and weight, when Helm hooks are wanted. */
  readonly helm?: { readonly phases: string[]; readonly weight: number };
  /** Argo CD phase and sync wave, when Argo CD hooks are wanted. */
  readonly argoCd?: { readonly phase: string; readonly wave: number };
}

function hooksOf(delivery: MigrationDelivery): Hooks {
  const o = delivery.options;
  return {
    helm: delivery.usesHelm ? { phases: o.helmHooks ?? [HelmHook.PRE_INSTALL, HelmHook.PRE_UPGRADE], weight: o.hookWeight ?? 0 } : undefined,
    argoCd: delivery.usesArgoCd ? { phase: o.argoCdHook ?? ArgoCdHook.PRE_SYNC, wave: o.syncWave ?? 0 } : undefined,
  };
}

/**
 * The annotations of a hook `before` steps ahead of the migration Job: Helm
 * weight and Argo CD sync wave `before` lower, each re-created before the
 * next hook. Helm sorts hooks by weight, Argo CD by wave, and each waits for
 * a wave before the next; within one weight or wave the order would be
 * Helm's kind order, or none at all (Argo CD applies a wave's resources in
 * parallel).
 */
function hookAnnotations(hooks: Hooks, before: number): Record<string, string> {
  const a: Record<string, string> = {};
  if (hooks.helm) {
    a['helm.sh/hook'] = hooks.helm.phases.join(',');
    a['helm.sh/hook-weight'] = String(hooks.helm.weight - before);
    a['helm.sh/hook-delete-policy'] = 'before-hook-creation';
  }
  if (hooks.argoCd) {
    a['argocd.argoproj.io/hook'] = hooks.argoCd.phase;
    a['argocd.argoproj.io/hook-delete-policy'] = 'BeforeHookCreation';
    a['argocd.argoproj.io/sync-wave'] = String(hooks.argoCd.wave - before);
  }
  return a;
}

/**
 * Hook annotations for an object the Job needs while it runs (its egress
 * policy): the same Helm hook phases with a weight one lower, the same Argo
 * CD hook with a sync wave one lower. `{}` for a plain Job.
 */
export function precedingHookAnnotations(delivery: MigrationDelivery): Record<string, string> {
  return hookAnnotations(hooksOf(delivery), 1);
}

/**
 * Hook annotations of the pre-migration dump (`before` 2) and of its egress
 * policy (3): Helm `pre-upgrade` only (at install there is nothing to back
 * up, and the backup volume may not exist yet), `before` weights below the
 * migration Job (whose own egress policy is one below); the Job's Argo CD
 * hook, `before` waves below. `{}` for a plain Job.
 */
export function preMigrationBackupAnnotations(delivery: MigrationDelivery, before: number): Record<string, string> {
  const { helm, argoCd } = hooksOf(delivery);
  const phases = (helm?.phases ?? []).filter((h) => h === HelmHook.PRE_UPGRADE);
  return hookAnnotations({ helm: helm && phases.length ? { phases, weight: helm.weight } : undefined, argoCd }, before);
}
