import { activityFor, failActivity } from '../engine/activities.js';
import type { Engine } from '../engine/engine.js';
import { RpcError } from '../errors.js';
import { api } from '../proto.js';

/**
 * A worker's report carrying a payload over the limit cannot be stored; refusing it alone would leave the task to time
 * out and retry forever. So the workflow is terminated (for a workflow task) or the activity fails with a
 * non-retryable error (for an activity result), naming the limit; the caller still gets the INVALID_ARGUMENT.
 */
export async function failOversizedReport(engine: Engine, method: string, request: unknown, error: RpcError): Promise<void> {
  const token = (request as { taskToken?: Uint8Array | null }).taskToken;
  const failure = api.failure.v1.Failure.fromObject({
    message: error.message,
    source: 'lastmile-devserver',
    applicationFailureInfo: { type: 'PayloadSizeLimitExceeded', nonRetryable: true },
  });
  try {
    if (method === 'RespondWorkflowTaskCompleted') {
      // Terminated rather than failed: a failed-workflow event needs a command behind it for the history to replay.
      engine.terminate(engine.workflowTaskFor(token), `workflow task completion refused: ${error.message}`, undefined, 'lastmile-devserver');
    } else if (method === 'RespondActivityTaskCompleted' || method === 'RespondActivityTaskFailed') {
      const { ex, act } = activityFor(engine, token);
      failActivity(engine, ex, act, failure, undefined, (request as { identity?: string | null }).identity ?? '');
    } else {
      return;
    }
    await engine.commit();
  } catch (lookup) {
    // The task is already gone (timed out, workflow closed): nothing left to fail.
    if (!(lookup instanceof RpcError)) throw lookup;
  }
}
