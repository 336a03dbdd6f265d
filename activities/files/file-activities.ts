import { Context } from '@temporalio/activity';
import { buildManifest, exchangeOf, exportPartition, planPartitions, publishVersion } from '../../src/files/exchange.js';
import { applyRetention } from '../../src/files/publish.js';
import { targetDestination } from '../../src/files/target-destination.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import type { ExportedFile, ExportPlan, PartitionPlan, ServeTargetInput } from '../../workflows/types.js';
import { withHeartbeat } from '../core/heartbeat.js';
import { productOf } from '../core/products.js';

/** The activities of the `fileExchange` workflow (src/files/exchange.ts). Each may run more than once; each is idempotent. */
export function createFileActivities(ctx: ServingContext) {
  const setting = async (input: ServeTargetInput) => {
    const exchange = exchangeOf(productOf(ctx, input.product), input.target);
    return { exchange, destination: await targetDestination(exchange.product, exchange.target, ctx.root, ctx.resolved(input.env)) };
  };

  return {
    /** Decides the files of this run: one, one per value of `splitBy`, or one per `rowsPerFile` rows. */
    async planExport(input: ServeTargetInput): Promise<ExportPlan> {
      const { exchange, destination } = await setting(input);
      const warehouse = await ctx.warehouse(input.env);
      const served = await ctx.servedQuery(exchange.product.name, input.env);
      const partitions = await planPartitions(warehouse.pool, served, exchange, destination, input.runId, input.env, new Date());
      return { destination: destination.description, partitions };
    },

    /** Writes one partition's file, heartbeating rows and bytes; an interrupted attempt leaves no object behind. */
    async exportPartition(input: ServeTargetInput & { partition: PartitionPlan }): Promise<ExportedFile> {
      const { exchange, destination } = await setting(input);
      const warehouse = await ctx.warehouse(input.env);
      const served = await ctx.servedQuery(exchange.product.name, input.env);
      const activity = Context.current();
      let progress = { rows: 0, bytes: 0 };
      const work = exportPartition({
        pool: warehouse.pool,
        served,
        exchange,
        destination,
        runId: input.runId,
        partition: input.partition,
        onProgress: (p) => {
          progress = p;
          activity.heartbeat(p);
        },
        signal: activity.cancellationSignal,
      });
      return await withHeartbeat(work, () => progress);
    },

    /** Writes the manifest, verifies every file against it, moves `_latest.json`, and records the files. */
    async publishVersion(input: ServeTargetInput & { files: ExportedFile[] }): Promise<{ version: string; consumers: number }> {
      const { exchange, destination } = await setting(input);
      const warehouse = await ctx.warehouse(input.env);
      const run = await warehouse.meta.getRun(input.runId);
      const manifest = buildManifest(exchange, { runId: input.runId, env: input.env, gitSha: run?.gitSha ?? null, createdAt: new Date() }, input.files, input.checks);
      return await publishVersion({ pool: warehouse.pool, env: input.env, exchange, destination, manifest, files: input.files });
    },

    /** Deletes versions the target's retention no longer keeps (never the current one); returns their run ids. */
    async applyRetention(input: ServeTargetInput): Promise<string[]> {
      const { exchange, destination } = await setting(input);
      if (!exchange.target.retention) return [];
      return await applyRetention(destination, exchange.target.retention, new Date(), input.env);
    },
  };
}

export type FileActivities = ReturnType<typeof createFileActivities>;
