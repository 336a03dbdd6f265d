/**
 * Parsing of Temporal schedule text forms into structured values:
 *
 *  - cron strings (`ScheduleSpec.cron_string`),
 *  - string calendar specs (`CalendarSpec`, fields like `"MON-FRI"` / `"*\/15"`),
 *  - `@every <interval>[/<phase>]` durations.
 *
 * Semantics follow the documentation of `temporal.api.schedule.v1` (message.proto):
 *
 *  - 5 fields: minute hour day-of-month month day-of-week
 *    6 fields: minute hour day-of-month month day-of-week year
 *    7 fields: second minute hour day-of-month month day-of-week year
 *    (second defaults to 0, year to "*"). This is NOT the Quartz/Spring layout where a
 *    6-field string starts with seconds: Temporal documents year as the 6th field.
 *  - Each field is a comma-separated list of `*`, `?` (same as `*`), `x`, `x-z`, `x/y`
 *    (x, x+y, x+2y, ... up to the field maximum), `x-z/y` and `*\/y`. Values are decimal
 *    integers, or month / weekday names (full or 3-letter, case-insensitive) in those fields.
 *    Day-of-week accepts 0 or 7 for Sunday.
 *  - Day-of-month and day-of-week are ANDed, like every other field. Temporal explicitly
 *    does not implement the classic Vixie-cron special case (OR when both are restricted),
 *    so `0 0 13 * FRI` fires only on Friday the 13th.
 *  - `@yearly` / `@annually`, `@monthly`, `@weekly`, `@daily` / `@midnight`, `@hourly`.
 *  - `@every <interval>[/<phase>]` (we also accept a space instead of `/`), where interval and
 *    phase are one or more `<integer><unit>` groups, unit one of d, h, m, s, ms (e.g. `1h30m`).
 *    It compiles to an IntervalSpec, not a calendar.
 *  - An optional `CRON_TZ=<zone>` or `TZ=<zone>` prefix, and an optional trailing
 *    `# comment` (the `#` must start a whitespace-separated word, so the Quartz
 *    "nth weekday" form `MON#2` is rejected instead of silently ignored).
 *
 * Anything else (L, W, wrap-around ranges like FRI-MON, backwards ranges, out-of-range
 * values, zero steps) is rejected with a ScheduleSpecError that names the field and value.
 */

/** Inclusive range `start, start+step, ... <= end`; step >= 1. */
export interface CalendarRange {
  start: number;
  end: number;
  step: number;
}

/**
 * A structured calendar, evaluated in the schedule's time zone. A wall-clock time matches
 * when every field matches (day-of-month AND day-of-week). An empty array means the field's
 * default: second/minute/hour default to 0 only; dayOfMonth/month/dayOfWeek/year default
 * to "every".
 */
export interface StructuredCalendar {
  second: CalendarRange[];
  minute: CalendarRange[];
  hour: CalendarRange[];
  dayOfMonth: CalendarRange[];
  month: CalendarRange[];
  year: CalendarRange[];
  dayOfWeek: CalendarRange[];
  comment?: string;
}

/** Matches `epoch + n * everyMs + offsetMs` (Temporal's interval + phase). */
export interface IntervalSpec {
  everyMs: number;
  offsetMs: number;
}

/** Any invalid schedule input. The message names the offending field and value. */
export class ScheduleSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleSpecError';
  }
}

/**
 * Result of {@link parseCron}: either a calendar or (for `@every`) an interval, plus the
 * time zone from a `CRON_TZ=` / `TZ=` prefix when present.
 */
export type ParsedCron =
  | { calendar: StructuredCalendar; interval?: undefined; timezone?: string }
  | { calendar?: undefined; interval: IntervalSpec; timezone?: string };

/** String form of a calendar (Temporal's `CalendarSpec`); empty / missing = field default. */
export interface CalendarSpecStrings {
  second?: string;
  minute?: string;
  hour?: string;
  dayOfMonth?: string;
  month?: string;
  year?: string;
  dayOfWeek?: string;
  comment?: string;
}

export type CalendarField = 'second' | 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'year' | 'dayOfWeek';

interface FieldDef {
  label: string;
  min: number;
  max: number;
  names?: ReadonlyMap<string, number>;
}

/** Smallest / largest year accepted in a year field. */
export const MIN_YEAR = 1970;
export const MAX_YEAR = 9999;

const MONTH_NAMES = new Map<string, number>();
[
  ['jan', 'january'],
  ['feb', 'february'],
  ['mar', 'march'],
  ['apr', 'april'],
  ['may', 'may'],
  ['jun', 'june'],
  ['jul', 'july'],
  ['aug', 'august'],
  ['sep', 'september'],
  ['oct', 'october'],
  ['nov', 'november'],
  ['dec', 'december'],
].forEach((names, i) => names.forEach((n) => MONTH_NAMES.set(n, i + 1)));

