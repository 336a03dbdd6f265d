/**
 * Postgres text output → the values the typed formats write. Every value reaches the writers as the exact text
 * Postgres prints for it under the export session's settings (session.ts: TimeZone UTC, DateStyle ISO,
 * IntervalStyle iso_8601, extra_float_digits 1, bytea_output hex), so nothing is lost on the way: numerics keep all
 * their digits, timestamps their microseconds.
 */

/** `2026-01-05`, `0044-03-15 BC` (DateStyle ISO). */
const DATE = /^(\d{4,})-(\d\d)-(\d\d)( BC)?$/;
/** `2026-01-05 06:00:00.123456+00`; the offset only for timestamptz. */
const TIMESTAMP = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-]\d\d(?::\d\d){0,2})?( BC)?$/;
const TIME = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/;
const NUMERIC = /^(-)?(\d+)(?:\.(\d+))?$/;
const PLAIN_NUMBER = /^-?\d+(?:\.\d+)?$/;

const MICROS_PER_DAY = 86_400_000_000n;

export class ValueError extends Error {}

/** Days since 1970-01-01 of a proleptic Gregorian date, for any year (0 = 1 BC, -1 = 2 BC). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The astronomical year of Postgres' year text: `0044 … BC` is -43. */
function astronomicalYear(year: string, bc: string | undefined): number {
  return bc ? 1 - Number(year) : Number(year);
}

/** An ISO 8601 year: 4 digits, a sign when outside 0000–9999. */
function isoYear(year: number): string {
  if (year < 0) return `-${String(-year).padStart(4, '0')}`;
  return year > 9999 ? `+${year}` : String(year).padStart(4, '0');
}

