import { ApplicationFailure } from '@temporalio/activity';
import { ChecksError, isCheckFault, quarantineInsert, runChecks, toCheckResultInputs } from '../../src/checks/index.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import type { CheckOutcome } from '../../workflows/types.js';
import { productOf } from '../core/products.js';

/** The validation step of every run: the product's checks in one scan, recorded, and the verdict. */
export function createCheckActivities(ctx: ServingContext) {
  return {
    /**
     * Runs the product's checks, records their results with the run, and (for `onDefects: 'quarantine'`) copies the
     * failing rows into `lastmile.quarantine`. Idempotent: a retried attempt replaces what an earlier one wrote.
     */
    async checkProduct(input: { env: string; product: string; runId: string }): Promise<CheckOutcome> {
      const product = productOf(ctx, input.product);
      const warehouse = await ctx.warehouse(input.env);
      // rowCount({ maxChange }) compares with the last delivered run: a jump that blocked is not the new normal
      const previous = (await warehouse.meta.listRuns({ env: input.env, product: product.name, status: 'succeeded', limit: 5 })).find(
        (run) => run.runId !== input.runId && run.rows !== null,
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
        throw ApplicationFailure.create({
          message: `the source of ${product.name} failed in ${warehouse.description}: ${text}`,
          type: 'LastmileSourceError',
          // a SQL fault (syntax, unknown column, bad cast…) fails the same way on every attempt
          nonRetryable: error instanceof ChecksError || isCheckFault(error),
        });
      }
      await warehouse.meta.recordChecks(input.runId, toCheckResultInputs(report));
      let quarantined = 0;
      if (product.onDefects === 'quarantine' && !report.blocked && report.defects > 0) {
        const insert = quarantineInsert(product, input.runId, warehouse.schemas);
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
    },
  };
}

export type CheckActivities = ReturnType<typeof createCheckActivities>;
