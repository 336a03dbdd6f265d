/**
 * `slo.deliverBy` deadlines: a time of day in a time zone (`'07:00 Europe/Berlin'`), one deadline a calendar day,
 * expected only on days one of the product's schedules runs.
 *
 * Time zones come from the devserver's schedule engine (offsets from Intl, cached per month) and schedules are
 * evaluated by its compiled Temporal schedule specs, so a deadline and the schedule it follows agree on DST.
 * A deadline whose wall time does not exist that day (the spring-forward gap) falls the length of the gap later
 * (02:30 → 03:30); one that occurs twice (the fall-back overlap) is the earlier instant.
 */
import { compileSpec, type CompiledSpec } from '../../calendar/index.js';
import { MS_PER_DAY, getZone, type Zone } from '../../calendar/index.js';
import type { DeliverBy } from '../product/model.js';
import { DELIVER_BY } from '../product/schemas/product.js';
import type { Schedule } from '../product/targets.js';

/** A parsed `deliverBy`. */
export interface Deadline {
  hour: number;
  minute: number;
  second: number;
  timeZone: string;
  /** the text it was parsed from */
  text: string;
}


/** Parses `'HH:MM[:SS] Zone'`; throws a RangeError saying how to write it. */
export function parseDeliverBy(text: DeliverBy | string): Deadline {
  const match = DELIVER_BY.exec(typeof text === 'string' ? text.trim() : '');
  if (!match) throw new RangeError(`'${String(text)}' is not a time of day with a time zone; write 'HH:MM Zone', e.g. '07:00 Europe/Berlin'.`);
  try {
    getZone(match[4]);
  } catch {
    throw new RangeError(`'${match[4]}' in deliverBy '${text}' is not a known time zone; use an IANA name such as 'Europe/Berlin'.`);
  }
  return { hour: Number(match[1]), minute: Number(match[2]), second: Number(match[3] ?? 0), timeZone: match[4], text: match[0] };
}

const asDeadline = (deliverBy: Deadline | DeliverBy | string): Deadline => (typeof deliverBy === 'string' ? parseDeliverBy(deliverBy) : deliverBy);

/** The instant of the deadline on a local calendar day (days since 1970-01-01 in the deadline's zone). */
function deadlineOnDay(zone: Zone, deadline: Deadline, day: number): number {
  const wall = day * MS_PER_DAY + ((deadline.hour * 60 + deadline.minute) * 60 + deadline.second) * 1000;
  // The offsets in force a day either side cover any transition on this day.
  const before = zone.offsetAt(wall - MS_PER_DAY);
  const after = zone.offsetAt(wall + MS_PER_DAY);
  const candidates = [wall - before, wall - after].filter((instant) => instant + zone.offsetAt(instant) === wall);
  // Overlap: the earlier instant. Gap: the offset before the change, which lands the gap's length later.
  return candidates.length > 0 ? Math.min(...candidates) : wall - before;
}

function localDay(zone: Zone, ms: number): number {
  return Math.floor((ms + zone.offsetAt(ms)) / MS_PER_DAY);
}

/** The latest deadline at or before `instant`. */
export function deadlineAtOrBefore(instant: Date, deliverBy: Deadline | DeliverBy | string): Date {
  const deadline = asDeadline(deliverBy);
  const zone = getZone(deadline.timeZone);
  const ms = instant.getTime();
  const today = localDay(zone, ms);
  for (let day = today + 1; ; day -= 1) {
    const at = deadlineOnDay(zone, deadline, day);
    if (at <= ms) return new Date(at);
  }
}

/** The first deadline strictly after `instant`. */
export function nextDeadlineAfter(instant: Date, deliverBy: Deadline | DeliverBy | string): Date {
  const deadline = asDeadline(deliverBy);
  const zone = getZone(deadline.timeZone);
  const ms = instant.getTime();
  const today = localDay(zone, ms);
  for (let day = today - 1; ; day += 1) {
    const at = deadlineOnDay(zone, deadline, day);
    if (at > ms) return new Date(at);
  }
}

const compiled = new Map<string, CompiledSpec>();

/** The compiled Temporal schedule spec of a product schedule (cached: schedules do not change within a process). */
function scheduleSpec(schedule: Schedule): CompiledSpec {
  const key = `${schedule.timezone}\u0000${schedule.cron}`;
  let spec = compiled.get(key);
  if (!spec) {
    spec = compileSpec({ cron: [schedule.cron], calendars: [], intervals: [], excludeCalendars: [], jitterMs: 0, timezone: schedule.timezone });
    if (compiled.size > 1000) compiled.clear();
    compiled.set(key, spec);
  }
  return spec;
}

/**
 * True when a delivery is due by `deadline`: one of the schedules fires in (deadline − 24h, deadline]. A Mon–Fri
 * product expects nothing on Sunday, a monthly one only on its day.
 */
export function expectedDelivery(deadline: Date, schedules: readonly Schedule[]): boolean {
  const from = new Date(deadline.getTime() - MS_PER_DAY);
  return schedules.some((schedule) => {
    const fire = scheduleSpec(schedule).next(from);
    return fire !== undefined && fire.getTime() <= deadline.getTime();
  });
}

/** The deadlines in (from, to] on which a delivery is expected, oldest first (what an SLO monitor judges). */
export function expectedDeadlines(from: Date, to: Date, deliverBy: Deadline | DeliverBy | string, schedules: readonly Schedule[]): Date[] {
  const deadline = asDeadline(deliverBy);
  const out: Date[] = [];
  for (let at = nextDeadlineAfter(from, deadline); at.getTime() <= to.getTime(); at = nextDeadlineAfter(at, deadline)) {
    if (expectedDelivery(at, schedules)) out.push(at);
  }
  return out;
}

/** The schedules of a product's targets (those that run on a schedule). */
export function productSchedules(product: { readonly serve: readonly { readonly schedule?: Schedule }[] }): Schedule[] {
  return product.serve.flatMap((target) => (target.schedule ? [target.schedule] : []));
}
