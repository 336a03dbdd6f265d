/**
 * The streaming file writers on a real embedded Postgres: every format round-trips a table of awkward values
 * (NULLs and empty strings, unicode, quotes, commas, LF/CRLF/CR inside values, numerics with 38 digits, bigints at
 * the ends of their range, timestamps in several zones, dates at the edges of Excel's calendar) and is read back
 * with an independent reader — Python's csv module, JSON.parse line by line, hyparquet, Python's zipfile +
 * ElementTree — and compared with the query result exactly. Then: compression, errors for impossible
 * combinations, the xlsx row limit, abort (the query stops on the server), progress and backpressure.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnType } from '../../src/product/column-types.js';
import {
  csvCopyStatement,
  exportRows,
  fileExtension,
  parquetSchema,
  resolveCompression,
  XLSX_MAX_DATA_ROWS,
  XLSX_SHEET_ROWS,
  zstdAvailable,
  type ExportColumn,
  type ExportOptions,
  type ExportProgress,
  type ExportResult,
} from '../../src/files/formats/index.js';
import { epochDays, epochMicros, isoDate, isoTimestamp, unscaledDecimal } from '../../src/files/formats/values.js';
import { inlineParameters } from '../../src/warehouse/inline.js';
import { quoteLiteral } from '../../src/warehouse/quote.js';
import { startTestPostgres, type TestPostgres } from '../warehouse/support.js';
import { decimalText, readCsvWithPython, readParquet, readXlsxWithPython, unscaled, type XlsxCell } from './support/readers.js';

let server: TestPostgres;
let pool: pg.Pool;
let dir: string;

/** The table's columns, in output order, with their contract types. */
const COLUMNS: readonly ExportColumn[] = [
  { name: 'id', type: 'integer' },
  { name: 'txt', type: 'text' },
  { name: 'big', type: 'bigint' },
  { name: 'num', type: 'numeric(38,10)' },
  { name: 'dbl', type: 'double precision' },
  { name: 'ts', type: 'timestamptz' },
  { name: 'd', type: 'date' },
  { name: 'flag', type: 'boolean' },
  { name: 'small', type: 'smallint' },
  { name: 'r', type: 'real' },
  { name: 'vc', type: 'varchar(20)' },
  { name: 'free', type: 'numeric' },
  { name: 'n52', type: 'numeric(5,2)' },
  { name: 'n153', type: 'numeric(15,3)' },
  { name: 'u', type: 'uuid' },
  { name: 'j', type: 'jsonb' },
  { name: 'jt', type: 'json' },
  { name: 'bin', type: 'bytea' },
  { name: 'iv', type: 'interval' },
  { name: 'tm', type: 'time' },
  { name: 'tsl', type: 'timestamp' },
];

type Row = Record<string, string | null>;

/** Each row's values as text (Postgres input syntax); missing columns are NULL. */
const ROWS: Row[] = [
  {
    id: '1', txt: 'plain', big: '1', num: '0', dbl: '0', ts: '2026-11-21 06:00:00+00', d: '2026-11-21', flag: 'true',
    small: '1', r: '1.5', vc: 'abc', free: '1', n52: '1.00', n153: '1.000', u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    j: '{"a": 1}', jt: '{"a": 1}', bin: '\\x00', iv: '1 day', tm: '06:00', tsl: '2026-11-21 06:00',
  },
  { id: '2' },
  {
    id: '3', txt: '', big: '9223372036854775807', num: '1234567890123456789012345678.0123456789', dbl: '0.1',
    ts: '2026-03-29 01:30:00.123456+01', d: '1900-01-01', flag: 'false', small: '-32768', r: '0.1', vc: '',
    free: '-0.000000000000000000001', n52: '-999.99', n153: '999999999999.999', u: '00000000-0000-0000-0000-000000000000',
    j: '{"big": 12345678901234567890.5, "s": "line\\nbreak", "u": "🏃"}', jt: '{\n  "a": [1, 2],\r\n  "b": "x"\n}',
    bin: '\\xdeadbeef', iv: '1 year 2 mons 3 days 04:05:06.789', tm: '23:59:59.999999', tsl: '1999-12-31 23:59:59.999999',
  },
  {
    id: '4', txt: 'comma, here', big: '-9223372036854775808', num: '-0.0000000001', dbl: '-Infinity',
    ts: '1999-12-31 23:59:59.999999-08', d: '9999-12-31', flag: 'true', r: 'NaN', free: 'NaN', n153: '-0.001',
    j: '[]', jt: '"just a string"', bin: '\\x', iv: '-00:00:00.000001', tm: '24:00:00', tsl: '0001-01-01 00:00:00',
  },
  { id: '5', txt: 'quote " here and ""double""', big: '9007199254740993', num: '0.1', dbl: 'NaN', ts: '2000-02-29 12:00:00.5+05:30', d: '2000-02-29', r: 'Infinity', free: '12345678901234567890.123456789', j: 'null' },
  { id: '6', txt: 'newline\nhere', big: '123456789012345', num: '12345.6789', dbl: '1e308', ts: '1970-01-01 00:00:00+00', d: '1970-01-01', free: '0' },
  { id: '7', txt: 'crlf\r\nhere and a lone cr\rend', big: '1234567890123456', num: '99999.0000000001', dbl: '-0', d: '1900-03-01' },
  { id: '8', txt: '🏃‍♀️ runs 😀 跑步短裤 e\u0301 ñ', big: '0', num: '123456789012345', dbl: '5e-324', d: '1900-02-28' },
  { id: '9', txt: '  padded\tand\u0001\u001f controls _x0041_ _x005F_ ', big: '-1', num: '-1234567890123456.7890000000', dbl: '1.7976931348623157e308' },
  { id: '10', txt: 'NULL', num: '1.5' },
  { id: '11', txt: '\\.' },
  { id: '12', txt: '<tag attr="x">&amp; a\\b</tag> \'single\'' },
  { id: '13', txt: '"', vc: '"leading quote' },
  { id: '14', txt: ',', d: '2026-02-28', ts: '2026-12-31 23:59:59.999999+14' },
];

