/**
 * What a seed declares: the data an embedded warehouse starts with (docs/seed-data.md). A seed names itself, its
 * version, the schemas it owns and how to build, re-apply and checksum them; `applySeed` does the rest (one
 * transaction under an advisory lock, the record of what was seeded, reuse, rebuild, refusing foreign schemas).
 */
import { brand, hasBrand, SEED_BRAND } from '../../product/brand.js';
import { SQL_NAME } from '../../product/names.js';

/** One result of {@link SeedDb.query}. */
export interface SeedQueryResult<R> {
  rows: R[];
  /** Rows inserted, updated, deleted or returned by the statement (0 for DDL). */
  rowCount: number;
}

/**
 * The seeding transaction's connection, as a seed's code sees it. Parameters go in as `$1`, `$2`…; a text of several
 * statements (no parameters) gives the last statement's rows and the row counts summed.
 */
export interface SeedDb {
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SeedQueryResult<R>>;
}

/** A progress line a seed's `build` reports: with `table` and `rows` once a table is filled. */
export interface SeedBuildReport {
  message: string;
  table?: string;
  rows?: number;
}

/** What `build` gets: the transaction, the scale asked for, and a way to report progress. */
export interface SeedBuildContext extends SeedDb {
  /** Multiplier of the data's size; 1 is the seed's default size. */
  readonly scale: number;
  report(progress: SeedBuildReport): void;
}

export interface SeedTable {
  name: string;
  rows: number;
}

/** What a seed's `checksum` gives: its tables with row counts, and one hex digest of their contents. */
export interface SeedChecksum {
  tables: SeedTable[];
  checksum: string;
}

/**
 * Cheap objects (views, functions) a seed re-applies without a rebuild when their definition changed. They live in
 * one of the seed's schemas; the comment of that schema records a fingerprint of `sql`, and a database whose comment
 * differs or that lacks one of `names` gets `sql` run again (same transaction; the rows and the checksum stay).
 * `sql` must be repeatable: `create or replace`. It runs after `build` on every rebuild too.
 */
export interface SeedReapply {
  /** One of the seed's `schemas`. */
  schema: string;
  /** Relations (views, tables) in `schema` that must exist, e.g. the view names; one missing means re-apply. */
  names: readonly string[];
  sql: string;
  /** The schema comment before the fingerprint, e.g. 'Example serving marts (views over shop)'. */
  description?: string;
}

/** The scale a seed accepts: above 0 always; `max` caps it, `meaning` says what 1 is in error messages. */
export interface SeedScale {
  max?: number;
  /** e.g. '1 = about 100,000 orders' */
  meaning?: string;
}

export interface SeedSpec {
  /** Lower-case letters, digits, '-' and '_'; recorded, so a schema seeded by another seed is never taken for this one. */
  readonly name: string;
  /** Bump it whenever the rows change: a database seeded by another version is rebuilt. A positive integer. */
  readonly version: number;
  /**
   * The schemas the seed owns, in creation order: dropped (cascade) and created again on a rebuild. The first one
   * holds the record of what was seeded, table `_seed`.
   */
  readonly schemas: readonly string[];
  readonly scale?: SeedScale;
  /** Creates the tables and rows in the (existing, empty) schemas. Deterministic: same scale, same rows. */
  build(context: SeedBuildContext): Promise<void>;
  readonly reapply?: SeedReapply;
  /** Digests the seed's tables (see `checksumTables`); run with stable text settings, in a transaction. */
  checksum(db: SeedDb): Promise<SeedChecksum>;
}

export type SeedDefinition = SeedSpec & { readonly [SEED_BRAND]: true };

/** Declares a seed (the default export of the module `seed` in lastmile.config.ts names). */
export function defineSeed(spec: SeedSpec): SeedDefinition {
  return brand(spec, SEED_BRAND) as SeedDefinition;
}

export function isSeedDefinition(value: unknown): value is SeedDefinition {
  return hasBrand(value, SEED_BRAND);
}

/** One thing wrong with a seed declaration: the field, what is wrong, how to fix it. */
export interface SeedSpecProblem {
  path: string;
  message: string;
  fix: string;
}

export const SEED_NAME = /^[a-z][a-z0-9_-]*$/;

/** Everything wrong with a seed declaration (empty when it is sound). */
export function seedSpecProblems(spec: SeedSpec): SeedSpecProblem[] {
  const problems: SeedSpecProblem[] = [];
  const add = (path: string, message: string, fix: string): void => {
    problems.push({ path, message, fix });
  };
  if (typeof spec.name !== 'string' || !SEED_NAME.test(spec.name)) {
    add('name', `the seed name ${String(spec.name)} is not valid`, "use lower-case letters, digits, '-' and '_', e.g. name: 'retailer'");
  }
  if (!Number.isInteger(spec.version) || spec.version < 1) {
    add('version', `the seed version ${String(spec.version)} is not a positive integer`, 'write version: 1 and bump it whenever the rows change');
  }
  const schemas: readonly unknown[] = Array.isArray(spec.schemas) ? spec.schemas : [];
  if (schemas.length === 0) add('schemas', 'the seed owns no schemas', "list the schemas it creates, e.g. schemas: ['shop', 'marts']");
  schemas.forEach((schema, index) => {
    if (typeof schema !== 'string' || !SQL_NAME.test(schema)) {
      add(`schemas[${index}]`, `${String(schema)} is not a plain schema name`, 'use letters, digits and underscores, starting with a letter');
    } else if (schemas.indexOf(schema) !== index) {
      add(`schemas[${index}]`, `schema ${schema} is listed twice`, 'list each schema once');
    } else if (schema === 'lastmile' || schema.startsWith('pg_') || schema === 'public' || schema === 'information_schema') {
      add(`schemas[${index}]`, `schema ${schema} cannot belong to a seed (seeding drops and recreates its schemas)`, 'give the seed schemas of its own, e.g. shop');
    }
  });
  if (typeof spec.build !== 'function') add('build', "'build' is not a function", 'write build: async (db) => { await db.query(...) }');
  if (typeof spec.checksum !== 'function') {
    add('checksum', "'checksum' is not a function", "write checksum: (db) => checksumTables(db, 'shop', ['orders', ...]), importing checksumTables from 'lastmile'");
  }
  if (spec.scale !== undefined && spec.scale.max !== undefined && !(typeof spec.scale.max === 'number' && spec.scale.max > 0)) {
    add('scale.max', `the largest scale ${String(spec.scale.max)} is not a number above 0`, 'write scale: { max: 100 }, or leave max out');
  }
  const reapply = spec.reapply;
  if (reapply !== undefined) {
    if (!schemas.includes(reapply.schema)) {
      add('reapply.schema', `the re-applied objects' schema ${String(reapply.schema)} is not one of the seed's schemas`, `use one of ${schemas.map(String).join(', ') || 'its schemas'}`);
    }
    if (typeof reapply.sql !== 'string' || reapply.sql.trim() === '') add('reapply.sql', "'reapply.sql' is empty", 'write the create or replace statements of the objects');
    const names: readonly unknown[] = Array.isArray(reapply.names) ? reapply.names : [];
    if (names.length === 0) add('reapply.names', 'no re-applied object is named', "list the objects reapply.sql creates, e.g. names: ['returns_weekly']");
    names.forEach((name, index) => {
      if (typeof name !== 'string' || !SQL_NAME.test(name)) add(`reapply.names[${index}]`, `${String(name)} is not a plain object name`, 'name the view or function without its schema');
    });
  }
  return problems;
}