const DOW_NAMES = new Map<string, number>();
[
  ['sun', 'sunday'],
  ['mon', 'monday'],
  ['tue', 'tues', 'tuesday'],
  ['wed', 'wednesday'],
  ['thu', 'thur', 'thurs', 'thursday'],
  ['fri', 'friday'],
  ['sat', 'saturday'],
].forEach((names, i) => names.forEach((n) => DOW_NAMES.set(n, i)));

export const FIELD_DEFS: Readonly<Record<CalendarField, FieldDef>> = {
  second: { label: 'second', min: 0, max: 59 },
  minute: { label: 'minute', min: 0, max: 59 },
  hour: { label: 'hour', min: 0, max: 23 },
  dayOfMonth: { label: 'day-of-month', min: 1, max: 31 },
  month: { label: 'month', min: 1, max: 12, names: MONTH_NAMES },
  year: { label: 'year', min: MIN_YEAR, max: MAX_YEAR },
  // 7 is accepted as an alias for Sunday and normalised to 0.
  dayOfWeek: { label: 'day-of-week', min: 0, max: 7, names: DOW_NAMES },
};

export const CALENDAR_FIELDS: readonly CalendarField[] = [
  'second',
  'minute',
  'hour',
  'dayOfMonth',
  'month',
  'year',
  'dayOfWeek',
];

function parseValue(token: string, field: CalendarField, fail: (msg: string) => never): number {
  const def = FIELD_DEFS[field];
  let value: number;
  if (/^\d+$/.test(token)) {
    if (token.length > 6) fail(`${def.label} ${token} is out of range ${def.min}-${def.max}`);
    value = Number(token);
  } else {
    const named = def.names?.get(token.toLowerCase());
    if (named === undefined) fail(`${def.label} value "${token}" is not a number${def.names ? ' or name' : ''}`);
    value = named;
  }
  if (value < def.min || value > def.max) fail(`${def.label} ${value} is out of range ${def.min}-${def.max}`);
  return value;
}

/**
 * Rewrites a day-of-week range that reaches 7 (Sunday alias) into 0..6 ranges.
 */
export function normalizeDowRange(r: CalendarRange): CalendarRange[] {
  if (r.end < 7) return [r];
  if (r.start === 7) return [{ start: 0, end: 0, step: 1 }];
  const out: CalendarRange[] = [{ start: r.start, end: 6, step: r.step }];
  if ((7 - r.start) % r.step === 0) out.push({ start: 0, end: 0, step: 1 });
  return out;
}

/**
 * Parses one calendar field expression (`*`, `1,5-10/2`, `MON-FRI`, ...) into ranges.
 * `fail` is called with a message (without a prefix) on error.
 * An empty / whitespace-only expression returns `[]` (the field default).
 */
export function parseFieldExpression(expr: string, field: CalendarField, fail: (msg: string) => never): CalendarRange[] {
  const def = FIELD_DEFS[field];
  const text = expr.trim();
  if (text === '') return [];
  const out: CalendarRange[] = [];
  let everyYear = false;
  for (const item of text.split(',')) {
    const part = item.trim();
    if (part === '') fail(`${def.label} "${text}" has an empty list item`);
    const slash = part.split('/');
    if (slash.length > 2) fail(`${def.label} "${part}" has more than one "/"`);
    const [base, stepText] = slash as [string, string | undefined];
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || stepText.length > 6) fail(`${def.label} step "${stepText}" is not a positive integer`);
      step = Number(stepText);
      if (step < 1) fail(`${def.label} step ${step} must be at least 1`);
    }
    let start: number;
    let end: number;
    if (base === '*' || base === '?') {
      if (field === 'year' && stepText === undefined) {
        // "*" for year is the default (every year): representable as no ranges at all.
        everyYear = true;
        continue;
      }
      start = def.min;
      end = field === 'dayOfWeek' ? 6 : def.max;
    } else {
      const dash = base.split('-');
      if (dash.length > 2) fail(`${def.label} "${base}" is not a valid range`);
      if (dash.length === 2) {
        start = parseValue(dash[0]!, field, fail);
        end = parseValue(dash[1]!, field, fail);
        if (end < start) fail(`${def.label} range "${base}" ends before it starts (wrap-around ranges are not supported)`);
      } else {
        start = parseValue(base, field, fail);
        // "x/y" means x, x+y, ... up to the field maximum.
        end = stepText !== undefined ? (field === 'dayOfWeek' ? 6 : def.max) : start;
        if (end < start) end = start; // "7/2" for day-of-week: just Sunday
      }
    }
    const range = { start, end, step };
    if (field === 'dayOfWeek') out.push(...normalizeDowRange(range));
    else out.push(range);
  }
  if (everyYear) return [];
  return out;
}

