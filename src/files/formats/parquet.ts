/**
 * Parquet through hyparquet-writer: a flat schema from the contract types, row groups of up to 100,000 rows (fewer
 * when the rows are wide: PARQUET_ROW_GROUP_BYTES), each row group's bytes handed on as soon as it is encoded (only
 * one row group is ever held in memory).
 *
 * | contract type | parquet column |
 * | --- | --- |
 * | text, varchar, char | BYTE_ARRAY, STRING (UTF8) |
 * | boolean | BOOLEAN |
 * | smallint, integer | INT32 (INTEGER(16) / INTEGER(32)) |
 * | bigint | INT64 |
 * | numeric(p,s), numeric(p) | DECIMAL(p,s): INT32 for p ≤ 9, INT64 for p ≤ 18, FIXED_LEN_BYTE_ARRAY beyond |
 * | numeric (no precision) | BYTE_ARRAY STRING, the exact decimal text (DECIMAL needs a fixed scale) |
 * | real / double precision | FLOAT / DOUBLE |
 * | date | INT32 DATE |
 * | time | INT64 TIME(MICROS, not adjusted to UTC) |
 * | timestamp | INT64 TIMESTAMP(MICROS, isAdjustedToUTC false) |
 * | timestamptz | INT64 TIMESTAMP(MICROS, isAdjustedToUTC true) |
 * | interval | BYTE_ARRAY STRING, ISO 8601 (`P1DT2H`; parquet's INTERVAL cannot hold microseconds) |
 * | json, jsonb | BYTE_ARRAY JSON |
 * | uuid | FIXED_LEN_BYTE_ARRAY(16) UUID |
 * | bytea | BYTE_ARRAY |
 *
 * Every column is OPTIONAL (NULL is a null). A value a column cannot hold exactly — a DECIMAL with more decimals
 * than its scale, NaN in a DECIMAL, an infinite date or timestamp — fails the export with the column and value.
 */
import zlib from 'node:zlib';
import type { CompressionCodec, SchemaElement } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { baseType } from '../../product/column-types.js';
import type { TextRow } from './rows.js';
import type { Compression, ExportColumn } from './types.js';
import { byteaBytes, epochDays, epochMicros, timeMicros, unscaledDecimal, ValueError } from './values.js';

/** Most rows in a row group (the writer's own default for all but its first group). */
export const PARQUET_ROW_GROUP_ROWS = 100_000;
/**
 * A row group also ends when its buffered values reach about this many bytes (text length + 24 per value), so wide
 * rows cannot make one row group, and memory, grow without bound. Encoding a row group costs several times its
 * size in short-lived JavaScript objects: measured on an 8-column extract (≈290 such bytes a row), peak RSS was
 * ≈210 MB with 25,000-row groups, ≈270 MB with 50,000, ≈430 MB with 100,000.
 */
export const PARQUET_ROW_GROUP_BYTES = 16 * 1024 * 1024;
const VALUE_OVERHEAD = 24;

type Convert = (text: string) => unknown;

interface ParquetColumn {
  element: SchemaElement;
  convert: Convert;
}

const utf8 = new TextEncoder();
const asText: Convert = (text) => text;
const asNumber: Convert = (text) => Number(text);

/** Bytes of a two's-complement integer holding every value of `precision` decimal digits. */
function decimalBytes(precision: number): number {
  const max = 10n ** BigInt(precision) - 1n;
  let bytes = 1;
  while (max >= 1n << BigInt(8 * bytes - 1)) bytes += 1;
  return bytes;
}

function decimalColumn(name: string, precision: number, scale: number): ParquetColumn {
  const element: SchemaElement = {
    name,
    repetition_type: 'OPTIONAL',
    converted_type: 'DECIMAL',
    logical_type: { type: 'DECIMAL', precision, scale },
    precision,
    scale,
    ...(precision <= 9 ? { type: 'INT32' } : precision <= 18 ? { type: 'INT64' } : { type: 'FIXED_LEN_BYTE_ARRAY', type_length: decimalBytes(precision) }),
  };
  return { element, convert: (text) => unscaledDecimal(text, precision, scale) };
}

