/**
 * One line per workflow outcome on the worker's log: a workflow interceptor that reports how each workflow ended
 * (completed, failed with its reason, continued as new) through the `lastmile` sink, which the worker writes outside
 * the sandbox. Sinks are not called on replay, so a line is written once.
 */
import { ContinueAsNew, proxySinks, type Sinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { failureMessage } from './failure.js';

export interface OutcomeSinks extends Sinks {
  lastmile: {
    outcome(outcome: 'completed' | 'failed' | 'continued as new', reason: string): void;
  };
}

const { lastmile } = proxySinks<OutcomeSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        try {
          const result = await next(input);
          lastmile.outcome('completed', '');
          return result;
        } catch (error) {
          if (error instanceof ContinueAsNew) lastmile.outcome('continued as new', '');
          else lastmile.outcome('failed', failureMessage(error));
          throw error;
        }
      },
    },
  ],
});
