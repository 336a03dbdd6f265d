/** How SLO figures read for people: ages, lateness, lookbacks and shares. */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * A span in its two largest units: `'45 s'`, `'38 min'`, `'7h 12m'`, `'2d 3h'`; whole units alone (`'1h'`, `'30d'`).
 * Below a minute, seconds with at most one decimal (`'4.5 s'`); below a second, milliseconds.
 */
export function span(ms: number): string {
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs < SECOND) return `${sign}${Math.round(abs)} ms`;
  if (abs < MINUTE) return `${sign}${Number((abs / SECOND).toFixed(1))} s`;
  if (abs < HOUR) {
    const minutes = Math.floor(abs / MINUTE);
    const seconds = Math.round((abs % MINUTE) / SECOND);
    return `${sign}${minutes} min${seconds > 0 && minutes < 10 ? ` ${seconds} s` : ''}`;
  }
  const [big, bigUnit, small, smallUnit] = abs < DAY ? [HOUR, 'h', MINUTE, 'm'] : [DAY, 'd', HOUR, 'h'];
  const whole = Math.floor(abs / big);
  const rest = Math.floor((abs % big) / small);
  return `${sign}${whole}${bigUnit}${rest > 0 ? ` ${rest}${smallUnit}` : ''}`;
}

/** A share as a percentage with at most two decimals: `0.982` → `'98.2 %'`, `1` → `'100 %'`, `-1` → `'-100 %'`. */
export function percent(share: number): string {
  return `${Number((share * 100).toFixed(2))} %`;
}

/** A figure without the noise of binary floating point (`1 - 0.02 / 0.01` is -1, not -0.9999999999999982). */
export function tidy(value: number): number {
  return Number(value.toPrecision(12));
}