function parquetColumn(column: ExportColumn): ParquetColumn {
  const name = column.name;
  const optional = { name, repetition_type: 'OPTIONAL' } as const;
  const string: ParquetColumn = { element: { ...optional, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }, convert: asText };
  const base = baseType(column.type);
  switch (base) {
    case 'boolean':
      return { element: { ...optional, type: 'BOOLEAN' }, convert: (text) => text === 't' };
    case 'smallint':
      return { element: { ...optional, type: 'INT32', converted_type: 'INT_16', logical_type: { type: 'INTEGER', bitWidth: 16, isSigned: true } }, convert: asNumber };
    case 'integer':
    case 'int':
      return { element: { ...optional, type: 'INT32' }, convert: asNumber };
    case 'bigint':
      return { element: { ...optional, type: 'INT64' }, convert: (text) => BigInt(text) };
    case 'numeric': {
      const m = /\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)/.exec(column.type);
      return m ? decimalColumn(name, Number(m[1]), Number(m[2] ?? 0)) : string;
    }
    case 'real':
      return { element: { ...optional, type: 'FLOAT' }, convert: (text) => Math.fround(Number(text)) };
    case 'double precision':
      return { element: { ...optional, type: 'DOUBLE' }, convert: asNumber };
    case 'date':
      return { element: { ...optional, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }, convert: epochDays };
    case 'time':
      return {
        element: { ...optional, type: 'INT64', converted_type: 'TIME_MICROS', logical_type: { type: 'TIME', isAdjustedToUTC: false, unit: 'MICROS' } },
        convert: timeMicros,
      };
    case 'timestamp':
      return { element: { ...optional, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } }, convert: epochMicros };
    case 'timestamptz':
      return {
        element: { ...optional, type: 'INT64', converted_type: 'TIMESTAMP_MICROS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } },
        convert: epochMicros,
      };
    case 'json':
    case 'jsonb':
      // The logical type alone: the writer's JSON converted type would stringify the text a second time.
      return { element: { ...optional, type: 'BYTE_ARRAY', logical_type: { type: 'JSON' } }, convert: (text) => utf8.encode(text) };
    case 'uuid':
      return { element: { ...optional, type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } }, convert: asText };
    case 'bytea':
      return { element: { ...optional, type: 'BYTE_ARRAY' }, convert: byteaBytes };
    default:
      return string;
  }
}

/** The parquet schema of `columns` (exported for the docs and tests). */
export function parquetSchema(columns: readonly ExportColumn[]): SchemaElement[] {
  return [{ name: 'root', num_children: columns.length }, ...columns.map((c) => parquetColumn(c).element)];
}

/** zstd through node:zlib where the Node version has it (22.15 and later); undefined otherwise. */
function zstdCompressor(): ((input: Uint8Array) => Uint8Array) | undefined {
  const compress = (zlib as unknown as { zstdCompressSync?: (input: Uint8Array) => Buffer }).zstdCompressSync;
  return compress ? (input) => compress(input) : undefined;
}

export function zstdAvailable(): boolean {
  return zstdCompressor() !== undefined;
}

/** A ByteWriter whose bytes are taken out after each row group, so its buffer never holds more than one. */
class ChunkWriter extends ByteWriter {
  take(): Buffer | undefined {
    if (this.index === 0) return undefined;
    const chunk = Buffer.from(this.buffer.slice(0, this.index));
    this.index = 0;
    return chunk;
  }
}

export async function* parquetChunks(
  batches: AsyncIterable<TextRow[]>,
  columns: readonly ExportColumn[],
  compression: Compression,
  rowGroupRows = PARQUET_ROW_GROUP_ROWS,
  rowGroupBytes = PARQUET_ROW_GROUP_BYTES,
): AsyncGenerator<Buffer> {
  const specs = columns.map(parquetColumn);
  const codec: CompressionCodec = compression === 'zstd' ? 'ZSTD' : compression === 'none' ? 'UNCOMPRESSED' : 'SNAPPY';
  const zstd = zstdCompressor();
  const writer = new ChunkWriter(1 << 20);
  const parquet = new ParquetWriter({
    writer,
    schema: parquetSchema(columns),
    codec,
    ...(compression === 'zstd' && zstd ? { compressors: { ZSTD: zstd } } : {}),
    createdBy: 'lastmile',
  });
  let data: unknown[][] = specs.map(() => []);
  let buffered = 0;
  let bufferedBytes = 0;
  let rowNumber = 0;
  const flush = (): Buffer | undefined => {
    if (buffered === 0) return writer.take();
    void parquet.write({
      columnData: specs.map((spec, i) => ({ name: columns[i].name, data: data[i] as never })),
      rowGroupSize: buffered,
    });
    data = specs.map(() => []);
    buffered = 0;
    bufferedBytes = 0;
    return writer.take();
  };
  for await (const rows of batches) {
    for (const row of rows) {
      rowNumber += 1;
      for (let i = 0; i < specs.length; i++) {
        const text = row[i];
        if (text === null) {
          data[i].push(null);
        } else {
          data[i].push(convert(specs[i], columns[i], text, rowNumber));
          bufferedBytes += text.length;
        }
      }
      buffered += 1;
      bufferedBytes += VALUE_OVERHEAD * specs.length;
      if (buffered >= rowGroupRows || bufferedBytes >= rowGroupBytes) {
        const chunk = flush();
        if (chunk) yield chunk;
      }
    }
  }
  const last = flush();
  if (last) yield last;
  void parquet.finish();
  const footer = writer.take();
  if (footer) yield footer;
}

function convert(spec: ParquetColumn, column: ExportColumn, text: string, row: number): unknown {
  try {
    return spec.convert(text);
  } catch (error) {
    if (!(error instanceof ValueError)) throw error;
    throw new Error(`Parquet column '${column.name}' (${column.type}) cannot hold the value of row ${row} exactly: ${error.message}.`);
  }
}
