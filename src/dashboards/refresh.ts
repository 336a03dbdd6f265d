/**
 * Refreshing one dashboard object so that readers only ever see the old or the new complete result:
 * - `concurrently`: `REFRESH MATERIALIZED VIEW CONCURRENTLY` (readers are not blocked; the view needs a unique index);
 * - `swap`, and any materialized view that must be rebuilt (new, changed definition, or bound to a replaced object):
 *   build `<name>__lm_new` with its indexes and statistics, then in one short transaction rename the current
 *   relation away, the new one in, and drop the old one. Postgres re-resolves a name a waiting reader looked up, so a
 *   query blocked by the renames reads the new relation once they commit.
 * A relation lastmile did not create is never touched: the refresh stops and says so.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { quoteIdent, quoteLiteral, quoteQualified } from '../warehouse/quote.js';
import { relationOf, type CompiledObject } from './objects.js';

/** Suffix of the relation being built, and the prefix of the replaced ones awaiting their drop. */
const NEW_SUFFIX = '__lm_new';
const OLD_INFIX = '__lm_old_';

/** A swap waiting longer than this for readers gives way and tries again (new readers queue behind a waiting swap). */
export const LOCK_TIMEOUT_MS = 2000;
export const SWAP_ATTEMPTS = 30;
/** First key of the advisory locks that serialise refreshes of one object (the second is a hash of its name). */
const LOCK_SPACE = 0x4c4d4431; // 'LMD1'

export interface RefreshOutcome {
  name: string;
  strategy: CompiledObject['strategy'];
  /** `refreshed` in place, `rebuilt` and swapped in, or `created` */
  action: 'refreshed' | 'rebuilt' | 'created';
  /** why it was rebuilt rather than refreshed in place */
  reason?: string;
  rows: number;
  durationMs: number;
  /** a replaced relation that could not be dropped yet because other relations read it */
  kept?: { relation: string; readBy: string[] };
}

export interface RefreshOptions {
  /** Who owns the object, written into its comment: `product returns_by_supplier, target quality_review`. */
  owner: string;
  /** How long the swap waits for readers to let go before it retries (default LOCK_TIMEOUT_MS). */
  lockTimeoutMs?: number;
  /** How many times the swap is tried (default SWAP_ATTEMPTS). */
  swapAttempts?: number;
}

interface Existing {
  oid: number;
  kind: 'table' | 'materialized view' | 'other';
  comment: string | null;
}

const COMMENT_PREFIX = 'managed by lastmile';

/** The object's name is taken by a relation lastmile did not create, or that another target owns: nothing is touched. */
export class ObjectNotOwned extends Error {
  override readonly name = 'ObjectNotOwned';
}

/** The comment lastmile writes on each object: its owner and definition hash (read back to detect changes). */
function ownerComment(owner: string, hash: string): string {
  return `${COMMENT_PREFIX} (${owner}); definition ${hash}`;
}

function hashOf(comment: string | null): string | undefined {
  return comment?.match(/; definition ([0-9a-f]+)$/)?.[1];
}

function ownerOf(comment: string | null): string | undefined {
  return comment?.startsWith(COMMENT_PREFIX) ? comment.match(/^managed by lastmile \((.*)\); definition/)?.[1] : undefined;
}

async function existing(client: pg.ClientBase, schema: string, name: string): Promise<Existing | undefined> {
  const { rows } = await client.query<{ oid: number; relkind: string; comment: string | null }>(
    `select c.oid::int as oid, c.relkind::text as relkind, obj_description(c.oid, 'pg_class') as comment
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = $2`,
    [schema, name],
  );
  const row = rows[0];
  if (!row) return undefined;
  const kind = row.relkind === 'r' || row.relkind === 'p' ? 'table' : row.relkind === 'm' ? 'materialized view' : 'other';
  return { oid: row.oid, kind, comment: row.comment };
}

/** Relations (other than itself) whose definitions read relation `oid`: views and materialized views. */
async function readersOf(client: pg.ClientBase, oid: number): Promise<string[]> {
  const { rows } = await client.query<{ relation: string }>(
    `select distinct r.ev_class::regclass::text as relation
       from pg_depend d join pg_rewrite r on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
      where d.refclassid = 'pg_class'::regclass and d.refobjid = $1 and r.ev_class <> $1
      order by 1`,
    [oid],
  );
  return rows.map((row) => row.relation);
}

/** Relations the materialized view `oid` reads that were replaced since it was built (it is bound to them). */
async function replacedInputs(client: pg.ClientBase, oid: number): Promise<string[]> {
  const { rows } = await client.query<{ relation: string }>(
    `select distinct d.refobjid::regclass::text as relation
       from pg_rewrite r join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
      where r.ev_class = $1 and d.refclassid = 'pg_class'::regclass and d.refobjid <> $1`,
    [oid],
  );
  return rows.map((row) => row.relation).filter((relation) => relation.includes(OLD_INFIX));
}

