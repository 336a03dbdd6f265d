/**
 * Workflow updates over gRPC: UpdateWorkflowExecution, PollWorkflowExecutionUpdate, and update-with-start through
 * ExecuteMultiOperation (a start and an update of the same workflow id, with the start's conflict policy deciding
 * whether an open workflow is reused or the call fails).
 */
import type { temporal } from '@temporalio/proto';
import type { Engine } from '../engine/engine.js';
import type { AdmittedUpdate, Execution } from '../engine/execution.js';
import { admitUpdate, STAGE, waitForUpdate } from '../engine/updates.js';
import { invalid, notFound, RpcError } from '../errors.js';
import { api } from '../proto.js';
import { longPollWait, type CallContext } from './context.js';
import { h } from './namespace-handlers.js';
import type { AnyHandler } from './server.js';

type UpdateRequest = temporal.api.workflowservice.v1.UpdateWorkflowExecutionRequest.$Properties;

/** Longest an UpdateWorkflowExecution / PollWorkflowExecutionUpdate call waits before answering the stage reached. */
const UPDATE_WAIT_MS = 20_000;

function checkUpdateRequest(req: UpdateRequest): string {
  const updateId = req.request?.meta?.updateId ?? '';
  if (!updateId) throw invalid('Update ID is not set on request (request.meta.update_id).');
  if (!req.request?.input?.name) throw invalid(`Update ${updateId}: the update name is not set on request (request.input.name).`);
  return updateId;
}

/** Admits the update on `ex` (or finds it by id) and waits for the stage the caller asked for. */
async function runUpdate(engine: Engine, ex: Execution, req: UpdateRequest, ctx: CallContext): Promise<Record<string, unknown>> {
  const updateId = checkUpdateRequest(req);
  let admitted: AdmittedUpdate | undefined;
  if (ex.open) {
    admitted = admitUpdate(engine, ex, req.request as NonNullable<UpdateRequest['request']>);
    await engine.commit();
  } else if (!ex.s.updates?.[updateId]) {
    throw notFound('workflow execution already completed');
  }
  const stage = req.waitPolicy?.lifecycleStage || STAGE.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
  const view = await waitForUpdate(engine, ex, updateId, stage, longPollWait(ctx, UPDATE_WAIT_MS), ctx, admitted);
  return {
    updateRef: { workflowExecution: { workflowId: ex.s.workflowId, runId: ex.s.runId }, updateId },
    outcome: view.outcome,
    stage: view.stage,
  };
}

/** A start that failed inside ExecuteMultiOperation, reported per operation as Temporal does. */
function multiOperationFailure(error: RpcError): RpcError {
  const aborted = api.failure.v1.MultiOperationExecutionAborted.encode({}).finish();
  const failure = api.errordetails.v1.MultiOperationExecutionFailure.encode({
    statuses: [
      {
        code: error.code,
        message: error.message,
        details: error.details.map((d) => ({ type_url: `type.googleapis.com/${d.typeName}`, value: d.value })),
      },
      {
        code: 10, // ABORTED
        message: 'Operation was aborted.',
        details: [{ type_url: 'type.googleapis.com/temporal.api.failure.v1.MultiOperationExecutionAborted', value: aborted }],
      },
    ] as unknown as temporal.api.errordetails.v1.MultiOperationExecutionFailure.OperationStatus[],
  }).finish();
  return new RpcError(error.code, `Update-with-Start could not be executed: ${error.message}`, [
    { typeName: 'temporal.api.errordetails.v1.MultiOperationExecutionFailure', value: failure },
  ]);
}

export function updateHandlers(engine: Engine): Record<string, AnyHandler> {
  return {
    UpdateWorkflowExecution: h<'UpdateWorkflowExecutionRequest'>(async (req, ctx) => {
      checkUpdateRequest(req);
      const ex = engine.get(req.namespace ?? '', req.workflowExecution);
      if (req.firstExecutionRunId && ex.s.firstRunId !== req.firstExecutionRunId) {
        throw notFound(`workflow ${ex.s.workflowId} has no run chain starting with run ${req.firstExecutionRunId}`);
      }
      return runUpdate(engine, ex, req, ctx);
    }),

    PollWorkflowExecutionUpdate: h<'PollWorkflowExecutionUpdateRequest'>(async (req, ctx) => {
      const ref = req.updateRef;
      const updateId = ref?.updateId ?? '';
      if (!updateId) throw invalid('Update ID is not set on request (update_ref.update_id).');
      const ex = engine.get(req.namespace ?? '', ref?.workflowExecution);
      const stage = req.waitPolicy?.lifecycleStage || STAGE.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
      const view = await waitForUpdate(engine, ex, updateId, stage, longPollWait(ctx, UPDATE_WAIT_MS), ctx);
      return {
        updateRef: { workflowExecution: { workflowId: ex.s.workflowId, runId: ex.s.runId }, updateId },
        outcome: view.outcome,
        stage: view.stage,
      };
    }),

    ExecuteMultiOperation: h<'ExecuteMultiOperationRequest'>(async (req, ctx) => {
      const namespace = engine.namespace(req.namespace).name;
      const ops = req.operations ?? [];
      const start = ops[0]?.startWorkflow;
      const update = ops[1]?.updateWorkflow;
      if (ops.length !== 2 || !start || !update) {
        throw invalid('ExecuteMultiOperation takes exactly two operations: a start_workflow followed by an update_workflow (update-with-start).');
      }
      const workflowId = start.workflowId ?? '';
      if (update.workflowExecution?.workflowId && update.workflowExecution.workflowId !== workflowId) {
        throw invalid(`update-with-start: the update names workflow ${update.workflowExecution.workflowId}, the start ${workflowId}; they must be the same.`);
      }
      if (update.workflowExecution?.runId || update.firstExecutionRunId) {
        throw invalid('update-with-start: the update must not name a run id (it goes to the run the start returns).');
      }
      if (!start.workflowIdConflictPolicy) {
        throw invalid('update-with-start: set the start operation\'s workflow_id_conflict_policy (USE_EXISTING or FAIL).');
      }
      checkUpdateRequest(update);
      let ex: Execution;
      let started: boolean;
      try {
        ({ ex, started } = engine.startWorkflow({ ...start, namespace }));
      } catch (error) {
        if (error instanceof RpcError) throw multiOperationFailure(error);
        throw error;
      }
      const updateResponse = await runUpdate(engine, ex, { ...update, namespace, workflowExecution: { workflowId, runId: ex.s.runId } }, ctx);
      return {
        responses: [
          { startWorkflow: { runId: ex.s.runId, started, status: ex.s.status } },
          { updateWorkflow: updateResponse },
        ],
      };
    }),
  };
}
