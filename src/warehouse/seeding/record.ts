/**
 * The record of what was seeded: one row in table `_seed` of the seed's first schema, written in the seeding
 * transaction. It lives with the data, so dropping the schema forgets the seed too.
 *
 * lastmile before seeds were declarations (the example data built into the framework) wrote `shop._seed` without a
 * `seed` column; such a table is recognised as an older lastmile's record: the schemas are lastmile's, and rebuilt.
 */
import { quoteLiteral, quoteQualified } from '../quote.js';
import type { SeedDb, SeedTable } from './spec.js';

/** The record's table, in a seed's first schema. */
export const SEED_RECORD_TABLE = '_seed';

/** How the comment of a record table begins (also the one older lastmile versions wrote). */
const RECORD_COMMENT_PREFIX = 'Written by the lastmile seeder';

export type SeedRecord =
  | { kind: 'current'; seed: string; version: number; scale: number; checksum: string; tables: SeedTable[] }
  /** Written by an older lastmile: its schemas are lastmile's own; the seed is rebuilt. */
  | { kind: 'older'; version: number; scale: number }
  /** A `_seed` table that lastmile did not write. */
  | { kind: 'foreign' };

export function recordTableName(schema: string): string {
  return `${schema}.${SEED_RECORD_TABLE}`;
}

/** Reads the record in `schema`, if there is one. */
export async function readSeedRecord(db: SeedDb, schema: string): Promise<SeedRecord | undefined> {
  const found = await db.query<{ present: boolean; current: boolean; comment: string | null }>(
    `select to_regclass($1) is not null as present,
            exists (select from information_schema.columns
                    where table_schema = $2 and table_name = $3 and column_name = 'seed') as current,
            obj_description(to_regclass($1), 'pg_class') as comment`,
    [quoteQualified(schema, SEED_RECORD_TABLE), schema, SEED_RECORD_TABLE],
  );
  const info = found.rows[0];
  if (!info?.present) return undefined;
  if (!info.comment?.startsWith(RECORD_COMMENT_PREFIX)) return { kind: 'foreign' };
  const table = quoteQualified(schema, SEED_RECORD_TABLE);
  if (!info.current) {
    const older = await db.query<{ version: number; scale: number }>(`select version, scale from ${table} limit 1`);
    const row = older.rows[0];
    return { kind: 'older', version: row?.version ?? 0, scale: row?.scale ?? 0 };
  }
  const result = await db.query<{ seed: string; version: number; scale: number; checksum: string; tables: SeedTable[] }>(
    `select seed, version, scale, checksum, tables from ${table} limit 1`,
  );
  const row = result.rows[0];
  return row ? { kind: 'current', ...row } : { kind: 'foreign' };
}

export interface SeedRecordWrite {
  seed: string;
  version: number;
  scale: number;
  checksum: string;
  tables: readonly SeedTable[];
  durationMs: number;
}

/** Creates the record table in `schema` (freshly created by the rebuild) and writes the one row. */
export async function writeSeedRecord(db: SeedDb, schema: string, record: SeedRecordWrite): Promise<void> {
  const table = quoteQualified(schema, SEED_RECORD_TABLE);
  const comment = `${RECORD_COMMENT_PREFIX}: seed, version, scale and checksum of the data in the seed's schemas.`;
  await db.query(`
    create table ${table} (
      seed text not null,
      version int not null,
      scale double precision not null,
      checksum text not null,
      tables jsonb not null,
      seeded_at timestamptz not null default now(),
      duration_ms int not null
    );
    comment on table ${table} is ${quoteLiteral(comment)};`);
  await db.query(`insert into ${table} (seed, version, scale, checksum, tables, duration_ms) values ($1, $2, $3, $4, $5::jsonb, $6)`, [
    record.seed,
    record.version,
    record.scale,
    record.checksum,
    JSON.stringify(record.tables),
    Math.round(record.durationMs),
  ]);
}
