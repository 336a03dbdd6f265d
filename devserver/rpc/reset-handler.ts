/** ResetWorkflowExecution over gRPC (the logic is in engine/reset.ts). */
import type { Engine } from '../engine/engine.js';
import { resetWorkflow } from '../engine/reset.js';
import { h } from './namespace-handlers.js';
import type { AnyHandler } from './server.js';

export function resetHandlers(engine: Engine): Record<string, AnyHandler> {
  return {
    ResetWorkflowExecution: h<'ResetWorkflowExecutionRequest'>(async (req) => {
      const ex = await resetWorkflow(engine, req);
      await engine.commit();
      return { runId: ex.s.runId };
    }),
  };
}
