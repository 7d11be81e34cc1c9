// The pipeline's one client-side activity: wait for the result of a workflow that an earlier attempt
// of the pipeline already started (how a retried pipeline attaches to its import instead of
// starting a second one).
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';

export interface PipelineActivitiesOptions {
  /** @default the worker's client (`Context.current().client`) */
  readonly client?: Client;
  /** Heartbeat interval while waiting, in ms. @default 10_000 */
  readonly heartbeatIntervalMs?: number;
}

export function createPipelineActivities(options: PipelineActivitiesOptions = {}) {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10_000;
  return {
    /**
     * Resolves with the workflow's result (following continue-as-new). A workflow that closed
     * without one fails this activity, non-retryable, type `AttachedWorkflowFailed`.
     * Heartbeats while waiting so the worker's death shows and the wait moves to another worker.
     */
    async awaitWorkflowResult(input: { readonly workflowId: string }): Promise<unknown> {
      const context = Context.current();
      const client = options.client ?? context.client;
      const beat = setInterval(() => context.heartbeat(), heartbeatIntervalMs);
      try {
        return await client.workflow.getHandle(input.workflowId).result();
      } catch (err) {
        // The workflow ended without a result (failed, cancelled, terminated, timed out): waiting
        // again cannot change that, so this must not be retried.
        if (err instanceof WorkflowFailedError) {
          const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
          throw ApplicationFailure.create({
            message: `workflow ${input.workflowId} closed without a result${cause}`,
            type: 'AttachedWorkflowFailed',
            nonRetryable: true,
            cause: err.cause,
          });
        }
        throw err;
      } finally {
        clearInterval(beat);
      }
    },
  };
}
