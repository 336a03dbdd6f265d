/**
 * xlsx: a workbook of one sheet (`Sheet1`), the header row in bold and frozen, then one row per query row. The sheet
 * XML is generated row by row into a deflated zip entry (yazl) — never held whole.
 *
 * Cells:
 * - NULL: no cell at all (an empty cell); an empty string: a text cell holding "" (so the two stay apart).
 * - text and every type without a better cell (uuid, time, interval, json, bytea as `\x…`, char…): inline strings.
 *   Characters XML 1.0 cannot carry are written as Excel's `_xHHHH_` escapes (and a literal `_xHHHH_` in the data
 *   as `_x005F_xHHHH_`); a carriage return as `&#13;` so that CRLF survives XML's line-end normalisation.
 * - smallint, integer: numbers. bigint, numeric: numbers when exact — at most 15 significant digits, all Excel
 *   keeps — otherwise text with every digit (per cell: a column can mix both).
 * - real, double precision: numbers (Excel holds doubles); NaN and ±Infinity as text.
 * - boolean: TRUE/FALSE cells.
 * - date: a real Excel date (serial day number, shown `yyyy-mm-dd`) from 1900-03-01 to 9999-12-31, the range where
 *   Excel counts days correctly; other dates as ISO text.
 * - timestamp, timestamptz: ISO 8601 text (`2026-01-05T06:00:00.123456Z`): Excel has no time zones and keeps
 *   milliseconds at best.
 * A sheet holds 1,048,576 rows (header included) and 16,384 columns; a cell at most 32,767 characters — a longer
 * value fails the export (Excel would truncate it or call the file corrupt).
 */
import { PassThrough, Readable } from 'node:stream';
import yazl from 'yazl';
import { baseType } from '../../product/column-types.js';
import type { TextRow } from './rows.js';
import type { ExportColumn } from './types.js';
import { epochDays, isoDate, isoTimestamp, significantDigits } from './values.js';

/** Rows in one sheet, the header row included. */
export const XLSX_SHEET_ROWS = 1_048_576;
/** Data rows in one sheet: all but the header. */
export const XLSX_MAX_DATA_ROWS = XLSX_SHEET_ROWS - 1;
export const XLSX_MAX_COLUMNS = 16_384;
export const XLSX_MAX_CELL_CHARS = 32_767;

/** Days from Excel's day 0 (1899-12-30 in the 1900 date system) to 1970-01-01. */
const EXCEL_EPOCH_OFFSET = 25_569;
const EXCEL_FIRST_TRUE_DATE = 61; // 1900-03-01: before it Excel counts a 29 February 1900 that never was
const EXCEL_LAST_DATE = 2_958_465; // 9999-12-31

const STYLE_DATE = 1;
const STYLE_HEADER = 2;

/** Zip entries get a fixed time, so the same rows make the same bytes (and checksum) on a rerun. */
const MTIME = new Date(Date.UTC(2000, 0, 1));

