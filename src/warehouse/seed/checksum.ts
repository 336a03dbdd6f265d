import { createHash } from 'node:crypto';
import type pg from 'pg';
import { quoteQualified } from '../quote.js';
import { SHOP_TABLES, type ShopTable } from './constants.js';

export interface TableDigest {
  name: ShopTable;
  rows: number;
  /** Sum of the first 64 bits of md5(row text) over all rows: order-independent and exact (numeric). */
  digest: string;
}

/**
 * Settings that fix how rows print as text (time zone, date style), so digests do not depend on the session.
 * Run inside a transaction: `set local` ends with it.
 */
export const STABLE_TEXT_SETTINGS = `set local timezone = 'UTC'; set local datestyle = 'ISO, YMD'; set local extra_float_digits = 1;`;

/**
 * Digests every raw table. Each row's text form is hashed with md5 and the first 64 bits are summed as numeric,
 * so the result is independent of physical row order, needs no giant string (works at any scale) and can use
 * parallel workers. The caller runs it in a transaction with {@link STABLE_TEXT_SETTINGS}.
 */
export async function digestTables(client: pg.ClientBase): Promise<TableDigest[]> {
  const digests: TableDigest[] = [];
  for (const name of SHOP_TABLES) {
    const result = await client.query<{ rows: string; digest: string }>(
      `select count(*)::text as rows,
              coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint::numeric), 0)::text as digest
       from ${quoteQualified('shop', name)} t`,
    );
    const row = result.rows[0];
    digests.push({ name, rows: Number(row?.rows ?? 0), digest: row?.digest ?? '0' });
  }
  return digests;
}

/** Combines table digests into one hex checksum (sha256 over "name:rows:digest" lines in table order). */
export function combineDigests(digests: readonly TableDigest[]): string {
  const hash = createHash('sha256');
  for (const d of digests) hash.update(`${d.name}:${d.rows}:${d.digest}\n`);
  return hash.digest('hex');
}
