import { CronOptions } from 'cdk8s';
import { CRON_MACROS } from './validate';

/** Splits a schedule {@link checkCron} accepted into the five fields of `Cron.schedule` (a macro into its fields). */
export function cronFields(expr: string): CronOptions {
  const [minute, hour, day, month, weekDay] = (Object.hasOwn(CRON_MACROS, expr) ? CRON_MACROS[expr] : expr).trim().split(/\s+/);
  return { minute, hour, day, month, weekDay };
}
