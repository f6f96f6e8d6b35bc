/** CronJob schedules and time zones, as the API server and the CronJob controller read them. */
import { IConstruct } from 'constructs';
import { fail } from './props-error';

/**
 * The macros Kubernetes CronJobs accept, each as the five fields
 * `Cron.schedule` writes for it (see `cronFields` in cron.ts).
 */
export const CRON_MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

/** The five fields of a schedule and the values each takes. */
const CRON_FIELDS: ReadonlyArray<readonly [name: string, values: string]> = [
  ['minute', '0-59'], ['hour', '0-23'], ['day-of-month', '1-31'], ['month', '1-12 or JAN-DEC'], ['day-of-week', '0-6 or SUN-SAT'],
];

/*
 * Kubernetes parses a CronJob's schedule with robfig/cron's standard parser:
 * each field a list of `*`, `?`, a value or a range low-high, each with an
 * optional /step, values being numbers or three-letter names. cron-parser
 * checks the values (bounds, names, low <= high, step >= 1, a day that
 * exists in the month) but also reads what Kubernetes refuses (a seconds
 * field, L, W, #, H, 7 for Sunday): the field syntax below and the
 * day-of-week check keep those out.
 */
const CRON_VALUE = '(?:\\d+|[A-Za-z]{3})';
const CRON_ITEM = `(?:\\*|\\?|${CRON_VALUE}(?:-${CRON_VALUE})?)(?:/\\d+)?`;
const CRON_FIELD = new RegExp(`^${CRON_ITEM}(?:,${CRON_ITEM})*$`);

/** cron-parser, loaded on first use (it brings luxon: ~20 ms nobody without a schedule should pay). */
function cronParser(): typeof import('cron-parser').CronExpressionParser {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load: an import would load it with the library
  return (require('cron-parser') as typeof import('cron-parser')).CronExpressionParser;
}

/** Whether cron-parser reads the expression. */
function parsesAsCron(expr: string): boolean {
  try {
    cronParser().parse(expr);
    return true;
  } catch {
    return false;
  }
}

/**
 * A cron schedule as Kubernetes CronJobs accept it: five fields (minute hour
 * day-of-month month day-of-week) with names such as SUN or JAN, ranges,
 * lists and steps, or one of the {@link CRON_MACROS}. Refused: what the
 * API server refuses, and a day the month never has (`0 0 31 2 *`, a
 * CronJob that never runs).
 */
export function checkCron(scope: IConstruct | string, field: string, value: string): string {
  const refuse = (why?: string): never => fail(scope, field, value, "must be a five-field cron expression such as '0 2 * * *' or '0 2 * * SUN' "
    + `(minute hour day-of-month month day-of-week) or one of ${Object.keys(CRON_MACROS).join(', ')}${why ? `: ${why}` : ''}`);
  if (typeof value !== 'string') refuse();
  if (Object.hasOwn(CRON_MACROS, value)) return value;
  if (value.startsWith('@')) refuse(`${value.split(/\s/)[0]} is not one of the macros`);
  if (/^(CRON_)?TZ=/.test(value.trim())) refuse("a time zone goes in 'timeZone', not in the schedule");
  const fields = value.trim().split(/\s+/);
  if (fields.length !== 5) refuse(`it has ${value.trim() === '' ? 0 : fields.length} field(s)`);
  fields.forEach((f, i) => {
    const [name, values] = CRON_FIELDS[i];
    const inField = (why: string) => refuse(`the ${name} field ${JSON.stringify(f)} ${why}`);
    if (!CRON_FIELD.test(f)) inField(`must be a list of *, ?, values (${values}), ranges low-high and steps /n (Kubernetes reads no L, W, # or H)`);
    if (name === 'day-of-week' && f.split(',').some((item) => item.split('/')[0].split('-').some((v) => Number(v) === 7))) {
      inField('holds 7: Kubernetes takes 0-6 or SUN-SAT (Sunday is 0)');
    }
  });
  if (parsesAsCron(fields.join(' '))) return value;
  // name the field: the first one cron-parser refuses alone
  fields.forEach((f, i) => {
    const alone = CRON_FIELDS.map((_, j) => (j === i ? f : '*')).join(' ');
    const [name, values] = CRON_FIELDS[i];
    if (!parsesAsCron(alone)) {
      refuse(`the ${name} field ${JSON.stringify(f)} takes ${values}, ranges low-high with low <= high and steps /n with n >= 1`);
    }
  });
  return refuse(`day-of-month ${JSON.stringify(fields[2])} never falls in month ${JSON.stringify(fields[3])}: the CronJob would never run`);
}

/**
 * A time zone as a CronJob's `timeZone` takes it: an IANA name the time zone
 * database knows (`UTC`, `Europe/Berlin`, `US/Eastern`), spelt with its
 * capitals (the API server's lookup is case-sensitive).
 */
export function checkTimeZone(scope: IConstruct | string, field: string, value: string): string {
  let known = typeof value === 'string' && /^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/.test(value);
  if (known) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: value });
    } catch {
      known = false;
    }
  }
  if (!known) fail(scope, field, value, "must be an IANA time zone such as 'UTC' or 'Europe/Berlin' (case-sensitive)");
  return value;
}