const QUERY = { text: `select ${COLUMNS.map((c) => c.name).join(', ')} from fx.t order by id`, values: [] as unknown[] };
/** The export session's output settings (src/files/formats/session.ts), for the expected values. */
const SESSION = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 1; SET bytea_output = 'hex'";

/** id → column → Postgres' text output (null for NULL), read with a plain client: what the query returns. */
let expected: Map<number, Row>;

async function textRows(text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: server.server.urlFor('formats') });
  await client.connect();
  try {
    await client.query(SESSION);
    const result = await client.query({ text, values, types: { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig });
    return result.rows as Row[];
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  server = await startTestPostgres();
  const url = await server.freshDatabase('formats');
  pool = server.pool(url, 4);
  dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-formats-'));
  await pool.query(`create schema fx; create table fx.t (${COLUMNS.map((c) => `${c.name} ${c.type}`).join(', ')})`);
  for (const row of ROWS) {
    const names = COLUMNS.map((c) => c.name);
    await pool.query(
      `insert into fx.t (${names.join(', ')}) values (${names.map((n, i) => `$${i + 1}::${COLUMNS[i].type}`).join(', ')})`,
      names.map((n) => row[n] ?? null),
    );
  }
  expected = new Map((await textRows(QUERY.text)).map((row) => [Number(row.id), row]));
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let fileNumber = 0;
async function exportToFile(options: Partial<ExportOptions> & Pick<ExportOptions, 'format'>): Promise<{ file: string; result: ExportResult; bytes: Buffer }> {
  const file = path.join(dir, `export-${++fileNumber}.${fileExtension(options.format, options.compression)}`);
  const result = await exportRows({ pool, query: QUERY, columns: COLUMNS, sink: createWriteStream(file), ...options });
  const bytes = await readFile(file);
  return { file, result, bytes };
}

function expectChecksum(result: ExportResult, bytes: Buffer): void {
  expect(result.bytes).toBe(bytes.length);
  expect(result.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
}

/**
 * Rows whose read-back value, parsed by Postgres as the column's type, differs from the stored value: Postgres is
 * the independent judge of ISO dates and timestamps.
 */
async function postgresDisagrees(column: string, type: ColumnType, values: Map<number, string | null>): Promise<number[]> {
  const ids = [...values.keys()];
  const { rows } = await pool.query<{ id: number }>(
    `select t.id from fx.t t join unnest($1::int[], $2::text[]) as r(id, v) on r.id = t.id where r.v::${type} is distinct from t.${column} order by t.id`,
    [ids, ids.map((id) => values.get(id))],
  );
  return rows.map((r) => r.id);
}

/** ISO dates and timestamps read back, checked by Postgres at the end (`postgresDisagrees`). */
class TemporalValues {
  private readonly byColumn = new Map<string, Map<number, string | null>>();
  add(column: string, id: number, value: string): void {
    const values = this.byColumn.get(column) ?? new Map<number, string | null>();
    values.set(id, value);
    this.byColumn.set(column, values);
  }
  async expectPostgresAgrees(): Promise<void> {
    for (const [name, values] of this.byColumn) {
      expect(await postgresDisagrees(name, COLUMNS.find((c) => c.name === name)!.type, values), name).toEqual([]);
    }
  }
}

/** Calls `check` with every non-NULL value read back (rows keyed by their id); a NULL must read back as null. */
function forEachValue(rows: Record<string, unknown>[], check: (id: number, column: ExportColumn, pgText: string, value: unknown) => void): void {
  expect(rows).toHaveLength(ROWS.length);
  for (const line of rows) {
    const id = line.id as number;
    const row = expected.get(id)!;
    for (const column of COLUMNS) {
      const pgText = row[column.name];
      if (pgText === null) expect(line[column.name], `${column.name} of row ${id}`).toBeNull();
      else check(id, column, pgText, line[column.name]);
    }
  }
}

const ISO_TIMESTAMPTZ = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/;
const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?$/;
const ISO_DATE = /^\d{4}-\d\d-\d\d$/;

describe('csv', () => {
  it('is Postgres COPY output: Python csv reads back every value of the query exactly', async () => {
    const { file, result, bytes } = await exportToFile({ format: 'csv' });
    expect(result.rows).toBe(ROWS.length);
    expectChecksum(result, bytes);
    const records = readCsvWithPython(file);
    expect(records[0]).toEqual(COLUMNS.map((c) => c.name));
    expect(records.slice(1)).toEqual([...expected.values()].map((row) => COLUMNS.map((c) => row[c.name] ?? '')));
  });

  it('writes an empty string as "" and NULL as nothing, and quotes as RFC 4180 says', async () => {
    const { bytes } = await exportToFile({ format: 'csv' });
    const text = bytes.toString('utf8');
    expect(text).toContain('\n3,"",9223372036854775807,'); // empty string
    expect(text).toMatch(/\n2,{20}\n/); // all NULL
    expect(text).toContain('\n4,"comma, here",');
    expect(text).toContain('\n5,"quote "" here and """"double""""",');
    expect(text).toContain('\n7,"crlf\r\nhere and a lone cr\rend",');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('round-trips through gzip', async () => {
    const { file, result, bytes } = await exportToFile({ format: 'csv', compression: 'gzip' });
    expect(file.endsWith('.csv.gz')).toBe(true);
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expectChecksum(result, bytes);
    const records = readCsvWithPython(file);
    expect(records.slice(1)).toEqual([...expected.values()].map((row) => COLUMNS.map((c) => row[c.name] ?? '')));
  });

  it('inlines $n parameters as literals that mean what the bound parameters mean', async () => {
    const values: unknown[] = [`it's "quoted", back\\slash\nand 🏃`, new Date('2026-01-05T06:00:00.123Z'), '9223372036854775807', null, { a: [1, 'x'] }, Buffer.from([0, 255, 10]), 7, true];
    const text = 'select $1::text as a, $2::timestamptz as b, $3::bigint as c, $4::text as d, $5::jsonb as e, $6::bytea as f, $7 + 1 as g, $8::boolean as h, \'$1\' as i';
    const columns: ExportColumn[] = [
      { name: 'a', type: 'text' }, { name: 'b', type: 'timestamptz' }, { name: 'c', type: 'bigint' }, { name: 'd', type: 'text' },
      { name: 'e', type: 'jsonb' }, { name: 'f', type: 'bytea' }, { name: 'g', type: 'integer' }, { name: 'h', type: 'boolean' }, { name: 'i', type: 'text' },
    ];
    const file = path.join(dir, 'params.csv');
    await exportRows({ pool, query: { text, values }, columns, format: 'csv', sink: createWriteStream(file) });
    const [bound] = await textRows(text, values);
    expect(readCsvWithPython(file)[1]).toEqual(columns.map((c) => bound[c.name] ?? ''));
    expect(bound.i).toBe('$1');
  });
});

describe('the literal helper for COPY', () => {
  it('quotes values as the driver would bind them', async () => {
    const cases: [unknown, string][] = [
      [null, 'text'], [undefined, 'text'], ["it's", 'text'], ['back\\slash', 'text'], ["both ' and \\", 'text'], ['', 'text'],
      ['ünïcødé 🏃‍♀️ 跑', 'text'], [42, 'int'], [-1.5, 'numeric'], [12345678901234567890n, 'numeric'], [true, 'boolean'],
      [new Date('2026-03-29T01:30:00.123Z'), 'timestamptz'], [Buffer.from([0, 1, 254, 255]), 'bytea'], [{ a: "o'k", b: [1, null] }, 'jsonb'],
      [[1, 2, null], 'int[]'], [['a"b', 'c,d', "e'f"], 'text[]'],
    ];
    for (const [value, type] of cases) {
      const bound = await pool.query<{ v: string | null }>({ text: `select ($1::${type})::text as v`, values: [value] });
      const inlined = await pool.query<{ v: string | null }>(`select (${quoteLiteral(value)}::${type})::text as v`);
      expect(inlined.rows[0].v, `${String(value)} as ${type}`).toBe(bound.rows[0].v);
    }
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral('a\\b')).toBe("E'a\\\\b'");
    expect(quoteLiteral(null)).toBe('NULL');
    expect(() => quoteLiteral('nul\u0000')).toThrow(/NUL character/);
  });

  it('replaces placeholders only where Postgres sees them', async () => {
    const text = [
      "select $1 as a, '$2 it''s' as b, 1 as \"$2\", $$ $2 $$ as d, $q$ it's $2 $q$ as e, E'\\' $2' as f,",
      '-- $2 in a comment',
      "/* $2 /* nested $2 */ still $2 */ $2::int + 1 as g, 'x' as \"a$2\", $10 as h",
    ].join('\n');
    const values = ['one', 41, 3, 4, 5, 6, 7, 8, 9, 'ten'];
    const inlined = inlineParameters(text, values);
    expect(inlined).toContain("select 'one' as a, '$2 it''s' as b, 1 as \"$2\", $$ $2 $$ as d, $q$ it's $2 $q$ as e, E'\\' $2' as f,");
    expect(inlined).toContain("*/ '41'::int + 1 as g, 'x' as \"a$2\", 'ten' as h");
    const { rows } = await pool.query(inlined);
    expect(rows[0]).toEqual({ a: 'one', b: "$2 it's", $2: 1, d: ' $2 ', e: " it's $2 ", f: "' $2", g: 42, a$2: 'x', h: 'ten' });
    expect(() => inlineParameters('select $3', [1, 2])).toThrow(/\$3 but 2 parameter/);
    expect(inlineParameters('select a$1 from t', [1])).toBe('select a$1 from t');
  });

  it('builds the COPY statement around the export columns', () => {
    expect(csvCopyStatement({ text: 'select a, "b c" from t where x = $1;  ', values: ['y'] }, [{ name: 'b c', type: 'text' }, { name: 'a', type: 'int' }])).toBe(
      'COPY (SELECT "b c", "a"\nFROM (\nselect a, "b c" from t where x = \'y\'\n) AS lastmile_export) TO STDOUT WITH (FORMAT csv, HEADER true)',
    );
  });
});

describe('jsonl', () => {
  async function readJsonl(bytes: Buffer): Promise<Record<string, unknown>[]> {
    const text = bytes.toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    return text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('reads back line by line as the query result, each type as documented', async () => {
    const { result, bytes } = await exportToFile({ format: 'jsonl' });
    expect(result.rows).toBe(ROWS.length);
    expectChecksum(result, bytes);
    const lines = await readJsonl(bytes);
    expect(lines).toHaveLength(ROWS.length);
    const temporal = new TemporalValues();
    for (const line of lines) expect(Object.keys(line)).toEqual(COLUMNS.map((c) => c.name)); // every column, in order
    forEachValue(lines, (id, { name, type }, pgText, value) => {
      switch (type) {
        case 'integer':
        case 'smallint':
          expect(value, name).toBe(Number(pgText));
          break;
        case 'double precision':
        case 'real':
          if (/^-?(Infinity|NaN)$/.test(pgText)) expect(value, name).toBe(pgText);
          else expect(Object.is(value, Number(pgText)), `${name}: ${String(value)} vs ${pgText}`).toBe(true);
          break;
        case 'boolean':
          expect(value, name).toBe(pgText === 't');
          break;
        case 'jsonb':
        case 'json':
          expect(value, name).toEqual(JSON.parse(pgText));
          break;
        case 'timestamptz':
        case 'timestamp':
        case 'date': {
          expect(value, name).toMatch(type === 'date' ? ISO_DATE : type === 'timestamp' ? ISO_TIMESTAMP : ISO_TIMESTAMPTZ);
          temporal.add(name, id, value as string);
          break;
        }
        default: // text, varchar, bigint and numeric (every digit, as strings), uuid, bytea, interval, time
          expect(value, name).toBe(pgText);
      }
    });
    await temporal.expectPostgresAgrees();
    // The json column's own line breaks did not split the record.
    expect(lines.find((l) => l.id === 3)!.jt).toEqual({ a: [1, 2], b: 'x' });
  });

  it('round-trips through gzip', async () => {
    const plain = await exportToFile({ format: 'jsonl' });
    const { file, result, bytes } = await exportToFile({ format: 'jsonl', compression: 'gzip' });
    expect(file.endsWith('.jsonl.gz')).toBe(true);
    expectChecksum(result, bytes);
    expect(zlib.gunzipSync(bytes).equals(plain.bytes)).toBe(true);
  });
});

describe('parquet', () => {
  it('reads back with hyparquet as the query result, exactly (DECIMAL, INT64, microsecond timestamps)', async () => {
    const { result, bytes } = await exportToFile({ format: 'parquet' });
    expect(result.rows).toBe(ROWS.length);
    expectChecksum(result, bytes);
    const { metadata, schema, rows } = await readParquet(bytes);
    expect(Number(metadata.num_rows)).toBe(ROWS.length);
    expect(metadata.created_by).toBe('lastmile');
    expect(metadata.row_groups[0].columns[0].meta_data?.codec).toBe('SNAPPY');
    expect(schema.num).toMatchObject({ type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, converted_type: 'DECIMAL', precision: 38, scale: 10 });
    expect(schema.n52).toMatchObject({ type: 'INT32', converted_type: 'DECIMAL', precision: 5, scale: 2 });
    expect(schema.n153).toMatchObject({ type: 'INT64', converted_type: 'DECIMAL', precision: 15, scale: 3 });
    expect(schema.ts).toMatchObject({ type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } });
    expect(schema.tsl).toMatchObject({ type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } });
    expect(schema.d).toMatchObject({ type: 'INT32', converted_type: 'DATE' });
    expect(schema.big).toMatchObject({ type: 'INT64' });
    expect(schema.txt).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8' });
    expect(schema.u).toMatchObject({ type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } });
    for (const element of Object.values(schema)) expect(element.repetition_type).toBe('OPTIONAL');

    // Instants and days as Postgres computes them, independently of the writer.
    const exact = new Map(
      (await textRows(`select id, (extract(epoch from ts) * 1000000)::bigint as ts, (extract(epoch from tsl) * 1000000)::bigint as tsl,
          d - date '1970-01-01' as d, (extract(epoch from tm) * 1000000)::bigint as tm from fx.t`)).map((r) => [Number(r.id), r]),
    );
    expect(rows).toHaveLength(ROWS.length);
    forEachValue(rows, (id, { name, type }, pgText, value) => {
      if (type.startsWith('numeric(')) {
        const scale = Number(/,(\d+)\)/.exec(type)?.[1] ?? 0);
        expect(decimalText(unscaled(value), scale), name).toBe(pgText);
      } else if (type === 'bigint') expect(value, name).toBe(BigInt(pgText));
      else if (type === 'integer' || type === 'smallint') expect(value, name).toBe(Number(pgText));
      else if (type === 'double precision') expect(Object.is(value, Number(pgText)), `${name} ${String(value)}`).toBe(true);
      else if (type === 'real') expect(Object.is(value, Math.fround(Number(pgText))), `${name} ${String(value)}`).toBe(true);
      else if (type === 'boolean') expect(value, name).toBe(pgText === 't');
      else if (type === 'timestamptz' || type === 'timestamp' || type === 'time' || type === 'date') {
        const want = exact.get(id)![name]!;
        expect(value, name).toBe(type === 'date' ? Number(want) : BigInt(want));
      } else if (type === 'bytea') expect(Buffer.from(value as Uint8Array).toString('hex'), name).toBe(pgText.slice(2));
      else if (type === 'json' || type === 'jsonb') expect(new TextDecoder().decode(value as Uint8Array), name).toBe(pgText); // JSON bytes, as stored
      else expect(value, name).toBe(pgText); // text, varchar, numeric without precision, uuid, interval
    });
  });

  it('streams row groups: 250,000 rows make three, read back in order', async () => {
    const text = "select i as id, 'row ' || i as label, (i * 1.5)::numeric(12,2) as amount from generate_series(1, 250000) as i";
    const columns: ExportColumn[] = [{ name: 'id', type: 'integer' }, { name: 'label', type: 'text' }, { name: 'amount', type: 'numeric(12,2)' }];
    const file = path.join(dir, 'groups.parquet');
    const result = await exportRows({ pool, query: { text, values: [] }, columns, format: 'parquet', sink: createWriteStream(file) });
    expect(result.rows).toBe(250_000);
    const { metadata, rows } = await readParquet(await readFile(file));
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([100_000, 100_000, 50_000]);
    expect(rows).toHaveLength(250_000);
    for (const i of [1, 99_999, 100_001, 250_000]) {
      expect(rows[i - 1]).toEqual({ id: i, label: `row ${i}`, amount: BigInt(i * 150) });
    }
  });

  it('compresses with snappy by default, zstd where Node has it, or not at all', async () => {
    expect(resolveCompression('parquet')).toBe('snappy');
    const none = await exportToFile({ format: 'parquet', compression: 'none' });
    expect((await readParquet(none.bytes)).metadata.row_groups[0].columns[0].meta_data?.codec).toBe('UNCOMPRESSED');
    if (zstdAvailable()) {
      const zstd = await exportToFile({ format: 'parquet', compression: 'zstd' });
      const decompress = (zlib as unknown as { zstdDecompressSync: (b: Uint8Array) => Uint8Array }).zstdDecompressSync;
      const read = await readParquet(zstd.bytes, { ZSTD: (input) => decompress(input) });
      expect(read.metadata.row_groups[0].columns[0].meta_data?.codec).toBe('ZSTD');
      expect(read.rows).toHaveLength(ROWS.length);
    } else {
      await expect(exportToFile({ format: 'parquet', compression: 'zstd' })).rejects.toThrow(/parquet with compression zstd needs zstd in node:zlib \(Node 22\.15/);
    }
  });

  it('refuses a value a DECIMAL column cannot hold exactly, naming the column and row', async () => {
    const query = { text: 'select x::numeric as x from (values (1.5), (1.234)) as v(x)', values: [] };
    await expect(
      exportRows({ pool, query, columns: [{ name: 'x', type: 'numeric(5,2)' }], format: 'parquet', sink: createWriteStream(path.join(dir, 'bad.parquet')) }),
    ).rejects.toThrow(/Parquet column 'x' \(numeric\(5,2\)\) cannot hold the value of row 2 exactly: 1\.234 has more than 2 decimal places/);
  });

  it('describes the schema of every contract type', () => {
    const schema = parquetSchema(COLUMNS);
    expect(schema[0]).toEqual({ name: 'root', num_children: COLUMNS.length });
    expect(schema.find((e) => e.name === 'free')).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8' });
    expect(schema.find((e) => e.name === 'iv')).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8' });
    expect(schema.find((e) => e.name === 'j')).toMatchObject({ type: 'BYTE_ARRAY', logical_type: { type: 'JSON' } });
    expect(schema.find((e) => e.name === 'tm')).toMatchObject({ type: 'INT64', logical_type: { type: 'TIME', unit: 'MICROS' } });
    expect(schema.find((e) => e.name === 'r')).toMatchObject({ type: 'FLOAT' });
    expect(schema.find((e) => e.name === 'bin')).toEqual({ name: 'bin', repetition_type: 'OPTIONAL', type: 'BYTE_ARRAY' });
  });
});

describe('xlsx', () => {
  const letters = COLUMNS.map((_, i) => String.fromCharCode(65 + i));

  function significant(text: string): number {
    const m = /^-?(\d+)(?:\.(\d+))?$/.exec(text);
    if (!m) return Infinity;
    return `${m[1]}${(m[2] ?? '').replace(/0+$/, '')}`.replace(/^0+/, '').length || 1;
  }

  /** The cell the documented mapping gives a value, or 'iso' for ISO text Postgres must agree with. */
  function expectedCell(type: ColumnType, pgText: string): XlsxCell | 'iso' {
    switch (type) {
      case 'integer':
      case 'smallint':
        return ['n', pgText];
      case 'bigint':
      case 'numeric':
      case 'numeric(38,10)':
      case 'numeric(5,2)':
      case 'numeric(15,3)':
        return significant(pgText) <= 15 ? ['n', pgText] : ['s', pgText];
      case 'double precision':
      case 'real':
        return /^-?(Infinity|NaN)$/.test(pgText) ? ['s', pgText] : ['n', pgText];
      case 'boolean':
        return ['b', pgText === 't'];
      case 'date':
        return pgText >= '1900-03-01' && pgText <= '9999-12-31' ? ['d', pgText] : ['s', pgText];
      case 'timestamptz':
      case 'timestamp':
        return 'iso';
      default:
        return ['s', pgText];
    }
  }

  it('reads back with Python zipfile + ElementTree as the query result, each type as documented', async () => {
    const { file, result, bytes } = await exportToFile({ format: 'xlsx' });
    expect(result.rows).toBe(ROWS.length);
    expectChecksum(result, bytes);
    const book = readXlsxWithPython(file);
    expect(book.entries).toEqual(['[Content_Types].xml', '_rels/.rels', 'xl/workbook.xml', 'xl/_rels/workbook.xml.rels', 'xl/styles.xml', 'xl/worksheets/sheet1.xml']);
    expect(book.sheets).toEqual(['Sheet1']);
    expect(book.rows).toHaveLength(ROWS.length + 1);
    expect(book.rows[0]).toEqual({ r: 1, cells: Object.fromEntries(COLUMNS.map((c, i) => [letters[i], ['s', c.name, 'bold']])) });
    const temporal = new TemporalValues();
    for (const [index, sheetRow] of book.rows.slice(1).entries()) {
      expect(sheetRow.r).toBe(index + 2);
      const id = Number(sheetRow.cells.A[1]);
      const row = expected.get(id)!;
      COLUMNS.forEach(({ name, type }, i) => {
        const cell = sheetRow.cells[letters[i]];
        const pgText = row[name];
        if (pgText === null) {
          expect(cell, `${name} of row ${id} is NULL: no cell`).toBeUndefined();
          return;
        }
        const want = expectedCell(type, pgText);
        if (want === 'iso') {
          expect(cell[0]).toBe('s');
          expect(cell[1]).toMatch(type === 'timestamp' ? ISO_TIMESTAMP : ISO_TIMESTAMPTZ);
          temporal.add(name, id, cell[1] as string);
        } else if (want[0] === 'n' && (type === 'real' || type === 'double precision')) {
          expect(cell[0]).toBe('n');
          expect(Number(cell[1]), name).toBe(Number(pgText));
        } else if (want[0] === 's' && type === 'date') {
          expect(cell, name).toEqual(['s', isoDate(pgText)]);
        } else {
          expect(cell, `${name} of row ${id}`).toEqual(want);
        }
      });
    }
    await temporal.expectPostgresAgrees();
    // The awkward strings survived XML: CR (alone and in CRLF), control characters, Excel's own escape syntax.
    const txt = (id: number) => book.rows.find((r) => r.cells.A[1] === String(id))!.cells.B[1];
    expect(txt(7)).toBe('crlf\r\nhere and a lone cr\rend');
    expect(txt(9)).toBe('  padded\tand\u0001\u001f controls _x0041_ _x005F_ ');
    expect(txt(3)).toBe('');
  });

  it('refuses more rows than the sheet may hold before writing a byte', async () => {
    expect(XLSX_SHEET_ROWS).toBe(1_048_576);
    expect(XLSX_MAX_DATA_ROWS).toBe(1_048_575);
    const chunks: Buffer[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, callback) => (chunks.push(chunk), callback()) });
    await expect(exportRows({ pool, query: QUERY, columns: COLUMNS, format: 'xlsx', sink, maxRows: 10 })).rejects.toThrow(
      /xlsx export refused: the query returns 14 rows, but this sheet may hold at most 10 data rows\. Split the target/,
    );
    expect(chunks).toHaveLength(0);
    const fits = await exportToFile({ format: 'xlsx', maxRows: 14 });
    expect(fits.result.rows).toBe(14);
    // maxRows above the sheet's limit does not lift it.
    const huge = { text: `select i from generate_series(1, ${XLSX_MAX_DATA_ROWS + 1}) as i`, values: [] };
    await expect(
      exportRows({ pool, query: huge, columns: [{ name: 'i', type: 'integer' }], format: 'xlsx', maxRows: 5_000_000, sink: new Writable({ write: (_c, _e, cb) => cb() }) }),
    ).rejects.toThrow(/returns 1,048,576 rows, but this sheet may hold at most 1,048,575 data rows \(an Excel sheet has 1,048,576 rows, the header included\)/);
  });

  it('refuses a cell longer than Excel holds', async () => {
    const query = { text: "select repeat('x', 32768) as long", values: [] };
    await expect(
      exportRows({ pool, query, columns: [{ name: 'long', type: 'text' }], format: 'xlsx', sink: new Writable({ write: (_c, _e, cb) => cb() }) }),
    ).rejects.toThrow(/xlsx cell A2 \(column 'long'\) would hold 32768 characters; an Excel cell holds at most 32767/);
  });
});

