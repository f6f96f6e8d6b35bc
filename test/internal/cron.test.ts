import { CostMgmtPostgres, ErpApi, ErpOperations, ExternalDatabase } from '../../src';
import { cronFields } from '../../src/internal/cron';
import { checkCron } from '../../src/internal/validate';
import { all, Manifest, synth, testChart } from '../util';

/*
 * Schedules as Kubernetes CronJobs take them (the API server parses them
 * with robfig/cron's standard parser), checked with cron-parser at synth.
 */

/** The schedule of every CronJob ErpOperations writes, with `schedule` as the health check's. */
function maintenanceSchedules(schedule: string): Record<string, string> {
  const chart = testChart();
  const api = new ErpApi(chart, 'Api', { image: 'erp/api:1.4.2', database: ExternalDatabase.of({ host: 'postgres' }) });
  new ErpOperations(chart, 'Ops', { api, maintenance: { healthCheckSchedule: schedule } });
  return Object.fromEntries(all(synth(chart), 'CronJob').map((c: Manifest) => [c.metadata.name, c.spec.schedule]));
}

describe('cron schedules', () => {
  test.each<[string, string, string]>([
    // [what, schedule, the CronJob's schedule]
    ['every day at 02:00', '0 2 * * *', '0 2 * * *'],
    ['a day-of-week name', '0 2 * * SUN', '0 2 * * SUN'],
    ['names in lower case and as a range', '0 2 * * mon-fri', '0 2 * * mon-fri'],
    ['month names', '0 0 1 JAN,JUL *', '0 0 1 JAN,JUL *'],
    ['steps', '*/15 */2 * * *', '*/15 */2 * * *'],
    ['a range with a step', '0-30/10 8-18 * * 1-5', '0-30/10 8-18 * * 1-5'],
    ['a value with a step (value to the end)', '5/20 * * * *', '5/20 * * * *'],
    ['lists', '0 6,18 1,15 * *', '0 6,18 1,15 * *'],
    ['? for a day', '0 0 ? * MON', '0 0 ? * MON'],
    ['Sunday as 0 and Saturday as 6', '0 0 * * 0,6', '0 0 * * 0,6'],
    ['29 February', '0 0 29 2 *', '0 0 29 2 *'],
    ['@yearly', '@yearly', '0 0 1 1 *'],
    ['@annually', '@annually', '0 0 1 1 *'],
    ['@monthly', '@monthly', '0 0 1 * *'],
    ['@weekly', '@weekly', '0 0 * * 0'],
    ['@daily', '@daily', '0 0 * * *'],
    ['@midnight', '@midnight', '0 0 * * *'],
    ['@hourly', '@hourly', '0 * * * *'],
  ])('accepts %s (%s)', (_what, schedule, written) => {
    expect(checkCron('test', 'schedule', schedule)).toBe(schedule);
    expect(maintenanceSchedules(schedule)['erp-api-health-check']).toBe(written);
  });

  test.each<[string, string, RegExp]>([
    ['a step is 0', '*/0 * * * *', /the minute field "\*\/0" takes 0-59, ranges low-high with low <= high and steps \/n with n >= 1/],
    ['a range runs backwards', '0 0 * * 5-1', /the day-of-week field "5-1" takes 0-6 or SUN-SAT, ranges low-high with low <= high/],
    ['a minute is out of range', '60 * * * *', /the minute field "60" takes 0-59/],
    ['an hour is out of range', '0 24 * * *', /the hour field "24" takes 0-23/],
    ['a day of month is 0', '0 0 0 * *', /the day-of-month field "0" takes 1-31/],
    ['a month is 13', '0 0 * 13 *', /the month field "13" takes 1-12 or JAN-DEC/],
    ['a name is unknown', '0 0 * * FUN', /the day-of-week field "FUN" takes 0-6 or SUN-SAT/],
    ['a day name is in the day-of-month field', '0 0 MON * *', /the day-of-month field "MON" takes 1-31/],
    ['Sunday is written 7', '0 0 * * 7', /the day-of-week field "7" holds 7: Kubernetes takes 0-6 or SUN-SAT \(Sunday is 0\)/],
    ['a range ends at 7', '0 0 * * 1-7', /the day-of-week field "1-7" holds 7/],
    ['a day never comes', '0 0 31 2 *', /day-of-month "31" never falls in month "2": the CronJob would never run/],
    ['L (last day)', '0 0 L * *', /the day-of-month field "L" must be a list of \*, \?, values \(1-31\), ranges low-high and steps \/n \(Kubernetes reads no L, W, # or H\)/],
    ['# (nth weekday)', '0 0 * * 1#1', /the day-of-week field "1#1" must be a list of/],
    ['W (nearest weekday)', '0 0 15W * *', /the day-of-month field "15W" must be a list of/],
    ['H (hashed)', 'H 2 * * *', /the minute field "H" must be a list of/],
    ['an item of a list is empty', '1,,2 * * * *', /the minute field "1,,2" must be a list of/],
    ['a seconds field is given', '0 0 2 * * *', /: it has 6 field\(s\)/],
    ['a field is missing', '0 2 * *', /: it has 4 field\(s\)/],
    ['it is empty', '', /: it has 0 field\(s\)/],
    ['it is prose', 'every day', /\("every day"\) must be a five-field cron expression such as '0 2 \* \* \*' or '0 2 \* \* SUN'/],
    ['a macro is unknown', '@reboot', /: @reboot is not one of the macros/],
    ['@every (not a CronJob macro here)', '@every 1h', /: @every is not one of the macros/],
    ['a macro is in capitals', '@DAILY', /: @DAILY is not one of the macros/],
    ['a time zone is in the schedule', 'CRON_TZ=UTC 0 2 * * *', /a time zone goes in 'timeZone', not in the schedule/],
  ])('fails when %s (%s)', (_what, schedule, message) => {
    expect(() => checkCron('test/Ops', 'maintenance.healthCheckSchedule', schedule))
      .toThrow(new RegExp(`^test/Ops: 'maintenance.healthCheckSchedule' \\(${JSON.stringify(schedule).replace(/[*?()\\^$.+[\]{}|/]/g, '\\$&')}\\) must be a five-field cron expression`));
    expect(() => checkCron('test/Ops', 'maintenance.healthCheckSchedule', schedule)).toThrow(message);
    expect(() => maintenanceSchedules(schedule)).toThrow(/^test\/Ops: 'maintenance.healthCheckSchedule'/);
  });

  test('the backup CronJob takes the same schedules', () => {
    const chart = testChart();
    new CostMgmtPostgres(chart, 'Postgres', { backup: { schedule: '30 1 * * SUN' } });
    expect(all(synth(chart), 'CronJob').find((c: Manifest) => c.metadata.name === 'postgres-backup')!.spec.schedule).toBe('30 1 * * SUN');
    expect(() => new CostMgmtPostgres(testChart(), 'Postgres', { backup: { schedule: '*/0 * * * *' } }))
      .toThrow(/^test\/Postgres: 'backup.schedule' \("\*\/0 \* \* \* \*"\) must be a five-field cron expression.*the minute field "\*\/0"/);
  });

  test('cronFields splits a schedule as written, and a macro into its five fields', () => {
    expect(cronFields('  0  2 * *   SUN ')).toEqual({ minute: '0', hour: '2', day: '*', month: '*', weekDay: 'SUN' });
    expect(cronFields('@weekly')).toEqual({ minute: '0', hour: '0', day: '*', month: '*', weekDay: '0' });
  });
});
