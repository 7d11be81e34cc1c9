// The pipeline's one client-side activity: wait for the result of a workflow that an earlier attempt
// of the pipeline already started (how a retried pipeline attaches to its import instead of
// starting a second one).
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';

export interface PipelineActivitiesOptions {
  /** @default the worker's client (`Context.current().client`) */
  readonly client?: Client;
  /** Heartbeat interval while waiting, in ms; also how late a cancellation may be seen. @default 10_000 */
  readonly heartbeatIntervalMs?: number;
}

/** Failure type when the attached workflow closed without a result and without a typed failure. */
export const ATTACHED_WORKFLOW_FAILED = 'AttachedWorkflowFailed';

export function createPipelineActivities(options: PipelineActivitiesOptions = {}) {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10_000;
  return {
    /**
     * Resolves with the workflow's result (following continue-as-new). A workflow that closed
     * without one fails this activity, non-retryable, under the type of its own failure (an
     * `ApplicationFailure`'s `type`, e.g. `ValidationException`), or `AttachedWorkflowFailed` when it
     * was cancelled, terminated or timed out; the original failure is the cause.
     * Heartbeats while waiting so the worker's death shows and a cancellation is delivered; on
     * cancellation it stops waiting at once (the attached workflow keeps running) and throws
     * `CancelledFailure`.
     */
    async awaitWorkflowResult(input: { readonly workflowId: string }): Promise<unknown> {
      const context = Context.current();
      const client = options.client ?? context.client;
      context.heartbeat();
      const beat = setInterval(() => context.heartbeat(), heartbeatIntervalMs);
      try {
        // The abort ends the long poll; the race makes the cancellation win even if a poll is slow to end.
        return await Promise.race([
          client.withAbortSignal(context.cancellationSignal, () =>
            client.workflow.getHandle(input.workflowId).result(),
          ),
          context.cancelled,
        ]);
      } catch (err) {
        if (context.cancellationSignal.aborted) await context.cancelled;
        // The workflow ended without a result (failed, cancelled, terminated, timed out): waiting
        // again cannot change that, so this must not be retried.
        if (err instanceof WorkflowFailedError) {
          const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
          throw ApplicationFailure.create({
            message: `workflow ${input.workflowId} closed without a result${cause}`,
            type:
              err.cause instanceof ApplicationFailure && err.cause.type
                ? err.cause.type
                : ATTACHED_WORKFLOW_FAILED,
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
