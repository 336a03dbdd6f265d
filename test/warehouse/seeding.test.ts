/**
 * The generic seeding mechanism (src/warehouse/seeding) with a seed of its own: two tables and a view, declared here
 * as a project would declare it. The example retailer's figures are pinned in seed.test.ts.
 */
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySeed, checksumTables, defineSeed, loadConfig, resolveEnvironment, seedChecksum, validateConfig } from '../../src/index.js';
import type { SeedDefinition, SeedProgress, SeedSpec } from '../../src/index.js';
import { openWarehouse, stopEmbeddedPostgres } from '../../src/runtime/warehouse.js';
import { createProject, type TempProject } from '../product/support/project.js';
import { startTestPostgres, type TestPostgres } from './support.js';

/** Version 1 has three colours per unit of scale; version 2 adds a fourth. Paints: two per colour. */
function tinySeed(version: number, changes: Partial<SeedSpec> = {}): SeedDefinition {
  return defineSeed({
    name: 'tiny',
    version,
    schemas: ['tiny', 'tiny_views'],
    scale: { max: 10 },
    async build({ scale, query, report }) {
      const colours = Math.round((version === 1 ? 3 : 4) * scale);
      await query(`create table tiny.colours (colour_id int primary key, name text not null)`);
      const filled = await query(`insert into tiny.colours select i, 'colour ' || i from generate_series(1, $1::int) i`, [colours]);
      report({ table: 'colours', rows: filled.rowCount, message: `tiny.colours: ${filled.rowCount} rows` });
      await query(`create table tiny.paints (paint_id int primary key, colour_id int not null references tiny.colours, litres numeric(6, 2) not null)`);
      const paints = await query(`insert into tiny.paints select c.colour_id * 10 + j, c.colour_id, c.colour_id * 1.5 + j from tiny.colours c, generate_series(1, 2) j`);
      report({ table: 'paints', rows: paints.rowCount, message: `tiny.paints: ${paints.rowCount} rows` });
    },
    reapply: {
      schema: 'tiny_views',
      names: ['litres_by_colour'],
      sql: `create or replace view tiny_views.litres_by_colour as select colour_id, sum(litres) as litres from tiny.paints group by colour_id`,
    },
    checksum: (db) => checksumTables(db, 'tiny', ['colours', 'paints']),
    ...changes,
  });
}

let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
});
afterAll(async () => {
  await server?.stop();
});

async function count(pool: pg.Pool, sql: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`select (${sql})::int as n`);
  return rows[0]!.n;
}

