import { createHash } from 'node:crypto';
import { quoteQualified } from '../quote.js';
import type { SeedChecksum, SeedDb } from './spec.js';

/**
 * Settings that fix how rows print as text (time zone, date style), so digests do not depend on the session.
 * `applySeed` and `seedChecksum` set them in their transaction before a seed's `checksum` runs.
 */
export const STABLE_TEXT_SETTINGS = `set local timezone = 'UTC'; set local datestyle = 'ISO, YMD'; set local extra_float_digits = 1;`;

export interface TableDigest {
  name: string;
  rows: number;
  /** Sum of the first 64 bits of md5(row text) over all rows: order-independent and exact (numeric). */
  digest: string;
}

/**
 * Digests tables of one schema, in the order given. Each row's text form is hashed with md5 and the first 64 bits
 * are summed as numeric, so the result is independent of physical row order, needs no giant string (works at any
 * scale) and can use parallel workers.
 */
export async function digestTables(db: SeedDb, schema: string, tables: readonly string[]): Promise<TableDigest[]> {
  const digests: TableDigest[] = [];
  for (const name of tables) {
    const result = await db.query<{ rows: string; digest: string }>(
      `select count(*)::text as rows,
              coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint::numeric), 0)::text as digest
       from ${quoteQualified(schema, name)} t`,
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

/**
 * The usual `checksum` of a seed: the tables of `schema` (named without it, in this order) with their row counts and
 * one checksum over their contents, equal for equal contents whatever the row order.
 */
export async function checksumTables(db: SeedDb, schema: string, tables: readonly string[]): Promise<SeedChecksum> {
  const digests = await digestTables(db, schema, tables);
  return { tables: digests.map(({ name, rows }) => ({ name, rows })), checksum: combineDigests(digests) };
}
