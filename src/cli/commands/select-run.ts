import type { MetaStore, RunRecord } from '../../meta/index.js';
import { CommandFailure } from '../exit-codes.js';

/**
 * The run `runId` of `product` in `env`, or a `CommandFailure` saying whose run it is (or that there is none) and
 * naming the product's latest runs.
 */
export async function runOfProduct(meta: MetaStore, where: { env: string; product: string; runId: string }): Promise<RunRecord> {
  const run = await meta.getRun(where.runId);
  if (run && run.product === where.product && run.env === where.env) return run;
  const recent = await meta.listRuns({ env: where.env, product: where.product, limit: 5 });
  const whose = run ? `it is a run of ${run.product} in ${run.env}` : 'there is no such run';
  const latest = recent.length > 0 ? `the latest runs of ${where.product} in ${where.env} are ${recent.map((r) => r.runId).join(', ')}` : `${where.product} has no runs in ${where.env}`;
  throw new CommandFailure(`run ${where.runId} is not a run of ${where.product} in ${where.env}: ${whose}; ${latest} (lastmile runs --product ${where.product} lists them).`);
}
