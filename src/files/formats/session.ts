/**
 * The export's connection: one client taken from the pool, one read-only repeatable-read transaction (the row count
 * of the xlsx limit and the rows written see the same snapshot), and session settings that make Postgres' text
 * output the same on every server whatever its defaults, so every format can take values from it exactly.
 */
import type pg from 'pg';
import { quoteIdent } from '../../warehouse/quote.js';
import type { ExportColumn } from './types.js';

/**
 * Set for the transaction only (`SET LOCAL`): the client goes back to the pool unchanged.
 * - TimeZone UTC: timestamptz prints as `2026-01-05 06:00:00.123456+00` whatever the server's zone.
 * - DateStyle ISO, YMD: dates as `2026-01-05`; IntervalStyle iso_8601: intervals as `P1DT2H`.
 * - extra_float_digits 1: real and double precision print their shortest exact form (the default since PG 12).
 * - bytea_output hex: `\x0aff`.
 */
const BEGIN = [
  'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL IntervalStyle = 'iso_8601'",
  'SET LOCAL extra_float_digits = 1',
  "SET LOCAL bytea_output = 'hex'",
].join('; ');

export async function beginExport(client: pg.PoolClient): Promise<void> {
  await client.query(BEGIN);
}

export async function commitExport(client: pg.PoolClient): Promise<void> {
  await client.query('COMMIT');
}

/**
 * `select "a", "b" from (<query>) as lastmile_export`: exactly the export's columns in their order, whatever else
 * the query returns. The query stands on its own lines so a trailing `--` comment cannot swallow the parenthesis; a
 * trailing semicolon is dropped.
 */
export function exportSelect(text: string, columns: readonly ExportColumn[]): string {
  return `SELECT ${columns.map((c) => quoteIdent(c.name)).join(', ')}\nFROM (\n${subquery(text)}\n) AS lastmile_export`;
}

/** A query to put in parentheses: trimmed, without a trailing semicolon. */
function subquery(text: string): string {
  return text.trim().replace(/[;\s]+$/, '');
}

/** `count(*)` of the query's rows, in the export's snapshot. */
export async function countRows(client: pg.PoolClient, text: string, values: readonly unknown[]): Promise<number> {
  const result = await client.query<{ n: string }>({ text: `SELECT count(*)::text AS n FROM (\n${subquery(text)}\n) AS lastmile_count`, values: [...values] });
  return Number(result.rows[0]!.n);
}

/**
 * Gives up the export's connection after a failure or an abort, making sure its statement stops on the server:
 * the socket is destroyed (a backend sending rows, or waiting for the next fetch, sees the connection gone at
 * once), the client leaves the pool, and `pg_cancel_backend` reaches a backend still computing its first row.
 * Never throws.
 */
export function discardClient(pool: pg.Pool, client: pg.PoolClient, error: Error): void {
  const internal = client as unknown as { processID?: number | null; connection?: { stream?: { destroy?: () => void } } };
  const pid = internal.processID;
  try {
    internal.connection?.stream?.destroy?.();
  } catch {
    // already gone
  }
  client.release(error);
  if (typeof pid === 'number' && pid > 0) pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
}
