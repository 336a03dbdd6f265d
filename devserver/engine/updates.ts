/**
 * Workflow updates: admission, delivery to the workflow as protocol messages in workflow tasks, the worker's answers
 * (acceptance, rejection, response), their history events, and what callers waiting on an update see.
 *
 * Lifecycle as Temporal has it: ADMITTED (in memory only; a request the workflow has not seen or not answered yet),
 * ACCEPTED (a WorkflowExecutionUpdateAccepted event: durable), COMPLETED (a WorkflowExecutionUpdateCompleted event,
 * or a rejection by the validator, which writes nothing). An update that arrives while no workflow task is pending gets
 * a speculative task: if the workflow rejects it, that task is dropped and the history is as if nothing happened.
 */
import type { temporal } from '@temporalio/proto';
import { notFound } from '../errors.js';
import { api, type HistoryEvent } from '../proto.js';
import type { Engine } from './engine.js';
import type { AdmittedUpdate, Execution } from './execution.js';

type RequestProps = temporal.api.update.v1.Request.$Properties;
type MessageProps = temporal.api.protocol.v1.Message.$Properties;
type Outcome = temporal.api.update.v1.Outcome;

const ET = api.enums.v1.EventType;
export const STAGE = api.enums.v1.UpdateWorkflowExecutionLifecycleStage;

/** A message a worker sent back in RespondWorkflowTaskCompleted, decoded. */
export type WorkerMessage =
  | { kind: 'acceptance'; id: string; updateId: string; body: temporal.api.update.v1.Acceptance }
  | { kind: 'rejection'; id: string; updateId: string; body: temporal.api.update.v1.Rejection }
  | { kind: 'response'; id: string; updateId: string; body: temporal.api.update.v1.Response };

/**
 * Admits an update (or finds the one with the same id). Returns the admitted record, or undefined when the update
 * is already accepted (its record is in the run's state).
 */
export function admitUpdate(engine: Engine, ex: Execution, request: RequestProps): AdmittedUpdate | undefined {
  const updateId = request.meta?.updateId ?? '';
  if (ex.s.updates?.[updateId]) return undefined;
  const existing = ex.admittedUpdates.get(updateId);
  if (existing) return existing;
  const admitted: AdmittedUpdate = { updateId, request: api.update.v1.Request.encode(api.update.v1.Request.fromObject(request)).finish() };
  ex.admittedUpdates.set(updateId, admitted);
  const s = ex.s;
  // A pending (not started) task carries it; a running one is followed by a task that does (see afterCompletion).
  if (!s.wt && (s.firstTaskAt === undefined || s.firstTaskAt <= engine.now())) scheduleSpeculativeTask(engine, ex);
  return admitted;
}

/** A workflow task for updates only: its scheduled/started events are written only if the workflow accepts one. */
export function scheduleSpeculativeTask(engine: Engine, ex: Execution): void {
  const s = ex.s;
  if (!ex.open || s.wt) return;
  s.wt = { scheduledEventId: 0, attempt: 1, scheduledAt: engine.now(), stickyQueue: s.sticky?.queue, transient: true, speculative: true, stamp: ++s.stampSeq };
  engine.touch(ex);
  engine.afterCommit(() => engine.dispatchWorkflowTask(ex));
}

/** Admitted updates that the workflow task with `stamp` did not carry. */
export function hasUndeliveredUpdates(ex: Execution, stamp: number): boolean {
  for (const admitted of ex.admittedUpdates.values()) if (!admitted.rejection && admitted.deliveredIn !== stamp) return true;
  return false;
}

/** Decodes the messages of a RespondWorkflowTaskCompleted; unknown bodies are an error the caller reports. */
export function readWorkerMessages(messages: MessageProps[] | null | undefined): Map<string, WorkerMessage> {
  const out = new Map<string, WorkerMessage>();
  for (const m of messages ?? []) {
    const body = m.body as { type_url?: string; value?: Uint8Array } | null | undefined;
    const url = body?.type_url ?? '';
    const value = body?.value ?? new Uint8Array();
    const id = m.id ?? '';
    const updateId = m.protocolInstanceId ?? '';
    if (url.endsWith('temporal.api.update.v1.Acceptance')) out.set(id, { kind: 'acceptance', id, updateId, body: api.update.v1.Acceptance.decode(value) });
    else if (url.endsWith('temporal.api.update.v1.Rejection')) out.set(id, { kind: 'rejection', id, updateId, body: api.update.v1.Rejection.decode(value) });
    else if (url.endsWith('temporal.api.update.v1.Response')) out.set(id, { kind: 'response', id, updateId, body: api.update.v1.Response.decode(value) });
    else throw new Error(`protocol message ${id} has a body of type ${url || '(none)'}, which the devserver does not know`);
  }
  return out;
}