describe('options and errors', () => {
  it('names format and compression when they cannot go together', async () => {
    const bad: [ExportOptions['format'], ExportOptions['compression'], RegExp][] = [
      ['xlsx', 'gzip', /Format xlsx cannot use compression 'gzip': an xlsx file is already a compressed zip/],
      ['parquet', 'gzip', /Format parquet cannot use compression 'gzip': parquet compresses its pages itself/],
      ['csv', 'snappy', /Format csv cannot use compression 'snappy'/],
      ['csv', 'zstd', /Format csv cannot use compression 'zstd'/],
      ['jsonl', 'snappy', /Format jsonl cannot use compression 'snappy'/],
    ];
    for (const [format, compression, message] of bad) {
      await expect(exportRows({ pool, query: QUERY, columns: COLUMNS, format, compression, sink: new Writable() })).rejects.toThrow(message);
      expect(() => fileExtension(format, compression)).toThrow(message);
    }
  });

  it('names files by format and compression', () => {
    expect(fileExtension('csv')).toBe('csv');
    expect(fileExtension('csv', 'gzip')).toBe('csv.gz');
    expect(fileExtension('jsonl', 'gzip')).toBe('jsonl.gz');
    expect(fileExtension('jsonl', 'none')).toBe('jsonl');
    expect(fileExtension('parquet')).toBe('parquet');
    expect(fileExtension('parquet', 'snappy')).toBe('parquet');
    expect(fileExtension('xlsx')).toBe('xlsx');
  });

  it('says which column has another type than declared', async () => {
    const columns = COLUMNS.map((c) => (c.name === 'txt' ? { ...c, type: 'bigint' as const } : c));
    await expect(exportRows({ pool, query: QUERY, columns, format: 'jsonl', sink: new Writable({ write: (_c, _e, cb) => cb() }) })).rejects.toThrow(
      /Export column 'txt' is declared bigint, but the query returns text\. Cast it in the source \(txt::bigint\)/,
    );
  });

  it('applies maxRows to any format', async () => {
    await expect(exportRows({ pool, query: QUERY, columns: COLUMNS, format: 'csv', maxRows: 13, sink: new Writable({ write: (_c, _e, cb) => cb() }) })).rejects.toThrow(
      /Export refused: the query returns 14 rows, more than maxRows \(13\)/,
    );
  });

  it('exports zero rows as a header (csv, xlsx), nothing (jsonl) or a schema-only parquet file', async () => {
    const query = { text: `${QUERY.text.replace(' order by id', '')} where false`, values: [] };
    const csv = await exportToFile({ format: 'csv', query });
    expect(csv.bytes.toString()).toBe(`${COLUMNS.map((c) => c.name).join(',')}\n`);
    expect((await exportToFile({ format: 'jsonl', query })).bytes.length).toBe(0);
    const parquet = await readParquet((await exportToFile({ format: 'parquet', query })).bytes);
    expect(parquet.rows).toEqual([]);
    expect(Object.keys(parquet.schema)).toEqual(COLUMNS.map((c) => c.name));
    const xlsx = await exportToFile({ format: 'xlsx', query });
    expect(readXlsxWithPython(xlsx.file).rows).toHaveLength(1);
  });
});

