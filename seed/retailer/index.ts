/**
 * The example data: an online retailer of running shorts (docs/seed-data.md) — schema `shop` (raw tables) and
 * `marts` (views over them, what the example products read). lastmile.config.ts names this module as `seed`, so
 * every embedded warehouse starts with it.
 *
 * Deterministic: the same scale gives the same rows and the same checksum. Seeding it again at the same version and
 * scale is a fast no-op (lastmile re-applies the marts views when their definition changed); another scale or
 * version is rebuilt.
 */
import { applySeed, checksumTables, defineSeed, seedChecksum, type SeedChecksum, type SeedOptions, type SeedResult, type SeedTarget } from 'lastmile';
import { buildShop } from './build.js';
import { MAX_SCALE, SEED_VERSION, SHOP_TABLES } from './constants.js';
import { MARTS } from './marts.js';

export { SEED_ANCHOR, SEED_VERSION, SHOP_TABLES, MART_VIEWS, seedCounts } from './constants.js';
export type { SeedCounts, ShopTable, MartView } from './constants.js';

const retailer = defineSeed({
  name: 'retailer',
  version: SEED_VERSION,
  schemas: ['shop', 'marts'],
  scale: { max: MAX_SCALE, meaning: '1 = about 100,000 orders' },
  build: buildShop,
  reapply: MARTS,
  checksum: (db) => checksumTables(db, 'shop', SHOP_TABLES),
});

export default retailer;

/** Seeds (or confirms) the example data in a database: `applySeed` with this seed. */
export async function seedWarehouse(target: SeedTarget, options: SeedOptions = {}): Promise<SeedResult> {
  return await applySeed(target, retailer, options);
}

/** Recomputes the checksum of the current `shop` contents (what {@link seedWarehouse} reports). */
export async function warehouseChecksum(target: SeedTarget): Promise<SeedChecksum> {
  return await seedChecksum(target, retailer);
}
