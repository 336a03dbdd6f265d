import type { ServingContext } from '../../src/runtime/serving-context.js';
import { servingWorkflow, type ServingKind } from '../../workflows/kinds.js';
import type { FinalRunStatus } from '../../src/meta/types.js';
import { lineageOf, recordRunLineage } from '../../src/lineage/index.js';
import type { CheckOutcome, RunPlan, ServeProductInput, TargetResult } from '../../workflows/types.js';
import { inputError, productOf } from './products.js';

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
      const { run } = await warehouse.meta.startRun({
        runId: input.temporalRunId,
        product: product.name,
        env: input.env,
        trigger: input.trigger,
        productVersion: product.version,
        gitSha: input.gitSha,
        workflowId: input.workflowId,
      });
      // the run's START event goes to the outbox in this same step: a retry records it once, a lost worker loses none
      const lineage = lineageOf(ctx.config, input.env);
      if (lineage) {
        await recordRunLineage({ lineage, warehouse, env: ctx.resolved(input.env), root: ctx.root, product, run, targets: chosen.map((t) => t.name) });
      }
      return {
        runId: input.temporalRunId,
        version: product.version,
        owner: product.owner.team,
        targets: chosen.map((t) => ({ name: t.name, kind: t.kind as ServingKind, workflowType: servingWorkflow(t.kind as ServingKind) })),
        hasSlo: product.slo !== undefined,
        measuresLatency: product.slo?.latency !== undefined,
        ...(lineage && { lineage: true }),
      };
    },

    async recordTarget(input: { env: string; runId: string; result: TargetResult }): Promise<void> {
      const { result } = input;
      const warehouse = await ctx.warehouse(input.env);
      await warehouse.meta.recordTarget({
        runId: input.runId,
        target: result.name,
        kind: result.kind,
        status: result.status,
        ...(result.startedAt !== undefined && { startedAt: new Date(result.startedAt) }),
        finishedAt: new Date(),
        rows: result.rows,
        bytes: result.bytes,
        error: result.error,
        detail: result.detail !== undefined ? { note: result.detail } : undefined,
      });
    },

    async finishRun(input: {
      env: string;
      runId: string;
      status: FinalRunStatus;
      rows: number;
      error?: string;
      checks?: CheckOutcome;
    }): Promise<void> {
      const warehouse = await ctx.warehouse(input.env);
      const checks = input.checks;
      const { run } = await warehouse.meta.finishRun({
        runId: input.runId,
        status: input.status,
        rows: input.rows,
        error: input.error,
        ...(checks && {
          defectRate: checks.rows === 0 ? 0 : checks.defects / checks.rows,
          reasons: checks.blocked ? checks.reasons : [],
          checks: {
            passed: checks.passed,
            failed: checks.failed,
            errors: checks.errors,
            defects: checks.defects,
            defectFreeFraction: checks.defectFreeFraction,
            quarantined: checks.quarantined,
            warnings: checks.warnings,
            results: checks.checks.map((c) => ({ name: c.name, status: c.status, severity: c.severity, failing: c.failing })),
          },
        }),
      });
      // the end event (COMPLETE, FAIL) goes to the outbox with the run's end, its outputs the targets it recorded
      const lineage = lineageOf(ctx.config, input.env);
      const product = ctx.product(run.product);
      if (lineage && product) {
        const targets = await warehouse.meta.listTargets(run.runId);
        await recordRunLineage({ lineage, warehouse, env: ctx.resolved(input.env), root: ctx.root, product, run, targets });
      }
    },
  };
}

export type CoreActivities = ReturnType<typeof createCoreActivities>;