describe('streaming', () => {
  /** A sink that holds every write until `release()`; then it takes everything at once. */
  function stallingSink(): { sink: Writable; release(): void; received(): number } {
    let held: (() => void)[] = [];
    let open = false;
    let bytes = 0;
    const sink = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _e, callback) {
        bytes += chunk.length;
        if (open) callback();
        else held.push(callback);
      },
    });
    return {
      sink,
      release() {
        open = true;
        for (const callback of held) callback();
        held = [];
      },
      received: () => bytes,
    };
  }

  const ROWS_300K = { text: "select i, 'value number ' || i as label from generate_series(1, 300000) as i", values: [] };
  const SMALL_COLUMNS: ExportColumn[] = [{ name: 'i', type: 'integer' }, { name: 'label', type: 'text' }];

  for (const format of ['csv', 'jsonl'] as const) {
    it(`${format}: a stalled sink stops the reading (backpressure), progress arrives once a second`, async () => {
      const stall = stallingSink();
      const progress: ExportProgress[] = [];
      const done = exportRows({ pool, query: ROWS_300K, columns: SMALL_COLUMNS, format, sink: stall.sink, onProgress: (p) => progress.push({ ...p }) });
      await new Promise((resolve) => setTimeout(resolve, 2500));
      // Two ticks while stalled, neither far ahead of what the sink took: memory holds a few batches, not the result.
      expect(progress.length).toBeGreaterThanOrEqual(2);
      expect(progress.length).toBeLessThanOrEqual(3);
      const stalled = progress.at(-1)!;
      expect(stalled.rows).toBeLessThan(40_000);
      expect(stalled.bytes).toBeLessThan(2 * 1024 * 1024);
      stall.release();
      const result = await done;
      expect(result.rows).toBe(300_000);
      expect(progress.at(-1)).toEqual({ rows: 300_000, bytes: result.bytes });
      expect(stall.received()).toBe(result.bytes);
      for (let i = 1; i < progress.length; i++) expect(progress[i].rows).toBeGreaterThanOrEqual(progress[i - 1].rows);
    });
  }

  async function activeQueries(marker: string): Promise<number> {
    const { rows } = await pool.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where query like '%' || $1 || '%' and pid <> pg_backend_pid()",
      [marker],
    );
    return rows[0].n;
  }

  async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await check()) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return false;
  }

  for (const format of ['csv', 'jsonl', 'parquet'] as const) {
    it(`${format}: abort stops the query on the server and rejects`, async () => {
      const marker = `abort_marker_${format}`;
      const query = { text: `select i, repeat('x', 200) as pad /* ${marker} */ from generate_series(1, 3000000) as i`, values: [] };
      const stall = stallingSink();
      const controller = new AbortController();
      let progressed = 0;
      const done = exportRows({
        pool, query, columns: [{ name: 'i', type: 'integer' }, { name: 'pad', type: 'text' }], format, sink: stall.sink,
        signal: controller.signal, onProgress: (p) => (progressed = p.bytes),
      });
      expect(await until(async () => progressed > 0 || stall.received() > 0, 30_000)).toBe(true); // rows are flowing
      expect(await activeQueries(marker)).toBe(1);
      controller.abort();
      const error = await done.catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe('AbortError');
      expect(stall.sink.destroyed).toBe(true);
      expect(await until(async () => (await activeQueries(marker)) === 0, 10_000)).toBe(true);
    });
  }

  it('abort reaches a query still computing its first row', async () => {
    const marker = 'abort_marker_sleep';
    const query = { text: `select pg_sleep(60)::text as slept /* ${marker} */`, values: [] };
    const controller = new AbortController();
    const done = exportRows({ pool, query, columns: [{ name: 'slept', type: 'text' }], format: 'jsonl', sink: new Writable(), signal: controller.signal });
    expect(await until(async () => (await activeQueries(marker)) === 1, 10_000)).toBe(true);
    const started = Date.now();
    controller.abort(new Error('the run was cancelled'));
    const error = (await done.catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('AbortError');
    expect((error.cause as Error).message).toBe('the run was cancelled');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await until(async () => (await activeQueries(marker)) === 0, 10_000)).toBe(true);
  });

  it('gives the connection back to the pool after each export, and replaces it after a failure', async () => {
    const before = pool.totalCount;
    await exportToFile({ format: 'jsonl' });
    await exportToFile({ format: 'csv' });
    expect(pool.idleCount).toBe(pool.totalCount);
    expect(pool.totalCount).toBeGreaterThanOrEqual(Math.min(before, 1));
    await expect(exportRows({ pool, query: { text: 'select 1/0 as x', values: [] }, columns: [{ name: 'x', type: 'integer' }], format: 'csv', sink: new Writable() })).rejects.toThrow(/division by zero/);
    const { rows } = await pool.query('select 1 as one');
    expect(rows).toEqual([{ one: 1 }]);
  });
});

