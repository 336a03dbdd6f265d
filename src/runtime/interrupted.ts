/**
 * Runs left `running` in the metadata store by a process that stopped mid-run (Ctrl-C, a crash, a lost devserver):
 * a run whose serveProduct workflow is still running resumes on the workers — Temporal is durable — and one whose
 * workflow ended without recording the end of the run (terminated, timed out, or unknown to this Temporal because its
 * state was lost) is closed as `canceled`, with the reason. No run stays `running` for ever.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { lineageOf, recordRunLineage } from '../lineage/index.js';
import type { MetaStore } from '../meta/index.js';
import type { RunRecord } from '../meta/types.js';
import type { Project } from './project.js';
import type { Warehouse } from './warehouse.js';

export interface InterruptedRuns {
  /** runs closed now, with the reason recorded */
  closed: { run: RunRecord; reason: string }[];
  /** runs whose workflow still runs: the workers finish them */
  resuming: RunRecord[];
}

export async function closeInterruptedRuns(meta: MetaStore, client: Client, env: string): Promise<InterruptedRuns> {
  const running = await meta.listRuns({ env, status: 'running', limit: 1000 });
  const result: InterruptedRuns = { closed: [], resuming: [] };
  for (const run of running) {
    const reason = await whyNotRunning(client, run);
    if (reason === undefined) {
      result.resuming.push(run);
      continue;
    }
    const { updated, run: closed } = await meta.finishRun({ runId: run.runId, status: 'canceled', error: `interrupted: ${reason}` });
    if (updated) result.closed.push({ run: closed, reason });
  }
  return result;
}

/**
 * A run closed here ended without its workflow's `finishRun`, so without its lineage end event: each gets an ABORT
 * in the outbox (where lineage is configured), sent with the environment's next delivery.
 */
export async function recordAbortEvents(project: Pick<Project, 'config' | 'products' | 'root'>, warehouse: Warehouse, env: ResolvedEnvironment, closed: InterruptedRuns['closed']): Promise<number> {
  const lineage = lineageOf(project.config, env.name);
  if (!lineage) return 0;
  let recorded = 0;
  for (const { run } of closed) {
    const product = project.products.get(run.product);
    if (!product) continue;
    const result = await recordRunLineage({ lineage, warehouse, env, root: project.root, product, run, targets: await warehouse.meta.listTargets(run.runId) });
    if (result.recorded) recorded += 1;
  }
  return recorded;
}

/** Why the run's workflow is not running any more, or undefined when it still runs. */
async function whyNotRunning(client: Client, run: RunRecord): Promise<string | undefined> {
  if (!run.workflowId) return 'the run has no workflow id, so nothing can resume it';
  try {
    const described = await client.workflow.getHandle(run.workflowId, run.runId).describe();
    const status = described.status.name;
    if (status === 'RUNNING') return undefined;
    return `its workflow ${run.workflowId} ended ${status.toLowerCase().replace(/_/g, ' ')} before the run's end was recorded`;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return `its workflow ${run.workflowId} is not known to this Temporal server (its state was lost or deleted)`;
    throw error;
  }
}
