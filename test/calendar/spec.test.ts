import { describe, expect, it } from 'vitest';
import {
  ScheduleSpecError,
  compileSpec,
  parseCalendarSpec,
  parseCron,
  type CompiledSpec,
  type ScheduleSpecInput,
  type StructuredCalendar,
} from '../../calendar/index.js';

const BASE: ScheduleSpecInput = { cron: [], calendars: [], intervals: [], excludeCalendars: [], jitterMs: 0, timezone: '' };
const spec = (over: Partial<ScheduleSpecInput>): CompiledSpec => compileSpec({ ...BASE, ...over });
const iso = (d: Date | undefined): string | undefined => d?.toISOString();
const isoList = (ds: Date[]): string[] => ds.map((d) => d.toISOString());
const D = (s: string): Date => new Date(s);
const cal = (over: Partial<StructuredCalendar>): StructuredCalendar => ({
  second: [],
  minute: [],
  hour: [],
  dayOfMonth: [],
  month: [],
  year: [],
  dayOfWeek: [],
  ...over,
});
const r = (start: number, end = start, step = 1) => ({ start, end, step });
const HOUR = 3_600_000;
const MIN = 60_000;

/** Deterministic PRNG (xorshift32) so failures are reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function expectSpecError(fn: () => unknown, message: string | RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(ScheduleSpecError);
  if (typeof message === 'string') expect((thrown as Error).message).toContain(message);
  else expect((thrown as Error).message).toMatch(message);
}

describe('parseCron', () => {
  it('parses 5 fields as minute hour dom month dow, seconds 0 and every year', () => {
    const p = parseCron('15 10 * * 1-5');
    expect(p.timezone).toBeUndefined();
    expect(p.interval).toBeUndefined();
    expect(p.calendar).toEqual({
      second: [r(0)],
      minute: [r(15)],
      hour: [r(10)],
      dayOfMonth: [r(1, 31)],
      month: [r(1, 12)],
      year: [],
      dayOfWeek: [r(1, 5)],
    });
  });

  it('parses 6 fields with year last and 7 fields with seconds first (Temporal layout)', () => {
    const six = parseCron('0 12 1 1 * 2030-2032');
    expect(six.calendar?.year).toEqual([r(2030, 2032)]);
    expect(six.calendar?.second).toEqual([r(0)]);
    const seven = parseCron('30 0 12 1 1 * 2030');
    expect(seven.calendar?.second).toEqual([r(30)]);
    expect(seven.calendar?.minute).toEqual([r(0)]);
    expect(seven.calendar?.year).toEqual([r(2030)]);
  });

  it('supports lists, ranges, steps, x/y, */y, ? and names (case-insensitive, full or short)', () => {
    const c = parseCron('*/15 1,3-5,20-23/2 ? jan-MAR,December Mon,wed-FRIDAY').calendar!;
    expect(c.minute).toEqual([r(0, 59, 15)]);
    expect(c.hour).toEqual([r(1), r(3, 5), r(20, 23, 2)]);
    expect(c.dayOfMonth).toEqual([r(1, 31)]);
    expect(c.month).toEqual([r(1, 3), r(12)]);
    expect(c.dayOfWeek).toEqual([r(1), r(3, 5)]);
    expect(parseCron('5/20 * * * *').calendar!.minute).toEqual([r(5, 59, 20)]);
  });

  it('maps day-of-week 7 to Sunday', () => {
    expect(parseCron('0 0 * * 7').calendar!.dayOfWeek).toEqual([r(0)]);
    expect(parseCron('0 0 * * 5-7').calendar!.dayOfWeek).toEqual([r(5, 6), r(0)]);
    expect(parseCron('0 0 * * 1-7/2').calendar!.dayOfWeek).toEqual([r(1, 6, 2), r(0)]);
    expect(parseCron('0 0 * * 0-7/2').calendar!.dayOfWeek).toEqual([r(0, 6, 2)]);
  });

  it('expands shorthands', () => {
    const expectSame = (a: string, b: string) => expect(parseCron(a)).toEqual(parseCron(b));
    expectSame('@yearly', '0 0 1 1 *');
    expectSame('@annually', '0 0 1 1 *');
    expectSame('@monthly', '0 0 1 * *');
    expectSame('@weekly', '0 0 * * 0');
    expectSame('@daily', '0 0 * * *');
    expectSame('@midnight', '0 0 * * *');
    expectSame('@hourly', '0 * * * *');
    expectSame('@HOURLY', '0 * * * *');
  });

  it('compiles @every to an interval, with optional phase after "/" or a space', () => {
    expect(parseCron('@every 1h30m')).toEqual({ interval: { everyMs: 90 * MIN, offsetMs: 0 } });
    expect(parseCron('@every 1d/2h')).toEqual({ interval: { everyMs: 24 * HOUR, offsetMs: 2 * HOUR } });
    expect(parseCron('@every 15m 5m')).toEqual({ interval: { everyMs: 15 * MIN, offsetMs: 5 * MIN } });
    expect(parseCron('@every 90s')).toEqual({ interval: { everyMs: 90_000, offsetMs: 0 } });
  });

  it('reads CRON_TZ= / TZ= prefixes and trailing # comments', () => {
    const p = parseCron('CRON_TZ=Europe/Berlin 0 7 * * * # morning run');
    expect(p.timezone).toBe('Europe/Berlin');
    expect(p.calendar?.comment).toBe('morning run');
    expect(p.calendar?.hour).toEqual([r(7)]);
    expect(parseCron('TZ=America/New_York @daily').timezone).toBe('America/New_York');
    expect(parseCron('TZ=UTC @every 1h').timezone).toBe('UTC');
  });

  it('rejects bad input with a ScheduleSpecError naming the field and value', () => {
    expectSpecError(() => parseCron('61 * * * *'), 'cron "61 * * * *": minute 61 is out of range 0-59');
    expectSpecError(() => parseCron('* 24 * * *'), 'hour 24 is out of range 0-23');
    expectSpecError(() => parseCron('* * 0 * *'), 'day-of-month 0 is out of range 1-31');
    expectSpecError(() => parseCron('* * * 13 *'), 'month 13 is out of range 1-12');
    expectSpecError(() => parseCron('* * * * 8'), 'day-of-week 8 is out of range 0-7');
    expectSpecError(() => parseCron('* * * * * 1969'), 'year 1969 is out of range');
    expectSpecError(() => parseCron('* * * *'), 'expected 5, 6 or 7 fields, got 4');
    expectSpecError(() => parseCron('* * * * * * * *'), 'got 8');
    expectSpecError(() => parseCron(''), 'is empty');
    expectSpecError(() => parseCron('*/0 * * * *'), 'step 0 must be at least 1');
    expectSpecError(() => parseCron('5-1 * * * *'), 'ends before it starts');
    expectSpecError(() => parseCron('* * * * FRI-MON'), 'ends before it starts');
    expectSpecError(() => parseCron('* * * * MON#2'), '"#"');
    expectSpecError(() => parseCron('* * L * *'), 'day-of-month value "L" is not a number');
    expectSpecError(() => parseCron('* * * FOO *'), 'month value "FOO" is not a number or name');
    expectSpecError(() => parseCron('1,,2 * * * *'), 'empty list item');
    expectSpecError(() => parseCron('@fortnightly'), 'unknown shorthand');
    expectSpecError(() => parseCron('@every'), '@every needs');
    expectSpecError(() => parseCron('@every 0s'), 'must be at least 1s');
    expectSpecError(() => parseCron('@every 5x'), 'not a duration');
    expectSpecError(() => parseCron('@every 1h/5q'), 'phase "5q"');
    expectSpecError(() => parseCron('CRON_TZ= 0 0 * * *'), 'no time zone name');
  });
});

