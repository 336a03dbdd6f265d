/**
 * Time zone support for schedule evaluation, built only on `Intl.DateTimeFormat`.
 *
 * A zone is modelled as a piecewise-constant UTC offset. For each UTC calendar month we
 * discover the offset transitions once (probe the offset every 24h, then bisect each change
 * down to the second) and cache them, so evaluating a schedule costs a handful of
 * arithmetic operations per candidate instead of an Intl call.
 *
 * Limitation (documented, practically irrelevant): two transitions less than 24h apart that
 * cancel each other out (A -> B -> A within a day) are not detected.
 *
 * Also here: proleptic-Gregorian civil date arithmetic on "days since 1970-01-01", used for
 * wall-clock times (a wall time is represented as the number of seconds since
 * 1970-01-01T00:00:00 *local*, i.e. as if the wall clock were UTC).
 */
import { ScheduleSpecError } from './cron.js';

export const MS_PER_DAY = 86_400_000;

/** Days since 1970-01-01 for a proleptic Gregorian date (month 1-12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  // Treat March as the first month so the leap day is the last day of the "year".
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400; // 0..399
  const monthFromMarch = (month + 9) % 12; // Mar=0 .. Feb=11
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** Inverse of {@link daysFromCivil}. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** 0 = Sunday .. 6 = Saturday. */
export function weekdayFromDays(days: number): number {
  return (((days + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month - 1]!;
}

/** A stretch of time with a constant UTC offset: [.., endMs). */
export interface ZoneSegment {
  /** wall clock = instant + offsetMs */
  offsetMs: number;
  /** first instant (ms) at which the offset may differ; Infinity if never */
  endMs: number;
}

export interface Zone {
  /** Canonical name ('UTC' for the UTC fast path). */
  readonly name: string;
  offsetAt(ms: number): number;
  /** Offset at `ms` and the end of the constant-offset stretch containing it. */
  segmentAt(ms: number): ZoneSegment;
}

const UTC_ZONE: Zone = {
  name: 'UTC',
  offsetAt: () => 0,
  segmentAt: () => ({ offsetMs: 0, endMs: Infinity }),
};

interface ChunkInfo {
  endMs: number;
  startOffset: number;
  transitions: { at: number; offset: number }[];
}

const PARTS_RE = /^(\d+)\/(\d+)\/(\d+),? (\d+):(\d+):(\d+)$/;

class IntlZone implements Zone {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly chunks = new Map<number, ChunkInfo>();

  constructor(readonly name: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Offset straight from Intl (ms, whole seconds). */
  private rawOffset(ms: number): number {
    const t = Math.floor(ms / 1000) * 1000;
    let y: number, mo: number, d: number, h: number, mi: number, s: number;
    const m = PARTS_RE.exec(this.fmt.format(t));
    if (m) {
      [y, mo, d, h, mi, s] = [m[3], m[1], m[2], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
    } else {
      // Unusual output (e.g. an era suffix): fall back to the slower structured API.
      const parts: Record<string, string> = {};
      for (const p of this.fmt.formatToParts(t)) parts[p.type] = p.value;
      y = Number(parts.year);
      if (parts.era && /^b/i.test(parts.era)) y = 1 - y;
      mo = Number(parts.month);
      d = Number(parts.day);
      h = Number(parts.hour) % 24;
      mi = Number(parts.minute);
      s = Number(parts.second);
    }
    const wall = daysFromCivil(y, mo, d) * MS_PER_DAY + h * 3_600_000 + mi * 60_000 + s * 1000;
    return wall - t;
  }

  /** Transitions within one UTC calendar month (months since year 0: year * 12 + month - 1). */
  private chunk(key: number): ChunkInfo {
    const cached = this.chunks.get(key);
    if (cached) return cached;
    const year = Math.floor(key / 12);
    const month = key - year * 12 + 1;
    const startMs = daysFromCivil(year, month, 1) * MS_PER_DAY;
    const endMs = (month === 12 ? daysFromCivil(year + 1, 1, 1) : daysFromCivil(year, month + 1, 1)) * MS_PER_DAY;
    const startOffset = this.rawOffset(startMs);
    const transitions: { at: number; offset: number }[] = [];
    let lo = startMs;
    let current = startOffset;
    while (lo < endMs) {
      const hi = Math.min(lo + MS_PER_DAY, endMs);
      let hiOffset = this.rawOffset(hi);
      // There may be more than one transition in (lo, hi]; find them left to right.
      while (hiOffset !== current) {
        let a = lo / 1000;
        let b = hi / 1000;
        while (b - a > 1) {
          const mid = Math.floor((a + b) / 2);
          if (this.rawOffset(mid * 1000) === current) a = mid;
          else b = mid;
        }
        const at = b * 1000;
        if (at >= endMs) break; // belongs to the next chunk's startOffset
        current = this.rawOffset(at);
        transitions.push({ at, offset: current });
        lo = at;
        hiOffset = this.rawOffset(hi);
      }
      lo = hi;
    }
    const info = { endMs, startOffset, transitions };
    if (this.chunks.size > 20_000) this.chunks.clear(); // bound memory for long-running processes
    this.chunks.set(key, info);
    return info;
  }

  segmentAt(ms: number): ZoneSegment {
    const { year, month } = civilFromDays(Math.floor(ms / MS_PER_DAY));
    const info = this.chunk(year * 12 + month - 1);
    let offsetMs = info.startOffset;
    for (const tr of info.transitions) {
      if (tr.at > ms) return { offsetMs, endMs: tr.at };
      offsetMs = tr.offset;
    }
    return { offsetMs, endMs: info.endMs };
  }

  offsetAt(ms: number): number {
    return this.segmentAt(ms).offsetMs;
  }
}

const zones = new Map<string, Zone>();

/**
 * Resolves an IANA zone name ('' or 'UTC' = UTC). Throws ScheduleSpecError for an
 * unknown zone. Zones are cached process-wide (with their discovered transitions).
 */
export function getZone(name: string): Zone {
  if (name === '' || name === 'UTC') return UTC_ZONE;
  const cached = zones.get(name);
  if (cached) return cached;
  if (typeof name !== 'string' || name.trim() !== name || name.length > 100) {
    throw new ScheduleSpecError(`timezone ${JSON.stringify(name)} is not a known IANA time zone`);
  }
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    throw new ScheduleSpecError(`timezone ${JSON.stringify(name)} is not a known IANA time zone`);
  }
  const zone = ['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Etc/UCT', 'UCT', 'Etc/Zulu', 'Zulu', 'Etc/Universal', 'Universal'].includes(
    resolved,
  )
    ? UTC_ZONE
    : new IntlZone(resolved);
  zones.set(name, zone);
  return zone;
}
