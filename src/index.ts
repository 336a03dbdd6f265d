/**
 * lastmile — data products as code. Product modules import what they declare with from here:
 * `import { defineProduct, sql, table, check, dashboard } from 'lastmile'`; seed modules `defineSeed` and
 * `checksumTables`.
 */

// Declaring products
export { defineProduct, isProductDefinition } from './product/spec.js';
export type { ColumnSpec, MetricSpec, ProductDefinition, ProductSpec } from './product/spec.js';
export { sql, table } from './product/source.js';
export { resolveSource, resolveSql, resolveTable, compileContractQuery } from './sql/resolve.js';
export type { SchemaMap, Source, SqlSource, TableRef } from './product/source.js';
export { check } from './product/checks.js';
export type { Check, CheckOptions, CheckSpec, CheckType, Severity } from './product/checks.js';
export { dashboard, files, reverseEtl, share } from './product/targets.js';
export type {
  Classification,
  DashboardObject,
  DashboardTarget,
  Destination,
  FileFormat,
  FilesTarget,
  Guardrails,
  HttpDestination,
  HubspotDestination,
  SyncMode,
  TotalGuardrail,
  PostgresDestination,
  ReverseEtlTarget,
  Schedule,
  ShareTarget,
  Target,
  TargetKind,
  TargetSpec,
  ValueGuardrail,
} from './product/targets.js';
export { secret, isSecretRef, resolveSecret } from './product/secret.js';
export type { SecretRef } from './product/secret.js';
export type { Audience, Column, Contract, DeliverBy, Metric, Owner, Product, ProductUser, Slo, SloSpec } from './product/model.js';
export type { ColumnType } from './product/column-types.js';
export type { DurationText } from './time/duration.js';
export type { SemVer } from './product/names.js';

// Declaring and applying seeds (the data an embedded warehouse starts with)
export { defineSeed, isSeedDefinition, applySeed, seedChecksum, checksumTables } from './warehouse/seeding/index.js';
export type {
  SeedBuildContext,
  SeedBuildReport,
  SeedChecksum,
  SeedDb,
  SeedDefinition,
  SeedOptions,
  SeedProgress,
  SeedQueryResult,
  SeedReapply,
  SeedResult,
  SeedScale,
  SeedSpec,
  SeedStep,
  SeedTable,
  SeedTarget,
} from './warehouse/seeding/index.js';

// Loading and validating
export { loadProducts, scanProducts } from './product/loader.js';
export type { LoadProductsOptions, ProductScan } from './product/loader.js';
export { validateProduct, toProduct } from './product/validate.js';
export type { ProductValidation } from './product/validate.js';
export { ValidationError, formatProblem, formatProblems } from './product/problems.js';
export type { Problem } from './product/problems.js';
export { checkContractAgainstWarehouse } from './probe/contract.js';
export type { ContractCheckOptions, WarehouseField, WarehouseQuery } from './probe/contract.js';

// Semantic layer
export { compileMetricQuery, metricQueryProblems } from './sql/metrics.js';
export type { CompiledQuery, MetricQuery, SqlValue } from './sql/metrics.js';

// Helpers other parts of lastmile share
export { quoteIdent, quoteQualified } from './warehouse/quote.js';
export { parseDuration, durationMs } from './time/duration.js';
export { cronProblem } from './product/schedule.js';
export { parseCron, compileSpec } from '../calendar/index.js';
export type { ParsedCron, CompiledSpec } from '../calendar/index.js';
export { isTimeZone } from './time/timezone.js';

// Configuration
export { defineConfig, isConfigDefinition } from './config/spec.js';
export type { Config, ConfigDefinition, ConfigSpec, Environment, EnvironmentSpec, TemporalSpec, WarehouseSpec } from './config/spec.js';
export { loadConfig } from './config/load.js';
export { validateConfig } from './config/validate.js';
export type { ConfigValidation } from './config/validate.js';
export { resolveEnvironment } from './config/resolve.js';
export type { ResolvedEnvironment, ResolvedTemporal, ResolvedWarehouse } from './config/resolve.js';
