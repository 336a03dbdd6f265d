/**
 * The validation step of every run (the `checkProduct` activity): the product's checks in one scan against the
 * warehouse, recorded with the run, failing rows quarantined when the product says so, and the verdict.
 */
import type { Product } from '../product/model.js';
import type { Warehouse } from '../runtime/warehouse.js';
import type { CheckOutcome } from '../../workflows/types.js';
import { quarantineInsert } from './quarantine.js';
import { toCheckResultInputs } from './record.js';
import { ChecksError, isCheckFault, runChecks } from './run.js';

/** The product's source could not be read. `permanent`: a SQL fault (syntax, unknown column, bad cast…) that fails the same way every time. */
export class SourceFailure extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'LastmileSourceError';
  }
}

/** Idempotent: a retried attempt replaces what an earlier one wrote. */
export async function checkProductRun(warehouse: Warehouse, product: Product, runId: string): Promise<CheckOutcome> {
  // rowCount({ maxChange }) compares with the last delivered run: a jump that blocked is not the new normal
  const previous = (await warehouse.meta.listRuns({ env: warehouse.env, product: product.name, status: 'succeeded', limit: 5 })).find(
    (run) => run.runId !== runId && run.rows !== null,
  );
  let report;
  try {
    report = await runChecks(warehouse.pool, product, {
      schemas: warehouse.schemas,
      previousRowCount: previous?.rows ?? null,
      onRowDefects: product.onDefects,
    });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    throw new SourceFailure(`the source of ${product.name} failed in ${warehouse.description}: ${text}`, error instanceof ChecksError || isCheckFault(error));
  }
  await warehouse.meta.recordChecks(runId, toCheckResultInputs(report));
  let quarantined = 0;
  if (product.onDefects === 'quarantine' && !report.blocked && report.defects > 0) {
    const insert = quarantineInsert(product, runId, warehouse.schemas);
    const result = await warehouse.pool.query({ text: insert.text, values: insert.values as unknown[] });
    quarantined = result.rowCount ?? 0;
  }
  const count = (status: string) => report.results.filter((r) => r.status === status).length;
  return {
    rows: report.rows,
    defects: report.defects,
    defectFreeFraction: report.defectFreeFraction,
    blocked: report.blocked,
    reasons: report.reasons,
    warnings: report.warnings,
    passed: count('passed'),
    failed: count('failed'),
    errors: count('error'),
    quarantined,
    statements: report.statements,
    durationMs: Math.round(report.durationMs),
    checks: report.results.map((r) => ({ name: r.name, type: r.type, severity: r.severity, status: r.status, failing: r.failing })),
  };
}
