import { createHash } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompiledObject } from '../../src/dashboards/objects.js';
import { dropReplaced, refreshObject } from '../../src/dashboards/refresh.js';
import { startTestPostgres, type TestPostgres } from '../warehouse/support.js';

const OWNER = 'product sales, target board';
const ROWS = 60_000;
const GROUPS = 300;

function object(name: string, sql: string, strategy: CompiledObject['strategy'], uniqueKey: string[] = [], dependsOn: string[] = []): CompiledObject {
  const hash = createHash('sha256').update(JSON.stringify({ strategy, sql, uniqueKey })).digest('hex').slice(0, 16);
  return { name, schema: 'dash', strategy, sql, uniqueKey, indexes: [], dependsOn, hash };
}

const byGroup = object('by_group', 'select k, sum(v)::bigint as total, count(*)::bigint as n from src.sales group by k', 'concurrently', ['k']);
const top = object('top_groups', 'select k, total from dash.by_group where total > 0', 'concurrently', ['k'], ['by_group']);
const grand = object('grand', 'select sum(total)::bigint as total, sum(n)::bigint as n from dash.by_group', 'swap', [], ['by_group']);

let pgServer: TestPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  pgServer = await startTestPostgres();
  pool = pgServer.pool(await pgServer.freshDatabase('refresh'), 12);
  await pool.query('create schema src');
  await pool.query(`create table src.sales as select i as id, i % ${GROUPS} as k, 1::int as v, 1::int as d from generate_series(1, ${ROWS}) as i`);
});

afterAll(async () => {
  await pgServer?.stop();
});

async function setVersion(version: number): Promise<void> {
  await pool.query('update src.sales set v = $1', [version]);
}

async function relations(): Promise<string[]> {
  const { rows } = await pool.query<{ relname: string }>(
    `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'dash' and c.relkind in ('r', 'm') order by 1`,
  );
  return rows.map((row) => row.relname);
}

/** Readers on their own connections, each checking that what it read is one complete version of the data. */
function startReaders(count: number, query: string, check: (row: Record<string, string>) => number | undefined) {
  let stop = false;
  const seen = new Set<number>();
  const bad: string[] = [];
  let reads = 0;
  const loops = Array.from({ length: count }, async () => {
    const client = await pool.connect();
    try {
      while (!stop) {
        try {
          const { rows } = await client.query<Record<string, string>>(query);
          reads += 1;
          const version = rows.length === 1 ? check(rows[0]!) : undefined;
          if (version === undefined) bad.push(JSON.stringify(rows));
          else seen.add(version);
        } catch (error) {
          bad.push((error as Error).message);
        }
      }
    } finally {
      client.release();
    }
  });
  return {
    async stop() {
      stop = true;
      await Promise.all(loops);
      return { seen: [...seen].sort(), bad, reads };
    },
  };
}

/** A complete version: every group counted, and the total is ROWS × version. */
function completeVersion(row: Record<string, string>): number | undefined {
  if (Number(row.n) !== ROWS) return undefined;
  const total = Number(row.total);
  return total % ROWS === 0 ? total / ROWS : undefined;
}

