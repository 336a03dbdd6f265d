/**
 * A seed's cheap objects (views, functions; `reapply` of the seed): applied after every build, and again on a
 * database that holds the seed's rows but other objects — missing ones, or made from another definition. The comment
 * of their schema records a fingerprint of the definition.
 */
import { createHash } from 'node:crypto';
import { quoteIdent, quoteLiteral } from '../quote.js';
import type { SeedDb, SeedReapply } from './spec.js';

/** Identifies a definition: the first 16 hex digits of the sha256 of its SQL. */
export function reapplyFingerprint(reapply: SeedReapply): string {
  return createHash('sha256').update(reapply.sql).digest('hex').slice(0, 16);
}

/** The comment of the schema once {@link applyReapply} has run. */
export function reapplySchemaComment(reapply: SeedReapply, seedName: string): string {
  return `${reapply.description ?? `Objects of the lastmile seed ${seedName}`}, definition ${reapplyFingerprint(reapply)}.`;
}

/** True when every named object exists and the schema's comment carries this definition's fingerprint. */
export async function reapplyIsCurrent(db: SeedDb, reapply: SeedReapply, seedName: string): Promise<boolean> {
  const result = await db.query<{ missing: number; comment: string | null }>(
    `select (select count(*)::int from unnest($1::text[]) v where to_regclass(quote_ident($2) || '.' || quote_ident(v)) is null) as missing,
            (select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = $2) as comment`,
    [[...reapply.names], reapply.schema],
  );
  const current = result.rows[0];
  return (current?.missing ?? 0) === 0 && current?.comment === reapplySchemaComment(reapply, seedName);
}

/** Creates or replaces the objects (creating their schema when it is missing) and records the fingerprint. */
export async function applyReapply(db: SeedDb, reapply: SeedReapply, seedName: string): Promise<void> {
  await db.query(`create schema if not exists ${quoteIdent(reapply.schema)}`);
  await db.query(reapply.sql);
  await db.query(`comment on schema ${quoteIdent(reapply.schema)} is ${quoteLiteral(reapplySchemaComment(reapply, seedName))}`);
}
