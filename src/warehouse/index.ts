export { startEmbeddedPostgres, freePort, type EmbeddedPostgresHandle, type EmbeddedPostgresOptions } from './embedded.js';
export {
  createPool,
  connectPool,
  redactUrl,
  scrubSecrets,
  explainConnectionError,
  WarehousePool,
  WarehouseConnectionError,
  type PoolOptions,
} from './pool.js';
export {
  seedWarehouse,
  warehouseChecksum,
  seedCounts,
  SEED_ANCHOR,
  SEED_VERSION,
  SHOP_TABLES,
  MART_VIEWS,
  type SeedOptions,
  type SeedResult,
  type SeedProgress,
  type SeedStep,
  type SeedTable,
  type SeedCounts,
  type ShopTable,
  type MartView,
} from './seed/index.js';
