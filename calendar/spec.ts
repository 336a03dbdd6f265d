/**
 * The time engine of Temporal Schedules: a pure module that turns a ScheduleSpec into the
 * set of instants at which the schedule fires.
 *
 * Semantics (from the docs of `temporal.api.schedule.v1`):
 *
 *  - The matching times are the UNION of all cron strings, calendars and intervals, MINUS
 *    the times matched by any exclude calendar, restricted to [startTime, endTime]
 *    (both inclusive). The same instant produced by several sources is reported once.
 *  - Calendars (and cron strings, which compile to calendars) match wall-clock time in the
 *    spec's time zone; a time matches when ALL fields match, including day-of-month AND
 *    day-of-week (Temporal does not implement classic cron's OR special case).
 *    Exclude calendars are matched against the same wall clock.
 *  - DST: matching is literal on the wall clock, as Temporal documents. A wall time that
 *    does not exist (spring-forward gap, e.g. 02:30 in Europe/Berlin on the last Sunday of
 *    March) is SKIPPED, not shifted; a wall time that occurs twice (fall-back overlap, e.g.
 *    02:30 on the last Sunday of October) fires TWICE, once per instant.
 *  - Intervals match `epoch + n * every + phase` (Unix epoch, UTC, independent of the time
 *    zone and of startTime). every and phase are truncated to whole seconds; every must be
 *    >= 1s; a phase >= every is reduced modulo every (it denotes the same set of instants).
 *  - Matching instants are always whole seconds. next(after) returns the first one
 *    strictly after `after`.
 *  - Structured ranges follow the proto's Range rules: end < start means end = start, and
 *    step 0 means 1. Day-of-week accepts 7 as Sunday.
 *  - Jitter: jittered(nominal, seed) = nominal + hash(seed, nominal) % J where
 *    J = min(jitterMs, time until the following nominal time) — the SDK docs say jitter
 *    never pushes an action past the next scheduled time.
 *  - Years are limited to 1970-9999 in year fields and results never go past year 9999.
 *    A calendar without a year restriction that has no match within 401 years (the
 *    Gregorian calendar repeats every 400 years) never matches (e.g. "0 0 30 2 *").
 *  - Safety valve: if next() has to reject more than EXCLUSION_BUDGET consecutive candidates
 *    because of exclusions, the spec is treated as exhausted (returns undefined). Whole
 *    excluded minutes/hours/days/months/years are skipped in one step, and calendars fully
 *    covered by an exclusion are dropped at compile time, so only contrived specs get there.
 *
 * Performance: calendars are searched field by field (year -> month -> day -> hour ->
 * minute -> second), never by iterating seconds, and time zone offsets come from a
 * per-UTC-month cache of transitions (see timezone.ts).
 */
import {
  CALENDAR_FIELDS,
  FIELD_DEFS,
  MAX_YEAR,
  ScheduleSpecError,
  normalizeDowRange,
  parseCron,
  type CalendarField,
  type CalendarRange,
  type IntervalSpec,
  type StructuredCalendar,
} from './cron.js';
import {
  MS_PER_DAY,
  civilFromDays,
  daysFromCivil,
  daysInMonth,
  getZone,
  weekdayFromDays,
  type Zone,
} from './timezone.js';

export {
  ScheduleSpecError,
  parseCron,
  parseCalendarSpec,
  parseDuration,
  type CalendarRange,
  type CalendarSpecStrings,
  type IntervalSpec,
  type ParsedCron,
  type StructuredCalendar,
} from './cron.js';

export interface ScheduleSpecInput {
  cron: string[];
  calendars: StructuredCalendar[];
  intervals: IntervalSpec[];
  excludeCalendars: StructuredCalendar[];
  startTime?: Date;
  endTime?: Date;
  jitterMs: number;
  /** IANA name; '' or 'UTC' = UTC. A cron `CRON_TZ=`/`TZ=` prefix fills it in when empty. */
  timezone: string;
}

