/** Validation checks of data products: compiled into one scan plus as few statements as possible, then judged. */
export { runChecks, isCheckFault, ChecksError } from './run.js';
export {
  compileScan,
  scanSource,
  compileSamples,
  compileSetChecks,
  compileCheckQuery,
  compileProbe,
  failureCondition,
  placementOf,
  isRowLevel,
  isSetCheck,
  rowLevelChecks,
  SAMPLE_SIZE,
  SAMPLE_SORT_LIMIT,
  type SampleOptions,
  type CheckPlacement,
  type RowLevelCheck,
  type SetCheck,
  type FreshnessPlan,
  type RowCountPlan,
  type ScanPlan,
  type ScanOptions,
  type ScanStrategy,
  type CheckQueryOptions,
} from './compile.js';
export { quarantineQuery, validRowsQuery, quarantineInsert, type QuarantineOptions } from './quarantine.js';
export { toCheckResultInputs } from './record.js';
export { reproductionQuery, pastableSql, pastableRecordedSql } from './reproduce.js';
export { Params, keyColumns, type CompiledQuery, type SqlParam } from './sql.js';
export type { CheckReport, CheckResult, CheckStatus, CheckDetail, Queryable, RunChecksOptions } from './types.js';