describe('parseCalendarSpec (string CalendarSpec)', () => {
  it('applies CalendarSpec defaults and parses fields', () => {
    expect(parseCalendarSpec({})).toEqual(cal({}));
    const c = parseCalendarSpec({ hour: '12', dayOfWeek: 'MONDAY-WEDNESDAY,FRIDAY', comment: 'noon' });
    expect(c.hour).toEqual([r(12)]);
    expect(c.dayOfWeek).toEqual([r(1, 3), r(5)]);
    expect(c.comment).toBe('noon');
    expectSpecError(() => parseCalendarSpec({ minute: '99' }, 'calendars[3]'), 'calendars[3].minute "99": minute 99 is out of range 0-59');
  });
});

describe('compileSpec validation', () => {
  it('rejects invalid specs naming the problem', () => {
    expectSpecError(() => spec({ cron: ['0 0 * * *', 'nope'] }), 'cron "nope"');
    expectSpecError(() => spec({ intervals: [{ everyMs: 0, offsetMs: 0 }] }), 'intervals[0].everyMs 0 must be at least 1000');
    expectSpecError(() => spec({ intervals: [{ everyMs: 999, offsetMs: 0 }] }), 'intervals[0].everyMs');
    expectSpecError(() => spec({ intervals: [{ everyMs: NaN, offsetMs: 0 }] }), 'intervals[0].everyMs');
    expectSpecError(() => spec({ intervals: [{ everyMs: 1000, offsetMs: -1 }] }), 'intervals[0].offsetMs -1');
    expectSpecError(() => spec({ timezone: 'Mars/Olympus_Mons' }), 'timezone "Mars/Olympus_Mons" is not a known IANA time zone');
    expectSpecError(() => spec({ cron: ['CRON_TZ=Nowhere/Land 0 0 * * *'] }), 'timezone "Nowhere/Land"');
    expectSpecError(
      () => spec({ startTime: D('2024-02-01T00:00:00Z'), endTime: D('2024-01-01T00:00:00Z') }),
      'endTime 2024-01-01T00:00:00.000Z is before startTime 2024-02-01T00:00:00.000Z',
    );
    expectSpecError(() => spec({ startTime: new Date(NaN) }), 'startTime must be a valid Date');
    expectSpecError(() => spec({ jitterMs: -5 }), 'jitterMs -5');
    expectSpecError(() => spec({ calendars: [cal({ minute: [r(60)] })] }), 'calendars[0].minute[0]: minute start 60 is out of range 0-59');
    expectSpecError(() => spec({ calendars: [cal({ hour: [r(1, 30)] })] }), 'calendars[0].hour[0]: hour end 30 is out of range 0-23');
    expectSpecError(() => spec({ calendars: [cal({ second: [r(0, 10, -2)] })] }), 'calendars[0].second[0]: step -2');
    expectSpecError(() => spec({ calendars: [cal({ dayOfMonth: [r(1.5)] })] }), 'calendars[0].dayOfMonth[0]: start 1.5 is not an integer');
    expectSpecError(() => spec({ excludeCalendars: [cal({ month: [r(0)] })] }), 'excludeCalendars[0].month[0]');
    expectSpecError(
      () => spec({ timezone: 'UTC', cron: ['CRON_TZ=Europe/Berlin 0 0 * * *'] }),
      'conflicts with timezone "UTC"',
    );
    expectSpecError(() => spec({ cron: ['TZ=Europe/Berlin @daily', 'TZ=Europe/Paris @daily'] }), 'conflicts with "Europe/Berlin"');
  });

  it('accepts an empty spec (never fires) and exposes the normalised spec', () => {
    expect(spec({}).next(D('2024-01-01T00:00:00Z'))).toBeUndefined();
    const s = spec({ cron: ['TZ=Europe/Berlin 0 7 * * *', '@every 1h/90m'], intervals: [{ everyMs: 1500, offsetMs: 2500 }] });
    expect(s.normalized.timezone).toBe('Europe/Berlin');
    expect(s.normalized.calendars).toHaveLength(1);
    // truncated to whole seconds; phase reduced modulo the interval
    expect(s.normalized.intervals).toEqual([
      { everyMs: HOUR, offsetMs: 30 * MIN },
      { everyMs: 1000, offsetMs: 0 },
    ]);
  });

  it('treats structured ranges like the proto: end < start means a single value, step 0 means 1', () => {
    const s = spec({ calendars: [cal({ hour: [{ start: 5, end: 0, step: 0 }] })] });
    expect(iso(s.next(D('2024-01-01T00:00:00Z')))).toBe('2024-01-01T05:00:00.000Z');
    expect(iso(s.next(D('2024-01-01T05:00:00Z')))).toBe('2024-01-02T05:00:00.000Z');
  });
});

