/**
 * Runs left `running` in the metadata store by a process that stopped mid-run (Ctrl-C, a crash, a lost devserver):
 * a run whose serveProduct workflow is still running resumes on the workers — Temporal is durable — and one whose
 * workflow ended without recording the end of the run (terminated, timed out, or unknown to this Temporal because its
 * state was lost) is closed as `canceled`, with the reason. No run stays `running` for ever.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { MetaStore } from '../meta/index.js';
import type { RunRecord } from '../meta/types.js';

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
