/**
 * Bridges `temporal.api.schedule.v1.ScheduleSpec` (wire form) and the time engine in spec.ts.
 *
 * - `canonicalizeSpec` does what the real server does on input: `cron_string` and `calendar`
 *   entries are compiled into `structured_calendar` (or `interval` for `@every`), a
 *   `CRON_TZ=`/`TZ=` prefix is copied to `timezone_name`, and the deprecated
 *   `exclude_calendar` moves to `exclude_structured_calendar`. Calendar fields left at their
 *   default are written out as explicit ranges (second/minute/hour 0, the rest "every"; year
 *   stays empty = every year), which is what DescribeSchedule returns and what the SDK
 *   decoders expect.
 * - `compileCanonical` feeds a canonical spec to `compileSpec`. Structured calendars keep the
 *   proto's meaning: a non-year field with no ranges matches nothing, so such a calendar can
 *   never fire and is left out (spec.ts would read an empty field as its default instead).
 *
 * All errors are ScheduleSpecError with a message naming the field.
 */
import type { temporal } from '@temporalio/proto';
import { durMs, tsMs } from '../proto.js';
import { pbDuration, pbTimestamp } from './pb.js';
import {
  ScheduleSpecError,
  compileSpec,
  parseCalendarSpec,
  parseCron,
  type CalendarRange,
  type CompiledSpec,
  type StructuredCalendar,
} from '../../calendar/index.js';

type SpecProps = temporal.api.schedule.v1.ScheduleSpec.$Properties;
type StructuredProps = temporal.api.schedule.v1.StructuredCalendarSpec.$Properties;
type RangeProps = temporal.api.schedule.v1.Range.$Properties;
type CalendarStringProps = temporal.api.schedule.v1.CalendarSpec.$Properties;

const FIELDS = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'year', 'dayOfWeek'] as const;
type Field = (typeof FIELDS)[number];

const DEFAULT_RANGES: Readonly<Record<Field, readonly CalendarRange[]>> = {
  second: [{ start: 0, end: 0, step: 1 }],
  minute: [{ start: 0, end: 0, step: 1 }],
  hour: [{ start: 0, end: 0, step: 1 }],
  dayOfMonth: [{ start: 1, end: 31, step: 1 }],
  month: [{ start: 1, end: 12, step: 1 }],
  year: [],
  dayOfWeek: [{ start: 0, end: 6, step: 1 }],
};

/** A calendar from cron.ts (empty field = default) as a proto StructuredCalendarSpec with explicit ranges. */
export function calendarToProto(cal: StructuredCalendar): StructuredProps {
  const out: StructuredProps = {};
  for (const f of FIELDS) {
    const ranges = cal[f].length > 0 ? cal[f] : DEFAULT_RANGES[f];
    out[f] = ranges.map((r) => ({ start: r.start, end: r.end, step: r.step }));
  }
  if (cal.comment) out.comment = cal.comment;
  return out;
}

function copyStructured(cal: StructuredProps): StructuredProps {
  const out: StructuredProps = {};
  for (const f of FIELDS) out[f] = (cal[f] ?? []).map((r: RangeProps) => ({ start: r.start ?? 0, end: r.end ?? 0, step: r.step ?? 0 }));
  if (cal.comment) out.comment = cal.comment;
  return out;
}

function stringCalendar(cal: CalendarStringProps, where: string): StructuredProps {
  return calendarToProto(
    parseCalendarSpec(
      {
        second: cal.second ?? undefined,
        minute: cal.minute ?? undefined,
        hour: cal.hour ?? undefined,
        dayOfMonth: cal.dayOfMonth ?? undefined,
        month: cal.month ?? undefined,
        year: cal.year ?? undefined,
        dayOfWeek: cal.dayOfWeek ?? undefined,
        comment: cal.comment ?? undefined,
      },
      where,
    ),
  );
}

/**
 * The spec as the server stores and describes it. Throws ScheduleSpecError.
 */
