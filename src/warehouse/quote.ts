/**
 * The one place lastmile quotes SQL. Every schema, table and column name it writes into SQL goes through
 * `quoteIdent`, so a name can never end a quoted identifier and smuggle SQL in; values go in as parameters, except
 * where a statement cannot take them (COPY, DDL such as `comment on`, reproduction SQL people paste), and there
 * `quoteLiteral` writes them exactly as the driver would have sent them.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// The driver's own parameter conversion (what pg-cursor uses too), so a value means the same inlined or bound.
const { prepareValue } = require('pg/lib/utils.js') as { prepareValue(value: unknown): unknown };

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

/**
 * A value as an SQL literal: `NULL`, or a string constant (`'it''s'`; `E'a\\b'` when the text has a backslash, so
 * the literal means the same whatever `standard_conforming_strings` says). Buffers become bytea hex (`'\x0aff'`).
 * Throws on a NUL character, which no Postgres text can hold.
 */
export function quoteLiteral(value: unknown): string {
  const prepared = prepareValue(value);
  if (prepared === null || prepared === undefined) return 'NULL';
  const text = Buffer.isBuffer(prepared) ? `\\x${prepared.toString('hex')}` : String(prepared);
  if (text.includes('\u0000')) {
    throw new Error('A query parameter contains a NUL character (\\u0000), which Postgres text cannot hold; remove it from the value.');
  }
  const quoted = text.replace(/'/g, "''");
  return text.includes('\\') ? `E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}
