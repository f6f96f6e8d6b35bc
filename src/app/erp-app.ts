import * as kplus from 'cdk8s-plus-28';
import { Migrations } from '../migrations/migrations';
import { AppEnv } from '../data/app-env';

/**
 * What the companions of an application (CeleryPair, ErpOperations) take
 * from it: its name, image, framework, user, environment and ServiceAccount.
 * {@link ErpApi} implements it; any construct that runs the same image can.
 */
export interface IErpApp {
  /** Base name: companions are called `<name>-celery-worker`, `<name>-bootstrap`... */
  readonly name: string;
  /** The application image the companions run. */
  readonly image: string;
  /** The framework: migration, bootstrap and maintenance commands, writable directories. */
  readonly migrations: Migrations;
  /** UID (and GID, fsGroup) of every container. */
  readonly user: number;
  /** The environment every container of the application shares (Secret, database, Redis). */
  readonly appEnv: AppEnv;
  /** The ServiceAccount the companions' pods run as. */
  readonly serviceAccount: kplus.IServiceAccount;
}
