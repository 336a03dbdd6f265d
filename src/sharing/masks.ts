/**
 * Column masks of a shared view, as SQL over the source row `s`. Every method keeps the column's name; what it keeps
 * of the value:
 *  - `hash`: HMAC-SHA-256 (RFC 2104) of the text of the value under the environment's salt, hex — equal values hash
 *    equally, so joins on the hash still work, and without the salt (kept where consumers cannot read it) nobody can
 *    test guesses. Built from PostgreSQL's own `sha256` over the key's inner and outer pads, stored with the salt
 *    (`keyPads`): no extension is needed, and it is a third faster than pgcrypto's `hmac`;
 *  - `redact`: `'[redacted]'` for any value (NULL stays NULL, so consumers still see which rows have one);
 *  - `null`: always NULL, of the column's type;
 *  - `{ truncate: 'day' | 'week' | 'month' | 'year' }`: a date or timestamp cut down to that precision;
 *  - `{ keepLast: n }`: the last n characters, the rest as `*`.
 */
import { quoteIdent, quoteLiteral, quoteQualified } from '../warehouse/quote.js';
import { PRIVATE_SCHEMA } from './names.js';

export type TruncateUnit = 'day' | 'week' | 'month' | 'year';
export type MaskMethod = 'hash' | 'redact' | 'null' | { readonly truncate: TruncateUnit } | { readonly keepLast: number };

/** The table holding the environment's salt and its HMAC pads: one row, readable by the share owner role only. */
export const SALT_TABLE = quoteQualified(PRIVATE_SCHEMA, 'salt');

/** HMAC-SHA-256's inner and outer pads of a key of at most 64 bytes (the salt: 32). */
export function keyPads(key: Buffer): { ipad: Buffer; opad: Buffer } {
  if (key.length > 64) throw new Error('an HMAC-SHA-256 key of more than 64 bytes must be hashed first');
  const block = Buffer.alloc(64);
  key.copy(block);
  return { ipad: Buffer.from(block.map((b) => b ^ 0x36)), opad: Buffer.from(block.map((b) => b ^ 0x5c)) };
}

/** The SQL of column `name` (of Postgres type `type`) under `method`, named as the column. */
export function maskedColumn(name: string, type: string, method: MaskMethod | undefined): string {
  const column = `s.${quoteIdent(name)}`;
  return `${maskExpression(column, type, method)} as ${quoteIdent(name)}`;
}

function maskExpression(column: string, type: string, method: MaskMethod | undefined): string {
  if (method === undefined) return column;
  if (method === 'null') return `null::${type}`;
  if (method === 'redact') return `case when ${column} is null then null else '[redacted]' end`;
  if (method === 'hash') {
    // H(K ⊕ opad ‖ H(K ⊕ ipad ‖ m)); the pads are read once per statement
    return `encode(sha256((select opad from ${SALT_TABLE}) || sha256((select ipad from ${SALT_TABLE}) || convert_to(${column}::text, 'UTF8'))), 'hex')`;
  }
  if ('truncate' in method) return `date_trunc(${quoteLiteral(method.truncate)}, ${column})::${type}`;
  const n = Math.max(0, Math.floor(method.keepLast));
  return `case when ${column} is null then null else repeat('*', greatest(length(${column}::text) - ${n}, 0)) || right(${column}::text, ${n}) end`;
}

/** For people: `hash`, `keep last 4`, `truncate to month`. */
export function describeMask(method: MaskMethod): string {
  if (typeof method === 'string') return method;
  return 'truncate' in method ? `truncate to ${method.truncate}` : `keep last ${method.keepLast}`;
}
