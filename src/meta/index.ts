export { createMetaStore, type MetaStore } from './store.js';
export { migrate, loadMigrations, MigrationError, MIGRATIONS_DIR, type Migration, type MigrateOptions, type MigrateResult } from './migrate.js';
export * from './types.js';