describe('applySeed with a seed declared by a project', () => {
  let url: string;
  let pool: pg.Pool;

  beforeAll(async () => {
    url = await server.freshDatabase('tiny_seed');
    pool = server.pool(url);
  });

  it('builds the tables, the re-applied view and the record, then reuses them on the second apply', async () => {
    const progress: SeedProgress[] = [];
    const first = await applySeed(url, tinySeed(1), { onProgress: (p) => progress.push(p) });
    expect(first).toMatchObject({ tables: [{ name: 'colours', rows: 3 }, { name: 'paints', rows: 6 }], scale: 1, version: 1, reused: false });
    expect(first.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(progress.map((p) => p.step)).toEqual(['check', 'reset', 'table', 'table', 'reapply', 'checksum', 'done']);
    expect(progress.filter((p) => p.step === 'table').map((p) => [p.table, p.rows])).toEqual([['colours', 3], ['paints', 6]]);
    expect(await count(pool, 'select count(*) from tiny_views.litres_by_colour')).toBe(3);
    const record = await pool.query(`select seed, version, scale, checksum from tiny._seed`);
    expect(record.rows).toEqual([{ seed: 'tiny', version: 1, scale: 1, checksum: first.checksum }]);

    const again: SeedProgress[] = [];
    const second = await applySeed(pool, tinySeed(1), { onProgress: (p) => again.push(p) });
    expect(second).toMatchObject({ tables: first.tables, checksum: first.checksum, version: 1, reused: true });
    expect(again.map((p) => p.step)).toEqual(['check', 'reuse']);
    expect((await seedChecksum(pool, tinySeed(1))).checksum).toBe(first.checksum);
  });

  it('rebuilds on a version bump, and on another scale', async () => {
    const before = await applySeed(url, tinySeed(1));
    const progress: SeedProgress[] = [];
    const bumped = await applySeed(url, tinySeed(2), { onProgress: (p) => progress.push(p) });
    expect(bumped).toMatchObject({ tables: [{ name: 'colours', rows: 4 }, { name: 'paints', rows: 8 }], version: 2, reused: false });
    expect(bumped.checksum).not.toBe(before.checksum);
    expect(progress.find((p) => p.step === 'reset')?.message).toBe('Replacing the seed (was scale 1, version 1)');
    expect((await pool.query(`select version from tiny._seed`)).rows).toEqual([{ version: 2 }]);
    expect((await applySeed(url, tinySeed(2))).reused).toBe(true);

    const doubled = await applySeed(url, tinySeed(2), { scale: 2 });
    expect(doubled).toMatchObject({ tables: [{ name: 'colours', rows: 8 }, { name: 'paints', rows: 16 }], scale: 2, reused: false });
    // Deterministic: back at scale 1, the same checksum as before.
    expect((await applySeed(url, tinySeed(2))).checksum).toBe(bumped.checksum);
  });

  it('re-applies changed objects without touching the rows', async () => {
    const seeded = await applySeed(url, tinySeed(3));
    const changed = tinySeed(3, {
      reapply: {
        schema: 'tiny_views',
        names: ['litres_by_colour'],
        sql: `create or replace view tiny_views.litres_by_colour as select colour_id, sum(litres) as litres, count(*) as paints from tiny.paints group by colour_id`,
      },
    });
    const progress: SeedProgress[] = [];
    const again = await applySeed(url, changed, { onProgress: (p) => progress.push(p) });
    expect(again).toMatchObject({ checksum: seeded.checksum, reused: true });
    expect(progress.map((p) => p.step)).toEqual(['check', 'reapply', 'reuse']);
    expect(await count(pool, 'select sum(paints) from tiny_views.litres_by_colour')).toBe(seeded.tables[1]!.rows);
    // A dropped view comes back the same way.
    await pool.query('drop view tiny_views.litres_by_colour');
    const restored: SeedProgress[] = [];
    await applySeed(url, changed, { onProgress: (p) => restored.push(p) });
    expect(restored.map((p) => p.step)).toEqual(['check', 'reapply', 'reuse']);
    expect(await count(pool, 'select count(*) from tiny_views.litres_by_colour')).toBeGreaterThan(0);
  });

  it('with verify, rebuilds rows changed since seeding; a dropped table is rebuilt too', async () => {
    const seeded = await applySeed(url, tinySeed(4));
    await pool.query(`update tiny.colours set name = 'mauve' where colour_id = 1`);
    expect((await applySeed(url, tinySeed(4))).reused).toBe(true);
    const verified = await applySeed(url, tinySeed(4), { verify: true });
    expect(verified).toMatchObject({ checksum: seeded.checksum, reused: false });
    await pool.query('drop table tiny.paints cascade');
    const rebuilt = await applySeed(url, tinySeed(4), { verify: true });
    expect(rebuilt).toMatchObject({ checksum: seeded.checksum, reused: false });
  });

  it("refuses schemas another seed created, unless forced, and rolls back a failing build", async () => {
    const other = defineSeed({ ...tinySeed(1), name: 'other' });
    await expect(applySeed(url, other)).rejects.toThrow(/schema tiny and tiny_views, not created by the lastmile seeder for seed 'other' \(tiny\._seed records seed 'tiny', not 'other'\).*force: true/);
    const failing = tinySeed(9, {
      async build({ query }) {
        await query('create table tiny.colours (colour_id int)');
        await query('select 1 / 0');
      },
    });
    await expect(applySeed(url, failing)).rejects.toThrow(/division by zero/);
    // Nothing of the failed attempt is visible: the previous seed is intact.
    expect((await pool.query(`select seed, version from tiny._seed`)).rows).toEqual([{ seed: 'tiny', version: 4 }]);
    expect(await count(pool, 'select count(*) from tiny.paints')).toBe(8); // version 4: four colours, two paints each
    expect((await applySeed(url, other, { force: true })).reused).toBe(false);
    expect((await pool.query(`select seed from tiny._seed`)).rows).toEqual([{ seed: 'other' }]);
  });

  it('recognises the record an older lastmile wrote (no seed column) and rebuilds without refusing', async () => {
    const older = await server.freshDatabase('tiny_older');
    const olderPool = server.pool(older);
    await olderPool.query(`
      create schema tiny; create table tiny.colours (colour_id int);
      create table tiny._seed (version int not null, scale double precision not null, prng_seed bigint not null, checksum text not null,
                               tables jsonb not null, seeded_at timestamptz not null default now(), duration_ms int not null);
      comment on table tiny._seed is 'Written by the lastmile seeder: generator version, scale and checksum of the example data.';
      insert into tiny._seed values (1, 1, 20260105, 'abc', '[]', now(), 10)`);
    const progress: SeedProgress[] = [];
    const result = await applySeed(older, tinySeed(1), { onProgress: (p) => progress.push(p) });
    expect(result.reused).toBe(false);
    expect(progress.find((p) => p.step === 'reset')?.message).toBe('Replacing the seed (was scale 1, version 1)');
    expect((await olderPool.query(`select seed, version from tiny._seed`)).rows).toEqual([{ seed: 'tiny', version: 1 }]);
  });

  it('refuses a _seed table lastmile did not write', async () => {
    const foreign = await server.freshDatabase('tiny_foreign');
    await server.pool(foreign).query(`create schema tiny; create table tiny._seed (note text)`);
    await expect(applySeed(foreign, tinySeed(1))).rejects.toThrow(/tiny\._seed was not written by lastmile/);
  });

  it('rejects an unsound declaration and a scale out of range, naming the field', async () => {
    await expect(applySeed(url, tinySeed(1, { schemas: ['tiny', 'lastmile'] }))).rejects.toThrow(/schemas\[1\]: schema lastmile cannot belong to a seed/);
    await expect(applySeed(url, tinySeed(1, { version: 1.5 }))).rejects.toThrow(/version: the seed version 1\.5 is not a positive integer/);
    await expect(applySeed(url, tinySeed(1, { reapply: { schema: 'elsewhere', names: ['v'], sql: 'select 1' } }))).rejects.toThrow(/reapply\.schema/);
    await expect(applySeed(url, tinySeed(1), { scale: 11 })).rejects.toThrow(/scale must be a number above 0 and at most 10; got 11/);
  });
});

/** The tiny seed as a project's module, importing from 'lastmile'. */
const TINY_SEED_MODULE = `import { checksumTables, defineSeed } from 'lastmile';

export default defineSeed({
  name: 'tiny',
  version: 1,
  schemas: ['tiny'],
  async build({ query }) {
    await query('create table tiny.colours (colour_id int primary key); insert into tiny.colours select generate_series(1, 3)');
    await query('create table tiny.paints (paint_id int primary key); insert into tiny.paints select generate_series(1, 5)');
  },
  checksum: (db) => checksumTables(db, 'tiny', ['colours', 'paints']),
});
`;

describe('openWarehouse and the configured seed', () => {
  let project: TempProject;

  beforeAll(async () => {
    project = await createProject();
    await project.write('seed/tiny/index.ts', TINY_SEED_MODULE);
    await project.write(
      'lastmile.config.ts',
      `import { defineConfig } from 'lastmile';\nexport default defineConfig({ environments: { dev: {} }, promotion: ['dev'], seed: './seed/tiny/index.ts' });\n`,
    );
  });

  afterAll(async () => {
    await stopEmbeddedPostgres(project.root);
    await project?.remove();
  });

  it('seeds an embedded warehouse with the seed the config names, and leaves it empty without one', async () => {
    const config = await loadConfig(project.root);
    expect(config.seed?.name).toBe('tiny');
    expect(config.seedModule).toBe('./seed/tiny/index.ts');
    const seeded: unknown[] = [];
    const dev = await openWarehouse(resolveEnvironment(config, 'dev'), { root: project.root, onSeed: (r) => seeded.push(r) });
    try {
      expect(seeded).toEqual([expect.objectContaining({ tables: [{ name: 'colours', rows: 3 }, { name: 'paints', rows: 5 }], reused: false, version: 1 })]);
      expect(await count(dev.pool, 'select count(*) from tiny.paints')).toBe(5);
    } finally {
      await dev.close();
    }

    // `seed: false` skips it; a config without `seed` has nothing to apply.
    const skipped = await openWarehouse(resolveEnvironment(config, 'dev'), { root: project.root, seed: false, onSeed: (r) => seeded.push(r) });
    await skipped.close();
    const bare = validateConfig({ environments: { bare: {} }, promotion: ['bare'] }, path.join(project.root, 'lastmile.config.ts'));
    expect(bare.config?.seed).toBeUndefined();
    const empty = await openWarehouse(resolveEnvironment(bare.config!, 'bare'), { root: project.root, onSeed: (r) => seeded.push(r) });
    try {
      expect(seeded).toHaveLength(1);
      expect(await count(empty.pool, `select count(*) from pg_namespace where nspname = 'tiny'`)).toBe(0);
    } finally {
      await empty.close();
    }
  });
});
