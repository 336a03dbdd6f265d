/**
 * Seeds a warehouse with the example retailer (docs/seed-data.md): schema `shop` (raw tables) and `marts` (views).
 *
 * Deterministic: the same scale gives the same rows and the same checksum. Idempotent: a database already seeded by
 * this generator version at this scale is left alone (a fast no-op) but for the marts views, which are re-applied
 * when their definition changed (see marts.ts); any other scale or version is rebuilt.
 * Everything happens in one transaction under an advisory lock, so concurrent seeders queue and readers never see
 * half a seed.
 */
import type pg from 'pg';
import { createPool } from '../pool.js';
import { combineDigests, digestTables, STABLE_TEXT_SETTINGS } from './checksum.js';
import { MART_VIEWS, PRNG_SEED, SEED_VERSION, SHOP_TABLES, seedCounts, type ShopTable } from './constants.js';
import { HELPERS, seedStatements } from './generate.js';
import { CREATE_MARTS, MARTS_SCHEMA_COMMENT } from './marts.js';
import { CREATE_CONSTRAINTS, CREATE_SEED_TABLE, CREATE_TABLES } from './schema.js';

export { SEED_ANCHOR, SEED_VERSION, SHOP_TABLES, MART_VIEWS, seedCounts } from './constants.js';
export type { SeedCounts, ShopTable, MartView } from './constants.js';

export interface SeedTable {
  name: ShopTable;
  rows: number;
}

export interface SeedResult {
  tables: SeedTable[];
  /** Hex sha256 over per-table content digests; equal for equal contents. */
  checksum: string;
  scale: number;
  version: number;
  /** True when the database already held this seed and nothing was written. */
  reused: boolean;
  durationMs: number;
}

export type SeedStep = 'check' | 'reuse' | 'reset' | 'table' | 'constraints' | 'marts' | 'checksum' | 'done';

export interface SeedProgress {
  step: SeedStep;
  /** Set for step 'table': the table just filled and its row count. */
  table?: ShopTable;
  rows?: number;
  elapsedMs: number;
  message: string;
}

export interface SeedOptions {
  /** Multiplies the fact tables; 1 ≈ 100,000 orders. Fractions make small test sets. Default 1. */
  scale?: number;
  onProgress?: (progress: SeedProgress) => void;
  /** Replace `shop` / `marts` schemas that this seeder did not create (refused otherwise, to protect real data). */
  force?: boolean;
  /** On a no-op, recompute the checksum from the rows; rebuild when they were changed since seeding. */
  verify?: boolean;
}

/** Lock key shared by every seeder of a database (`pg_advisory_xact_lock`); "lastmile seed". */
const SEED_LOCK_KEY = '7361234501';

interface SeedRecord {
  version: number;
  scale: number;
  prng_seed: string;
  checksum: string;
  tables: SeedTable[];
}

