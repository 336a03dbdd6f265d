/**
 * The streaming file writers of the `files` serving kind: one call, `exportRows`, writes the rows of a query to a
 * sink as csv, jsonl, parquet or xlsx, with backpressure from the sink back to the warehouse, so memory stays flat
 * whatever the size. csv is Postgres' own COPY output; the others read a cursor 2,000 rows at a time. The exact
 * encoding of every type in every format is in docs/files.md.
 */
import { pipeline } from 'node:stream/promises';
import { Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import { isColumnType } from '../../product/column-types.js';
import { csvStream, type CopyStream } from './csv.js';
import { jsonlChunks } from './jsonl.js';
import { ByteMeter, CsvRecordCounter, progressTicker } from './meter.js';
import { parquetChunks, zstdAvailable } from './parquet.js';
import { readRows, type TextRow } from './rows.js';
import { beginExport, commitExport, countRows, discardClient, exportSelect } from './session.js';
import type { Compression, ExportOptions, ExportResult, FileFormat } from './types.js';
import { XLSX_MAX_DATA_ROWS, XlsxRowLimitError, xlsxStream } from './xlsx.js';

export type { Compression, ExportColumn, ExportOptions, ExportProgress, ExportResult, FileFormat } from './types.js';
export { XLSX_MAX_DATA_ROWS, XLSX_SHEET_ROWS, XLSX_MAX_COLUMNS, XLSX_MAX_CELL_CHARS, XlsxRowLimitError } from './xlsx.js';
export { parquetSchema, PARQUET_ROW_GROUP_ROWS, PARQUET_ROW_GROUP_BYTES, zstdAvailable } from './parquet.js';
export { csvCopyStatement } from './csv.js';

const FORMATS: readonly FileFormat[] = ['csv', 'jsonl', 'parquet', 'xlsx'];

/** Compressions each format can do; the first is its default. */
const COMPRESSIONS: Readonly<Record<FileFormat, readonly Compression[]>> = {
  csv: ['none', 'gzip'],
  jsonl: ['none', 'gzip'],
  parquet: ['snappy', 'zstd', 'none'],
  xlsx: ['none'],
};

/**
 * The compression a format uses when `compression` is given or left out; throws a clear error for a combination
 * the format cannot do (xlsx is a zip already; parquet compresses inside the file; csv/jsonl only gzip) and for
 * zstd where this Node has no zstd (node:zlib has it from Node 22.15).
 */
export function resolveCompression(format: FileFormat, compression?: Compression): Compression {
  if (!FORMATS.includes(format)) throw new Error(`Unknown file format '${String(format)}': use csv, jsonl, parquet or xlsx.`);
  const allowed = COMPRESSIONS[format];
  const chosen = compression ?? allowed[0];
  if (!allowed.includes(chosen)) {
    const hint: Record<FileFormat, string> = {
      csv: 'csv can be gzip-compressed (compression: gzip) or left uncompressed (none)',
      jsonl: 'jsonl can be gzip-compressed (compression: gzip) or left uncompressed (none)',
      parquet: 'parquet compresses its pages itself: use snappy (the default), zstd or none — gzip the file would make it unreadable to parquet readers',
      xlsx: 'an xlsx file is already a compressed zip: leave compression out (none)',
    };
    throw new Error(`Format ${format} cannot use compression '${String(chosen)}': ${hint[format]}.`);
  }
  if (format === 'parquet' && chosen === 'zstd' && !zstdAvailable()) {
    throw new Error(
      `Format parquet with compression zstd needs zstd in node:zlib (Node 22.15 or later); this is Node ${process.versions.node}. ` +
        'Use compression snappy (the default), or run the worker on a newer Node.',
    );
  }
  return chosen;
}

/** The file name extension: `csv`, `csv.gz`, `jsonl`, `jsonl.gz`, `parquet`, `xlsx`. */
export function fileExtension(format: FileFormat, compression?: Compression): string {
  return resolveCompression(format, compression) === 'gzip' ? `${format}.gz` : format;
}

function validate(options: ExportOptions): void {
  const { columns, maxRows } = options;
  if (columns.length === 0) throw new Error('Nothing to export: no columns given.');
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column.name)) throw new Error(`Export column '${column.name}' is listed twice; each column may appear once.`);
    seen.add(column.name);
    if (!isColumnType(column.type)) throw new Error(`Export column '${column.name}' has the unknown type '${String(column.type)}'.`);
  }
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows >= 0)) {
    throw new Error(`maxRows must be a non-negative integer (got ${String(maxRows)}).`);
  }
}

/** The row limit in force: maxRows, and for xlsx never above the sheet's. */
function rowLimit(options: ExportOptions): number | undefined {
  if (options.format !== 'xlsx') return options.maxRows;
  return Math.min(options.maxRows ?? XLSX_MAX_DATA_ROWS, XLSX_MAX_DATA_ROWS);
}

