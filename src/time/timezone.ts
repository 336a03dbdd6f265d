import { closest } from '../text/suggest.js';

/** True for an IANA time zone name this runtime knows (`Europe/Berlin`, `UTC`). */
export function isTimeZone(name: string): boolean {
  if (typeof name !== 'string' || name.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

let zones: string[] | undefined;

/** The closest known IANA time zone to a misspelt one. */
export function suggestTimeZone(name: string): string | undefined {
  zones ??= [...Intl.supportedValuesOf('timeZone'), 'UTC'];
  const lower = name.toLowerCase();
  const city = zones.find((zone) => zone.toLowerCase().endsWith(`/${lower}`));
  return city ?? closest(name, zones);
}

export function timeZoneFix(name: string): string {
  const suggestion = typeof name === 'string' ? suggestTimeZone(name) : undefined;
  return `${suggestion ? `Did you mean '${suggestion}'? ` : ''}Use an IANA time zone name such as 'Europe/Berlin', 'America/New_York' or 'UTC'`;
}