function noun(kind: Existing['kind']): string {
  return kind === 'materialized view' ? 'materialized view' : 'table';
}

async function drop(client: pg.ClientBase, schema: string, name: string): Promise<void> {
  const found = await existing(client, schema, name);
  if (found && found.kind !== 'other') await client.query(`drop ${noun(found.kind)} ${quoteQualified(schema, name)}`);
}

/** Refuses to touch a relation lastmile did not create, or one another target owns. */
function assertOwned(object: CompiledObject, found: Existing, owner: string): void {
  const label = `${object.schema}.${object.name}`;
  const ownedBy = ownerOf(found.comment);
  if (found.kind === 'other' || ownedBy === undefined) {
    throw new ObjectNotOwned(
      `${label} already exists and was not created by lastmile, so it is left as it is. Rename or drop it, or give the dashboard object another name or schema.`,
    );
  }
  if (ownedBy !== owner) {
    throw new ObjectNotOwned(`${label} belongs to ${ownedBy}, not to ${owner}: two dashboard targets cannot share an object. Rename one of them, or give one target another schema.`);
  }
}

/** Refreshes (or builds) one object; see the module comment for how readers are kept from half-done results. */
export async function refreshObject(pool: pg.Pool, object: CompiledObject, options: RefreshOptions): Promise<RefreshOutcome> {
  const started = performance.now();
  const client = await pool.connect();
  try {
    // One refresh of an object at a time (a scheduled run and a manual one may overlap): the next waits, then
    // refreshes again. The lock belongs to this connection, so it dies with a killed worker.
    await client.query(`select pg_advisory_lock(${LOCK_SPACE}, hashtext($1))`, [`${object.schema}.${object.name}`]);
    await client.query(`create schema if not exists ${quoteIdent(object.schema)}`);
    const found = await existing(client, object.schema, object.name);
    if (found) assertOwned(object, found, options.owner);

    let reason: string | undefined;
    if (!found) reason = undefined;
    else if (object.strategy === 'swap') reason = 'swap builds anew on every refresh';
    else if (found.kind !== 'materialized view') reason = 'it was a table, refreshed by swap';
    else if (hashOf(found.comment) !== object.hash) reason = 'its definition changed';
    else {
      const replaced = await replacedInputs(client, found.oid);
      if (replaced.length > 0) reason = `it read ${replaced.join(', ')}, which was replaced`;
    }

    if (found && reason === undefined) {
      await client.query(`refresh materialized view concurrently ${relationOf(object)}`);
      const rows = await countRows(client, object);
      return { name: object.name, strategy: object.strategy, action: 'refreshed', rows, durationMs: performance.now() - started };
    }
    const rows = await build(client, object, options.owner);
    if (found) await copyGrants(client, found.oid, quoteQualified(object.schema, object.name + NEW_SUFFIX));
    const kept = await swapIn(client, object, found, options);
    return {
      name: object.name,
      strategy: object.strategy,
      action: found ? 'rebuilt' : 'created',
      ...(found && object.strategy === 'concurrently' && { reason }),
      rows,
      durationMs: performance.now() - started,
      ...(kept && { kept }),
    };
  } finally {
    let unlockFailed: Error | undefined;
    await client.query(`select pg_advisory_unlock(${LOCK_SPACE}, hashtext($1))`, [`${object.schema}.${object.name}`]).catch((error: unknown) => {
      unlockFailed = error instanceof Error ? error : new Error(String(error));
    });
    // a connection whose unlock failed may still hold the lock (or a failed transaction): close it, never reuse it
    client.release(unlockFailed);
  }
}