/** The query returns more rows than `maxRows` allows (`exact` false: found while writing, the count is a floor). */
export class RowLimitError extends Error {
  constructor(rows: number, limit: number, exact = true) {
    super(`Export refused: the query returns ${exact ? rows.toLocaleString('en-US') : `more than ${limit.toLocaleString('en-US')}`} rows, more than maxRows (${limit.toLocaleString('en-US')}).`);
    this.name = 'RowLimitError';
  }
}

function limitError(format: FileFormat, rows: number, limit: number, exact: boolean): Error {
  return format === 'xlsx' ? new XlsxRowLimitError(rows, limit, exact) : new RowLimitError(rows, limit, exact);
}

/**
 * Writes the rows of `options.query` to `options.sink` in `options.format` and resolves with the rows written and
 * the size and SHA-256 of the bytes the sink received. The sink is ended; on failure or abort it is destroyed, the
 * query stopped on the server and the promise rejected (the sink then holds a partial file: write to a temporary
 * name, publish on success). An abort rejects with an error named `AbortError`.
 */
export async function exportRows(options: ExportOptions): Promise<ExportResult> {
  validate(options);
  const { pool, query, columns, format, sink, signal } = options;
  const compression = resolveCompression(format, options.compression);
  signal?.throwIfAborted();

  const client = await pool.connect();
  // A connection lost mid-export fails the statement in flight; without a listener its 'error' event would crash.
  const ignore = (): void => undefined;
  client.on('error', ignore);
  let given = false;
  const discard = (error: Error): void => {
    if (given) return;
    given = true;
    discardClient(pool, client, error);
  };
  // An abort while the client waits on the server (computing, or behind a slow sink) must not wait for it.
  const onAbort = (): void => discard(abortError(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });

  const meter = new ByteMeter();
  const state: { rows: number; csv?: CsvRecordCounter } = { rows: 0 };
  const progress = progressTicker(() => ({ rows: state.csv ? Math.max(0, state.csv.records - 1) : state.rows, bytes: meter.bytes }), options.onProgress);
  try {
    await beginExport(client);
    const limit = rowLimit(options);
    if (limit !== undefined) {
      const rows = await countRows(client, query.text, query.values);
      if (rows > limit) throw limitError(format, rows, limit, true);
    }
    let source: Readable;
    const stages: Transform[] = [];
    let copy: CopyStream | undefined;
    if (format === 'csv') {
      copy = csvStream(client, query, columns);
      state.csv = new CsvRecordCounter();
      source = copy;
      stages.push(state.csv);
    } else {
      const batches = countBatches(readRows(client, exportSelect(query.text, columns), query.values, columns), state, (rows) => {
        if (limit !== undefined && rows > limit) throw limitError(format, rows, limit, false);
      });
      if (format === 'jsonl') source = Readable.from(jsonlChunks(batches, columns), { objectMode: false });
      else if (format === 'parquet') source = Readable.from(parquetChunks(batches, columns, compression), { objectMode: false });
      else source = xlsxStream(batches, columns, limit ?? XLSX_MAX_DATA_ROWS);
    }
    if (compression === 'gzip') stages.push(zlib.createGzip());
    const streams = [source, ...stages, meter, sink] as readonly NodeJS.WritableStream[];
    await pipeline(streams, signal ? { signal } : {});
    await commitExport(client);
    if (copy) {
      state.rows = copy.rowCount;
      state.csv = undefined;
    }
    signal?.removeEventListener('abort', onAbort);
    given = true;
    client.removeListener('error', ignore);
    client.release();
    progress.stop(true);
    return { rows: state.rows, bytes: meter.bytes, sha256: meter.digest() };
  } catch (error) {
    const failure = signal?.aborted ? abortError(signal, error) : error instanceof Error ? error : new Error(String(error));
    signal?.removeEventListener('abort', onAbort);
    progress.stop(false);
    discard(failure);
    // Destroyed without the error: a sink nobody listens to for 'error' must not take the process down.
    if ((sink as { destroyed?: boolean }).destroyed !== true) (sink as { destroy?: () => void }).destroy?.();
    throw failure;
  }
}

/** What an aborted export rejects with: an `AbortError` carrying the signal's reason. */
function abortError(signal: AbortSignal, cause?: unknown): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return Object.assign(new Error('The export was aborted.', { cause: reason ?? cause }), { name: 'AbortError' });
}

/** Counts the rows on their way to the writer, and applies `check` to the running count. */
async function* countBatches(batches: AsyncIterable<TextRow[]>, state: { rows: number }, check: (rows: number) => void): AsyncGenerator<TextRow[]> {
  for await (const rows of batches) {
    check(state.rows + rows.length);
    state.rows += rows.length;
    yield rows;
  }
}
