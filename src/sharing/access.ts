/**
 * Who can read what, as the warehouse says — not as the config claims: every grant on the share schemas and views
 * lastmile manages, each marked declared or drift, and every declared grant the warehouse does not have. And what a
 * consumer actually sees: its view read through its own role, in a read-only transaction.
 */
import type pg from 'pg';
import { quoteIdent, quoteQualified } from '../warehouse/quote.js';
import { key, readCatalog } from './catalog.js';
import { untrackedHere } from './usage.js';
import type { SharePlan } from './plan.js';

export interface AccessRow {
  role: string;
  object: string;
  privileges: string[];
  product: string | null;
  consumer: string | null;
  /** `declared`: as the products say; `drift`: in the warehouse but not declared; `missing`: declared but not in the warehouse */
  state: 'declared' | 'drift' | 'missing';
  expiresAt: string | null;
}

export async function effectiveAccess(pool: pg.Pool, plan: SharePlan): Promise<AccessRow[]> {
  const client = await pool.connect();
  try {
    const catalog = await readCatalog(client, [...plan.schemas.keys()], []);
    const declared = new Map(plan.consumers.map((c) => [key(c.schema, c.view), c] as const));
    const rows: AccessRow[] = [];
    for (const view of catalog.views.values()) {
      if (!view.mark) continue;
      const id = key(view.schema, view.name);
      const want = declared.get(id);
      for (const [role, privileges] of [...view.grants, ...view.columnGrants]) {
        const ok = want?.role === role && [...privileges].every((p) => p === 'SELECT');
        rows.push({ role, object: id, privileges: [...privileges].sort(), product: view.mark.product, consumer: view.mark.consumer, state: ok ? 'declared' : 'drift', expiresAt: want?.expiresAt?.toISOString() ?? null });
      }
      if (want && !view.grants.has(want.role)) rows.push({ role: want.role, object: id, privileges: ['SELECT'], product: want.product, consumer: want.consumer, state: 'missing', expiresAt: want.expiresAt?.toISOString() ?? null });
    }
    for (const consumer of plan.consumers) {
      if (!catalog.views.has(key(consumer.schema, consumer.view))) {
        rows.push({ role: consumer.role, object: key(consumer.schema, consumer.view), privileges: ['SELECT'], product: consumer.product, consumer: consumer.consumer, state: 'missing', expiresAt: consumer.expiresAt?.toISOString() ?? null });
      }
    }
    for (const [name, roles] of plan.schemas) {
      const schema = catalog.schemas.get(name);
      for (const [role, privileges] of schema?.grants ?? []) {
        rows.push({ role, object: name, privileges: [...privileges].sort(), product: null, consumer: null, state: roles.has(role) && [...privileges].every((p) => p === 'USAGE') ? 'declared' : 'drift', expiresAt: null });
      }
      for (const role of roles) if (!schema?.grants.has(role)) rows.push({ role, object: name, privileges: ['USAGE'], product: null, consumer: null, state: 'missing', expiresAt: null });
    }
    return rows.sort((a, b) => a.object.localeCompare(b.object) || a.role.localeCompare(b.role));
  } finally {
    client.release();
  }
}

export interface SeenAs {
  role: string;
  view: string;
  columns: { name: string; type: string }[];
  rows: number;
  sample: Record<string, unknown>[];
  /** statements pg_stat_statements counted for the role (0 where lastmile could keep them out) */
  statisticsCounted: number;
}

/** The consumer's view read as its role (the connection must be allowed to act as it), changing nothing. */
export async function readAs(pool: pg.Pool, role: string, schema: string, view: string, sampleSize = 5): Promise<SeenAs> {
  const client = await pool.connect();
  try {
    await client.query('begin read only');
    const untracked = await untrackedHere(client);
    await client.query(`set local role ${quoteIdent(role)}`);
    const name = quoteQualified(schema, view);
    const count = await client.query<{ n: string }>(`select count(*) as n from ${name}`);
    const sample = await client.query(`select * from ${name} limit ${Math.max(0, Math.floor(sampleSize))}`);
    await client.query('rollback');
    return {
      role,
      view: key(schema, view),
      columns: sample.fields.map((f) => ({ name: f.name, type: String(f.dataTypeID) })),
      rows: Number(count.rows[0]?.n ?? 0),
      sample: sample.rows as Record<string, unknown>[],
      statisticsCounted: untracked ? 0 : 2,
    };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