/** The spec after compilation (what DescribeSchedule would show). */
export interface NormalizedSpec {
  /** Structured calendars from `calendars` and from the calendar forms of `cron`. */
  calendars: StructuredCalendar[];
  /** Intervals from `intervals` and from `@every` crons, truncated to whole seconds. */
  intervals: IntervalSpec[];
  excludeCalendars: StructuredCalendar[];
  startTime?: Date;
  endTime?: Date;
  jitterMs: number;
  /** Effective zone name ('' = UTC), possibly taken from a CRON_TZ= prefix. */
  timezone: string;
}

export interface CompiledSpec {
  /** first matching time strictly after `after` (jitter NOT applied), or undefined if none before endTime */
  next(after: Date): Date | undefined;
  /** all matching times in (start, end], at most `limit` (default DEFAULT_BETWEEN_LIMIT) */
  between(start: Date, end: Date, limit?: number): Date[];
  /** deterministic jitter for a nominal time: nominal + hash(nominal, seed) % jitterMs */
  jittered(nominal: Date, seed: string): Date;
  /** The validated, normalised spec. */
  readonly normalized: NormalizedSpec;
}

export const DEFAULT_BETWEEN_LIMIT = 10_000;
export const EXCLUSION_BUDGET = 1_000_000;

const MAX_INSTANT_MS = daysFromCivil(MAX_YEAR + 1, 1, 1) * MS_PER_DAY;
const MIN_INSTANT_MS = daysFromCivil(1, 1, 2) * MS_PER_DAY;
const SEC_PER_DAY = 86_400;
/** Bound on |UTC offset| of any zone, including historical local mean time (~15h56m). */
const MAX_ABS_OFFSET_MS = 16 * 3_600_000;

// ---------------------------------------------------------------------------------------
// Validation / normalisation of structured calendars

