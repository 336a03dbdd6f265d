/**
 * Applies a seed (spec.ts) to a database.
 *
 * Idempotent: a database already seeded by this seed at this version and scale is left alone (a fast no-op) but for
 * the seed's `reapply` objects, which are applied again when their definition changed; any other scale or version is
 * rebuilt. Everything happens in one transaction under an advisory lock, so concurrent seeders queue and readers
 * never see half a seed. Schemas the seed did not create are never dropped unless `force`.
 */
import type pg from 'pg';
import { createPool } from '../pool.js';
import { quoteIdent } from '../quote.js';
import { STABLE_TEXT_SETTINGS } from './checksum.js';
import { applyReapply, reapplyIsCurrent } from './reapply.js';
import { readSeedRecord, recordTableName, writeSeedRecord, type SeedRecord } from './record.js';
import { seedSpecProblems, type SeedBuildReport, type SeedChecksum, type SeedDb, type SeedSpec, type SeedTable } from './spec.js';

export type SeedStep = 'check' | 'reuse' | 'reset' | 'build' | 'table' | 'reapply' | 'checksum' | 'done';

export interface SeedProgress {
  step: SeedStep;
  /** Set for step 'table': the table just filled and its row count. */
  table?: string;
  rows?: number;
  elapsedMs: number;
  message: string;
}

export interface SeedOptions {
  /** Multiplies the seed's size; 1 is its default size. Fractions make small test sets. Default 1. */
  scale?: number;
  onProgress?: (progress: SeedProgress) => void;
  /** Replace schemas of the seed that it did not create (refused otherwise, to protect real data). */
  force?: boolean;
  /** On a no-op, recompute the checksum from the rows; rebuild when they were changed since seeding. */
  verify?: boolean;
}

export interface SeedResult {
  tables: SeedTable[];
  /** Hex digest of the seed's tables (the seed's `checksum`); equal for equal contents. */
  checksum: string;
  scale: number;
  version: number;
  /** True when the database already held this seed and its rows were left as they were. */
  reused: boolean;
  durationMs: number;
}

/** Where a seed goes: a pool, or the URL of a database (a pool is made for the call and closed after). */
export type SeedTarget = pg.Pool | string;

/** Lock key shared by every seeder of a database (`pg_advisory_xact_lock`); "lastmile seed". */
const SEED_LOCK_KEY = '7361234501';

/** Seeds (or confirms) `seed` in the database; see the module comment. */
export async function applySeed(target: SeedTarget, seed: SeedSpec, options: SeedOptions = {}): Promise<SeedResult> {
  assertSound(seed);
  const scale = checkedScale(seed, options.scale ?? 1);
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const report = (progress: Omit<SeedProgress, 'elapsedMs'>): void => options.onProgress?.({ ...progress, elapsedMs: elapsed() });
  const [home] = seed.schemas as [string, ...string[]];

  return await withClient(target, async (client) => {
    const db = seedDb(client);
    await client.query('begin');
    await client.query(STABLE_TEXT_SETTINGS);
    await client.query(`set local synchronous_commit = off; set local work_mem = '64MB'; set local maintenance_work_mem = '256MB'`);
    await client.query('select pg_advisory_xact_lock($1::bigint)', [SEED_LOCK_KEY]);
    report({ step: 'check', message: `Checking for an existing seed ${seed.name}` });

    const existing = await readSeedRecord(db, home);
    const ours = existing?.kind === 'older' || (existing?.kind === 'current' && existing.seed === seed.name);
    if (existing?.kind === 'current' && ours && existing.version === seed.version && existing.scale === scale) {
      if (await stillCurrent(client, db, seed, existing.checksum, options.verify === true, report)) {
        await client.query('commit');
        report({ step: 'reuse', message: `Already seeded at scale ${scale} (version ${seed.version}); nothing to do` });
        return { tables: existing.tables, checksum: existing.checksum, scale, version: seed.version, reused: true, durationMs: elapsed() };
      }
    }

    if (!ours && !options.force) await refuseForeignSchemas(db, seed, existing);
    report({
      step: 'reset',
      message: ours
        ? `Replacing the seed (was scale ${existing.scale}, version ${existing.version})`
        : `Creating schema${seed.schemas.length === 1 ? '' : 's'} ${seed.schemas.join(' and ')}`,
    });
    await db.query([...seed.schemas].reverse().map((schema) => `drop schema if exists ${quoteIdent(schema)} cascade;`).join(' '));
    await db.query(seed.schemas.map((schema) => `create schema ${quoteIdent(schema)};`).join(' '));
    await seed.build({
      scale,
      query: db.query,
      report: (progress: SeedBuildReport) => report({ step: progress.table !== undefined ? 'table' : 'build', ...progress }),
    });
    if (seed.reapply) {
      report({ step: 'reapply', message: `Creating the objects of schema ${seed.reapply.schema}` });
      await applyReapply(db, seed.reapply, seed.name);
    }

    report({ step: 'checksum', message: 'Computing the checksum' });
    const { tables, checksum } = await seed.checksum(db);
    await writeSeedRecord(db, home, { seed: seed.name, version: seed.version, scale, checksum, tables, durationMs: elapsed() });
    await client.query('commit');
    report({ step: 'done', message: `Seeded ${seed.name} at scale ${scale} in ${elapsed()} ms, checksum ${checksum.slice(0, 12)}` });
    return { tables, checksum, scale, version: seed.version, reused: false, durationMs: elapsed() };
  });
}