async function withPool<T>(target: pg.Pool | string, work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  if (typeof target !== 'string') return await work(target);
  const pool = createPool(target, { label: 'warehouse', max: 2 });
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

/** Seeds (or confirms) the example data; see the module comment. */
export async function seedWarehouse(target: pg.Pool | string, options: SeedOptions = {}): Promise<SeedResult> {
  const scale = options.scale ?? 1;
  const counts = seedCounts(scale);
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const report = (progress: Omit<SeedProgress, 'elapsedMs'>): void => options.onProgress?.({ ...progress, elapsedMs: elapsed() });

  return await withPool(target, async (pool) => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(STABLE_TEXT_SETTINGS);
      await client.query(`set local synchronous_commit = off; set local work_mem = '64MB'; set local maintenance_work_mem = '256MB'`);
      await client.query('select pg_advisory_xact_lock($1::bigint)', [SEED_LOCK_KEY]);
      report({ step: 'check', message: 'Checking for an existing seed' });

      const existing = await readSeedRecord(client);
      if (existing && existing.version === SEED_VERSION && existing.scale === scale && existing.prng_seed === String(PRNG_SEED)) {
        // The rows are current; the views may not be (dropped, or made by an older lastmile): re-apply them then.
        const marts = await client.query<{ missing: number; comment: string | null }>(
          `select (select count(*)::int from unnest($1::text[]) v where to_regclass('marts.' || v) is null) as missing,
                  (select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = 'marts') as comment`,
          [MART_VIEWS],
        );
        const current = marts.rows[0];
        if ((current?.missing ?? 0) > 0 || current?.comment !== MARTS_SCHEMA_COMMENT) {
          report({ step: 'marts', message: 'Updating the marts views' });
          await client.query('create schema if not exists marts');
          await client.query(CREATE_MARTS);
        }
        const intact = !options.verify || combineDigests(await digestTables(client)) === existing.checksum;
        if (intact) {
          await client.query('commit');
          report({ step: 'reuse', message: `Already seeded at scale ${scale} (version ${SEED_VERSION}); nothing to do` });
          return { tables: existing.tables, checksum: existing.checksum, scale, version: SEED_VERSION, reused: true, durationMs: elapsed() };
        }
      }

      if (!existing && !options.force) await refuseForeignSchemas(client);
      report({ step: 'reset', message: existing ? `Replacing the seed (was scale ${existing.scale}, version ${existing.version})` : 'Creating schemas shop and marts' });
      await client.query('drop schema if exists marts cascade; drop schema if exists shop cascade');
      await client.query('create schema shop; create schema marts');
      await client.query(CREATE_TABLES);
      await client.query(HELPERS);

      const tables: SeedTable[] = [];
      for (const statement of seedStatements(counts, scale)) {
        const result = await client.query(statement.sql, statement.params);
        if (statement.table) {
          tables.push({ name: statement.table, rows: result.rowCount ?? 0 });
          report({ step: 'table', table: statement.table, rows: result.rowCount ?? 0, message: `shop.${statement.table}: ${result.rowCount ?? 0} rows` });
        }
      }
      tables.sort((a, b) => SHOP_TABLES.indexOf(a.name) - SHOP_TABLES.indexOf(b.name));

      report({ step: 'constraints', message: 'Adding keys, foreign keys and indexes' });
      await client.query(CREATE_CONSTRAINTS);
      await client.query('drop function pg_temp.seed_u(bigint, int)');
      report({ step: 'marts', message: 'Creating the marts views' });
      await client.query(CREATE_MARTS);
      await client.query(`analyze ${SHOP_TABLES.map((t) => `shop.${t}`).join(', ')}`);

      report({ step: 'checksum', message: 'Computing the checksum' });
      const checksum = combineDigests(await digestTables(client));
      await client.query(CREATE_SEED_TABLE);
      await client.query(
        `insert into shop._seed (version, scale, prng_seed, checksum, tables, duration_ms) values ($1, $2, $3, $4, $5::jsonb, $6)`,
        [SEED_VERSION, scale, PRNG_SEED, checksum, JSON.stringify(tables), elapsed()],
      );
      await client.query('commit');
      report({ step: 'done', message: `Seeded scale ${scale} in ${elapsed()} ms, checksum ${checksum.slice(0, 12)}` });
      return { tables, checksum, scale, version: SEED_VERSION, reused: false, durationMs: elapsed() };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  });
}

/** Recomputes the checksum of the current `shop` contents (what {@link seedWarehouse} reports). */
export async function warehouseChecksum(target: pg.Pool | string): Promise<{ tables: SeedTable[]; checksum: string }> {
  return await withPool(target, async (pool) => {
    const client = await pool.connect();
    try {
      await client.query('begin read only');
      await client.query(STABLE_TEXT_SETTINGS);
      const digests = await digestTables(client);
      await client.query('commit');
      return { tables: digests.map(({ name, rows }) => ({ name, rows })), checksum: combineDigests(digests) };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  });
}

async function readSeedRecord(client: pg.ClientBase): Promise<SeedRecord | undefined> {
  const found = await client.query<{ present: boolean }>(`select to_regclass('shop._seed') is not null as present`);
  if (!found.rows[0]?.present) return undefined;
  const result = await client.query<SeedRecord>(
    `select version, scale, prng_seed::text as prng_seed, checksum, tables from shop._seed limit 1`,
  );
  return result.rows[0];
}

async function refuseForeignSchemas(client: pg.ClientBase): Promise<void> {
  const result = await client.query<{ nspname: string }>(
    `select nspname from pg_namespace where nspname in ('shop', 'marts') order by nspname`,
  );
  if (result.rows.length === 0) return;
  const names = result.rows.map((r) => r.nspname).join(' and ');
  throw new Error(
    `The database already has schema ${names}, not created by the lastmile seeder (no shop._seed table). ` +
      `Seeding would drop it. Point the seeder at a throwaway database, drop the schema yourself, or pass force: true.`,
  );
}
