/**
 * Versioned migrations of the `lastmile` metadata schema. Files `NNN_name.sql` in `migrations/` are applied in
 * version order, each in its own transaction, and recorded in `lastmile.schema_migrations` with a sha256 of their
 * text. Every step holds a transaction-scoped advisory lock, so concurrent `migrate()` calls (two workers starting
 * together) queue instead of racing. An applied migration whose file changed is an error that names it.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { inTransaction } from '../warehouse/transaction.js';

export interface Migration {
  version: number;
  /** File name without `.sql`, e.g. `001_initial`. */
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  /** Names of the migrations this call applied (empty when the schema was current). */
  applied: string[];
  /** Highest applied version afterwards. */
  version: number;
}

export interface MigrateOptions {
  /** Folder of `NNN_name.sql` files; defaults to the migrations shipped with lastmile. */
  migrationsDir?: string;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

/** Folder of the migrations shipped with lastmile. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Lock key of all metadata migrations ("lastmile migrate"). */
const MIGRATE_LOCK_KEY = '7361234502';

const FILE_PATTERN = /^(\d+)_([a-z0-9_]+)\.sql$/;

/** Reads and orders the migration files; checksums ignore line-ending style. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) {
      throw new MigrationError(
        `Migration file ${path.join(dir, file)} is not named NNN_name.sql (digits, underscore, lower-case name). Rename it.`,
      );
    }
    const sql = (await readFile(path.join(dir, file), 'utf8')).replace(/\r\n/g, '\n');
    migrations.push({
      version: Number(match[1]),
      name: file.slice(0, -'.sql'.length),
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  for (let i = 1; i < migrations.length; i++) {
    const previous = migrations[i - 1];
    const current = migrations[i];
    if (previous && current && previous.version === current.version) {
      throw new MigrationError(`Migrations ${previous.name} and ${current.name} in ${dir} share version ${current.version}. Renumber one.`);
    }
  }
  return migrations.sort((a, b) => a.version - b.version);
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

function inLockedTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, async (client) => {
    await client.query('select pg_advisory_xact_lock($1::bigint)', [MIGRATE_LOCK_KEY]);
    return await work(client);
  });
}

function verifyApplied(applied: readonly AppliedRow[], migrations: readonly Migration[]): void {
  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const row of applied) {
    const file = known.get(row.version);
    if (!file) {
      throw new MigrationError(
        `The metadata schema has migration ${row.name} (version ${row.version}) applied, but this lastmile has no such ` +
          `migration file. The database was migrated by a newer lastmile: upgrade lastmile, or use a fresh database.`,
      );
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationError(
        `Migration ${row.name} was changed after it was applied (checksum ${row.checksum.slice(0, 12)} in ` +
          `lastmile.schema_migrations, ${file.checksum.slice(0, 12)} in ${file.name}.sql). Applied migrations are ` +
          `immutable: restore the file and put the change in a new migration.`,
      );
    }
  }
}

/** Brings the `lastmile` schema up to date; safe to call concurrently and repeatedly. */
export async function migrate(pool: pg.Pool, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = await loadMigrations(options.migrationsDir);
  const pending = await inLockedTransaction(pool, async (client) => {
    await client.query(`create schema if not exists lastmile`);
    await client.query(`
      create table if not exists lastmile.schema_migrations (
        version int primary key,
        name text not null,
        applied_at timestamptz not null default now(),
        checksum text not null
      )`);
    const applied = await client.query<AppliedRow>(`select version, name, checksum from lastmile.schema_migrations order by version`);
    verifyApplied(applied.rows, migrations);
    const done = new Set(applied.rows.map((r) => r.version));
    return migrations.filter((m) => !done.has(m.version));
  });

  const appliedNow: string[] = [];
  for (const migration of pending) {
    await inLockedTransaction(pool, async (client) => {
      // Another process may have applied it while we waited for the lock.
      const seen = await client.query<AppliedRow>(`select version, name, checksum from lastmile.schema_migrations where version = $1`, [
        migration.version,
      ]);
      if (seen.rows.length > 0) {
        verifyApplied(seen.rows, migrations);
        return;
      }
      try {
        await client.query(migration.sql);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new MigrationError(`Migration ${migration.name} failed and was rolled back: ${reason}`, { cause: error });
      }
      await client.query(`insert into lastmile.schema_migrations (version, name, checksum) values ($1, $2, $3)`, [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      appliedNow.push(migration.name);
    });
  }

  const current = await pool.query<{ version: number | null }>(`select max(version) as version from lastmile.schema_migrations`);
  return { applied: appliedNow, version: current.rows[0]?.version ?? 0 };
}
