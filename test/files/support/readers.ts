/**
 * Independent readers for the export round trips: Python's standard library for csv (csv module, gzip) and xlsx
 * (zipfile + xml.etree), hyparquet for parquet. None of them shares code with the writers under test.
 */
import { execFileSync } from 'node:child_process';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import type { FileMetaData, SchemaElement } from 'hyparquet';

function python(script: string, file: string): unknown {
  const out = execFileSync('python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(out);
}

const CSV_READER = `
import csv, gzip, io, json, sys
path = sys.argv[1]
raw = gzip.open(path, 'rb') if path.endswith('.gz') else open(path, 'rb')
text = io.TextIOWrapper(raw, encoding='utf-8', newline='')
print(json.dumps(list(csv.reader(text))))
`;

/** Every record of a csv (or csv.gz) file as Python's csv module reads it (strict RFC 4180 quoting). */
export function readCsvWithPython(file: string): string[][] {
  return python(CSV_READER, file) as string[][];
}

const XLSX_READER = `
import json, re, sys, zipfile
import xml.etree.ElementTree as ET
from datetime import date, timedelta
M = '{http://schemas.openxmlformats.org/spreadsheetml/2006/main}'
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
def unescape(s):
    return re.sub(r'_x([0-9A-Fa-f]{4})_', lambda m: chr(int(m.group(1), 16)), s)
styles = ET.fromstring(z.read('xl/styles.xml'))
formats = {f.get('numFmtId'): f.get('formatCode') for f in styles.iter(M + 'numFmt')}
xfs = [xf for xf in styles.find(M + 'cellXfs')]
workbook = ET.fromstring(z.read('xl/workbook.xml'))
sheets = [s.get('name') for s in workbook.iter(M + 'sheet')]
sheet = ET.fromstring(z.read('xl/worksheets/sheet1.xml'))
rows = []
for row in sheet.find(M + 'sheetData').findall(M + 'row'):
    r = int(row.get('r'))
    cells = {}
    for c in row.findall(M + 'c'):
        ref = c.get('r')
        m = re.fullmatch(r'([A-Z]+)(\\d+)', ref)
        assert int(m.group(2)) == r, ref
        t, s = c.get('t'), c.get('s')
        fmt = formats.get(xfs[int(s)].get('numFmtId')) if s else None
        if t == 'inlineStr':
            node = c.find(M + 'is').find(M + 't')
            cells[m.group(1)] = ['s', unescape(node.text or '')]
        elif t == 'b':
            cells[m.group(1)] = ['b', c.find(M + 'v').text == '1']
        elif t is None and fmt == 'yyyy-mm-dd':
            serial = int(c.find(M + 'v').text)
            cells[m.group(1)] = ['d', (date(1899, 12, 30) + timedelta(days=serial)).isoformat()]
        elif t is None:
            cells[m.group(1)] = ['n', c.find(M + 'v').text]
        else:
            raise Exception('unexpected cell type %s in %s' % (t, ref))
        if s and xfs[int(s)].get('fontId') == '1':
            cells[m.group(1)].append('bold')
    rows.append({'r': r, 'cells': cells})
print(json.dumps({'entries': z.namelist(), 'sheets': sheets, 'rows': rows}))
`;

/** A cell: `['s', text]`, `['n', number text]`, `['b', bool]`, `['d', 'YYYY-MM-DD']` (a date-formatted serial); `'bold'` appended when styled so. */
export type XlsxCell = [kind: 's' | 'n' | 'b' | 'd', value: string | boolean, style?: 'bold'];

export interface XlsxContent {
  entries: string[];
  sheets: string[];
  rows: { r: number; cells: Record<string, XlsxCell> }[];
}

/** The first sheet of an xlsx file as Python's zipfile and ElementTree read it (Excel's `_xHHHH_` escapes decoded). */
export function readXlsxWithPython(file: string): XlsxContent {
  return python(XLSX_READER, file) as XlsxContent;
}

export interface ParquetContent {
  metadata: FileMetaData;
  /** Leaf schema elements by column name. */
  schema: Record<string, SchemaElement>;
  rows: Record<string, unknown>[];
}

/**
 * A parquet file read by hyparquet, with every value kept exact: timestamps as bigint microseconds, dates as day
 * numbers, DECIMAL columns as their unscaled integers (hyparquet would otherwise turn them into doubles), byte
 * arrays without a string type as bytes.
 */
export async function readParquet(bytes: Uint8Array, compressors?: Record<string, (input: Uint8Array, outputLength: number) => Uint8Array>): Promise<ParquetContent> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const metadata = parquetMetadata(file);
  const schema: Record<string, SchemaElement> = {};
  for (const element of metadata.schema.slice(1)) schema[element.name] = { ...element };
  const raw: FileMetaData = {
    ...metadata,
    schema: metadata.schema.map((e) => (e.converted_type === 'DECIMAL' ? { ...e, converted_type: undefined, logical_type: undefined } : e)),
  };
  const rows = (await parquetReadObjects({
    file,
    metadata: raw,
    utf8: false,
    ...(compressors && { compressors }),
    parsers: {
      timestampFromMicroseconds: (micros: bigint) => micros,
      dateFromDays: (days: number) => days,
    },
  })) as Record<string, unknown>[];
  return { metadata, schema, rows };
}

/** A DECIMAL's unscaled value as read (INT32 number, INT64 bigint or big-endian two's complement bytes). */
export function unscaled(value: unknown): bigint {
  if (typeof value === 'number') return BigInt(value);
  if (typeof value === 'bigint') return value;
  if (value instanceof Uint8Array) {
    let n = 0n;
    for (const byte of value) n = n * 256n + BigInt(byte);
    const bits = BigInt(value.length * 8);
    return value.length > 0 && value[0]! >= 0x80 ? n - (1n << bits) : n;
  }
  throw new Error(`not a DECIMAL value: ${String(value)}`);
}

/** The text of an unscaled integer at `scale` decimals, as Postgres prints a numeric(p,s): `-1250n, 2` → `-12.50`. */
export function decimalText(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}
