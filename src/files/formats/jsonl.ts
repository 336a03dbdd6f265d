/**
 * JSON Lines: one object per row, keys in column order, `\n` after each. NULL is `null`.
 * - smallint, integer, real, double precision: JSON numbers (Postgres' shortest exact text); NaN and ±Infinity,
 *   which JSON cannot write as numbers, as the strings "NaN", "Infinity", "-Infinity".
 * - bigint and numeric: JSON strings with every digit ("9223372036854775807", "12.3400000000"): a JSON number
 *   beyond 2^53 or with many decimals is rounded by most readers (JavaScript's JSON.parse among them).
 * - boolean: true/false. json/jsonb: the value itself, embedded (line breaks between its tokens become spaces).
 * - date "2026-01-05"; timestamptz "2026-01-05T06:00:00.123456Z" (UTC); timestamp "2026-01-05T06:00:00.123456";
 *   time "06:00:00"; interval ISO 8601 "P1DT2H"; bytea "\\x0aff" (Postgres hex); everything else its text.
 */
import { baseType } from '../../product/column-types.js';
import type { TextRow } from './rows.js';
import type { ExportColumn } from './types.js';
import { isoDate, isoTimestamp } from './values.js';

type Encode = (text: string) => string;

const string: Encode = (text) => JSON.stringify(text);
const number: Encode = (text) => (/^-?(?:Infinity|NaN)$/.test(text) ? `"${text}"` : text);

function encoderFor(column: ExportColumn): Encode {
  switch (baseType(column.type)) {
    case 'smallint':
    case 'integer':
    case 'int':
      return (text) => text;
    case 'real':
    case 'double precision':
      return number;
    case 'boolean':
      return (text) => (text === 't' ? 'true' : 'false');
    case 'json':
    case 'jsonb':
      // Raw line breaks can only stand between tokens (inside a JSON string they are escaped), so spaces keep it.
      return (text) => text.replace(/[\r\n]/g, ' ');
    case 'date':
      return (text) => JSON.stringify(isoDate(text));
    case 'timestamp':
    case 'timestamptz':
      return (text) => JSON.stringify(isoTimestamp(text));
    default:
      return string;
  }
}

export async function* jsonlChunks(batches: AsyncIterable<TextRow[]>, columns: readonly ExportColumn[]): AsyncGenerator<Buffer> {
  const keys = columns.map((c, i) => `${i === 0 ? '{' : ','}${JSON.stringify(c.name)}:`);
  const encoders = columns.map(encoderFor);
  const width = columns.length;
  for await (const rows of batches) {
    let out = '';
    for (const row of rows) {
      for (let i = 0; i < width; i++) {
        const value = row[i];
        out += keys[i] + (value === null ? 'null' : encoders[i](value));
      }
      out += '}\n';
    }
    yield Buffer.from(out, 'utf8');
  }
}