export function canonicalizeSpec(spec: SpecProps | null | undefined): SpecProps {
  const s = spec ?? {};
  if (s.timezoneData && s.timezoneData.length > 0) {
    throw new ScheduleSpecError('timezone_data is not supported by this server; use timezone_name');
  }
  let timezone = s.timezoneName ?? '';
  const structured: StructuredProps[] = (s.structuredCalendar ?? []).map(copyStructured);
  const intervals: temporal.api.schedule.v1.IntervalSpec.$Properties[] = [];
  for (const [i, iv] of (s.interval ?? []).entries()) {
    if (!iv.interval || durMs(iv.interval) <= 0) throw new ScheduleSpecError(`interval[${i}].interval must be set and positive`);
    if (durMs(iv.phase) < 0) throw new ScheduleSpecError(`interval[${i}].phase must not be negative`);
    intervals.push({ interval: pbDuration(durMs(iv.interval)), phase: pbDuration(durMs(iv.phase)) });
  }
  (s.calendar ?? []).forEach((c, i) => structured.push(stringCalendar(c, `calendar[${i}]`)));
  let cronTz: string | undefined;
  for (const expr of s.cronString ?? []) {
    const parsed = parseCron(expr);
    if (parsed.timezone !== undefined) {
      if ((s.timezoneName ?? '') !== '' || (cronTz !== undefined && cronTz !== parsed.timezone)) {
        throw new ScheduleSpecError(
          `cron ${JSON.stringify(expr)}: time zone prefix ${parsed.timezone} conflicts with timezone ${s.timezoneName || cronTz}`,
        );
      }
      cronTz = parsed.timezone;
    }
    if (parsed.calendar) structured.push(calendarToProto(parsed.calendar));
    else intervals.push({ interval: pbDuration(parsed.interval.everyMs), phase: pbDuration(parsed.interval.offsetMs) });
  }
  if (timezone === '' && cronTz !== undefined) timezone = cronTz;
  const exclude: StructuredProps[] = (s.excludeStructuredCalendar ?? []).map(copyStructured);
  (s.excludeCalendar ?? []).forEach((c, i) => exclude.push(stringCalendar(c, `exclude_calendar[${i}]`)));

  const out: SpecProps = { structuredCalendar: structured, interval: intervals, excludeStructuredCalendar: exclude };
  if (s.startTime) out.startTime = pbTimestamp(tsMs(s.startTime)!);
  if (s.endTime) out.endTime = pbTimestamp(tsMs(s.endTime)!);
  if (s.jitter && durMs(s.jitter) !== 0) out.jitter = pbDuration(durMs(s.jitter));
  if (timezone !== '') out.timezoneName = timezone;
  return out;
}

function neverMatches(cal: StructuredProps): boolean {
  return FIELDS.some((f) => f !== 'year' && (cal[f] ?? []).length === 0);
}

function toEngineCalendar(cal: StructuredProps): StructuredCalendar {
  const out = {} as StructuredCalendar;
  for (const f of FIELDS) {
    out[f] = (cal[f] ?? []).map((r) => ({ start: r.start ?? 0, end: r.end ?? 0, step: r.step ?? 0 }));
  }
  if (cal.comment) out.comment = cal.comment;
  return out;
}

/** Compiles a canonical spec (see canonicalizeSpec). Throws ScheduleSpecError. */
export function compileCanonical(spec: SpecProps): CompiledSpec {
  const calendars: StructuredCalendar[] = [];
  const excludes: StructuredCalendar[] = [];
  const check = (list: StructuredProps[] | null | undefined, into: StructuredCalendar[], name: string): void => {
    (list ?? []).forEach((c, i) => {
      const cal = toEngineCalendar(c);
      // Validate each calendar on its own (even one that can never fire) so errors name it.
      try {
        compileSpec({ cron: [], calendars: [cal], intervals: [], excludeCalendars: [], jitterMs: 0, timezone: '' });
      } catch (e) {
        if (e instanceof ScheduleSpecError) throw new ScheduleSpecError(e.message.replace(/^calendars\[0\]/, `${name}[${i}]`));
        throw e;
      }
      if (!neverMatches(c)) into.push(cal);
    });
  };
  check(spec.structuredCalendar, calendars, 'structured_calendar');
  check(spec.excludeStructuredCalendar, excludes, 'exclude_structured_calendar');
  const start = tsMs(spec.startTime);
  const end = tsMs(spec.endTime);
  return compileSpec({
    cron: [],
    calendars,
    intervals: (spec.interval ?? []).map((iv) => ({ everyMs: durMs(iv.interval), offsetMs: durMs(iv.phase) })),
    excludeCalendars: excludes,
    ...(start !== undefined ? { startTime: new Date(start) } : {}),
    ...(end !== undefined ? { endTime: new Date(end) } : {}),
    jitterMs: durMs(spec.jitter),
    timezone: spec.timezoneName ?? '',
  });
}