async function countRows(client: pg.ClientBase, object: CompiledObject): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${relationOf(object)}`);
  return Number(rows[0]?.n ?? 0);
}

/** Builds `<name>__lm_new` with its rows, indexes, statistics and comment; returns its row count. */
async function build(client: pg.ClientBase, object: CompiledObject, owner: string): Promise<number> {
  const fresh = object.name + NEW_SUFFIX;
  const relation = quoteQualified(object.schema, fresh);
  await drop(client, object.schema, fresh);
  const kind = object.strategy === 'concurrently' ? 'materialized view' : 'table';
  const created = await client.query(`create ${kind} ${relation} as\n${object.sql}\nwith data`);
  // Index names must be unique in the schema and are never seen by readers: a tag per build avoids renaming them.
  const tag = randomBytes(3).toString('hex');
  if (object.uniqueKey.length > 0) {
    await client.query(`create unique index ${quoteIdent(`${object.name}_${tag}_key`)} on ${relation} (${object.uniqueKey.map(quoteIdent).join(', ')})`);
  }
  for (const [i, columns] of object.indexes.entries()) {
    await client.query(`create index ${quoteIdent(`${object.name}_${tag}_ix${i + 1}`)} on ${relation} (${columns.map(quoteIdent).join(', ')})`);
  }
  await client.query(`analyze ${relation}`);
  await client.query(`comment on ${kind} ${relation} is ${quoteLiteral(ownerComment(owner, object.hash))}`);
  return created.rowCount ?? 0;
}

/**
 * Gives the new relation the privileges the current one had (a BI tool's read-only role keeps reading after a swap).
 * The owner's own privileges are implicit and not copied.
 */
async function copyGrants(client: pg.ClientBase, fromOid: number, to: string): Promise<void> {
  const { rows } = await client.query<{ grantee: string | null; privilege: string; grantable: boolean }>(
    `select case when a.grantee = 0 then null else a.grantee::regrole::text end as grantee, a.privilege_type as privilege, a.is_grantable as grantable
       from pg_class c cross join lateral aclexplode(c.relacl) as a
      where c.oid = $1 and a.grantee <> c.relowner`,
    [fromOid],
  );
  for (const grant of rows) {
    // GRANT … ON TABLE covers materialized views too; regrole::text is already quoted where the name needs it
    await client.query(`grant ${grant.privilege} on table ${to} to ${grant.grantee ?? 'public'}${grant.grantable ? ' with grant option' : ''}`);
  }
}

/**
 * Swaps the built relation in, in one transaction. The current one is renamed away and dropped; when other relations
 * still read it (a materialized view of this dashboard rebuilt later in the run, or a view someone made), it is kept
 * under its `__lm_old_` name for `dropReplaced`. A swap that waits more than the lock timeout for readers gives way
 * and tries again, so readers never queue behind it for long.
 */
async function swapIn(
  client: pg.ClientBase,
  object: CompiledObject,
  found: Existing | undefined,
  options: RefreshOptions,
): Promise<RefreshOutcome['kept'] | undefined> {
  const attempts = options.swapAttempts ?? SWAP_ATTEMPTS;
  const fresh = object.name + NEW_SUFFIX;
  const kind = object.strategy === 'concurrently' ? 'materialized view' : 'table';
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query('begin');
      await client.query(`set local lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs ?? LOCK_TIMEOUT_MS))}`);
      let kept: RefreshOutcome['kept'] | undefined;
      if (found) {
        const retired = `${object.name}${OLD_INFIX}${randomBytes(3).toString('hex')}`;
        await client.query(`alter ${noun(found.kind)} ${relationOf(object)} rename to ${quoteIdent(retired)}`);
        const readers = await readersOf(client, found.oid);
        if (readers.length === 0) await client.query(`drop ${noun(found.kind)} ${quoteQualified(object.schema, retired)}`);
        else kept = { relation: `${object.schema}.${retired}`, readBy: readers };
      }
      await client.query(`alter ${kind} ${quoteQualified(object.schema, fresh)} rename to ${quoteIdent(object.name)}`);
      await client.query('commit');
      return kept;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      const lockTimeout = (error as { code?: string }).code === '55P03';
      if (!lockTimeout || attempt >= attempts) {
        if (lockTimeout) {
          throw new Error(
            `${object.schema}.${object.name} could not be swapped in: readers held it for ${attempts} × ${(options.lockTimeoutMs ?? LOCK_TIMEOUT_MS) / 1000}s. The previous data keeps serving; the refresh is retried.`,
          );
        }
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(200 * attempt, 2000)));
    }
  }
}

/**
 * Drops the replaced relations (`<object>__lm_old_…`) of these objects that nothing reads any more. Returns the ones
 * still read, with their readers (a view someone built on the object: it must be recreated on the new one).
 */
export async function dropReplaced(pool: pg.Pool, schema: string, objects: readonly string[]): Promise<{ relation: string; readBy: string[] }[]> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ oid: number; name: string; relkind: string }>(
      `select c.oid::int as oid, c.relname as name, c.relkind::text as relkind
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relkind in ('r', 'm') and c.relname like any ($2::text[])
        order by c.relname`,
      [schema, objects.map((name) => `${name.replace(/_/g, '\\_')}\\_\\_lm\\_old\\_%`)],
    );
    const stillRead: { relation: string; readBy: string[] }[] = [];
    // Drop in rounds: a replaced materialized view may read another replaced relation.
    let pending = rows;
    while (pending.length > 0) {
      const next: typeof rows = [];
      for (const row of pending) {
        const readers = await readersOf(client, row.oid);
        if (readers.length === 0) await client.query(`drop ${row.relkind === 'm' ? 'materialized view' : 'table'} ${quoteQualified(schema, row.name)}`);
        else next.push(row);
      }
      if (next.length === pending.length) {
        for (const row of next) stillRead.push({ relation: `${schema}.${row.name}`, readBy: await readersOf(client, row.oid) });
        break;
      }
      pending = next;
    }
    return stillRead;
  } finally {
    client.release();
  }
}
