import { ApplicationFailure } from '@temporalio/activity';
import { INPUT_ERROR } from '../../src/errors.js';
import type { Product } from '../../src/product/model.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';

/** An input error no retry can fix: the workflow stops and says what is wrong. */
export function inputError(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, INPUT_ERROR);
}

/** The product a workflow names, as this worker loaded it. */
export function productOf(ctx: ServingContext, name: string): Product {
  const product = ctx.product(name);
  if (!product) {
    const known = [...ctx.products.keys()].sort().join(', ') || 'none';
    throw inputError(
      `product ${name} is not known to this worker (it knows: ${known}). If it was just added, restart the worker so it loads products/ again.`,
    );
  }
  return product;
}
