/** A duration written the way people say it: `'90s'`, `'15m'`, `'26h'`, `'28d'`, `'2w'`. */
export type DurationText = `${number}${DurationUnit}`;
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w';

const UNIT_MS: Record<DurationUnit, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/** Milliseconds of a duration text, or undefined when the text is not a valid positive duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : undefined;
}

/** Milliseconds of a duration that was validated before; throws on invalid text. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new RangeError(`'${text}' is not a duration; write a number and a unit, e.g. '26h' or '28d'.`);
  return ms;
}

export const DURATION_HELP = "a positive number followed by one unit: ms, s, m, h, d or w, e.g. '26h' or '28d'";
