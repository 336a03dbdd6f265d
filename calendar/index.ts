/**
 * Calendar time, shared by the devserver's schedules and lastmile's SLO deadlines and product validation: one cron
 * grammar (Temporal's `ScheduleSpec.cron_string`), calendar specs, intervals, time zones, and compiled schedule specs
 * that list the instants a schedule fires. Pure: it depends on nothing but `Intl`.
 */
export {
  ScheduleSpecError,
  compileSpec,
  parseCalendarSpec,
  parseCron,
  parseDuration as parseIntervalDuration,
  type CalendarRange,
  type CalendarSpecStrings,
  type CompiledSpec,
  type IntervalSpec,
  type NormalizedSpec,
  type ParsedCron,
  type ScheduleSpecInput,
  type StructuredCalendar,
} from './spec.js';
export { MS_PER_DAY, civilFromDays, daysFromCivil, daysInMonth, getZone, weekdayFromDays, type Zone } from './timezone.js';