describe('refreshing dashboard objects', () => {
  it('creates the objects the first time, with the owner comment and a unique index for concurrently', async () => {
    await setVersion(1);
    const first = await refreshObject(pool, byGroup, { owner: OWNER });
    const second = await refreshObject(pool, grand, { owner: OWNER });
    expect(first).toMatchObject({ action: 'created', rows: GROUPS, strategy: 'concurrently' });
    expect(second).toMatchObject({ action: 'created', rows: 1, strategy: 'swap' });
    const { rows } = await pool.query(`select relkind::text, obj_description(oid, 'pg_class') as comment from pg_class where oid = 'dash.by_group'::regclass`);
    expect(rows[0]).toMatchObject({ relkind: 'm', comment: `managed by lastmile (${OWNER}); definition ${byGroup.hash}` });
    const index = await pool.query(`select indexdef from pg_indexes where schemaname = 'dash' and tablename = 'by_group'`);
    expect(index.rows.map((r) => r.indexdef as string).join()).toMatch(/UNIQUE INDEX .* \(k\)/);
    expect((await pool.query('select total, n from dash.grand')).rows[0]).toEqual({ total: String(ROWS), n: String(ROWS) });
  });

  it('concurrently: readers see only complete results while the view refreshes in place', async () => {
    const readers = startReaders(4, 'select sum(total) as total, sum(n) as n from dash.by_group', completeVersion);
    for (let version = 2; version <= 6; version++) {
      await setVersion(version);
      const outcome = await refreshObject(pool, byGroup, { owner: OWNER });
      expect(outcome).toMatchObject({ action: 'refreshed', rows: GROUPS });
    }
    const { seen, bad, reads } = await readers.stop();
    expect(bad).toEqual([]);
    expect(reads).toBeGreaterThan(20);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.every((v) => v >= 1 && v <= 6)).toBe(true);
  });

  it('swap: readers see only complete results, never a missing relation, while the table is rebuilt and swapped in', async () => {
    const readers = startReaders(4, 'select total, n from dash.grand', completeVersion);
    for (let version = 7; version <= 11; version++) {
      await setVersion(version);
      await refreshObject(pool, byGroup, { owner: OWNER });
      const outcome = await refreshObject(pool, grand, { owner: OWNER });
      expect(outcome).toMatchObject({ action: 'rebuilt', rows: 1 });
      expect(outcome.kept).toBeUndefined();
    }
    const { seen, bad, reads } = await readers.stop();
    expect(bad).toEqual([]);
    expect(reads).toBeGreaterThan(20);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(await relations()).toEqual(['by_group', 'grand']);
  });

  it('a swap waiting for a long reader gives way and retries, and succeeds once the reader is done', async () => {
    const reader = await pool.connect();
    try {
      await reader.query('begin');
      await reader.query('select * from dash.grand');
      const refresh = refreshObject(pool, grand, { owner: OWNER, lockTimeoutMs: 100 });
      await new Promise((resolve) => setTimeout(resolve, 700));
      // Meanwhile a new reader is not stuck behind the waiting swap for long.
      const started = performance.now();
      expect((await pool.query('select n from dash.grand')).rows[0]).toEqual({ n: String(ROWS) });
      expect(performance.now() - started).toBeLessThan(1000);
      await reader.query('commit');
      await expect(refresh).resolves.toMatchObject({ action: 'rebuilt' });
    } finally {
      reader.release();
    }
  });

  it('a failing refresh leaves the previous data serving and says what SQL failed', async () => {
    const failing = object('by_group', 'select k, (sum(v) / min(d))::bigint as total, count(*)::bigint as n from src.sales group by k', 'concurrently', ['k']);
    await refreshObject(pool, failing, { owner: OWNER }); // rebuilt: its definition changed
    const before = (await pool.query('select sum(total) as total from dash.by_group')).rows[0];
    await pool.query('update src.sales set d = 0 where id = 5');
    await expect(refreshObject(pool, failing, { owner: OWNER })).rejects.toThrow(/division by zero/);
    expect((await pool.query('select sum(total) as total from dash.by_group')).rows[0]).toEqual(before);
    await pool.query('update src.sales set d = 1');
    const swapFailing = object('grand', 'select (sum(total) / 0)::bigint as total, sum(n)::bigint as n from dash.by_group', 'swap');
    await expect(refreshObject(pool, swapFailing, { owner: OWNER })).rejects.toThrow(/division by zero/);
    expect((await pool.query('select n from dash.grand')).rows[0]).toEqual({ n: String(ROWS) });
    expect(await relations()).toEqual(['by_group', 'grand']);
  });

  it('a changed definition rebuilds the view, and a view reading it is rebuilt too before the replaced one is dropped', async () => {
    await pool.query('update src.sales set d = 1');
    await refreshObject(pool, top, { owner: OWNER });
    const changed = object('by_group', 'select k, sum(v)::bigint as total, count(*)::bigint as n, max(id) as last_id from src.sales group by k', 'concurrently', ['k']);
    const rebuilt = await refreshObject(pool, changed, { owner: OWNER });
    expect(rebuilt).toMatchObject({ action: 'rebuilt', reason: 'its definition changed' });
    expect(rebuilt.kept?.readBy).toEqual(['dash.top_groups']);
    const dependent = await refreshObject(pool, top, { owner: OWNER });
    expect(dependent).toMatchObject({ action: 'rebuilt' });
    expect(dependent.reason).toMatch(/^it read dash\.by_group__lm_old_[0-9a-f]{6}, which was replaced$/);
    expect(await dropReplaced(pool, 'dash', ['by_group', 'grand', 'top_groups'])).toEqual([]);
    expect(await relations()).toEqual(['by_group', 'grand', 'top_groups']);
    expect(await refreshObject(pool, top, { owner: OWNER })).toMatchObject({ action: 'refreshed' });
  });

  it('a replaced relation someone else still reads is kept and reported, not dropped', async () => {
    await pool.query('create view dash.user_view as select * from dash.grand');
    const outcome = await refreshObject(pool, grand, { owner: OWNER });
    expect(outcome.kept?.readBy).toEqual(['dash.user_view']);
    const left = await dropReplaced(pool, 'dash', ['grand']);
    expect(left).toEqual([{ relation: outcome.kept!.relation, readBy: ['dash.user_view'] }]);
    await pool.query('drop view dash.user_view');
    expect(await dropReplaced(pool, 'dash', ['grand'])).toEqual([]);
  });

  it('two refreshes of the same object at once (overlapping runs) take turns and both succeed', async () => {
    const outcomes = await Promise.all([refreshObject(pool, grand, { owner: OWNER }), refreshObject(pool, grand, { owner: OWNER }), refreshObject(pool, top, { owner: OWNER }), refreshObject(pool, top, { owner: OWNER })]);
    expect(outcomes.map((o) => o.action)).toEqual(['rebuilt', 'rebuilt', 'refreshed', 'refreshed']);
    expect((await pool.query('select n from dash.grand')).rows[0]).toEqual({ n: String(ROWS) });
    expect(await relations()).toEqual(['by_group', 'grand', 'top_groups']);
  });

  it("the privileges of an object survive its rebuild: a BI tool's read-only role keeps reading", async () => {
    await pool.query(`create role "bi reader"; grant usage on schema dash to "bi reader"; grant select on dash.grand, dash.top_groups to "bi reader"`);
    await pool.query(`grant select on dash.grand to public`);
    expect(await refreshObject(pool, grand, { owner: OWNER })).toMatchObject({ action: 'rebuilt' });
    const changedTop = object('top_groups', 'select k, total, n from dash.by_group where total > 0', 'concurrently', ['k'], ['by_group']);
    expect(await refreshObject(pool, changedTop, { owner: OWNER })).toMatchObject({ action: 'rebuilt', reason: 'its definition changed' });
    const { rows } = await pool.query(
      `select has_table_privilege('bi reader', 'dash.grand', 'select') as grand, has_table_privilege('bi reader', 'dash.top_groups', 'select') as top,
              has_table_privilege('bi reader', 'dash.grand', 'insert') as insert, (select relacl::text from pg_class where oid = 'dash.grand'::regclass) like '%=r/%' as public`,
    );
    expect(rows[0]).toEqual({ grand: true, top: true, insert: false, public: true });
  });

  it('a half-built relation left by a killed attempt is dropped before the object is built again', async () => {
    await pool.query('create table dash.grand__lm_new as select 1 as leftover');
    expect(await refreshObject(pool, grand, { owner: OWNER })).toMatchObject({ action: 'rebuilt', rows: 1 });
    expect(await relations()).toEqual(['by_group', 'grand', 'top_groups']);
    expect(Object.keys((await pool.query('select * from dash.grand')).rows[0])).toEqual(['total', 'n']);
  });

  it('never touches a relation lastmile did not create, nor one another target owns', async () => {
    await pool.query('create table dash.precious as select 42 as answer');
    const precious = object('precious', 'select 1 as answer', 'swap');
    await expect(refreshObject(pool, precious, { owner: OWNER })).rejects.toThrow(/dash\.precious already exists and was not created by lastmile/);
    expect((await pool.query('select answer from dash.precious')).rows).toEqual([{ answer: 42 }]);
    await expect(refreshObject(pool, grand, { owner: 'product other, target board' })).rejects.toThrow(`dash.grand belongs to ${OWNER}`);
  });

  it('a refresh whose advisory unlock fails closes that connection instead of handing it back to the pool, lock and all', async () => {
    const url = await pgServer.freshDatabase('refresh_unlock');
    const faulty = pgServer.pool(url, 2);
    // a pool whose connections fail the unlock statement (as a network fault at that moment would)
    const connect = faulty.connect.bind(faulty);
    faulty.connect = (async () => {
      const client = await connect();
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
      (client as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) =>
        typeof args[0] === 'string' && args[0].includes('pg_advisory_unlock') ? Promise.reject(new Error('injected: the unlock failed')) : query(...args);
      return client;
    }) as typeof faulty.connect;
    const small = object('small', 'select 1 as k', 'swap');
    const outcome = await refreshObject(faulty, small, { owner: OWNER });
    expect(outcome.action).toBe('created');
    // the connection is gone, and with it the lock: nobody still holds an advisory lock in that database
    expect(faulty.totalCount).toBe(0);
    // the server ends the closed connection's backend a moment after the socket closes (later on a busy machine)
    const held = async () =>
      Number(
        (await pool.query<{ n: string }>(`select count(*) as n from pg_locks l join pg_database d on d.oid = l.database where l.locktype = 'advisory' and d.datname = 'refresh_unlock'`))
          .rows[0]!.n,
      );
    for (let i = 0; i < 50 && (await held()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await held()).toBe(0);
  });
});
