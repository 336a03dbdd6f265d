import type pg from 'pg';
import type { ColumnType } from '../../product/column-types.js';
import type { FileCompression, FileFormat } from '../../product/targets.js';

export type { FileFormat };

/** `gzip` for csv / jsonl; `snappy` (the parquet default) or `zstd` for parquet; `none` otherwise. */
export type Compression = FileCompression;

/** One output column: its name in the query's result and its contract type, which decides the typed encodings. */
export interface ExportColumn {
  name: string;
  type: ColumnType;
}

export interface ExportOptions {
  /** The warehouse. One client is taken for the export and given back (destroyed when the export fails). */
  pool: pg.Pool;
  /** The rows to export: resolved SQL returning (at least) `columns`, with `$n` parameters in `values`. */
  query: { text: string; values: unknown[] };
  /** In output order. */
  columns: readonly ExportColumn[];
  format: FileFormat;
  /** Default: `snappy` for parquet, `none` for the others. A combination the format cannot do is an error. */
  compression?: Compression;
  /**
   * Where the bytes go (a file stream, an upload stream…), written with backpressure. exportRows ends it when the
   * file is complete and resolves once it has finished; when the export fails the sink is destroyed with the error.
   */
  sink: NodeJS.WritableStream;
  /** Rows and bytes written so far: about once a second while the export runs, and once at the end. */
  onProgress?: (p: ExportProgress) => void;
  /** Abort: the query is stopped on the server, the sink destroyed, and exportRows rejects with an AbortError. */
  signal?: AbortSignal;
  /**
   * Refuse a query returning more rows than this (counted with `count(*)` in the export's snapshot before a byte is
   * written). xlsx always has a limit: the sheet's 1,048,575 data rows (`XLSX_MAX_DATA_ROWS`), or this when lower.
   */
  maxRows?: number;
}

export interface ExportProgress {
  rows: number;
  bytes: number;
}

/** What was written to the sink: the rows, and the size and SHA-256 (hex) of the bytes after compression. */
export interface ExportResult {
  rows: number;
  bytes: number;
  sha256: string;
}