/** Why a worker's message cannot be applied (undefined when it can). */
export function checkWorkerMessage(ex: Execution, m: WorkerMessage, acceptedHere: Set<string>): string | undefined {
  if (m.kind === 'response') {
    if (!ex.s.updates?.[m.updateId] && !acceptedHere.has(m.updateId)) return `update ${m.updateId} responded to before it was accepted`;
    return undefined;
  }
  if (!ex.admittedUpdates.has(m.updateId)) return `update ${m.updateId} is not waiting for the workflow (accepted or rejected already, or unknown)`;
  if (m.kind === 'acceptance') acceptedHere.add(m.updateId);
  return undefined;
}

/** Applies one of the worker's messages: acceptance and response write their events; a rejection writes nothing. */
export function applyWorkerMessage(engine: Engine, ex: Execution, m: WorkerMessage): void {
  const s = ex.s;
  switch (m.kind) {
    case 'acceptance': {
      const admitted = ex.admittedUpdates.get(m.updateId);
      const request = m.body.acceptedRequest ?? (admitted ? api.update.v1.Request.decode(admitted.request) : undefined);
      const event = engine.append(ex, ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, {
        protocolInstanceId: m.updateId,
        acceptedRequestMessageId: m.body.acceptedRequestMessageId,
        acceptedRequestSequencingEventId: m.body.acceptedRequestSequencingEventId,
        acceptedRequest: request,
      });
      ex.admittedUpdates.delete(m.updateId);
      s.updates = { ...(s.updates ?? {}), [m.updateId]: { acceptedEventId: Number(event.eventId) } };
      break;
    }
    case 'rejection': {
      const admitted = ex.admittedUpdates.get(m.updateId);
      if (admitted) {
        admitted.rejection = api.update.v1.Outcome.encode({ failure: m.body.failure ?? { message: 'update rejected' } }).finish();
        ex.admittedUpdates.delete(m.updateId);
      }
      break;
    }
    case 'response': {
      const record = s.updates?.[m.updateId];
      if (!record || record.completedEventId) break;
      const event = engine.append(ex, ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED, {
        meta: m.body.meta ?? { updateId: m.updateId },
        acceptedEventId: record.acceptedEventId,
        outcome: m.body.outcome ?? undefined,
      });
      record.completedEventId = Number(event.eventId);
      break;
    }
  }
  engine.touch(ex);
  engine.afterCommit(() => ex.notifyUpdates());
}

/** What a caller waiting on an update sees now. Throws NOT_FOUND as Temporal does for a closed run or an unknown id. */
export async function updateView(
  engine: Engine,
  ex: Execution,
  updateId: string,
  admitted?: AdmittedUpdate,
): Promise<{ stage: number; outcome?: Outcome }> {
  const record = ex.s.updates?.[updateId];
  if (record) {
    if (record.completedEventId) {
      const events = await engine.history(ex);
      const event = findEvent(events, record.completedEventId);
      const outcome = event?.workflowExecutionUpdateCompletedEventAttributes?.outcome ?? undefined;
      return { stage: STAGE.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED, outcome: outcome ? api.update.v1.Outcome.fromObject(outcome) : undefined };
    }
    if (!ex.open) {
      return {
        stage: STAGE.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED,
        outcome: api.update.v1.Outcome.fromObject({
          failure: { message: 'Workflow Update failed because the Workflow completed before the Update completed.', source: 'lastmile-devserver' },
        }),
      };
    }
    return { stage: STAGE.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED };
  }
  const current = admitted ?? ex.admittedUpdates.get(updateId);
  if (current?.rejection) return { stage: STAGE.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED, outcome: api.update.v1.Outcome.decode(current.rejection) };
  if (!ex.open) throw notFound('workflow execution already completed');
  if (current && ex.admittedUpdates.get(updateId) === current) return { stage: STAGE.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED };
  throw notFound(`update ${updateId} of workflow ${ex.s.workflowId} run ${ex.s.runId} is not found`);
}

function findEvent(events: HistoryEvent[], eventId: number): HistoryEvent | undefined {
  const guess = events[eventId - 1];
  if (guess && Number(guess.eventId) === eventId) return guess;
  return events.find((e) => Number(e.eventId) === eventId);
}

/**
 * Waits until the update reaches `stage` (or the run closes), at most `ms`; answers what it reached. Rejections and
 * failures come back as a COMPLETED stage with the outcome, like Temporal.
 */
export async function waitForUpdate(
  engine: Engine,
  ex: Execution,
  updateId: string,
  stage: number,
  ms: number,
  call: { isCancelled(): boolean; onCancel(listener: () => void): void },
  admitted?: AdmittedUpdate,
): Promise<{ stage: number; outcome?: Outcome }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const view = await updateView(engine, ex, updateId, admitted);
    const remaining = deadline - Date.now();
    if (view.stage >= stage || remaining <= 0 || call.isCancelled()) return view;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        ex.updateWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, remaining);
      ex.updateWaiters.add(done);
      call.onCancel(done);
    });
  }
}
