import { EnvironmentConfig } from './config';
import { dev } from './dev';
import { prod } from './prod';
import { staging } from './staging';

export * from './config';
export * from './check-environment';
export * from './erp-environment';

/** Every environment the app synthesizes, in promotion order. */
export const ENVIRONMENTS: Record<string, EnvironmentConfig> = { dev, staging, prod };
export { dev, staging, prod };
