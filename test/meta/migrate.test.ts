import { cp, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, MigrationError, MIGRATIONS_DIR } from '../../src/meta/migrate.js';
import { startTestPostgres, type TestPostgres } from '../warehouse/support.js';

let server: TestPostgres;
const dirs: string[] = [];
beforeAll(async () => {
  server = await startTestPostgres();
});
afterAll(async () => {
  await server?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A copy of the shipped migrations to change in a test. */
async function migrationsCopy(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lastmile-migrations-'));
  dirs.push(dir);
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

async function tables(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ table_name: string }>(
    `select table_name from information_schema.tables where table_schema = 'lastmile' order by table_name`,
  );
  return rows.map((r) => r.table_name);
}

describe('migrate', () => {
  it('applies from scratch, then is a no-op', async () => {
    const pool = server.pool(await server.freshDatabase('meta_scratch'));
    const shipped = await loadMigrations();
    const latest = shipped.length;
    expect(await migrate(pool)).toEqual({ applied: shipped.map((m) => m.name), version: latest });
    expect(await tables(pool)).toEqual([
      'alert_deliveries',
      'alerts',
      'check_results',
      'ci_results',
      'deployments',
      'file_manifests',
      'grants_ledger',
      'lineage_events',
      'quarantine',
      'runs',
      'schema_migrations',
      'share_grants',
      'sli_measurements',
      'sync_batches',
      'sync_ops',
      'sync_runs',
      'sync_state',
      'target_runs',
    ]);
    const recorded = await pool.query<{ version: number; name: string; checksum: string; applied_at: Date }>(
      'select version, name, checksum, applied_at from lastmile.schema_migrations',
    );
    expect(recorded.rows).toEqual(shipped.map((m) => ({ version: m.version, name: m.name, checksum: m.checksum, applied_at: expect.any(Date) })));

    expect(await migrate(pool)).toEqual({ applied: [], version: latest });
  });

  it('is safe to run concurrently', async () => {
    const url = await server.freshDatabase('meta_concurrent');
    const pools = Array.from({ length: 6 }, () => server.pool(url, 2));
    const shipped = await loadMigrations();
    const results = await Promise.all(pools.map((p) => migrate(p)));
    expect(results.flatMap((r) => r.applied).sort()).toEqual(shipped.map((m) => m.name));
    expect(results.every((r) => r.version === shipped.length)).toBe(true);
    const { rows } = await pools[0]!.query<{ n: number }>('select count(*)::int as n from lastmile.schema_migrations');
    expect(rows[0]?.n).toBe(shipped.length);
  });

  it('refuses a migration changed after it was applied, naming it', async () => {
    const pool = server.pool(await server.freshDatabase('meta_changed'));
    await migrate(pool);
    const dir = await migrationsCopy();
    const file = path.join(dir, '001_initial.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\ncreate table lastmile.sneaky (id int);\n`);
    const error = await migrate(pool, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/Migration 001_initial was changed after it was applied/);
    expect(await tables(pool)).not.toContain('sneaky');
  });

  it('ignores line-ending changes', async () => {
    const pool = server.pool(await server.freshDatabase('meta_crlf'));
    await migrate(pool);
    const dir = await migrationsCopy();
    const file = path.join(dir, '001_initial.sql');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/\n/g, '\r\n'));
    expect(await migrate(pool, { migrationsDir: dir })).toEqual({ applied: [], version: (await loadMigrations()).length });
  });

  it('applies new migrations in order, each in its own transaction', async () => {
    const pool = server.pool(await server.freshDatabase('meta_new'));
    await migrate(pool);
    const dir = await migrationsCopy();
    await writeFile(path.join(dir, '902_notes.sql'), 'create table lastmile.notes (id int primary key, body text);');
    await writeFile(path.join(dir, '903_more_notes.sql'), 'alter table lastmile.notes add column author text;');
    expect(await migrate(pool, { migrationsDir: dir })).toEqual({ applied: ['902_notes', '903_more_notes'], version: 903 });

    // A failing migration rolls back completely and names itself; earlier ones stay applied.
    await writeFile(path.join(dir, '904_broken.sql'), 'create table lastmile.half (id int);\nselect no_such_function();');
    const error = await migrate(pool, { migrationsDir: dir }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/Migration 904_broken failed and was rolled back: .*no_such_function/);
    expect(await tables(pool)).not.toContain('half');
    const { rows } = await pool.query<{ v: number }>('select max(version) as v from lastmile.schema_migrations');
    expect(rows[0]?.v).toBe(903);
  });

  it('refuses a database migrated by a newer lastmile', async () => {
    const pool = server.pool(await server.freshDatabase('meta_newer'));
    await migrate(pool);
    await pool.query(`insert into lastmile.schema_migrations (version, name, checksum) values (99, '099_future', 'abc')`);
    await expect(migrate(pool)).rejects.toThrow(/migration 099_future \(version 99\) applied, but this lastmile has no such migration file/);
  });

  it('rejects badly named or duplicate migration files', async () => {
    const dir = await migrationsCopy();
    await writeFile(path.join(dir, 'Add Stuff.sql'), 'select 1;');
    await expect(loadMigrations(dir)).rejects.toThrow(/Add Stuff\.sql is not named NNN_name\.sql/);
    await rm(path.join(dir, 'Add Stuff.sql'));
    await writeFile(path.join(dir, '001_again.sql'), 'select 1;');
    await expect(loadMigrations(dir)).rejects.toThrow(/001_again and 001_initial|001_initial and 001_again/);
  });
});
