// Workflows for the `polling` benchmark (bench/polling.ts): the baselines the real
// fhirImportWorkflow is compared with, waiting for the same fake jobs in the same run.
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { HealthLakeActivities } from '../activities/import';
import { isTerminalImportStatus } from '../workflows/import-status';
import { estimateCompletion, etaDue, nextPollDelayMs } from '../workflows/poll-policy';
import type { PollPolicy } from '../workflows/types';

export { fhirImportWorkflow } from '../workflows/import';

export interface BenchWaitInput {
  readonly datastoreId: string;
  readonly jobId: string;
  readonly pollPolicy: PollPolicy;
  readonly apiTaskQueue: string;
  /** The known total (bytes), when the strategy has one. */
  readonly totalBytes?: number;
}

/**
 * The workflow-timer loop (Temporal's "avoid" pattern for long polls): one Describe activity, then a
 * workflow timer for the project's own poll policy (same floor, cap, jitter, ETA fraction), so the
 * schedule is ours and only the pattern differs. Every poll writes events (activity 3, timer 2,
 * workflow tasks 6): its history grows with the job's length.
 */
export async function workflowLoopWait(input: BenchWaitInput): Promise<number> {
  const { describeImportJob } = proxyActivities<HealthLakeActivities>({
    taskQueue: input.apiTaskQueue,
    startToCloseTimeout: input.pollPolicy.attemptTimeoutMs,
  });
  let status = 'SUBMITTED';
  let pollsSinceChange = 0;
  let pollsSinceEtaDue: number | undefined;
  let inProgressSinceMs: number | undefined;
  let describeCalls = 0;
  let lastScannedMb = 0;
  for (;;) {
    const snapshot = await describeImportJob({
      datastoreId: input.datastoreId,
      jobId: input.jobId,
    });
    describeCalls++;
    const progress = snapshot.progress;
    if (isTerminalImportStatus(progress.status)) return describeCalls;
    const nowMs = Date.now();
    if (progress.status === 'IN_PROGRESS') inProgressSinceMs ??= nowMs;
    // The same ETA the hybrid wait computes (pace since first seen IN_PROGRESS).
    const { etaMs } = estimateCompletion({
      counts: progress.counts,
      status: progress.status === 'NOT_STARTED' ? 'SUBMITTED' : progress.status,
      ...(input.totalBytes === undefined ? {} : { totalBytes: input.totalBytes }),
      ...(inProgressSinceMs === undefined ? {} : { inProgressSinceMs }),
      nowMs,
    });
    const statusChanged = progress.status !== status;
    const countsMoved = progress.counts.scannedMb !== lastScannedMb;
    lastScannedMb = progress.counts.scannedMb;
    status = progress.status;
    pollsSinceChange = statusChanged ? 0 : pollsSinceChange + 1;
    pollsSinceEtaDue = etaDue(etaMs, input.pollPolicy) ? (pollsSinceEtaDue ?? -1) + 1 : undefined;
    const delayMs = nextPollDelayMs(
      {
        pollsSinceChange,
        status: progress.status === 'QUEUED' ? 'QUEUED' : 'IN_PROGRESS',
        ...(etaMs === undefined ? {} : { etaMs }),
        ...(pollsSinceEtaDue === undefined ? {} : { pollsSinceEtaDue }),
        countsChanged: countsMoved,
        nowMs,
      },
      input.pollPolicy,
      Math.random,
    );
    await sleep(delayMs);
  }
}

/** Input of {@link sdkWaiterWait}. */
export interface SdkWaiterInput extends BenchWaitInput {
  /** The waiter's delay in (bench) seconds: the SDK's 120 s, scaled. */
  readonly delaySeconds: number;
}

/** The AWS SDK's `waitUntilFHIRImportJobCompleted` in one activity (holds a worker slot throughout). */
export async function sdkWaiterWait(input: SdkWaiterInput): Promise<string> {
  const { sdkWaiter } = proxyActivities<{ sdkWaiter(input: SdkWaiterInput): Promise<string> }>({
    taskQueue: input.apiTaskQueue,
    startToCloseTimeout: '2 hours',
  });
  return sdkWaiter(input);
}
