import type { Engine, StartRequest } from '../engine/engine.js';
import type { Execution } from '../engine/execution.js';
import type { CloseOutcome, ScheduleHost } from '../schedules/service.js';
import type { HistoryEvent, Payload } from '../proto.js';

/** What a closed run's final event says, for the schedule's next start (last result / last failure). */
function outcomeOf(event: HistoryEvent | undefined): CloseOutcome {
  return {
    result: event?.workflowExecutionCompletedEventAttributes?.result ?? undefined,
    failure: event?.workflowExecutionFailedEventAttributes?.failure ?? undefined,
  };
}

/** The schedules service's view of the engine: starts, close notifications along run chains, durable state. */
export function scheduleHost(engine: Engine): ScheduleHost {
  const watch = (ex: Execution, onClose: (status: number, closeTime: number, outcome?: CloseOutcome) => void): void => {
    const closed = (): void => {
      if (ex.s.nextRunId) {
        const next = engine.find(ex.s.namespace, ex.s.workflowId, ex.s.nextRunId);
        if (next) {
          watch(next, onClose);
          return;
        }
      }
      void engine.history(ex).then(
        (events) => onClose(ex.s.status, ex.s.closeTime ?? engine.now(), outcomeOf(events.find((e) => Number(e.eventId) === ex.s.closeEventId))),
        () => onClose(ex.s.status, ex.s.closeTime ?? engine.now()),
      );
    };
    if (ex.open) ex.closeWatchers.push(closed);
    else closed();
  };
  return {
    now: () => engine.now(),
    assertNamespace: (namespace) => void engine.namespace(namespace),
    async startWorkflow(namespace: string, request: StartRequest) {
      const { ex } = engine.startWorkflow({ ...request, namespace });
      await engine.commit();
      return { runId: ex.s.runId };
    },
    watchClose(namespace, workflowId, runId, onClose) {
      const ex = engine.find(namespace, workflowId, runId);
      if (!ex) onClose(0, engine.now());
      else watch(ex, onClose);
    },
    async terminate(namespace, workflowId, runId, reason) {
      const ex = engine.find(namespace, workflowId, runId);
      if (ex?.open) engine.terminate(ex, reason, undefined, 'lastmile-devserver schedule');
      await engine.commit();
    },
    async requestCancel(namespace, workflowId, runId, reason) {
      const ex = engine.find(namespace, workflowId, runId);
      if (ex?.open) engine.requestCancel(ex, { reason, identity: 'lastmile-devserver schedule' });
      await engine.commit();
    },
    async saveSchedule(namespace, scheduleId, state) {
      engine.batch.schedules.push({ namespace, scheduleId, state });
      await engine.commit();
    },
    validateSearchAttributes(namespace, attributes) {
      engine.normalizeAttributes(namespace, (attributes?.indexedFields ?? {}) as Record<string, Payload>);
    },
    searchAttributeTypes: (namespace) => engine.queryableAttributes(namespace),
  };
}