describe('calendar matching (UTC)', () => {
  it('uses structured defaults: empty second/minute/hour = 0, others = every', () => {
    const s = spec({ calendars: [cal({})] });
    expect(isoList(s.between(D('2024-01-01T00:00:00Z'), D('2024-01-03T00:00:00Z')))).toEqual([
      '2024-01-02T00:00:00.000Z',
      '2024-01-03T00:00:00.000Z',
    ]);
  });

  it('returns the first match strictly after `after`, always on a whole second', () => {
    const s = spec({ cron: ['*/10 * * * *'] });
    expect(iso(s.next(D('2024-01-01T00:10:00Z')))).toBe('2024-01-01T00:20:00.000Z');
    expect(iso(s.next(D('2024-01-01T00:09:59.999Z')))).toBe('2024-01-01T00:10:00.000Z');
    expect(iso(s.next(D('2024-01-01T00:10:00.001Z')))).toBe('2024-01-01T00:20:00.000Z');
    const secs = spec({ cron: ['*/20 * * * * * *'] });
    expect(isoList(secs.between(D('2024-01-01T00:00:00Z'), D('2024-01-01T00:01:00Z')))).toEqual([
      '2024-01-01T00:00:20.000Z',
      '2024-01-01T00:00:40.000Z',
      '2024-01-01T00:01:00.000Z',
    ]);
  });

  it('ANDs day-of-month and day-of-week (Friday the 13th), as Temporal documents', () => {
    const s = spec({ cron: ['0 0 13 * FRI'] });
    expect(isoList(s.between(D('2024-01-01T00:00:00Z'), D('2026-01-01T00:00:00Z')))).toEqual([
      '2024-09-13T00:00:00.000Z',
      '2024-12-13T00:00:00.000Z',
      '2025-06-13T00:00:00.000Z',
    ]);
    const structured = spec({ calendars: [cal({ dayOfMonth: [r(13)], dayOfWeek: [r(5)] })] });
    expect(iso(structured.next(D('2024-01-01T00:00:00Z')))).toBe('2024-09-13T00:00:00.000Z');
  });

  it('handles month lengths, leap days and year ranges', () => {
    const lastOf31 = spec({ cron: ['0 12 31 * *'] });
    expect(isoList(lastOf31.between(D('2024-01-01T00:00:00Z'), D('2024-06-01T00:00:00Z')))).toEqual([
      '2024-01-31T12:00:00.000Z',
      '2024-03-31T12:00:00.000Z',
      '2024-05-31T12:00:00.000Z',
    ]);
    const leap = spec({ cron: ['@yearly', '0 0 29 2 *'] });
    expect(isoList(leap.between(D('2023-06-01T00:00:00Z'), D('2028-03-01T00:00:00Z')))).toEqual([
      '2024-01-01T00:00:00.000Z',
      '2024-02-29T00:00:00.000Z',
      '2025-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
      '2028-01-01T00:00:00.000Z',
      '2028-02-29T00:00:00.000Z',
    ]);
    const years = spec({ cron: ['0 0 1 1 * 2030,2040-2050/5'] });
    expect(isoList(years.between(D('2000-01-01T00:00:00Z'), D('2100-01-01T00:00:00Z')))).toEqual([
      '2030-01-01T00:00:00.000Z',
      '2040-01-01T00:00:00.000Z',
      '2045-01-01T00:00:00.000Z',
      '2050-01-01T00:00:00.000Z',
    ]);
    expect(years.next(D('2050-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('returns undefined for calendars that can never match', () => {
    expect(spec({ cron: ['0 0 30 2 *'] }).next(D('2024-01-01T00:00:00Z'))).toBeUndefined();
    expect(spec({ cron: ['0 0 31 4,6,9,11 *'] }).next(D('2024-01-01T00:00:00Z'))).toBeUndefined();
    expect(spec({ cron: ['0 0 1 1 * 2020'] }).next(D('2024-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('unions multiple sources and removes duplicates', () => {
    const s = spec({
      cron: ['0 */6 * * *', '0 0,12 * * *'],
      calendars: [cal({ hour: [r(12)] })],
      intervals: [{ everyMs: 12 * HOUR, offsetMs: 0 }],
    });
    expect(isoList(s.between(D('2024-01-01T00:00:00Z'), D('2024-01-02T00:00:00Z')))).toEqual([
      '2024-01-01T06:00:00.000Z',
      '2024-01-01T12:00:00.000Z',
      '2024-01-01T18:00:00.000Z',
      '2024-01-02T00:00:00.000Z',
    ]);
  });

  it('between() honours its limit', () => {
    const s = spec({ cron: ['* * * * *'] });
    expect(s.between(D('2024-01-01T00:00:00Z'), D('2024-02-01T00:00:00Z'), 5)).toHaveLength(5);
    expect(s.between(D('2024-01-01T00:00:00Z'), D('2024-01-01T00:00:00Z'))).toEqual([]);
  });
});

describe('intervals', () => {
  it('aligns to the Unix epoch plus phase (proto examples)', () => {
    const s28 = spec({ intervals: [{ everyMs: 28 * 24 * HOUR, offsetMs: 0 }] });
    expect(iso(s28.next(D('2022-02-10T00:00:00Z')))).toBe('2022-02-17T00:00:00.000Z');
    const phased = spec({ intervals: [{ everyMs: 28 * 24 * HOUR, offsetMs: (3 * 24 + 5) * HOUR + 23 * MIN }] });
    expect(iso(phased.next(D('2022-02-10T00:00:00Z')))).toBe('2022-02-20T05:23:00.000Z');
    const hourly19 = spec({ intervals: [{ everyMs: HOUR, offsetMs: 19 * MIN }] });
    expect(isoList(hourly19.between(D('2024-05-05T10:19:00Z'), D('2024-05-05T13:00:00Z')))).toEqual([
      '2024-05-05T11:19:00.000Z',
      '2024-05-05T12:19:00.000Z',
    ]);
  });

  it('is independent of startTime and of the time zone', () => {
    const s = spec({
      intervals: [{ everyMs: 7 * MIN, offsetMs: 0 }],
      startTime: D('2024-01-01T00:00:01Z'),
      timezone: 'Asia/Kolkata',
    });
    // 2024-01-01T00:00:00Z is epoch-aligned for 7 minutes? 1704067200 / 420 = 4057302.857..., so not.
    const first = s.next(D('2023-01-01T00:00:00Z'))!;
    expect(first.getTime() % (7 * MIN)).toBe(0);
    expect(first.getTime()).toBeGreaterThanOrEqual(D('2024-01-01T00:00:01Z').getTime());
    expect(first.getTime() - D('2024-01-01T00:00:01Z').getTime()).toBeLessThan(7 * MIN);
  });

  it('works through @every cron strings', () => {
    const s = spec({ cron: ['@every 1d/6h'] });
    expect(iso(s.next(D('2024-03-10T07:00:00Z')))).toBe('2024-03-11T06:00:00.000Z');
  });
});

describe('time zones', () => {
  it('evaluates calendars on the zone wall clock ("0 7 * * *" in Berlin: 06:00Z winter, 05:00Z summer)', () => {
    const s = spec({ cron: ['0 7 * * *'], timezone: 'Europe/Berlin' });
    expect(iso(s.next(D('2024-01-15T00:00:00Z')))).toBe('2024-01-15T06:00:00.000Z');
    expect(iso(s.next(D('2024-07-15T00:00:00Z')))).toBe('2024-07-15T05:00:00.000Z');
    // DST starts 2024-03-31 (02:00 -> 03:00 CET->CEST) and ends 2024-10-27 (03:00 -> 02:00)
    expect(isoList(s.between(D('2024-03-29T12:00:00Z'), D('2024-04-01T12:00:00Z')))).toEqual([
      '2024-03-30T06:00:00.000Z',
      '2024-03-31T05:00:00.000Z',
      '2024-04-01T05:00:00.000Z',
    ]);
    expect(isoList(s.between(D('2024-10-25T12:00:00Z'), D('2024-10-28T12:00:00Z')))).toEqual([
      '2024-10-26T05:00:00.000Z',
      '2024-10-27T06:00:00.000Z',
      '2024-10-28T06:00:00.000Z',
    ]);
  });

  it('takes the zone from a CRON_TZ prefix', () => {
    const s = spec({ cron: ['CRON_TZ=America/New_York 0 9 * * MON-FRI'] });
    expect(iso(s.next(D('2024-01-05T00:00:00Z')))).toBe('2024-01-05T14:00:00.000Z');
    expect(iso(s.next(D('2024-07-05T00:00:00Z')))).toBe('2024-07-05T13:00:00.000Z');
    expect(iso(s.next(D('2024-07-05T13:00:00Z')))).toBe('2024-07-08T13:00:00.000Z');
  });

  it('skips wall times that do not exist (spring-forward gap)', () => {
    const s = spec({ cron: ['30 2 * * *'], timezone: 'Europe/Berlin' });
    expect(isoList(s.between(D('2024-03-29T00:00:00Z'), D('2024-04-02T00:00:00Z')))).toEqual([
      '2024-03-29T01:30:00.000Z',
      '2024-03-30T01:30:00.000Z',
      // 2024-03-31 02:30 does not exist in Berlin: skipped
      '2024-04-01T00:30:00.000Z',
    ]);
    // A calendar that only ever hits the gap never fires.
    const never = spec({ cron: ['30 2 25-31 3 SUN'], timezone: 'Europe/Berlin' });
    const t0 = Date.now();
    expect(never.next(D('2024-01-01T00:00:00Z'))).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('fires twice for wall times that occur twice (fall-back overlap)', () => {
    const s = spec({ cron: ['30 2 * * *'], timezone: 'Europe/Berlin' });
    expect(isoList(s.between(D('2024-10-26T00:00:00Z'), D('2024-10-28T12:00:00Z')))).toEqual([
      '2024-10-26T00:30:00.000Z',
      '2024-10-27T00:30:00.000Z', // 02:30 CEST
      '2024-10-27T01:30:00.000Z', // 02:30 CET
      '2024-10-28T01:30:00.000Z',
    ]);
    // every 15 minutes keeps a steady 15-minute cadence in UTC across the repeated hour
    const q = spec({ cron: ['*/15 * * * *'], timezone: 'Europe/Berlin' });
    const times = q.between(D('2024-10-26T23:00:00Z'), D('2024-10-27T03:00:00Z')).map((d) => d.getTime());
    expect(times).toHaveLength(16);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(15 * MIN);
    // and loses exactly one hour on the spring-forward night
    const spring = q.between(D('2024-03-30T23:00:00Z'), D('2024-03-31T03:00:00Z')).map((d) => d.getTime());
    expect(spring).toHaveLength(16);
    for (let i = 1; i < spring.length; i++) expect(spring[i]! - spring[i - 1]!).toBe(15 * MIN);
  });

  it('handles the southern hemisphere, half-hour offsets and half-hour DST', () => {
    const syd = spec({ cron: ['0 9 * * *'], timezone: 'Australia/Sydney' });
    expect(iso(syd.next(D('2024-01-10T00:00:00Z')))).toBe('2024-01-10T22:00:00.000Z'); // AEDT +11
    expect(iso(syd.next(D('2024-07-10T00:00:00Z')))).toBe('2024-07-10T23:00:00.000Z'); // AEST +10
    const kol = spec({ cron: ['0 0 * * *'], timezone: 'Asia/Kolkata' });
    expect(iso(kol.next(D('2024-01-10T00:00:00Z')))).toBe('2024-01-10T18:30:00.000Z');
    // Lord Howe: +10:30 standard, +11 in summer (30-minute DST shift on 2024-10-06 02:00)
    const lh = spec({ cron: ['15 2 * * *'], timezone: 'Australia/Lord_Howe' });
    expect(isoList(lh.between(D('2024-10-04T00:00:00Z'), D('2024-10-07T00:00:00Z')))).toEqual([
      '2024-10-04T15:45:00.000Z', // 2024-10-05 02:15 +10:30
      // 02:15 on 2024-10-06 does not exist (02:00 -> 02:30)
      '2024-10-06T15:15:00.000Z', // 2024-10-07 02:15 +11:00
    ]);
  });

  it('matches exclusions on the zone wall clock', () => {
    const s = spec({
      cron: ['0 * * * *'],
      timezone: 'America/New_York',
      excludeCalendars: [cal({ hour: [r(0, 8)], minute: [r(0, 59)], second: [r(0, 59)] })],
    });
    const times = isoList(s.between(D('2024-06-01T00:00:00Z'), D('2024-06-02T00:00:00Z')));
    // 00:00-08:59 New York (EDT, -4) = 04:00Z-12:59Z excluded
    expect(times).toHaveLength(15);
    expect(times[0]).toBe('2024-06-01T01:00:00.000Z');
    expect(times).not.toContain('2024-06-01T04:00:00.000Z');
    expect(times).not.toContain('2024-06-01T12:00:00.000Z');
    expect(times).toContain('2024-06-01T13:00:00.000Z');
  });
});

describe('startTime / endTime / exclusions', () => {
  it('restricts results to the inclusive [startTime, endTime] interval', () => {
    const s = spec({
      cron: ['0 * * * *'],
      startTime: D('2024-01-01T03:00:00Z'),
      endTime: D('2024-01-01T06:00:00Z'),
    });
    expect(iso(s.next(D('2023-01-01T00:00:00Z')))).toBe('2024-01-01T03:00:00.000Z');
    expect(isoList(s.between(D('2020-01-01T00:00:00Z'), D('2030-01-01T00:00:00Z')))).toEqual([
      '2024-01-01T03:00:00.000Z',
      '2024-01-01T04:00:00.000Z',
      '2024-01-01T05:00:00.000Z',
      '2024-01-01T06:00:00.000Z',
    ]);
    expect(s.next(D('2024-01-01T06:00:00Z'))).toBeUndefined();
    const startMidway = spec({ cron: ['0 * * * *'], startTime: D('2024-01-01T03:00:00.001Z') });
    expect(iso(startMidway.next(D('2023-01-01T00:00:00Z')))).toBe('2024-01-01T04:00:00.000Z');
  });

  it('skips excluded times and whole excluded days efficiently', () => {
    const weekdaysOnly = spec({
      cron: ['0 9 * * *'],
      excludeCalendars: [cal({ dayOfWeek: [r(0), r(6)], hour: [r(0, 23)], minute: [r(0, 59)], second: [r(0, 59)] })],
    });
    // 2024-06-07 is a Friday
    expect(iso(weekdaysOnly.next(D('2024-06-07T09:00:00Z')))).toBe('2024-06-10T09:00:00.000Z');
    const holiday = spec({ cron: ['0 9 * * *'], excludeCalendars: [cal({ month: [r(12)], dayOfMonth: [r(25)], hour: [r(9)] })] });
    expect(isoList(holiday.between(D('2024-12-24T00:00:00Z'), D('2024-12-27T00:00:00Z')))).toEqual([
      '2024-12-24T09:00:00.000Z',
      '2024-12-26T09:00:00.000Z',
    ]);
    // every second, excluding all of 2025: one step, not 31 million
    const busy = spec({
      cron: ['* * * * * * *'],
      excludeCalendars: [cal({ year: [r(2025)], hour: [r(0, 23)], minute: [r(0, 59)], second: [r(0, 59)] })],
      timezone: 'Europe/Berlin',
    });
    const t0 = Date.now();
    expect(iso(busy.next(D('2024-12-31T22:59:59Z')))).toBe('2025-12-31T23:00:00.000Z');
    expect(Date.now() - t0).toBeLessThan(2_000);
    // an interval excluded forever terminates
    const dead = spec({
      intervals: [{ everyMs: 1000, offsetMs: 0 }],
      excludeCalendars: [cal({ hour: [r(0, 23)], minute: [r(0, 59)], second: [r(0, 59)] })],
    });
    expect(dead.next(D('2024-01-01T00:00:00Z'))).toBeUndefined();
    // a calendar fully covered by an exclusion is dropped
    const covered = spec({ cron: ['0 9 * * MON'], excludeCalendars: [cal({ hour: [r(9)] })] });
    expect(covered.next(D('2024-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('excludes both instances of a repeated wall time and stops at the overlap edge correctly', () => {
    const s = spec({
      cron: ['*/30 * * * *'],
      timezone: 'Europe/Berlin',
      excludeCalendars: [cal({ hour: [r(2)], minute: [r(30, 59)], second: [r(0, 59)] })],
    });
    expect(isoList(s.between(D('2024-10-26T23:30:00Z'), D('2024-10-27T02:30:00Z')))).toEqual([
      '2024-10-27T00:00:00.000Z', // 02:00 CEST
      // 02:30 CEST excluded
      '2024-10-27T01:00:00.000Z', // 02:00 CET (second pass, not excluded)
      // 02:30 CET excluded
      '2024-10-27T02:00:00.000Z', // 03:00 CET
      '2024-10-27T02:30:00.000Z',
    ]);
  });
});

describe('jitter', () => {
  it('is deterministic, within [0, jitter) and seed dependent', () => {
    const s = spec({ cron: ['0 * * * *'], jitterMs: 10 * MIN });
    const nominal = D('2024-01-01T05:00:00Z');
    const a = s.jittered(nominal, 'sched-a');
    expect(s.jittered(nominal, 'sched-a').getTime()).toBe(a.getTime());
    const offsets = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const j = s.jittered(nominal, `seed-${i}`).getTime() - nominal.getTime();
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThan(10 * MIN);
      expect(Number.isInteger(j)).toBe(true);
      offsets.add(j);
    }
    expect(offsets.size).toBeGreaterThan(190);
    const spread = [...offsets];
    expect(Math.max(...spread)).toBeGreaterThan(8 * MIN);
    expect(Math.min(...spread)).toBeLessThan(2 * MIN);
  });

  it('is zero without jitter and never passes the following nominal time', () => {
    const none = spec({ cron: ['0 * * * *'] });
    expect(none.jittered(D('2024-01-01T05:00:00Z'), 'x').toISOString()).toBe('2024-01-01T05:00:00.000Z');
    const s = spec({ cron: ['*/5 * * * *'], jitterMs: HOUR });
    for (let i = 0; i < 100; i++) {
      const j = s.jittered(D('2024-01-01T05:00:00Z'), `s${i}`).getTime() - D('2024-01-01T05:00:00Z').getTime();
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThan(5 * MIN);
    }
  });
});

describe('performance', () => {
  it('skips by field instead of scanning seconds', () => {
    const yearly = spec({ cron: ['59 23 31 12 *'], timezone: 'America/Los_Angeles' });
    const leapMonday = spec({ calendars: [cal({ month: [r(2)], dayOfMonth: [r(29)], dayOfWeek: [r(1)] })], timezone: 'Europe/Berlin' });
    const t0 = Date.now();
    let a = D('2024-01-01T00:00:00Z');
    for (let i = 0; i < 200; i++) {
      const n = yearly.next(a)!;
      expect(n.getTime()).toBeGreaterThan(a.getTime());
      a = n;
    }
    // the first one is 2023-12-31 23:59 PST = 2024-01-01T07:59Z
    expect(iso(a)).toBe('2223-01-01T07:59:00.000Z');
    a = D('2024-01-01T00:00:00Z');
    const leaps: string[] = [];
    for (let i = 0; i < 4; i++) {
      a = leapMonday.next(a)!;
      leaps.push(iso(a)!);
    }
    expect(leaps).toEqual([
      '2044-02-28T23:00:00.000Z',
      '2072-02-28T23:00:00.000Z',
      '2112-02-28T23:00:00.000Z',
      '2140-02-28T23:00:00.000Z',
    ]);
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  it('enumerates a month of minutes in a DST zone quickly', () => {
    const s = spec({ cron: ['* * * * *'], timezone: 'Europe/Berlin' });
    const t0 = Date.now();
    const all = s.between(D('2024-10-01T00:00:00Z'), D('2024-11-01T00:00:00Z'), 100_000);
    expect(all).toHaveLength(31 * 24 * 60);
    expect(Date.now() - t0).toBeLessThan(3_000);
  });
});

// ---------------------------------------------------------------------------------------
// Cross-check against a brute-force oracle that shares no code with the implementation:
// random field sets are rendered to cron strings, and every minute of a window is checked
// against the sets using Intl directly for the wall clock.

const ORACLE_FMT = new Map<string, Intl.DateTimeFormat>();
function oracleWall(ms: number, zone: string): { y: number; mo: number; d: number; h: number; mi: number; dow: number } {
  let f = ORACLE_FMT.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    ORACLE_FMT.set(zone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(ms)) p[part.type] = part.value;
  return {
    y: Number(p.year),
    mo: Number(p.month),
    d: Number(p.day),
    h: Number(p.hour),
    mi: Number(p.minute),
    dow: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday!),
  };
}

interface RandomField {
  text: string;
  set: Set<number>;
}
function randomField(rand: () => number, min: number, max: number, density: number): RandomField {
  const roll = rand();
  if (roll < density) {
    return { text: '*', set: new Set(Array.from({ length: max - min + 1 }, (_, i) => i + min)) };
  }
  const items: string[] = [];
  const set = new Set<number>();
  const n = 1 + Math.floor(rand() * 3);
  for (let k = 0; k < n; k++) {
    const a = min + Math.floor(rand() * (max - min + 1));
    const kind = rand();
    if (kind < 0.4) {
      items.push(String(a));
      set.add(a);
    } else if (kind < 0.7) {
      const b = a + Math.floor(rand() * (max - a + 1));
      items.push(`${a}-${b}`);
      for (let v = a; v <= b; v++) set.add(v);
    } else {
      const step = 1 + Math.floor(rand() * 10);
      items.push(`${a}/${step}`);
      for (let v = a; v <= max; v += step) set.add(v);
    }
  }
  return { text: items.join(','), set };
}

describe('randomised cross-check against a brute-force oracle', () => {
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Santiago'];
  // windows around DST changes and a leap day
  const windows = ['2024-03-09T00:00:00Z', '2024-03-29T12:00:00Z', '2024-10-25T12:00:00Z', '2024-10-04T00:00:00Z', '2024-02-27T00:00:00Z', '2024-04-05T00:00:00Z'];

  const iterations = Number(process.env.SCHEDULE_SPEC_ORACLE_ITERATIONS ?? 72);
  const toRanges = (set: Set<number>) => [...set].map((v) => r(v));

  it('between() and next() equal the brute-force set of matching minutes (with exclusions)', () => {
    const rand = rng(12345);
    for (let iter = 0; iter < iterations; iter++) {
      const zone = zones[iter % zones.length]!;
      const winStart = D(windows[Math.floor(iter / zones.length) % windows.length]!).getTime();
      const winEnd = winStart + 3 * 24 * HOUR;
      const minute = randomField(rand, 0, 59, 0.3);
      const hour = randomField(rand, 0, 23, 0.3);
      const dom = randomField(rand, 1, 31, 0.7);
      const month = randomField(rand, 1, 12, 0.8);
      const dow = randomField(rand, 0, 6, 0.6);
      const expr = `${minute.text} ${hour.text} ${dom.text} ${month.text} ${dow.text}`;
      // every other iteration: a random exclusion, half of them covering whole minutes
      const withExclusion = iter % 2 === 1;
      const xHour = randomField(rand, 0, 23, 0.2);
      const xMinute = randomField(rand, 0, 59, 0.5);
      const xDow = randomField(rand, 0, 6, 0.5);
      const exclude = cal({
        hour: toRanges(xHour.set),
        minute: toRanges(xMinute.set),
        dayOfWeek: toRanges(xDow.set),
        second: rand() < 0.5 ? [] : [r(0, 59)],
      });
      const s = spec({ cron: [expr], timezone: zone === 'UTC' ? '' : zone, excludeCalendars: withExclusion ? [exclude] : [] });
      const expected: string[] = [];
      for (let t = winStart + MIN; t <= winEnd; t += MIN) {
        const w = oracleWall(t, zone);
        const hit = minute.set.has(w.mi) && hour.set.has(w.h) && dom.set.has(w.d) && month.set.has(w.mo) && dow.set.has(w.dow);
        const excluded = withExclusion && xHour.set.has(w.h) && xMinute.set.has(w.mi) && xDow.set.has(w.dow);
        if (hit && !excluded) expected.push(new Date(t).toISOString());
      }
      const ctx = { expr, zone, exclude: withExclusion ? exclude : undefined };
      const got = isoList(s.between(new Date(winStart), new Date(winEnd), 100_000));
      expect({ ...ctx, got }).toEqual({ ...ctx, got: expected });
      // next() from arbitrary points agrees with the oracle too
      for (let k = 0; k < 5; k++) {
        const after = winStart + Math.floor(rand() * (winEnd - winStart - HOUR));
        const want = expected.find((e) => D(e).getTime() > after);
        if (want !== undefined) expect({ ...ctx, after, got: iso(s.next(new Date(after))) }).toEqual({ ...ctx, after, got: want });
      }
    }
  });
});

describe('fuzz', () => {
  it('random garbage cron strings either parse or throw ScheduleSpecError', () => {
    const rand = rng(987654321);
    const alphabet = ['*', '/', '-', ',', '?', ' ', ' ', ' ', '#', '@', 'L', 'W', 'MON', 'jan', 'every', '1h', 'TZ=', 'CRON_TZ=Europe/Berlin ', '0', '1', '5', '7', '12', '31', '59', '60', '99999999999', '-1', '1.5', 'x', '\t', '\u00e9', '@every ', '@daily', 'ms', 'd', 'Z'];
    let parsed = 0;
    for (let i = 0; i < 5000; i++) {
      const n = 1 + Math.floor(rand() * 14);
      let text = '';
      for (let k = 0; k < n; k++) text += alphabet[Math.floor(rand() * alphabet.length)];
      if (rand() < 0.3) {
        // mostly-valid five-field strings with one mutated field
        const fields = ['*', '*', '*', '*', '*'];
        fields[Math.floor(rand() * 5)] = text.trim() || '*';
        text = fields.join(' ');
      }
      try {
        parseCron(text);
        const s = spec({ cron: [text] });
        s.next(D('2024-01-01T00:00:00Z'));
        parsed++;
      } catch (e) {
        if (!(e instanceof ScheduleSpecError)) throw new Error(`non-ScheduleSpecError for ${JSON.stringify(text)}: ${String(e)}`);
      }
    }
    expect(parsed).toBeGreaterThan(50);
  });

  it('random structured calendars compile or throw ScheduleSpecError, and next() is monotonic', () => {
    const rand = rng(42);
    for (let i = 0; i < 300; i++) {
      const range = () => {
        const start = Math.floor(rand() * 70) - 5;
        return { start, end: start + Math.floor(rand() * 40) - 10, step: Math.floor(rand() * 5) - 1 };
      };
      const field = () => (rand() < 0.4 ? [] : Array.from({ length: 1 + Math.floor(rand() * 2) }, range));
      const c = cal({ second: field(), minute: field(), hour: field(), dayOfMonth: field(), month: field(), dayOfWeek: field() });
      let s: CompiledSpec;
      try {
        s = spec({ calendars: [c], timezone: 'Europe/London' });
      } catch (e) {
        expect(e).toBeInstanceOf(ScheduleSpecError);
        continue;
      }
      let a = D('2024-03-01T00:00:00Z');
      for (let k = 0; k < 5; k++) {
        const n = s.next(a);
        if (!n) break;
        expect(n.getTime()).toBeGreaterThan(a.getTime());
        expect(n.getTime() % 1000).toBe(0);
        a = n;
      }
    }
  });
});
