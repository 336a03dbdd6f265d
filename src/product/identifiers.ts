/**
 * The one quoting helper for SQL identifiers. Every schema, table and column name that lastmile writes into SQL
 * goes through `quoteIdent`, so a name can never end a quoted identifier and smuggle SQL in.
 */

/** Quotes one identifier for Postgres: wraps it in double quotes and doubles any double quote inside. */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError('An SQL identifier must be a non-empty string.');
  }
  if (name.includes('\u0000')) {
    throw new TypeError('An SQL identifier cannot contain a NUL character.');
  }
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a qualified name part by part: `quoteQualified('marts', 'returns_weekly')` gives `"marts"."returns_weekly"`. */
export function quoteQualified(...parts: readonly string[]): string {
  if (parts.length === 0) throw new TypeError('A qualified SQL name needs at least one part.');
  return parts.map(quoteIdent).join('.');
}