/** Recomputes the checksum of the seed's tables as they are now (what {@link applySeed} reports). */
export async function seedChecksum(target: SeedTarget, seed: SeedSpec): Promise<SeedChecksum> {
  assertSound(seed);
  return await withClient(target, async (client) => {
    await client.query('begin read only');
    await client.query(STABLE_TEXT_SETTINGS);
    const result = await seed.checksum(seedDb(client));
    await client.query('commit');
    return result;
  });
}

/** Runs `work` on a connection of the pool (or of one made for the URL); rolls an open transaction back on failure. */
async function withClient<T>(target: SeedTarget, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const pool = typeof target === 'string' ? createPool(target, { label: 'warehouse', max: 2 }) : target;
  try {
    const client = await pool.connect();
    try {
      return await work(client);
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  } finally {
    if (typeof target === 'string') await pool.end();
  }
}

/** The transaction as a seed sees it; a text of several statements gives the last one's rows and the counts summed. */
function seedDb(client: pg.ClientBase): SeedDb {
  return {
    async query<R extends Record<string, unknown>>(text: string, params?: readonly unknown[]) {
      const result: pg.QueryResult<R> | pg.QueryResult<R>[] = await client.query<R>(text, params ? [...params] : undefined);
      const results = Array.isArray(result) ? result : [result];
      return { rows: results.at(-1)?.rows ?? [], rowCount: results.reduce((sum, r) => sum + (r.rowCount ?? 0), 0) };
    },
  };
}

function assertSound(seed: SeedSpec): void {
  const problems = seedSpecProblems(seed);
  if (problems.length === 0) return;
  const name = typeof seed.name === 'string' ? ` ${seed.name}` : '';
  throw new Error(`The seed${name} is not valid: ${problems.map((p) => `${p.path}: ${p.message} (${p.fix})`).join('; ')}.`);
}

function checkedScale(seed: SeedSpec, scale: number): number {
  const max = seed.scale?.max;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0 || (max !== undefined && scale > max)) {
    const meaning = seed.scale?.meaning ? ` (${seed.scale.meaning})` : '';
    throw new RangeError(`Seed scale must be a number above 0${max !== undefined ? ` and at most ${max}` : ''}${meaning}; got ${String(scale)}.`);
  }
  return scale;
}

/** True when every schema of the seed exists, but the one of its `reapply` objects (re-applying creates that one). */
async function schemasPresent(db: SeedDb, seed: SeedSpec): Promise<boolean> {
  const needed = seed.schemas.filter((schema) => schema !== seed.reapply?.schema);
  const result = await db.query<{ missing: number }>(
    `select count(*)::int as missing from unnest($1::text[]) s where not exists (select from pg_namespace where nspname = s)`,
    [needed],
  );
  return (result.rows[0]?.missing ?? 0) === 0;
}

/**
 * Whether a database that records this seed, version and scale can be left as it is: its schemas are there, the rows
 * are unchanged (when `verify`), and the cheap objects are current — re-applied here when they are not. When they
 * cannot be re-applied (a table they read is gone), it cannot: the seed is rebuilt.
 */
async function stillCurrent(
  client: pg.ClientBase,
  db: SeedDb,
  seed: SeedSpec,
  recorded: string,
  verify: boolean,
  report: (progress: Omit<SeedProgress, 'elapsedMs'>) => void,
): Promise<boolean> {
  if (!(await schemasPresent(db, seed))) return false;
  if (verify && (await savepointed(client, () => seed.checksum(db)))?.checksum !== recorded) return false;
  const reapply = seed.reapply;
  if (!reapply || (await reapplyIsCurrent(db, reapply, seed.name))) return true;
  report({ step: 'reapply', message: `Updating the objects of schema ${reapply.schema}` });
  return (await savepointed(client, async () => await applyReapply(db, reapply, seed.name).then(() => true))) === true;
}

/** Runs `work` under a savepoint: its result, or undefined (and nothing of it done) when it fails. */
async function savepointed<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T | undefined> {
  await client.query('savepoint seed_attempt');
  try {
    const result = await work();
    await client.query('release savepoint seed_attempt');
    return result;
  } catch {
    await client.query('rollback to savepoint seed_attempt');
    return undefined;
  }
}

async function refuseForeignSchemas(db: SeedDb, seed: SeedSpec, record: SeedRecord | undefined): Promise<void> {
  const result = await db.query<{ nspname: string }>(`select nspname from pg_namespace where nspname = any($1::text[]) order by nspname`, [[...seed.schemas]]);
  if (result.rows.length === 0) return;
  const names = result.rows.map((r) => r.nspname).join(' and ');
  const recordTable = recordTableName(seed.schemas[0]!);
  const why =
    record?.kind === 'current'
      ? `${recordTable} records seed '${record.seed}', not '${seed.name}'`
      : record?.kind === 'foreign'
        ? `${recordTable} was not written by lastmile`
        : `no ${recordTable} table`;
  throw new Error(
    `The database already has schema ${names}, not created by the lastmile seeder for seed '${seed.name}' (${why}). ` +
      `Seeding would drop it. Point the seeder at a throwaway database, drop the schema yourself, or pass force: true.`,
  );
}
