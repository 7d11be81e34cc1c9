// The worker's side of the HealthLake API task queue's single source of truth: a local activity the
// import workflow calls to learn which API queue the worker that runs it pairs with, and whether
// anything polls that queue (so a wrong queue fails loudly instead of waiting forever).
import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';
import {
  HEALTHLAKE_API_TASK_QUEUE_SUFFIX,
  type ApiTaskQueueActivities,
  type ApiTaskQueuePairing,
} from '../workflows/types';

/**
 * How long an import waits, seeing no poller on its API task queue, before it fails
 * `HealthLakeApiTaskQueueNotPolled`. Long enough for a rolling deploy of the API workers (the
 * server also remembers a poller for about 5 minutes after its last poll).
 */
export const DEFAULT_API_TASK_QUEUE_UNPOLLED_FAIL_AFTER_MS = 600_000;
/** Pause between two poller checks while none is seen, in ms. */
export const DEFAULT_API_TASK_QUEUE_CHECK_INTERVAL_MS = 30_000;
/**
 * A queue seen polled is not asked about again for this long, in ms: thousands of imports starting
 * on one worker make one DescribeTaskQueue call, not thousands.
 */
const POLLED_CACHE_MS = 10_000;
/** A worker that has just started may not have polled yet: look again for this long before saying 0. */
const ZERO_POLLER_GRACE_MS = 1_000;
const ZERO_POLLER_STEP_MS = 100;

export interface ApiTaskQueueActivitiesOptions {
  /**
   * The API task queue this worker pairs with (where its HealthLake activities run).
   * @default the workflow's task queue + '-healthlake-api'
   */
  readonly apiTaskQueue?: string;
  /**
   * Fail an import after its API task queue has shown no poller for this long, in ms; 0 only warns.
   * @default 600_000
   */
  readonly unpolledFailAfterMs?: number;
  /** Pause between two checks while no poller is seen, in ms. @default 30_000 */
  readonly checkIntervalMs?: number;
}

/**
 * The local activity `healthLakeApiTaskQueue`. Register it on the worker that runs the import
 * workflow (`createWorkerActivities` does). Its answer is recorded in the workflow's history, so the
 * queue an import uses never changes on replay, even if the worker's configuration does.
 */
export function createApiTaskQueueActivities(
  options: ApiTaskQueueActivitiesOptions = {},
): ApiTaskQueueActivities {
  const polledUntil = new Map<string, number>();
  const unpolledFailAfterMs = options.unpolledFailAfterMs ?? DEFAULT_API_TASK_QUEUE_UNPOLLED_FAIL_AFTER_MS;
  const checkIntervalMs = options.checkIntervalMs ?? DEFAULT_API_TASK_QUEUE_CHECK_INTERVAL_MS;
  for (const [name, value, min] of [
    ['unpolledFailAfterMs', unpolledFailAfterMs, 0],
    ['checkIntervalMs', checkIntervalMs, 1],
  ] as const) {
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(`apiTaskQueue.${name} ${value} must be a whole number of ms ≥ ${min}`);
    }
  }

  async function describePollers(context: Context, name: string): Promise<number | undefined> {
    try {
      const response = await context.client.workflowService.describeTaskQueue({
        namespace: context.info.namespace,
        taskQueue: { name, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      });
      return response.pollers?.length ?? 0;
    } catch (err) {
      // The check must never be what breaks an import: unknown means "do not fail on it".
      context.log.warn('could not describe the HealthLake API task queue; not checking its pollers', {
        apiTaskQueue: name,
        error: err instanceof Error ? err.message : String(err),
      });
      return undefined;
    }
  }

  return {
    async healthLakeApiTaskQueue(request): Promise<ApiTaskQueuePairing> {
      const context = Context.current();
      const apiTaskQueue =
        request.apiTaskQueue ??
        options.apiTaskQueue ??
        `${context.info.taskQueue}${HEALTHLAKE_API_TASK_QUEUE_SUFFIX}`;
      const answer = (pollers: number | undefined): ApiTaskQueuePairing => ({
        apiTaskQueue,
        ...(pollers === undefined ? {} : { pollers }),
        unpolledFailAfterMs,
        checkIntervalMs,
      });
      if ((polledUntil.get(apiTaskQueue) ?? 0) > Date.now()) return answer(1);
      let pollers = await describePollers(context, apiTaskQueue);
      for (
        let waitedMs = 0;
        pollers === 0 && waitedMs < ZERO_POLLER_GRACE_MS;
        waitedMs += ZERO_POLLER_STEP_MS
      ) {
        await context.sleep(ZERO_POLLER_STEP_MS);
        pollers = await describePollers(context, apiTaskQueue);
      }
      if (pollers !== undefined && pollers > 0) polledUntil.set(apiTaskQueue, Date.now() + POLLED_CACHE_MS);
      return answer(pollers);
    },
  };
}
