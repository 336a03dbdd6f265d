/** What a finding may show of a credential: its first 4 characters and '…' (fewer for short values, none when tiny). */
export function mask(value: string): string {
  const shown = value.length >= 12 ? 4 : value.length >= 6 ? 2 : 0;
  return `${value.slice(0, shown)}…`;
}
