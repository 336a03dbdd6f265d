import { ApplicationFailure } from '@temporalio/activity';
import type { Product } from '../../src/product/model.js';
import { resolveSource } from '../../src/product/source.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import { servingWorkflow, type ServingKind } from '../../workflows/kinds.js';
import type { RunPlan, ServeProductInput, TargetResult } from '../../workflows/types.js';

/** An input error no retry can fix: the workflow stops and says what is wrong. */
function inputError(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'LastmileInputError');
}

function productOf(ctx: ServingContext, name: string): Product {
  const product = ctx.product(name);
  if (!product) {
    const known = [...ctx.products.keys()].sort().join(', ') || 'none';
    throw inputError(
      `product ${name} is not known to this worker (it knows: ${known}). If it was just added, restart the worker so it loads products/ again.`,
    );
  }
  return product;
}

/** The run bookkeeping every product run goes through; activities may run twice, so each step is idempotent. */
export function createCoreActivities(ctx: ServingContext) {
  return {
    /** Records the run as running and decides which targets it serves. */
    async planRun(input: ServeProductInput & { workflowId: string; temporalRunId: string }): Promise<RunPlan> {
      const product = productOf(ctx, input.product);
      const names = product.serve.map((t) => t.name);
      const unknown = (input.targets ?? []).filter((t) => !names.includes(t));
      if (unknown.length > 0) {
        throw inputError(`product ${product.name} has no target ${unknown.join(', ')}; its targets are ${names.join(', ') || 'none'}`);
      }
      const chosen = product.serve.filter((t) => !input.targets || input.targets.length === 0 || input.targets.includes(t.name));
      const warehouse = await ctx.warehouse(input.env);
      await warehouse.meta.startRun({
        runId: input.temporalRunId,
        product: product.name,
        env: input.env,
        trigger: input.trigger,
        productVersion: product.version,
        gitSha: input.gitSha,
        workflowId: input.workflowId,
      });
      return {
        runId: input.temporalRunId,
        version: product.version,
        owner: product.owner.team,
        targets: chosen.map((t) => ({ name: t.name, kind: t.kind as ServingKind, workflowType: servingWorkflow(t.kind as ServingKind) })),
      };
    },

    /** Counts the rows of the product's source in the environment's warehouse. */
    async measureSource(input: { env: string; product: string }): Promise<number> {
      const product = productOf(ctx, input.product);
      const warehouse = await ctx.warehouse(input.env);
      const sql = `select count(*)::bigint as n from (${resolveSource(product, warehouse.schemas)}) as s`;
      try {
        const result = await warehouse.pool.query<{ n: string }>(sql);
        return Number(result.rows[0]?.n ?? 0);
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        // SQLSTATE class 22 (data exception: division by zero, bad cast…) and 42 (syntax error, unknown table or
        // column…) fail the same way on every attempt; connection and resource errors are worth retrying.
        const sqlState = (error as { code?: unknown }).code;
        throw ApplicationFailure.create({
          message: `the source of ${product.name} failed in ${warehouse.description}: ${text}`,
          type: 'LastmileSourceError',
          nonRetryable: typeof sqlState === 'string' && /^(22|42)/.test(sqlState),
        });
      }
    },

    async recordTarget(input: { env: string; runId: string; result: TargetResult }): Promise<void> {
      const { result } = input;
      const warehouse = await ctx.warehouse(input.env);
      await warehouse.meta.recordTarget({
        runId: input.runId,
        target: result.name,
        kind: result.kind,
        status: result.status,
        finishedAt: new Date(),
        rows: result.rows,
        bytes: result.bytes,
        error: result.error,
        detail: result.detail !== undefined ? { note: result.detail } : undefined,
      });
    },

    async finishRun(input: { env: string; runId: string; status: 'succeeded' | 'failed'; rows: number; error?: string }): Promise<void> {
      const warehouse = await ctx.warehouse(input.env);
      await warehouse.meta.finishRun({ runId: input.runId, status: input.status, rows: input.rows, error: input.error });
    },
  };
}

export type CoreActivities = ReturnType<typeof createCoreActivities>;