function normalizeRanges(ranges: unknown, field: CalendarField, where: string): CalendarRange[] {
  const def = FIELD_DEFS[field];
  if (ranges === undefined || ranges === null) return [];
  if (!Array.isArray(ranges)) throw new ScheduleSpecError(`${where}.${field} must be an array of ranges`);
  const out: CalendarRange[] = [];
  ranges.forEach((raw: unknown, i) => {
    const at = `${where}.${field}[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw new ScheduleSpecError(`${at} must be a {start, end, step} range`);
    const r = raw as Partial<Record<'start' | 'end' | 'step', unknown>>;
    const num = (name: 'start' | 'end' | 'step'): number => {
      const v = r[name] ?? 0;
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        throw new ScheduleSpecError(`${at}: ${name} ${JSON.stringify(v)} is not an integer`);
      }
      return v;
    };
    const start = num('start');
    let end = num('end');
    let step = num('step');
    if (step < 0) throw new ScheduleSpecError(`${at}: step ${step} must not be negative`);
    if (step === 0) step = 1; // proto: step defaults to 1
    if (end < start) end = start; // proto: "If end < start, then end is interpreted as equal to start"
    for (const [name, v] of [
      ['start', start],
      ['end', end],
    ] as const) {
      if (v < def.min || v > def.max) {
        throw new ScheduleSpecError(`${at}: ${def.label} ${name} ${v} is out of range ${def.min}-${def.max}`);
      }
    }
    const range = { start, end, step };
    if (field === 'dayOfWeek') out.push(...normalizeDowRange(range));
    else out.push(range);
  });
  return out;
}

function normalizeCalendar(cal: unknown, where: string): StructuredCalendar {
  if (typeof cal !== 'object' || cal === null) throw new ScheduleSpecError(`${where} must be a structured calendar object`);
  const c = cal as Partial<Record<CalendarField | 'comment', unknown>>;
  const out = {} as StructuredCalendar;
  for (const field of CALENDAR_FIELDS) out[field] = normalizeRanges(c[field], field, where);
  if (typeof c.comment === 'string' && c.comment !== '') out.comment = c.comment;
  return out;
}

// ---------------------------------------------------------------------------------------
// Calendar matching on wall-clock seconds (seconds since 1970-01-01T00:00:00 local)

/** next[i] = smallest member >= i, or -1. Length size+1 so next[size] = -1. */
function nextTable(members: boolean[], size: number): Int16Array {
  const next = new Int16Array(size + 1).fill(-1);
  let n = -1;
  for (let i = size - 1; i >= 0; i--) {
    if (members[i]) n = i;
    next[i] = n;
  }
  return next;
}

function memberSet(ranges: CalendarRange[], size: number, defaults: 'zero' | 'all', min: number, max: number): boolean[] {
  const members = new Array<boolean>(size).fill(false);
  if (ranges.length === 0) {
    if (defaults === 'zero') members[0] = true;
    else for (let v = min; v <= max; v++) members[v] = true;
    return members;
  }
  for (const r of ranges) for (let v = r.start; v <= r.end; v += r.step) members[v] = true;
  return members;
}

interface WallParts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  days: number;
}

function splitWall(ws: number): WallParts {
  const days = Math.floor(ws / SEC_PER_DAY);
  const sod = ws - days * SEC_PER_DAY;
  const { year, month, day } = civilFromDays(days);
  return { y: year, mo: month, d: day, h: Math.floor(sod / 3600), mi: Math.floor((sod % 3600) / 60), s: sod % 60, days };
}

class CalendarMatcher {
  private readonly second: Int16Array;
  private readonly minute: Int16Array;
  private readonly hour: Int16Array;
  private readonly dom: Int16Array;
  private readonly month: Int16Array;
  readonly dow: boolean[];
  readonly sets: Record<Exclude<CalendarField, 'year'>, boolean[]>;
  readonly years: CalendarRange[];
  readonly yearAll: boolean;
  readonly lastYear: number;
  readonly full: { second: boolean; minute: boolean; hour: boolean; day: boolean; month: boolean };

  constructor(cal: StructuredCalendar) {
    const second = memberSet(cal.second, 60, 'zero', 0, 59);
    const minute = memberSet(cal.minute, 60, 'zero', 0, 59);
    const hour = memberSet(cal.hour, 24, 'zero', 0, 23);
    const dom = memberSet(cal.dayOfMonth, 32, 'all', 1, 31);
    const month = memberSet(cal.month, 13, 'all', 1, 12);
    const dow = memberSet(cal.dayOfWeek, 8, 'all', 0, 6);
    if (dow[7]) dow[0] = true; // 7 = Sunday
    dow.length = 7;
    this.sets = { second, minute, hour, dayOfMonth: dom, month, dayOfWeek: dow };
    this.second = nextTable(second, 60);
    this.minute = nextTable(minute, 60);
    this.hour = nextTable(hour, 24);
    this.dom = nextTable(dom, 32);
    this.month = nextTable(month, 13);
    this.dow = dow;
    this.years = cal.year;
    this.yearAll = cal.year.length === 0;
    this.lastYear = this.yearAll ? MAX_YEAR : Math.max(...cal.year.map((r) => r.start + Math.floor((r.end - r.start) / r.step) * r.step));
    const all = (m: boolean[], from: number, to: number): boolean => {
      for (let i = from; i <= to; i++) if (!m[i]) return false;
      return true;
    };
    this.full = {
      second: all(second, 0, 59),
      minute: all(minute, 0, 59),
      hour: all(hour, 0, 23),
      day: all(dom, 1, 31) && all(dow, 0, 6),
      month: all(month, 1, 12),
    };
  }

  nextYear(y: number): number | undefined {
    if (this.yearAll) return y;
    let best = Infinity;
    for (const r of this.years) {
      let v: number;
      if (y <= r.start) v = r.start;
      else {
        v = r.start + Math.ceil((y - r.start) / r.step) * r.step;
        if (v > r.end) continue;
      }
      if (v < best) best = v;
    }
    return best === Infinity ? undefined : best;
  }

  yearMatches(y: number): boolean {
    return this.nextYear(y) === y;
  }

  matches(ws: number): boolean {
    const p = splitWall(ws);
    return (
      this.second[p.s] === p.s &&
      this.minute[p.mi] === p.mi &&
      this.hour[p.h] === p.h &&
      this.dom[p.d] === p.d &&
      this.month[p.mo] === p.mo &&
      this.dow[weekdayFromDays(p.days)] === true &&
      this.yearMatches(p.y)
    );
  }

  /** Smallest matching wall second >= ws, searching field by field. */
  nextAtOrAfter(ws: number): number | undefined {
    let { y, mo, d, h, mi, s } = splitWall(ws);
    const maxYear = this.yearAll ? Math.min(MAX_YEAR, y + 401) : this.lastYear;
    for (;;) {
      if (y > maxYear) return undefined;
      const ny = this.nextYear(y);
      if (ny === undefined || ny > maxYear) return undefined;
      if (ny !== y) {
        y = ny;
        mo = 1;
        d = 1;
        h = mi = s = 0;
      }
      const nm = this.month[mo]!;
      if (nm < 0) {
        y++;
        mo = 1;
        d = 1;
        h = mi = s = 0;
        continue;
      }
      if (nm !== mo) {
        mo = nm;
        d = 1;
        h = mi = s = 0;
      }
      const dim = daysInMonth(y, mo);
      const base = daysFromCivil(y, mo, 1) - 1;
      let nd = this.dom[d]!;
      while (nd > 0 && nd <= dim && !this.dow[weekdayFromDays(base + nd)]) nd = this.dom[nd + 1]!;
      if (nd < 0 || nd > dim) {
        mo++;
        d = 1;
        h = mi = s = 0;
        continue;
      }
      if (nd !== d) {
        d = nd;
        h = mi = s = 0;
      }
      const nh = this.hour[h]!;
      if (nh < 0) {
        d++;
        h = mi = s = 0;
        continue;
      }
      if (nh !== h) {
        h = nh;
        mi = s = 0;
      }
      const nmi = this.minute[mi]!;
      if (nmi < 0) {
        h++;
        mi = s = 0;
        continue;
      }
      if (nmi !== mi) {
        mi = nmi;
        s = 0;
      }
      const ns = this.second[s]!;
      if (ns < 0) {
        mi++;
        s = 0;
        continue;
      }
      return (base + d) * SEC_PER_DAY + h * 3600 + mi * 60 + ns;
    }
  }

  /**
   * For a matching wall second, the end (exclusive, wall seconds) of the largest enclosing
   * calendar unit (minute/hour/day/month/run of years) that matches entirely.
   */
  runEnd(ws: number): number {
    if (!this.full.second) return ws + 1;
    const p = splitWall(ws);
    const dayStart = p.days * SEC_PER_DAY;
    if (!this.full.minute) return dayStart + p.h * 3600 + (p.mi + 1) * 60;
    if (!this.full.hour) return dayStart + (p.h + 1) * 3600;
    if (!this.full.day) return dayStart + SEC_PER_DAY;
    if (!this.full.month) return (p.mo === 12 ? daysFromCivil(p.y + 1, 1, 1) : daysFromCivil(p.y, p.mo + 1, 1)) * SEC_PER_DAY;
    let y = p.y + 1;
    while (y <= MAX_YEAR && this.yearMatches(y)) y++;
    return daysFromCivil(y, 1, 1) * SEC_PER_DAY;
  }

  /** True if every time this calendar can match is also matched by `other`. */
  coveredBy(other: CalendarMatcher): boolean {
    for (const f of ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'] as const) {
      const mine = this.sets[f];
      const theirs = other.sets[f];
      for (let i = 0; i < mine.length; i++) if (mine[i] && !theirs[i]) return false;
    }
    if (other.yearAll) return true;
    if (this.yearAll) return false;
    for (const r of this.years) for (let v = r.start; v <= r.end; v += r.step) if (!other.yearMatches(v)) return false;
    return true;
  }
}

// ---------------------------------------------------------------------------------------
// Time-zone aware search

/** First instant (ms) > afterMs whose wall time in `zone` matches `m`. */
function nextCalendarInstant(m: CalendarMatcher, zone: Zone, afterMs: number): number | undefined {
  let s = Math.floor(afterMs / 1000) * 1000 + 1000; // first whole second strictly after
  const limit = Math.min(
    MAX_INSTANT_MS,
    m.yearAll ? s + 402 * 366 * MS_PER_DAY : (daysFromCivil(m.lastYear + 1, 1, 1) + 1) * MS_PER_DAY,
  );
  while (s <= limit) {
    // Within a constant-offset segment wall time is a linear function of the instant, so
    // the first matching wall time at or after wall(s) gives the earliest instant, provided
    // it falls inside the segment. Otherwise continue with the next segment: wall times in
    // a DST gap belong to no segment (skipped), those in an overlap belong to two (twice).
    const seg = zone.segmentAt(s);
    const w = m.nextAtOrAfter((s + seg.offsetMs) / 1000);
    if (w === undefined) return undefined;
    const t = w * 1000 - seg.offsetMs;
    if (t < seg.endMs) return t;
    // Skip ahead without walking every segment (matters for sparse calendars). An instant u
    // can only match if wall(u) >= W (at u >= W - MAX_ABS_OFFSET) or wall(u) < wall(s),
    // which needs a backward jump, impossible once u - s > 2 * MAX_ABS_OFFSET.
    let nextS = seg.endMs;
    if (seg.endMs >= s + 2 * MAX_ABS_OFFSET_MS) nextS = Math.max(nextS, Math.floor((w * 1000 - MAX_ABS_OFFSET_MS) / 1000) * 1000);
    s = nextS;
  }
  return undefined;
}

/**
 * First instant after `c` whose wall time is outside [cWallSec, endWallSec). `c` itself has
 * wall time cWallSec. Wall time may jump backwards (DST), so segment starts are checked.
 */
function firstInstantOutside(zone: Zone, c: number, cWallSec: number, endWallSec: number): number {
  let s = c;
  for (;;) {
    const seg = zone.segmentAt(s);
    const w = s + seg.offsetMs;
    if (s !== c && (w < cWallSec * 1000 || w >= endWallSec * 1000)) return s;
    const t = endWallSec * 1000 - seg.offsetMs;
    if (t < seg.endMs || t >= MAX_INSTANT_MS) return t;
    // Same skip-ahead argument as in nextCalendarInstant: once u - c > 2 * MAX_ABS_OFFSET the
    // wall clock cannot be below cWallSec any more, and it cannot reach endWallSec before
    // endWallSec - MAX_ABS_OFFSET.
    let nextS = seg.endMs;
    if (seg.endMs >= c + 2 * MAX_ABS_OFFSET_MS) nextS = Math.max(nextS, endWallSec * 1000 - MAX_ABS_OFFSET_MS);
    s = nextS;
  }
}

interface NormalizedInterval {
  everyMs: number;
  phaseMs: number;
}

function nextIntervalInstant(iv: NormalizedInterval, afterMs: number): number {
  const n = Math.floor((afterMs - iv.phaseMs) / iv.everyMs) + 1;
  return iv.phaseMs + n * iv.everyMs;
}

// ---------------------------------------------------------------------------------------
// Jitter hash

function hash32(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // final avalanche
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Deterministic 53-bit hash. */
function hash53(text: string): number {
  return (hash32(text, 0x811c9dc5) & 0x1fffff) * 2 ** 32 + hash32(text, 0x9e3779b9);
}

// ---------------------------------------------------------------------------------------

function checkDate(d: unknown, what: string): number {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
    throw new ScheduleSpecError(`${what} must be a valid Date, got ${String(d)}`);
  }
  return d.getTime();
}

class CompiledScheduleSpec implements CompiledSpec {
  constructor(
    readonly normalized: NormalizedSpec,
    private readonly zone: Zone,
    private readonly calendars: CalendarMatcher[],
    private readonly intervals: NormalizedInterval[],
    private readonly excludes: CalendarMatcher[],
    private readonly startMs: number | undefined,
    private readonly endMs: number | undefined,
  ) {}

  private nextMs(afterMs: number): number | undefined {
    let a = afterMs;
    if (this.startMs !== undefined && a < this.startMs) a = this.startMs - 1;
    if (a < MIN_INSTANT_MS) a = MIN_INSTANT_MS;
    const end = Math.min(this.endMs ?? Infinity, MAX_INSTANT_MS - 1);
    for (let budget = EXCLUSION_BUDGET; budget > 0; budget--) {
      let best = Infinity;
      for (const m of this.calendars) {
        const t = nextCalendarInstant(m, this.zone, a);
        if (t !== undefined && t < best) best = t;
      }
      for (const iv of this.intervals) {
        const t = nextIntervalInstant(iv, a);
        if (t < best) best = t;
      }
      if (best > end) return undefined;
      if (this.excludes.length === 0) return best;
      const wall = (best + this.zone.offsetAt(best)) / 1000;
      let runEnd = -Infinity;
      for (const x of this.excludes) if (x.matches(wall)) runEnd = Math.max(runEnd, x.runEnd(wall));
      if (runEnd === -Infinity) return best;
      a = firstInstantOutside(this.zone, best, wall, runEnd) - 1;
    }
    return undefined;
  }

  next(after: Date): Date | undefined {
    const t = this.nextMs(checkDate(after, 'next(after)'));
    return t === undefined ? undefined : new Date(t);
  }

  between(start: Date, end: Date, limit: number = DEFAULT_BETWEEN_LIMIT): Date[] {
    let a = checkDate(start, 'between(start)');
    const b = checkDate(end, 'between(end)');
    const out: Date[] = [];
    while (out.length < limit) {
      const t = this.nextMs(a);
      if (t === undefined || t > b) break;
      out.push(new Date(t));
      a = t;
    }
    return out;
  }

  jittered(nominal: Date, seed: string): Date {
    const n = checkDate(nominal, 'jittered(nominal)');
    const jitter = this.normalized.jitterMs;
    if (jitter <= 0) return new Date(n);
    const following = this.nextMs(n);
    const cap = Math.floor(following === undefined ? jitter : Math.min(jitter, following - n));
    if (cap <= 1) return new Date(n);
    return new Date(n + (hash53(`${seed}\u0000${n}`) % cap));
  }
}

/**
 * Validates and compiles a schedule spec. Throws ScheduleSpecError naming the bad field
 * (bad cron, out-of-range calendar value, interval < 1s, negative phase or jitter, unknown
 * time zone, conflicting CRON_TZ prefixes, endTime before startTime, invalid dates).
 */
export function compileSpec(input: ScheduleSpecInput): CompiledSpec {
  if (typeof input !== 'object' || input === null) throw new ScheduleSpecError('spec must be an object');
  const list = <T>(v: T[] | undefined, name: string): T[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new ScheduleSpecError(`${name} must be an array`);
    return v;
  };

  let timezone = input.timezone ?? '';
  if (typeof timezone !== 'string') throw new ScheduleSpecError('timezone must be a string');
  const calendars: StructuredCalendar[] = [];
  const intervals: IntervalSpec[] = [];
  let cronTz: { tz: string; cron: string } | undefined;
  list(input.cron, 'cron').forEach((expr) => {
    const parsed = parseCron(expr);
    if (parsed.timezone !== undefined) {
      if (timezone !== '' && timezone !== parsed.timezone) {
        throw new ScheduleSpecError(
          `cron ${JSON.stringify(expr)}: time zone prefix ${JSON.stringify(parsed.timezone)} conflicts with timezone ${JSON.stringify(timezone)}`,
        );
      }
      if (cronTz && cronTz.tz !== parsed.timezone) {
        throw new ScheduleSpecError(
          `cron ${JSON.stringify(expr)}: time zone prefix ${JSON.stringify(parsed.timezone)} conflicts with ${JSON.stringify(cronTz.tz)} from cron ${JSON.stringify(cronTz.cron)}`,
        );
      }
      cronTz = { tz: parsed.timezone, cron: expr };
    }
    if (parsed.calendar) calendars.push(parsed.calendar);
    else intervals.push(parsed.interval);
  });
  if (timezone === '' && cronTz) timezone = cronTz.tz;

  list(input.calendars, 'calendars').forEach((c, i) => calendars.push(normalizeCalendar(c, `calendars[${i}]`)));
  const excludeCalendars = list(input.excludeCalendars, 'excludeCalendars').map((c, i) =>
    normalizeCalendar(c, `excludeCalendars[${i}]`),
  );

  const normIntervals: NormalizedInterval[] = [];
  const outIntervals: IntervalSpec[] = [];
  const rawIntervals = list(input.intervals, 'intervals');
  [...intervals, ...rawIntervals].forEach((iv, j) => {
    const i = j - intervals.length;
    const where = i < 0 ? `cron @every` : `intervals[${i}]`;
    if (typeof iv !== 'object' || iv === null) throw new ScheduleSpecError(`${where} must be {everyMs, offsetMs}`);
    const every = iv.everyMs;
    const phase = iv.offsetMs ?? 0;
    if (typeof every !== 'number' || !Number.isFinite(every) || every < 1000) {
      throw new ScheduleSpecError(`${where}.everyMs ${String(every)} must be at least 1000 (intervals are whole seconds)`);
    }
    if (typeof phase !== 'number' || !Number.isFinite(phase) || phase < 0) {
      throw new ScheduleSpecError(`${where}.offsetMs ${String(phase)} must be a non-negative number`);
    }
    const everyMs = Math.floor(every / 1000) * 1000;
    const phaseMs = (Math.floor(phase / 1000) * 1000) % everyMs;
    if (!Number.isSafeInteger(everyMs)) throw new ScheduleSpecError(`${where}.everyMs ${every} is too large`);
    normIntervals.push({ everyMs, phaseMs });
    outIntervals.push({ everyMs, offsetMs: phaseMs });
  });

  const zone = getZone(timezone);
  const startMs = input.startTime === undefined || input.startTime === null ? undefined : checkDate(input.startTime, 'startTime');
  const endMs = input.endTime === undefined || input.endTime === null ? undefined : checkDate(input.endTime, 'endTime');
  if (startMs !== undefined && endMs !== undefined && endMs < startMs) {
    throw new ScheduleSpecError(
      `endTime ${new Date(endMs).toISOString()} is before startTime ${new Date(startMs).toISOString()}`,
    );
  }
  const jitterMs = input.jitterMs ?? 0;
  if (typeof jitterMs !== 'number' || !Number.isFinite(jitterMs) || jitterMs < 0) {
    throw new ScheduleSpecError(`jitterMs ${String(jitterMs)} must be a non-negative number`);
  }

  const excludeMatchers = excludeCalendars.map((c) => new CalendarMatcher(c));
  const calendarMatchers = calendars
    .map((c) => new CalendarMatcher(c))
    // A calendar entirely covered by an exclusion can never fire: drop it up front.
    .filter((m) => !excludeMatchers.some((x) => m.coveredBy(x)));

  const normalized: NormalizedSpec = {
    calendars,
    intervals: outIntervals,
    excludeCalendars,
    jitterMs: Math.floor(jitterMs),
    timezone,
  };
  if (startMs !== undefined) normalized.startTime = new Date(startMs);
  if (endMs !== undefined) normalized.endTime = new Date(endMs);

  return new CompiledScheduleSpec(normalized, zone, calendarMatchers, normIntervals, excludeMatchers, startMs, endMs);
}