const SHORTHANDS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration like `90s`, `1h30m`, `2d`, `500ms` into milliseconds.
 * Returns undefined when the text is not a valid duration.
 */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h|d))+$/i.test(text)) return undefined;
  let total = 0;
  for (const m of text.toLowerCase().matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    if (m[1]!.length > 15) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

function emptyCalendar(): StructuredCalendar {
  return { second: [], minute: [], hour: [], dayOfMonth: [], month: [], year: [], dayOfWeek: [] };
}

/**
 * Parses a Temporal cron string. See the module comment for the accepted syntax.
 *
 * Returns `{ calendar }` for calendar forms and `{ interval }` for `@every`; `timezone`
 * is set when the string has a `CRON_TZ=` / `TZ=` prefix (the zone name is validated by
 * compileSpec, not here). A trailing `# comment` becomes `calendar.comment`.
 * Throws ScheduleSpecError (message prefixed with `cron "<expr>": `) on invalid input.
 */
export function parseCron(expr: string): ParsedCron {
  const fail: (msg: string) => never = (msg) => {
    throw new ScheduleSpecError(`cron ${JSON.stringify(expr)}: ${msg}`);
  };
  if (typeof expr !== 'string') fail('must be a string');
  let text = expr.trim();
  let timezone: string | undefined;
  const tz = /^(CRON_TZ|TZ)=(\S*)(\s+|$)/.exec(text);
  if (tz) {
    if (tz[2] === '') fail(`${tz[1]}= prefix has no time zone name`);
    timezone = tz[2];
    text = text.slice(tz[0].length);
  }
  let comment: string | undefined;
  const hash = /(^|\s)#/.exec(text);
  if (hash) {
    comment = text.slice(hash.index + hash[0].length).trim();
    text = text.slice(0, hash.index).trim();
  }
  if (text.includes('#')) fail('"#" is only allowed to start a trailing comment (nth-weekday syntax is not supported)');
  if (text === '') fail('is empty');

  const withTz = <T extends object>(r: T): T & { timezone?: string } => (timezone !== undefined ? { ...r, timezone } : r);

  if (text.startsWith('@')) {
    const words = text.split(/\s+/);
    const keyword = words[0]!.toLowerCase();
    if (keyword === '@every') {
      let spec = words.slice(1);
      if (spec.length === 1 && spec[0]!.includes('/')) spec = spec[0]!.split('/');
      if (spec.length < 1 || spec.length > 2) fail('@every needs "<interval>[/<phase>]", e.g. "@every 1h30m" or "@every 1d/2h"');
      const everyMs = parseDuration(spec[0]!);
      if (everyMs === undefined) fail(`@every interval "${spec[0]}" is not a duration like 90s, 15m, 1h30m or 2d`);
      const offsetMs = spec.length === 2 ? parseDuration(spec[1]!) : 0;
      if (offsetMs === undefined) fail(`@every phase "${spec[1]}" is not a duration like 90s, 15m, 1h30m or 2d`);
      if (everyMs < 1000) fail(`@every interval "${spec[0]}" must be at least 1s`);
      return withTz({ interval: { everyMs, offsetMs } });
    }
    const expanded = SHORTHANDS[keyword];
    if (expanded === undefined || words.length !== 1) fail(`unknown shorthand "${text}"`);
    text = expanded;
  }

  const fields = text.split(/\s+/);
  let names: CalendarField[];
  if (fields.length === 5) names = ['minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'];
  else if (fields.length === 6) names = ['minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek', 'year'];
  else if (fields.length === 7) names = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek', 'year'];
  else return fail(`expected 5, 6 or 7 fields, got ${fields.length}`);

  const calendar = emptyCalendar();
  names.forEach((name, i) => {
    calendar[name] = parseFieldExpression(fields[i]!, name, fail);
  });
  if (fields.length < 7) calendar.second = [{ start: 0, end: 0, step: 1 }];
  if (comment) calendar.comment = comment;
  return withTz({ calendar });
}

/**
 * Compiles Temporal's string `CalendarSpec` into a StructuredCalendar. Missing or empty
 * fields take the CalendarSpec defaults (second/minute/hour "0", others "*").
 * `where` prefixes error messages (e.g. `calendars[2]`).
 */
export function parseCalendarSpec(spec: CalendarSpecStrings, where = 'calendar'): StructuredCalendar {
  const calendar = emptyCalendar();
  for (const field of CALENDAR_FIELDS) {
    const fail: (msg: string) => never = (msg) => {
      throw new ScheduleSpecError(`${where}.${field} ${JSON.stringify(spec[field] ?? '')}: ${msg}`);
    };
    const value = spec[field];
    if (value !== undefined && value !== null && typeof value !== 'string') fail('must be a string');
    calendar[field] = parseFieldExpression(value ?? '', field, fail);
  }
  if (spec.comment) calendar.comment = spec.comment;
  return calendar;
}
