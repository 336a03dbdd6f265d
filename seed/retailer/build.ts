/**
 * Builds the raw tables in schema `shop` (lastmile has created it, empty, in the seeding transaction): bare tables,
 * the rows (generate.ts), then keys and indexes. The marts views come after, as the seed's re-applied objects.
 */
import type { SeedBuildContext } from 'lastmile';
import { SHOP_TABLES, seedCounts } from './constants.js';
import { HELPERS, seedStatements } from './generate.js';
import { CREATE_CONSTRAINTS, CREATE_TABLES } from './schema.js';

export async function buildShop({ scale, query, report }: SeedBuildContext): Promise<void> {
  const counts = seedCounts(scale);
  await query(CREATE_TABLES);
  await query(HELPERS);
  for (const statement of seedStatements(counts, scale)) {
    const result = await query(statement.sql, statement.params);
    if (statement.table) report({ table: statement.table, rows: result.rowCount, message: `shop.${statement.table}: ${result.rowCount} rows` });
  }
  report({ message: 'Adding keys, foreign keys and indexes' });
  await query(CREATE_CONSTRAINTS);
  await query('drop function pg_temp.seed_u(bigint, int)');
  await query(`analyze ${SHOP_TABLES.map((t) => `shop.${t}`).join(', ')}`);
}
