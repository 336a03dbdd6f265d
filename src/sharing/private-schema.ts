/** lastmile's private sharing schema (`lastmile_shares`): made once, closed to PUBLIC. */
import type pg from 'pg';
import { quoteIdent } from '../warehouse/quote.js';
import { PRIVATE_SCHEMA } from './names.js';

export async function ensurePrivateSchema(client: pg.ClientBase, run: (text: string) => Promise<void>): Promise<void> {
  const exists = await client.query('select 1 from pg_namespace where nspname = $1', [PRIVATE_SCHEMA]);
  if (exists.rowCount !== 0) return;
  await run(`create schema ${quoteIdent(PRIVATE_SCHEMA)}`);
  await run(`revoke all on schema ${quoteIdent(PRIVATE_SCHEMA)} from public`);
}
