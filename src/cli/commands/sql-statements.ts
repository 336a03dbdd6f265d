/**
 * Statements typed at `lastmile sql` run without psql: each sent as written (several `;`-separated ones at once
 * are fine), each result printed as psql prints it — a table of the rows as text with `(N rows)`, or the command
 * tag (`INSERT 0 3`) — or, with --json, as JSON.
 */
import type pg from 'pg';
import { table } from '../output.js';

/** One statement's result. */
export interface StatementResult {
  command: string;
  rowCount: number | null;
  /** column names, in order (several may share a name) */
  columns: string[];
  /** each row as the text Postgres sent (NULL as null) */
  rows: (string | null)[][];
}

// Every value as the text Postgres sent, as psql shows it (no conversion to numbers, Dates or objects).
const AS_TEXT: pg.CustomTypesConfig = { getTypeParser: (() => (value: string) => value) as unknown as pg.CustomTypesConfig['getTypeParser'] };

/** Runs `text` (one or several statements) and returns each statement's result. */
export async function runStatements(client: pg.ClientBase, text: string): Promise<StatementResult[]> {
  const raw: unknown = await client.query({ text, rowMode: 'array', types: AS_TEXT });
  const results = (Array.isArray(raw) ? raw : [raw]) as pg.QueryArrayResult<(string | null)[]>[];
  return results.map((r) => ({
    command: r.command,
    rowCount: r.rowCount,
    columns: (r.fields ?? []).map((f) => f.name),
    rows: r.rows ?? [],
  }));
}

/** A result as psql shows it: the table and `(N rows)`, or the command tag for statements without rows. */
export function formatResult(result: StatementResult): string {
  if (result.columns.length === 0) return tag(result);
  const count = result.rows.length === 1 ? '(1 row)' : `(${result.rows.length} rows)`;
  return `${table(result.columns, result.rows.map((row) => row.map((value) => value ?? '')))}\n${count}`;
}

/** A result as JSON: `{ command, rowCount, rows: [{ column: text }] }`, NULL as null. */
export function resultJson(result: StatementResult): { command: string; rowCount: number | null; rows: Record<string, string | null>[] } {
  return {
    command: result.command,
    rowCount: result.rowCount,
    rows: result.rows.map((row) => Object.fromEntries(result.columns.map((name, i) => [name, row[i] ?? null]))),
  };
}

function tag(result: StatementResult): string {
  if (result.command === 'INSERT') return `INSERT 0 ${result.rowCount ?? 0}`;
  return result.rowCount === null ? result.command : `${result.command} ${result.rowCount}`;
}