describe('values', () => {
  it('converts dates and timestamps exactly, BC and five-digit years included, agreeing with Postgres', async () => {
    const dates = ['2026-11-21', '1970-01-01', '1900-02-28', '0001-01-01', '0044-03-15 BC', '10000-01-01', '2000-02-29'];
    const rows = await textRows("select d::text as d, (d - date '1970-01-01')::text as days from unnest($1::date[]) as d", [dates]);
    expect(rows).toHaveLength(dates.length);
    for (const row of rows) expect(epochDays(row.d!), row.d!).toBe(Number(row.days));
    expect(isoDate('0044-03-15 BC')).toBe('-0043-03-15');
    expect(isoDate('10000-01-01')).toBe('+10000-01-01');
    expect(isoDate('infinity')).toBe('infinity');

    const stamps = ['2026-03-29 01:30:00.123456+00', '1999-12-31 23:59:59.999999+00', '0044-03-15 12:00:00.5+00 BC', '1900-01-01 00:00:00+00', '2262-04-11 23:47:16.854775+00'];
    const micros = await textRows(`select (extract(epoch from t) * 1000000)::bigint::text as us, t::text as t from unnest($1::timestamptz[]) as t`, [stamps]);
    for (const row of micros) expect(epochMicros(row.t!), row.t!).toBe(BigInt(row.us!));
    expect(isoTimestamp('2026-03-29 01:30:00.123456+00')).toBe('2026-03-29T01:30:00.123456Z');
    expect(isoTimestamp('2026-03-29 01:30:00+05:30')).toBe('2026-03-29T01:30:00+05:30');
    expect(isoTimestamp('2026-03-29 01:30:00')).toBe('2026-03-29T01:30:00');
    expect(isoTimestamp('0044-03-15 12:00:00+00 BC')).toBe('-0043-03-15T12:00:00Z');
    expect(epochMicros('2026-03-29 01:30:00+05:30')).toBe(epochMicros('2026-03-28 20:00:00+00'));
  });

  it('scales decimals without rounding', () => {
    expect(unscaledDecimal('-12.5', 5, 2)).toBe(-1250n);
    expect(unscaledDecimal('0.0000000001', 38, 10)).toBe(1n);
    expect(unscaledDecimal('1234567890123456789012345678.0123456789', 38, 10)).toBe(12345678901234567890123456780123456789n);
    expect(unscaledDecimal('1.50', 3, 1)).toBe(15n);
    expect(() => unscaledDecimal('1.55', 3, 1)).toThrow(/more than 1 decimal places/);
    expect(() => unscaledDecimal('1000', 3, 0)).toThrow(/more than 3 significant digits/);
    expect(() => unscaledDecimal('NaN', 5, 2)).toThrow(/not a finite number/);
  });
});
