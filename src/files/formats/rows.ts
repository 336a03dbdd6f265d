/**
 * Reading the rows of the typed formats (jsonl, parquet, xlsx): a pg-cursor over the export query, a batch at a
 * time, every value as Postgres' text (or null) — no driver parsing, so nothing is rounded or shifted on the way.
 */
import type pg from 'pg';
import Cursor from 'pg-cursor';
import { oidName, typeOid } from '../../product/column-types.js';
import type { ExportColumn } from './types.js';

/** One row: each column's Postgres text output, or null. */
export type TextRow = (string | null)[];

/**
 * Rows per cursor fetch. Small batches stay in V8's young generation (measured: 2,000 rows ran faster and with a
 * third less peak memory than 10,000); with one batch fetched ahead, round trips overlap the writing.
 */
export const BATCH_ROWS = 2000;

const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

interface Batch {
  rows: TextRow[];
  fields: readonly pg.FieldDef[];
}

function readBatch(cursor: Cursor<TextRow>, size: number): Promise<Batch> {
  return new Promise((resolve, reject) => {
    cursor.read(size, (error, rows, result) => (error ? reject(error) : resolve({ rows, fields: result?.fields ?? [] })));
  });
}

/**
 * The rows of `text` (an export select: exactly `columns`, in order) in batches. Before the first batch, checks
 * that each column has the type its contract promises — the typed formats encode by that type.
 */
export async function* readRows(
  client: pg.PoolClient,
  text: string,
  values: readonly unknown[],
  columns: readonly ExportColumn[],
  batchSize = BATCH_ROWS,
): AsyncGenerator<TextRow[]> {
  const cursor = client.query(new Cursor<TextRow>(text, [...values], { rowMode: 'array', types: RAW_TEXT }));
  // One batch ahead: Postgres produces the next batch while this one is written (memory: two batches).
  let next = readBatch(cursor, batchSize);
  let checked = false;
  try {
    for (;;) {
      const { rows, fields } = await next;
      if (!checked) {
        checkTypes(fields, columns);
        checked = true;
      }
      if (rows.length === 0) return;
      next = readBatch(cursor, batchSize);
      yield rows;
    }
  } finally {
    // A consumer that stops early leaves the prefetch behind; its failure (the connection is then destroyed) is moot.
    next.catch(() => undefined);
  }
}

function checkTypes(fields: readonly pg.FieldDef[], columns: readonly ExportColumn[]): void {
  columns.forEach((column, i) => {
    const oid = fields[i]?.dataTypeID;
    const promised = typeOid(column.type);
    if (oid !== undefined && promised !== undefined && oid !== promised) {
      throw new Error(
        `Export column '${column.name}' is declared ${column.type}, but the query returns ${oidName(oid)}. ` +
          `Cast it in the source (${column.name}::${column.type}) or declare the column as ${oidName(oid)}.`,
      );
    }
  });
}
