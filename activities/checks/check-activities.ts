import { ApplicationFailure } from '@temporalio/activity';
import { checkProductRun, SourceFailure } from '../../src/checks/product-run.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import type { CheckOutcome } from '../../workflows/types.js';
import { withHeartbeat } from '../core/heartbeat.js';
import { productOf } from '../core/products.js';

/** The validation step of every run (src/checks/product-run.ts). */
export function createCheckActivities(ctx: ServingContext) {
  return {
    /** Runs the product's checks, records them, quarantines failing rows when asked; idempotent. */
    async checkProduct(input: { env: string; product: string; runId: string }): Promise<CheckOutcome> {
      const product = productOf(ctx, input.product);
      const warehouse = await ctx.warehouse(input.env);
      try {
        return await withHeartbeat(checkProductRun(warehouse, product, input.runId), () => ({ product: product.name }));
      } catch (error) {
        if (!(error instanceof SourceFailure)) throw error;
        throw ApplicationFailure.create({ message: error.message, type: error.name, nonRetryable: error.permanent });
      }
    },
  };
}

export type CheckActivities = ReturnType<typeof createCheckActivities>;