/** `YYYY-MM-DD` (ISO 8601; years BC as negative astronomical years); `infinity`/`-infinity` stay as they are. */
export function isoDate(text: string): string {
  const m = DATE.exec(text);
  if (!m) return text;
  return `${isoYear(astronomicalYear(m[1], m[4]))}-${m[2]}-${m[3]}`;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.ffffff]` plus `Z` for a timestamptz (the session prints it in UTC), or the offset as
 * printed. `infinity`/`-infinity` stay as they are.
 */
export function isoTimestamp(text: string): string {
  // The common case, a 4-digit year AD in UTC, by position: `2026-01-05 06:00:00.123456+00`.
  if (isPlainTimestamp(text)) {
    return text.endsWith('+00') ? `${text.slice(0, 10)}T${text.slice(11, -3)}Z` : `${text.slice(0, 10)}T${text.slice(11)}`;
  }
  const m = TIMESTAMP.exec(text);
  if (!m) return text;
  const fraction = m[7] === undefined ? '' : `.${m[7]}`;
  const offset = m[8] === undefined ? '' : /^[+-]00(?::00){0,2}$/.test(m[8]) ? 'Z' : isoOffset(m[8]);
  return `${isoYear(astronomicalYear(m[1], m[9]))}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${fraction}${offset}`;
}

/** `+05` → `+05:00`; `+05:30` and `+05:30:15` as printed. */
function isoOffset(offset: string): string {
  return offset.length === 3 ? `${offset}:00` : offset;
}

/** `YYYY-MM-DD HH:MM:SS[.f…]` with a 4-digit year AD, optionally `+00`: what nearly every value looks like. */
function isPlainTimestamp(text: string): boolean {
  const n = text.length;
  if (n < 19 || text.charCodeAt(4) !== 45 || text.charCodeAt(10) !== 32 || text.charCodeAt(n - 1) === 67 /* BC */) return false;
  const end = text.charCodeAt(n - 3) === 43 /* + */ ? n - 3 : n;
  if (end !== n && (text.charCodeAt(n - 2) !== 48 || text.charCodeAt(n - 1) !== 48)) return false;
  return end === 19 || (text.charCodeAt(19) === 46 && end > 20 && end <= 26 && !/\D/.test(text.slice(20, end)));
}

/** The number written in `text[start, end)` (ASCII digits only). */
function digitsAt(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}

/** Days since 1970-01-01 of a date's text; throws on `infinity`. */
export function epochDays(text: string): number {
  if (text.length === 10 && text.charCodeAt(4) === 45) return daysFromCivil(digitsAt(text, 0, 4), digitsAt(text, 5, 7), digitsAt(text, 8, 10));
  const m = DATE.exec(text);
  if (!m) throw new ValueError(`'${text}' is not a finite date`);
  return daysFromCivil(astronomicalYear(m[1], m[4]), Number(m[2]), Number(m[3]));
}

/** Microseconds since 1970-01-01T00:00:00 (UTC for a timestamptz) of a timestamp's text; throws on `infinity`. */
export function epochMicros(text: string): bigint {
  if (isPlainTimestamp(text)) {
    const days = daysFromCivil(digitsAt(text, 0, 4), digitsAt(text, 5, 7), digitsAt(text, 8, 10));
    const seconds = digitsAt(text, 11, 13) * 3600 + digitsAt(text, 14, 16) * 60 + digitsAt(text, 17, 19);
    const end = text.endsWith('+00') ? text.length - 3 : text.length;
    const micros = end > 20 ? digitsAt(text, 20, end) * 10 ** (26 - end) : 0;
    // The microseconds within a day (< 2^37) add exactly as doubles.
    return BigInt(days) * MICROS_PER_DAY + BigInt(seconds * 1_000_000 + micros);
  }
  const m = TIMESTAMP.exec(text);
  if (!m) throw new ValueError(`'${text}' is not a finite timestamp`);
  const days = daysFromCivil(astronomicalYear(m[1], m[9]), Number(m[2]), Number(m[3]));
  const seconds = Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]) - offsetSeconds(m[8]);
  const micros = m[7] === undefined ? 0 : Number(m[7].padEnd(6, '0'));
  return BigInt(days) * MICROS_PER_DAY + BigInt(seconds) * 1_000_000n + BigInt(micros);
}

function offsetSeconds(offset: string | undefined): number {
  if (offset === undefined) return 0;
  const [h, m = '0', s = '0'] = offset.slice(1).split(':');
  const seconds = Number(h) * 3600 + Number(m) * 60 + Number(s);
  return offset[0] === '-' ? -seconds : seconds;
}

/** Microseconds since midnight of a `time` value's text (`24:00:00` is 86,400,000,000). */
export function timeMicros(text: string): bigint {
  const m = TIME.exec(text);
  if (!m) throw new ValueError(`'${text}' is not a time of day`);
  const seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return BigInt(seconds) * 1_000_000n + BigInt(m[4] === undefined ? 0 : Number(m[4].padEnd(6, '0')));
}

/**
 * The unscaled integer of a numeric's text at `scale` decimals (`'-12.5'` at scale 2 is -1250n), checked against
 * `precision` digits. Throws on NaN/Infinity, on more digits than the precision holds and on nonzero digits beyond
 * the scale — a DECIMAL column must hold the exact value or nothing.
 */
export function unscaledDecimal(text: string, precision: number, scale: number): bigint {
  // The common case: exactly `scale` decimals (a numeric(p,s) column prints so) — drop the point.
  const dot = text.indexOf('.');
  if ((dot === -1 ? scale === 0 : text.length - dot - 1 === scale) && PLAIN_NUMBER.test(text)) {
    const digits = dot === -1 ? text : text.slice(0, dot) + text.slice(dot + 1);
    const negative = text.charCodeAt(0) === 45;
    if (digits.length - (negative ? 1 : 0) <= precision) return BigInt(digits);
  }
  const m = NUMERIC.exec(text);
  if (!m) throw new ValueError(`'${text}' is not a finite number`);
  const fraction = m[3] ?? '';
  if (fraction.length > scale && /[1-9]/.test(fraction.slice(scale))) {
    throw new ValueError(`${text} has more than ${scale} decimal places`);
  }
  const digits = `${m[2]}${fraction.slice(0, scale).padEnd(scale, '0')}`.replace(/^0+(?=\d)/, '');
  if (digits.length > precision && digits !== '0') throw new ValueError(`${text} has more than ${precision} significant digits`);
  const value = BigInt(digits);
  return m[1] ? -value : value;
}

/** Significant digits of a plain decimal's text (`-0.00120` → 2); Infinity for anything else. */
export function significantDigits(text: string): number {
  const m = NUMERIC.exec(text);
  if (!m) return Infinity;
  const digits = `${m[2]}${(m[3] ?? '').replace(/0+$/, '')}`.replace(/^0+/, '');
  return digits.length === 0 ? 1 : digits.length;
}

/** bytea hex output (`\x0aff`) → bytes. */
export function byteaBytes(text: string): Uint8Array {
  if (!text.startsWith('\\x')) throw new ValueError('bytea is not in hex output format');
  return Buffer.from(text.slice(2), 'hex');
}
