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
export * from './seeding/index.js';
