/**
 * csv: Postgres writes it — `COPY (<query>) TO STDOUT WITH (FORMAT csv, HEADER true)` — and Node only pipes the
 * bytes on. RFC 4180 quoting as Postgres does it: a field is quoted when it holds a comma, a double quote (doubled
 * inside), CR or LF, or is the empty string; NULL is an empty unquoted field. So `""` is an empty string and nothing
 * between two commas is NULL. Records end with LF. Values print as Postgres prints them in the export session
 * (session.ts): timestamptz `2026-01-05 06:00:00.123456+00`, dates `2026-01-05`, booleans `t`/`f`, numerics with
 * every digit, intervals ISO 8601, bytea `\x0aff`.
 *
 * COPY takes no parameters: a query's `$n` values are written into its text as quoted literals (sql-literal.ts).
 */
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { inlineParameters } from '../../warehouse/inline.js';
import type { ExportColumn } from './types.js';
import { exportSelect } from './session.js';

export type CopyStream = ReturnType<typeof copyTo>;

export function csvCopyStatement(query: { text: string; values: readonly unknown[] }, columns: readonly ExportColumn[]): string {
  const select = exportSelect(inlineParameters(query.text, query.values), columns);
  return `COPY (${select}) TO STDOUT WITH (FORMAT csv, HEADER true)`;
}

/** Starts the COPY on `client`; the stream yields the csv bytes and knows the row count (`rowCount`) at its end. */
export function csvStream(client: pg.PoolClient, query: { text: string; values: readonly unknown[] }, columns: readonly ExportColumn[]): CopyStream {
  return client.query(copyTo(csvCopyStatement(query, columns)));
}