/** Column letters: 0 → A, 25 → Z, 26 → AA. */
export function columnLetters(index: number): string {
  let n = index + 1;
  let out = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    out = String.fromCharCode(65 + rem) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

/**
 * What a `<t>` cannot hold as it is: XML's specials, CR (line-end normalisation would make it LF), the control
 * characters and non-characters XML 1.0 forbids, unpaired surrogates, and text that reads as an `_xHHHH_` escape.
 * NEEDS_ESCAPE is the quick test (it also matches paired surrogates, which ESCAPES then leaves alone).
 */
const NEEDS_ESCAPE = /[&<>\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff\ud800-\udfff]|_x[0-9A-Fa-f]{4}_/;
const ESCAPES = /[&<>\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|_(?=x[0-9A-Fa-f]{4}_)/g;

function escapeChar(c: string): string {
  switch (c) {
    case '&':
      return '&amp;';
    case '<':
      return '&lt;';
    case '>':
      return '&gt;';
    case '\r':
      return '&#13;';
    case '_':
      return '_x005F_';
    default:
      return `_x${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`;
  }
}

/** Text as the content of a `<t>` element (see the module comment for the escapes). */
export function xmlText(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPES, escapeChar) : text;
}

function inlineString(ref: string, text: string, style = ''): string {
  const space = /^\s|\s$/.test(text) ? ' xml:space="preserve"' : '';
  return `<c r="${ref}"${style} t="inlineStr"><is><t${space}>${xmlText(text)}</t></is></c>`;
}

type Cell = (ref: string, text: string) => string;

const textCell: Cell = (ref, text) => inlineString(ref, text);
const numberCell: Cell = (ref, text) => `<c r="${ref}"><v>${text}</v></c>`;

function cellFor(column: ExportColumn): Cell {
  switch (baseType(column.type)) {
    case 'smallint':
    case 'integer':
    case 'int':
      return numberCell;
    case 'bigint':
    case 'numeric':
      return (ref, text) => (significantDigits(text) <= 15 ? numberCell(ref, text) : textCell(ref, text));
    case 'real':
    case 'double precision':
      return (ref, text) => (/^-?(?:Infinity|NaN)$/.test(text) ? textCell(ref, text) : numberCell(ref, text));
    case 'boolean':
      return (ref, text) => `<c r="${ref}" t="b"><v>${text === 't' ? 1 : 0}</v></c>`;
    case 'date':
      return (ref, text) => {
        const serial = /^\d{4}-\d\d-\d\d$/.test(text) ? epochDays(text) + EXCEL_EPOCH_OFFSET : NaN;
        return serial >= EXCEL_FIRST_TRUE_DATE && serial <= EXCEL_LAST_DATE
          ? `<c r="${ref}" s="${STYLE_DATE}"><v>${serial}</v></c>`
          : textCell(ref, isoDate(text));
      };
    case 'timestamp':
    case 'timestamptz':
      return (ref, text) => textCell(ref, isoTimestamp(text));
    default:
      return textCell;
  }
}

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const MAIN_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';

const CONTENT_TYPES =
  `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
  '<Default Extension="xml" ContentType="application/xml"/>' +
  '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
  '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' +
  '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
  '</Types>';

const ROOT_RELS =
  `${XML_HEAD}<Relationships xmlns="${PKG_REL_NS}">` +
  `<Relationship Id="rId1" Type="${REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>`;

const WORKBOOK =
  `${XML_HEAD}<workbook xmlns="${MAIN_NS}" xmlns:r="${REL_NS}">` +
  '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>';

const WORKBOOK_RELS =
  `${XML_HEAD}<Relationships xmlns="${PKG_REL_NS}">` +
  `<Relationship Id="rId1" Type="${REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>` +
  `<Relationship Id="rId2" Type="${REL_NS}/styles" Target="styles.xml"/></Relationships>`;

/** Style 0 plain, 1 date (`yyyy-mm-dd`), 2 bold (the header). */
const STYLES =
  `${XML_HEAD}<styleSheet xmlns="${MAIN_NS}">` +
  '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>' +
  '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>' +
  '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
  '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
  '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
  '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>' +
  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
  '</styleSheet>';

const SHEET_HEAD =
  `${XML_HEAD}<worksheet xmlns="${MAIN_NS}">` +
  '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>' +
  '<sheetData>';
const SHEET_TAIL = '</sheetData></worksheet>';

async function* sheetXml(batches: AsyncIterable<TextRow[]>, columns: readonly ExportColumn[], maxRows: number): AsyncGenerator<Buffer> {
  const letters = columns.map((_, i) => columnLetters(i));
  const cells = columns.map(cellFor);
  const header = columns.map((c, i) => inlineString(`${letters[i]}1`, c.name, ` s="${STYLE_HEADER}"`)).join('');
  yield Buffer.from(`${SHEET_HEAD}<row r="1">${header}</row>`, 'utf8');
  let sheetRow = 1;
  for await (const rows of batches) {
    let out = '';
    for (const row of rows) {
      sheetRow += 1;
      if (sheetRow - 1 > maxRows) throw new XlsxRowLimitError(sheetRow - 1, maxRows, false);
      out += `<row r="${sheetRow}">`;
      for (let i = 0; i < cells.length; i++) {
        const text = row[i];
        if (text === null) continue;
        if (text.length > XLSX_MAX_CELL_CHARS) {
          throw new Error(
            `xlsx cell ${letters[i]}${sheetRow} (column '${columns[i].name}') would hold ${text.length} characters; ` +
              `an Excel cell holds at most ${XLSX_MAX_CELL_CHARS}. Shorten the value in the source or export csv, jsonl or parquet.`,
          );
        }
        out += cells[i](`${letters[i]}${sheetRow}`, text);
      }
      out += '</row>';
    }
    yield Buffer.from(out, 'utf8');
  }
  yield Buffer.from(SHEET_TAIL, 'utf8');
}

export class XlsxRowLimitError extends Error {
  /** `rows`: the query's row count, or (exact false) the row at which writing found the limit passed. */
  constructor(rows: number, limit: number, exact = true) {
    super(
      `xlsx export refused: the query returns ${exact ? rows.toLocaleString('en-US') : `more than ${limit.toLocaleString('en-US')}`} rows, ` +
        `but this sheet may hold at most ${limit.toLocaleString('en-US')} data rows` +
        (limit === XLSX_MAX_DATA_ROWS ? ` (an Excel sheet has ${XLSX_SHEET_ROWS.toLocaleString('en-US')} rows, the header included)` : '') +
        '. Split the target into smaller files (rowsPerFile or splitBy), or serve csv, jsonl or parquet.',
    );
    this.name = 'XlsxRowLimitError';
  }
}

/**
 * The workbook's bytes as a stream. The sheet's rows are pulled from `batches` as the zip is read, so the sink's
 * backpressure reaches the cursor. A failure while generating the sheet destroys the returned stream with it.
 */
export function xlsxStream(batches: AsyncIterable<TextRow[]>, columns: readonly ExportColumn[], maxRows: number): Readable {
  if (columns.length > XLSX_MAX_COLUMNS) {
    throw new Error(`xlsx export refused: ${columns.length} columns, but an Excel sheet has ${XLSX_MAX_COLUMNS.toLocaleString('en-US')}. Export fewer columns or another format.`);
  }
  const zip = new yazl.ZipFile();
  const options = { mtime: MTIME, compress: true };
  zip.addBuffer(Buffer.from(CONTENT_TYPES), '[Content_Types].xml', options);
  zip.addBuffer(Buffer.from(ROOT_RELS), '_rels/.rels', options);
  zip.addBuffer(Buffer.from(WORKBOOK), 'xl/workbook.xml', options);
  zip.addBuffer(Buffer.from(WORKBOOK_RELS), 'xl/_rels/workbook.xml.rels', options);
  zip.addBuffer(Buffer.from(STYLES), 'xl/styles.xml', options);
  const sheet = Readable.from(sheetXml(batches, columns, maxRows), { objectMode: false });
  const output = new PassThrough();
  zip.outputStream.pipe(output);
  // yazl pipes the sheet without passing its errors on: the output stream carries them.
  sheet.once('error', (error) => output.destroy(error));
  output.once('close', () => sheet.destroy());
  zip.addReadStream(sheet, 'xl/worksheets/sheet1.xml', options);
  zip.end();
  return output;
}
