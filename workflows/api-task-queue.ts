// Which task queue an import sends its HealthLake calls to, decided once and recorded: the worker
// running the workflow names its own API queue (or checks the input's override), so the worker,
// the client helper and the pipeline agree by construction; a queue nobody polls fails typed.
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  sleep,
} from '@temporalio/workflow';
import {
  HEALTHLAKE_API_TASK_QUEUE_SUFFIX,
  ImportFailureType,
  type ApiTaskQueueActivities,
  type ApiTaskQueueNotPolledDetails,
  type ApiTaskQueuePairing,
} from './types';

/**
 * Patch id of the worker-named API task queue and its poller check. Imports started before it (no
 * marker in their history) keep the old default, `<workflow task queue>-healthlake-api`, unchecked.
 */
export const API_TASK_QUEUE_PATCH = 'healthlake-api-task-queue-from-worker';

/** The API task queue of one import and the guard for its first HealthLake activity. */
export interface ApiTaskQueueRoute {
  readonly taskQueue: string;
  /**
   * Resolves or rejects like `first` (the first activity on the queue). When the queue had no poller
   * at the start, checks again every `checkIntervalMs` meanwhile: warns in the UI's current details
   * (after `details()`) and the log, and rejects `HealthLakeApiTaskQueueNotPolled` once no poller
   * was seen for `unpolledFailAfterMs`. A queue with pollers (even thousands of imports queued
   * behind its rate limit) is never checked again.
   */
  guard<T>(first: Promise<T>, details: () => string): Promise<T>;
}

const localActivities = proxyLocalActivities<ApiTaskQueueActivities>({
  startToCloseTimeout: '10s',
  // A worker without the activity (a hand-built one) answers NotFoundError: fall back, do not loop.
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['NotFoundError'] },
});

function nowMs(): number {
  return new Date().getTime();
}

/** Asks the worker (recorded as a local-activity marker; replays give the recorded answer). */
export async function resolveApiTaskQueue(
  requested: string | undefined,
  workflowTaskQueue: string,
): Promise<ApiTaskQueueRoute> {
  const legacy = requested ?? `${workflowTaskQueue}${HEALTHLAKE_API_TASK_QUEUE_SUFFIX}`;
  if (!patched(API_TASK_QUEUE_PATCH)) return { taskQueue: legacy, guard: (first) => first };
  const askedAtMs = nowMs();
  let pairing: ApiTaskQueuePairing;
  try {
    pairing = await localActivities.healthLakeApiTaskQueue(
      requested === undefined ? {} : { apiTaskQueue: requested },
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn(
      'the worker did not name its HealthLake API task queue (healthLakeApiTaskQueue is not registered?)',
      {
        apiTaskQueue: legacy,
        error: err instanceof Error ? err.message : String(err),
      },
    );
    return { taskQueue: legacy, guard: (first) => first };
  }
  const taskQueue = pairing.apiTaskQueue;
  if (pairing.pollers === undefined || pairing.pollers > 0) return { taskQueue, guard: (first) => first };
  return {
    taskQueue,
    guard: (first, details) => guardUnpolled(first, details, pairing, askedAtMs),
  };
}

async function guardUnpolled<T>(
  first: Promise<T>,
  details: () => string,
  pairing: ApiTaskQueuePairing,
  unpolledSinceMs: number,
): Promise<T> {
  const { apiTaskQueue, unpolledFailAfterMs, checkIntervalMs } = pairing;
  const warn = (): void => {
    const unpolledS = Math.round((nowMs() - unpolledSinceMs) / 1000);
    const outcome =
      unpolledFailAfterMs > 0
        ? `the import fails ${ImportFailureType.HealthLakeApiTaskQueueNotPolled} after ${Math.round(unpolledFailAfterMs / 1000)} s`
        : 'the import waits for one';
    const text = `no worker polls HealthLake API task queue "${apiTaskQueue}" (for ${unpolledS} s); ${outcome}`;
    log.warn(text, { apiTaskQueue, unpolledForMs: nowMs() - unpolledSinceMs });
    setCurrentDetails(`**Warning:** ${text}\n\n${details()}`);
  };
  // Its own scope: stopped as soon as `first` settles, and not cancelled by a workflow cancel (the
  // start it guards is not cancellable either).
  const scope = new CancellationScope({ cancellable: false });
  const watch = scope.run(async (): Promise<never> => {
    for (;;) {
      warn();
      const unpolledForMs = nowMs() - unpolledSinceMs;
      if (unpolledFailAfterMs > 0 && unpolledForMs >= unpolledFailAfterMs) {
        const failureDetails: ApiTaskQueueNotPolledDetails = { apiTaskQueue, unpolledForMs };
        throw ApplicationFailure.create({
          message:
            `no worker polled HealthLake API task queue "${apiTaskQueue}" for ${Math.round(unpolledForMs / 1000)} s ` +
            `(limit ${Math.round(unpolledFailAfterMs / 1000)} s): run a worker on it (createHealthLakeWorker ` +
            `apiTaskQueue / HEALTHLAKE_API_TASK_QUEUE) or fix input.apiTaskQueue`,
          type: ImportFailureType.HealthLakeApiTaskQueueNotPolled,
          nonRetryable: true,
          details: [failureDetails],
        });
      }
      const untilFailMs = unpolledFailAfterMs > 0 ? unpolledFailAfterMs - unpolledForMs : checkIntervalMs;
      // Named for the UI's timeline (a timer summary is metadata: the command is the same).
      await sleep(Math.max(1, Math.min(checkIntervalMs, untilFailMs)), {
        summary: `recheck that a worker polls ${apiTaskQueue}`,
      });
      const again = await localActivities.healthLakeApiTaskQueue({ apiTaskQueue });
      if (again.pollers === undefined || again.pollers > 0) {
        log.info('HealthLake API task queue is polled now', { apiTaskQueue });
        setCurrentDetails(details());
        return new Promise<never>(() => undefined); // `first` decides from here
      }
    }
  });
  try {
    return await Promise.race([first, watch]);
  } finally {
    watch.catch(() => undefined); // cancelled below, or already the failure thrown above
    scope.cancel();
  }
}
