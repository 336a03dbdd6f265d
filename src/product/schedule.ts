/**
 * Schedules of targets: the cron text is Temporal's (`ScheduleSpec.cron_string`) and is read by the one grammar in
 * `calendar/`, the same code the devserver's schedules run on — so validation accepts exactly what the schedules do:
 * 5 fields (minute hour day-of-month month day-of-week), 6 (… year) or 7 (second … year); `*`, `?`, values, ranges,
 * steps, lists, month and weekday names; `@daily` and the other shorthands; `@every 15m` intervals.
 */
import { parseCron, ScheduleSpecError } from '../../calendar/index.js';
import type { Schedule } from './targets.js';

/** A schedule for people: `0 5 * * * Europe/Berlin`, with `(paused: why)` when it is paused. */
export function scheduleText(schedule: Schedule): string {
  return `${schedule.cron} ${schedule.timezone}${schedule.paused !== undefined ? ` (paused: ${schedule.paused})` : ''}`;
}

export const CRON_HELP =
  "write five fields 'minute hour day-of-month month day-of-week', e.g. '0 5 * * *' (05:00 daily), '30 6 1 * *' " +
  "(06:30 on the 1st of each month) or '0 7 * * mon-fri'; a 6th field is the year and 7 fields start with seconds; " +
  "'@daily' and '@every 15m' work too";

/** What is wrong with a target's cron text, or undefined when the schedules accept it. */
export function cronProblem(expression: string): string | undefined {
  try {
    const parsed = parseCron(expression);
    if (parsed.timezone !== undefined) {
      return `it names its time zone in a prefix (${parsed.timezone}); put the zone in schedule.timezone instead`;
    }
    return undefined;
  } catch (error) {
    if (!(error instanceof ScheduleSpecError)) throw error;
    // the grammar's messages start `cron "<text>": `; the validation message quotes the text already
    return error.message.replace(/^cron "(?:[^"\\]|\\.)*": /, '');
  }
}
